//! [`UnixListener`]: accepting Unix stream connections on the reactor.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_lite::Stream;

use crate::{Async, UnixStream};

/// A Unix domain socket server: Go's `net.Listen("unix", path)`.
///
/// ```
/// use goro::io::{AsyncReadExt, AsyncWriteExt};
/// use goro::net::{UnixListener, UnixStream};
///
/// # goro::block_on(async {
/// let dir = std::env::temp_dir().join(format!("goro-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("listener.sock");
/// # let _ = std::fs::remove_file(&path);
/// let listener = UnixListener::bind(&path)?;
/// let mut client = UnixStream::connect(&path).await?;
/// let (mut server, _) = listener.accept().await?;
/// client.write_all(b"hi").await?;
/// let mut buf = [0; 2];
/// server.read_exact(&mut buf).await?;
/// # std::fs::remove_dir_all(&dir)?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UnixListener {
    /// The listening socket, registered.
    io: Async<net::UnixListener>,
}

impl UnixListener {
    /// Creates a socket file at `path` and listens on it. Not async: binding a Unix socket
    /// does not wait. The file stays after the listener is dropped, as in std.
    ///
    ///
    /// ```
    /// # goro::block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("goro-doc-{}-{}", std::process::id(), line!()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let listener = goro::net::UnixListener::bind(dir.join("server.sock"))?;
    /// assert!(listener.local_addr()?.as_pathname().is_some());
    /// # std::fs::remove_dir_all(&dir)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// `AddrInUse` if `path` exists; what `bind(2)` reports.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        UnixListener::from_std(net::UnixListener::bind(path)?)
    }

    /// Wraps a std listener (made non-blocking here) in the reactor.
    ///
    /// # Errors
    ///
    /// If the socket cannot be made non-blocking or registered.
    pub fn from_std(listener: net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: Async::new_nonblocking(listener)?,
        })
    }

    /// Waits for a connection and accepts it. Several tasks may accept at once.
    ///
    ///
    /// ```
    /// # goro::block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("goro-doc-{}-{}", std::process::id(), line!()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let listener = goro::net::UnixListener::bind(dir.join("s"))?;
    /// let _client = goro::net::UnixStream::connect(dir.join("s")).await?;
    /// let (conn, _addr) = listener.accept().await?;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// What `accept(2)` reports, EMFILE included (back off, as for
    /// [`crate::TcpListener`]).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the future completes in the same poll in which `accept(2)` takes a
    /// connection off the queue, so one dropped before it completed has accepted nothing, and
    /// the connection waits for the next `accept`.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, addr) = self.io.read_with(|l| l.accept()).await?;
        Ok((UnixStream::from_std(stream)?, addr))
    }

    /// Poll-style [`UnixListener::accept`]; only the task of the most recent call is woken.
    ///
    /// # Errors
    ///
    /// As [`UnixListener::accept`].
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        self.io
            .poll_read_with(cx, |l| l.accept())
            .map(|r| r.and_then(|(s, addr)| Ok((UnixStream::from_std(s)?, addr))))
    }

    /// A stream of incoming connections: `accept` in a loop; errors are items.
    pub fn incoming(&self) -> UnixIncoming<'_> {
        UnixIncoming { listener: self }
    }

    /// The address this listener is bound to.
    ///
    /// # Errors
    ///
    /// What `getsockname(2)` reports.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}

/// The stream of [`UnixListener::incoming`].
#[must_use = "streams do nothing unless polled"]
pub struct UnixIncoming<'a> {
    /// The listener accepted on.
    listener: &'a UnixListener,
}

impl Stream for UnixIncoming<'_> {
    type Item = io::Result<UnixStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener
            .poll_accept(cx)
            .map(|r| Some(r.map(|(stream, _)| stream)))
    }
}

impl fmt::Debug for UnixIncoming<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixIncoming")
            .field("listener", self.listener)
            .finish()
    }
}
