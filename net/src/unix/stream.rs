//! [`UnixStream`]: a Unix stream connection on the reactor.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Write};
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::{self, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_lite::io::{AsyncRead, AsyncWrite};
use rustix::net::{AddressFamily, SocketAddrUnix, SocketType};

use crate::Async;
use crate::async_fd::{poll_read, poll_read_vectored};
use crate::socket::{self, Connect};

/// A Unix stream socket connection: Go's `net.Dial("unix", path)`.
///
/// Like [`crate::TcpStream`], it implements [`AsyncRead`] and [`AsyncWrite`] by value and
/// through `&UnixStream` (share it in an `Arc` for a reader task and a writer task), and its
/// writes cannot raise SIGPIPE.
///
/// ```
/// use goro::io::{AsyncReadExt, AsyncWriteExt};
///
/// # goro::block_on(async {
/// let (mut a, mut b) = goro::net::UnixStream::pair()?;
/// a.write_all(b"ping").await?;
/// let mut buf = [0; 4];
/// b.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ping");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
///
/// # Cancel safety
///
/// Reads and writes go through the futures-io poll functions, and each poll makes at most one
/// successful system call: `poll_read` either copies what one `read(2)` got into the caller's
/// buffer and returns `Ready(n)`, or returns `Pending` having taken nothing from the socket
/// (`poll_write` likewise sends or does not). So the one-shot futures of futures-lite's
/// `AsyncReadExt`/`AsyncWriteExt` are cancel safe on a `UnixStream`: `read`, `read_vectored`, `write`,
/// `write_vectored`, `flush` and `close`. One that is dropped before it completed read or
/// wrote nothing, and the bytes are still there for the next read. As an arm of goro's
/// `select!` that another arm beat, `read` loses nothing.
///
/// The helpers that loop over several reads or writes are not: their progress lives in the
/// future, and a dropped future takes it along. `read_line` and `read_to_string` keep the
/// bytes read so far inside the future, so they are lost with it; `read_exact` leaves them in
/// the caller's buffer but loses how many there were; `write_all` may have sent a prefix of
/// unknown length. Keep such a future alive across `select!` rounds, or do the reading in a
/// task of its own that sends whole messages over a channel: goro's `select!` docs show both.
pub struct UnixStream {
    /// The connected socket, registered.
    io: Async<net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`. The connect is non-blocking; in the rare case that
    /// the listener's backlog is full (Linux then refuses a non-blocking connect with EAGAIN)
    /// the connect is retried as a blocking call on the blocking pool, which waits for room.
    ///
    ///
    /// ```
    /// # goro::block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("goro-doc-{}-{}", std::process::id(), line!()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let _listener = goro::net::UnixListener::bind(dir.join("s"))?;
    /// let stream = goro::net::UnixStream::connect(dir.join("s")).await?;
    /// assert_eq!(stream.peer_addr()?.as_pathname(), Some(dir.join("s").as_path()));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// `NotFound` if nothing is at `path`; `ConnectionRefused` if nothing listens there.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe in that nothing leaks: dropping the future closes the socket it was
    /// connecting. In the backlog-full fallback the blocking connect runs on to its end on the
    /// blocking pool and its socket is then closed, so the server may accept a connection
    /// that is closed at once. Calling `connect` again opens a new connection.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let addr = SocketAddrUnix::new(path)?;
        let fd = socket::new_socket(AddressFamily::UNIX, SocketType::STREAM)?;
        match socket::start_connect(&fd, &addr)? {
            Connect::Done => UnixStream::from_nonblocking(fd.into()),
            Connect::InProgress => {
                let stream = UnixStream::from_nonblocking(fd.into())?;
                stream.io.write_with(|s| socket::finish_connect(s)).await?;
                Ok(stream)
            }
            Connect::Busy => connect_blocking(path.to_path_buf()).await,
        }
    }

    /// A connected pair of sockets.
    ///
    ///
    /// ```
    /// # goro::block_on(async {
    /// let (a, b) = goro::net::UnixStream::pair()?;
    /// assert!(a.peer_addr()?.is_unnamed());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// What `socketpair(2)` reports (EMFILE, say).
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = net::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    fn from_nonblocking(stream: net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: Async::new_nonblocking(stream)?,
        })
    }

    /// Wraps a connected std stream (made non-blocking here) in the reactor.
    ///
    /// # Errors
    ///
    /// If the socket cannot be made non-blocking or registered.
    pub fn from_std(stream: net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_nonblocking(stream)
    }

    /// The address of the local end.
    ///
    /// # Errors
    ///
    /// What `getsockname(2)` reports.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the remote end.
    ///
    /// # Errors
    ///
    /// What `getpeername(2)` reports.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the read side, the write side, or both (half-close, as
    /// [`crate::TcpStream::shutdown`]).
    ///
    /// # Errors
    ///
    /// `NotConnected` if the connection is gone.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Takes the socket's pending error (SO_ERROR), if any.
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Waits until the stream may be read. Any number of tasks may wait.
    ///
    /// # Errors
    ///
    /// If the OS poller fails to arm the descriptor.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: readiness is a state of the socket, not an event handed to one waiter;
    /// a dropped future takes none of it, and every waiter is woken by the same event.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.readable().await
    }

    /// Waits until the stream may be written. Any number of tasks may wait.
    ///
    /// # Errors
    ///
    /// If the OS poller fails to arm the descriptor.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`readable`](Self::readable).
    pub async fn writable(&self) -> io::Result<()> {
        self.io.writable().await
    }

    fn poll_write_ref(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        // std's `write` sends with MSG_NOSIGNAL.
        self.io.poll_write_with(cx, |mut s| s.write(buf))
    }

    fn poll_write_vectored_ref(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_write_with(cx, |s| socket::send_vectored(s, bufs))
    }

    /// Poll-style read into memory that need not be initialised (hyper's read buffer, a
    /// `Vec`'s spare capacity): nothing is zeroed first. See [`Async::poll_read_uninit`](crate::Async::poll_read_uninit).
    ///
    /// On `Ready(Ok(n))` the first `n` elements of `buf` are initialised (`n <= buf.len()`,
    /// `0` at end of stream): code that tracks initialisation may rely on it.
    ///
    /// # Errors
    ///
    /// What `read(2)` reports other than `EAGAIN` (a reset connection, for one).
    pub fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_read_uninit(cx, buf)
    }
}

/// The fallback of [`UnixStream::connect`] when the listener's backlog is full.
async fn connect_blocking(path: PathBuf) -> io::Result<UnixStream> {
    let stream = goro_runtime::spawn_blocking(move || net::UnixStream::connect(path))
        .await
        .map_err(|e| io::Error::other(format!("connect did not finish: {e}")))??;
    UnixStream::from_std(stream)
}

impl AsyncRead for UnixStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        poll_read(&self.io, cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        poll_read_vectored(&self.io, cx, bufs)
    }
}

impl AsyncRead for &UnixStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        poll_read(&self.io, cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        poll_read_vectored(&self.io, cx, bufs)
    }
}

/// `poll_close` shuts down the write side (the peer reads EOF).
impl AsyncWrite for UnixStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_ref(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_ref(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}

impl AsyncWrite for &UnixStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_ref(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_ref(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}
