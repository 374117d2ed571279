//! [`TcpStream`]: a TCP connection on the reactor.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Write};
use std::mem::MaybeUninit;
use std::net::{self, Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_lite::io::{AsyncRead, AsyncWrite};

use crate::addr::{self, ToSocketAddrs};
use crate::async_fd::{poll_read, poll_read_vectored};
use crate::socket::{self, Connect};
use crate::{Async, OwnedReadHalf, OwnedWriteHalf};

/// A TCP connection: Go's `net.Conn` from `net.Dial("tcp", addr)`.
///
/// It implements futures-io's [`AsyncRead`] and [`AsyncWrite`] (vectored writes included),
/// both by value and through `&TcpStream`, so one task may read while another writes; or
/// split it with [`TcpStream::into_split`]. Each read or write takes one unit of the task's
/// cooperative budget.
///
/// ```
/// use goro::io::{AsyncReadExt, AsyncWriteExt};
/// use goro::net::{TcpListener, TcpStream};
///
/// # goro::block_on(async {
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let mut client = TcpStream::connect(listener.local_addr()?).await?;
/// let (mut server, _) = listener.accept().await?;
/// client.write_all(b"ping").await?;
/// let mut buf = [0; 4];
/// server.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ping");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
///
/// # Faults
///
/// Every fault is an `io::Error` (or EOF) returned to the caller: a refused connection is
/// `ConnectionRefused`; a peer that reset the connection gives `ConnectionReset` on read; a
/// write after the peer closed gives `BrokenPipe` or `ConnectionReset`, never SIGPIPE (goro
/// sends with MSG_NOSIGNAL, vectored writes too); a peer that shut down its side gives reads
/// of 0 bytes (EOF) while writes still work.
///
/// # Cancel safety
///
/// Reads and writes go through the futures-io poll functions, and each poll makes at most one
/// successful system call: `poll_read` either copies what one `read(2)` got into the caller's
/// buffer and returns `Ready(n)`, or returns `Pending` having taken nothing from the socket
/// (`poll_write` likewise sends or does not). So the one-shot futures of futures-lite's
/// `AsyncReadExt`/`AsyncWriteExt` are cancel safe on a `TcpStream`: `read`, `read_vectored`, `write`,
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
pub struct TcpStream {
    /// The connected socket, registered.
    io: Async<net::TcpStream>,
}

impl TcpStream {
    /// Opens a TCP connection to `addr`: Go's `net.Dial("tcp", addr)`.
    ///
    /// A host name is resolved on the blocking pool; each resolved address is then tried in
    /// order until one connects. The handshake itself waits in the reactor, so it never
    /// blocks a worker; bound it with `goro::time::timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # goro::block_on(async {
    /// let listener = goro::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let port = listener.local_addr()?.port();
    /// let stream = goro::time::timeout(
    ///     Duration::from_secs(5),
    ///     goro::net::TcpStream::connect(("localhost", port)),
    /// )
    /// .await
    /// .expect("connected in time")?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// If the name does not resolve (as [`lookup_host`](crate::lookup_host), whose errors
    /// include "no thread could start for the lookup"), or no address connects: the last
    /// address's error (`ConnectionRefused`, `TimedOut`, `NetworkUnreachable`, ...).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe in that nothing leaks: dropping the future abandons the name lookup (the
    /// blocking pool finishes it and discards the result) or closes the socket whose
    /// handshake was under way. The peer may still have seen that connection: if the kernel
    /// completed the handshake before the drop, the server accepts a connection that is
    /// closed at once. Calling `connect` again opens a new connection.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        addr::each_addr(addr, connect_one).await
    }

    pub(crate) fn from_nonblocking(stream: net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: Async::new_nonblocking(stream)?,
        })
    }

    /// Wraps a connected std stream (made non-blocking here) in the reactor.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let std_stream = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// let stream = goro::net::TcpStream::from_std(std_stream)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// If the socket cannot be made non-blocking or registered.
    pub fn from_std(stream: net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_nonblocking(stream)
    }

    /// The address of the remote end.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let listener = goro::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = goro::net::TcpStream::connect(listener.local_addr()?).await?;
    /// assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// `NotConnected` once the connection is gone.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The address of the local end.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let listener = goro::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = goro::net::TcpStream::connect(listener.local_addr()?).await?;
    /// assert!(stream.local_addr()?.ip().is_loopback());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// What `getsockname(2)` reports.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets TCP_NODELAY: small writes are sent at once instead of being coalesced (Nagle's
    /// algorithm off). Go sets it on every connection; goro, like std and tokio, leaves the
    /// OS default (off) until asked.
    ///
    /// ```
    /// # goro::block_on(async {
    /// # let listener = goro::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = goro::net::TcpStream::connect(listener.local_addr()?).await?;
    /// stream.set_nodelay(true)?;
    /// assert!(stream.nodelay()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether TCP_NODELAY is set (see [`TcpStream::set_nodelay`]).
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Sets the IP time-to-live of this connection's packets.
    ///
    /// ```
    /// # goro::block_on(async {
    /// # let listener = goro::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = goro::net::TcpStream::connect(listener.local_addr()?).await?;
    /// stream.set_ttl(7)?;
    /// assert_eq!(stream.ttl()?, 7);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live (see [`TcpStream::set_ttl`]).
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Receives data without removing it from the queue: the next read sees it again.
    /// Waits until at least one byte (or EOF) is there.
    ///
    /// ```
    /// use goro::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # goro::block_on(async {
    /// # let listener = goro::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let mut client = goro::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let (mut server, _) = listener.accept().await?;
    /// client.write_all(b"abc").await?;
    /// let mut buf = [0; 3];
    /// let n = server.peek(&mut buf).await?;
    /// assert_eq!(&buf[..n], &b"abc"[..n]);
    /// server.read_exact(&mut buf).await?; // still there
    /// assert_eq!(&buf, b"abc");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// What `recv(2)` reports, `ConnectionReset` for one.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a peek never consumes data, and one dropped before it completed copied
    /// nothing into `buf`.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| s.peek(buf)).await
    }

    /// Shuts down the read side, the write side, or both. Shutting down the write side sends
    /// FIN: the peer reads EOF but may still send, and this side may still read (half-close).
    ///
    /// ```
    /// use std::net::Shutdown;
    /// use goro::io::AsyncReadExt;
    ///
    /// # goro::block_on(async {
    /// # let listener = goro::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let client = goro::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let (mut server, _) = listener.accept().await?;
    /// client.shutdown(Shutdown::Write)?;
    /// let mut rest = Vec::new();
    /// assert_eq!(server.read_to_end(&mut rest).await?, 0); // EOF
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// `NotConnected` if the connection is already gone.
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

    /// Splits the stream into a read half and a write half that two tasks can own.
    ///
    /// Dropping (or closing) the write half shuts down the write side, as tokio's does: the
    /// peer reads EOF. [`OwnedReadHalf::reunite`] puts the halves back together.
    ///
    /// ```
    /// use goro::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # goro::block_on(async {
    /// # let listener = goro::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let client = goro::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let (server, _) = listener.accept().await?;
    /// let (mut rd, mut wr) = server.into_split();
    /// let echo = goro::spawn(async move {
    ///     let mut buf = [0; 5];
    ///     rd.read_exact(&mut buf).await?;
    ///     std::io::Result::Ok(buf)
    /// });
    /// let (mut crd, mut cwr) = client.into_split();
    /// cwr.write_all(b"hello").await?;
    /// assert_eq!(&echo.await.unwrap()?, b"hello");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        crate::tcp::split::split(Arc::new(self))
    }

    pub(crate) fn poll_read_ref(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        poll_read(&self.io, cx, buf)
    }

    pub(crate) fn poll_read_vectored_ref(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        poll_read_vectored(&self.io, cx, bufs)
    }

    pub(crate) fn poll_write_ref(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // std's `write` sends with MSG_NOSIGNAL.
        self.io.poll_write_with(cx, |mut s| s.write(buf))
    }

    pub(crate) fn poll_write_vectored_ref(
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

/// Connects to one address: a non-blocking `connect`, then a wait for writability.
async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
    let fd = socket::tcp_socket(&addr)?;
    let state = socket::start_connect(&fd, &addr)?;
    let stream = TcpStream::from_nonblocking(net::TcpStream::from(fd))?;
    if state != Connect::Done {
        stream.io.write_with(|s| socket::finish_connect(s)).await?;
    }
    Ok(stream)
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_ref(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_vectored_ref(cx, bufs)
    }
}

impl AsyncRead for &TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_ref(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_vectored_ref(cx, bufs)
    }
}

/// `poll_close` shuts down the write side (the peer reads EOF); `poll_flush` has nothing to
/// do: a socket has no user-space buffer.
impl AsyncWrite for TcpStream {
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

impl AsyncWrite for &TcpStream {
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

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}
