//! [`TcpListener`]: accepting TCP connections on the reactor.

use std::fmt;
use std::io;
use std::net::{self, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_lite::Stream;

use crate::addr::{self, ToSocketAddrs};
use crate::{Async, TcpStream, socket};

/// A TCP socket server, listening for connections: Go's `net.Listen("tcp", addr)`.
///
/// ```
/// use goro::io::{AsyncReadExt, AsyncWriteExt};
/// use goro::net::{TcpListener, TcpStream};
///
/// # goro::block_on(async {
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// let server = goro::spawn(async move {
///     let (mut conn, _peer) = listener.accept().await?;
///     conn.write_all(b"hello").await?;
///     std::io::Result::Ok(())
/// });
/// let mut client = TcpStream::connect(addr).await?;
/// let mut reply = String::new();
/// client.read_to_string(&mut reply).await?;
/// assert_eq!(reply, "hello");
/// server.await.unwrap()?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
///
/// # Out of file descriptors
///
/// When the process runs out of descriptors (EMFILE), `accept` returns that error; the
/// pending connection stays queued. A server loop must not retry at once, or it spins: sleep
/// a little (Go's `net/http` starts at 5 ms and doubles up to 1 s) and try again. The README
/// shows the pattern.
pub struct TcpListener {
    /// The listening socket, registered.
    io: Async<net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` and listens. Host names are resolved on the blocking pool; each
    /// resolved address is tried in order until one binds. Port 0 picks a free port.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let listener = goro::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    /// assert_ne!(listener.local_addr()?.port(), 0);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// If the name does not resolve, or no address can be bound (`AddrInUse`,
    /// `PermissionDenied`, ...): the last address's error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped future leaves no socket behind (a name lookup it started finishes
    /// on the blocking pool and is discarded).
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        addr::each_addr(addr, |a| async move {
            let fd = socket::tcp_listen(&a)?;
            TcpListener::from_nonblocking(net::TcpListener::from(fd))
        })
        .await
    }

    fn from_nonblocking(listener: net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: Async::new_nonblocking(listener)?,
        })
    }

    /// Wraps a std listener (made non-blocking here) in the reactor.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let listener = goro::net::TcpListener::from_std(std_listener)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// If the socket cannot be made non-blocking or registered.
    pub fn from_std(listener: net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_nonblocking(listener)
    }

    /// Waits for a connection and accepts it.
    ///
    /// Several tasks may accept on one listener at once (share it in an `Arc`); each
    /// connection goes to one of them.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let listener = goro::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let client = goro::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let (conn, peer) = listener.accept().await?;
    /// assert_eq!(peer, client.local_addr()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// What `accept(2)` reports, notably EMFILE/ENFILE when out of descriptors (back off
    /// before retrying: see the type's docs) and ECONNABORTED for a connection reset while
    /// queued (just accept again).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the future completes in the same poll in which `accept(2)` takes a
    /// connection off the queue, so one dropped before it completed has accepted nothing, and
    /// the connection waits for the next `accept`. As a losing `select!` arm it loses nothing.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (fd, addr) = self.io.read_with(|l| socket::accept(l)).await?;
        accepted(fd, addr)
    }

    /// Poll-style [`TcpListener::accept`]; only the task of the most recent call is woken.
    ///
    /// # Errors
    ///
    /// As [`TcpListener::accept`].
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        self.io
            .poll_read_with(cx, |l| socket::accept(l))
            .map(|r| r.and_then(|(fd, addr)| accepted(fd, addr)))
    }

    /// A stream of incoming connections: `accept` in a loop. It never ends; errors are
    /// items, so a server can back off on EMFILE and go on.
    ///
    /// `next()` on it is cancel safe, as [`TcpListener::accept`] is: a connection is taken off
    /// the queue only by the poll that returns it.
    ///
    /// ```
    /// use goro::stream::StreamExt;
    ///
    /// # goro::block_on(async {
    /// let listener = goro::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let _client = goro::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let mut incoming = listener.incoming();
    /// let conn = incoming.next().await.unwrap()?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address this listener is bound to.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let listener = goro::net::TcpListener::bind("127.0.0.1:0").await?;
    /// assert!(listener.local_addr()?.ip().is_loopback());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// What `getsockname(2)` reports.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets the IP time-to-live of accepted connections' packets.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let listener = goro::net::TcpListener::bind("127.0.0.1:0").await?;
    /// listener.set_ttl(42)?;
    /// assert_eq!(listener.ttl()?, 42);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live (see [`TcpListener::set_ttl`]).
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }
}

fn accepted(
    fd: std::os::fd::OwnedFd,
    addr: Option<rustix::net::SocketAddrAny>,
) -> io::Result<(TcpStream, SocketAddr)> {
    let stream = net::TcpStream::from(fd);
    let addr = match addr.map(SocketAddr::try_from) {
        Some(Ok(addr)) => addr,
        _ => stream.peer_addr()?,
    };
    Ok((TcpStream::from_nonblocking(stream)?, addr))
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}

/// The stream of [`TcpListener::incoming`]: each item is one `accept`.
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    /// The listener accepted on.
    listener: &'a TcpListener,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener
            .poll_accept(cx)
            .map(|r| Some(r.map(|(stream, _)| stream)))
    }
}

impl fmt::Debug for Incoming<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Incoming")
            .field("listener", self.listener)
            .finish()
    }
}
