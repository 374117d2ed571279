//! [`UnixDatagram`]: Unix datagram sockets on the reactor.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;

use crate::Async;

/// A Unix datagram socket: Go's `net.ListenUnixgram`.
///
/// All methods take `&self`; any number of tasks may send and receive at once.
///
/// ```
/// # goro::block_on(async {
/// let (a, b) = goro::net::UnixDatagram::pair()?;
/// a.send(b"one").await?;
/// let mut buf = [0; 8];
/// let n = b.recv(&mut buf).await?;
/// assert_eq!(&buf[..n], b"one");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UnixDatagram {
    /// The socket, registered.
    io: Async<net::UnixDatagram>,
}

impl UnixDatagram {
    /// Creates a socket bound to a new socket file at `path`.
    ///
    ///
    /// ```
    /// # goro::block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("goro-doc-{}-{}", std::process::id(), line!()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let server = goro::net::UnixDatagram::bind(dir.join("server"))?;
    /// let client = goro::net::UnixDatagram::unbound()?;
    /// client.send_to(b"hello", dir.join("server")).await?;
    /// let mut buf = [0; 16];
    /// let (n, _from) = server.recv_from(&mut buf).await?;
    /// assert_eq!(&buf[..n], b"hello");
    /// # std::fs::remove_dir_all(&dir)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// `AddrInUse` if `path` exists; what `bind(2)` reports.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(net::UnixDatagram::bind(path)?)
    }

    /// Creates a socket bound to no address (it can send, and receive replies to a
    /// [`UnixDatagram::connect`]ed peer).
    ///
    /// # Errors
    ///
    /// What `socket(2)` reports.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(net::UnixDatagram::unbound()?)
    }

    /// A connected pair of sockets.
    ///
    /// # Errors
    ///
    /// What `socketpair(2)` reports.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_std(a)?, UnixDatagram::from_std(b)?))
    }

    /// Wraps a std socket (made non-blocking here) in the reactor.
    ///
    /// # Errors
    ///
    /// If the socket cannot be made non-blocking or registered.
    pub fn from_std(socket: net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        Ok(UnixDatagram {
            io: Async::new_nonblocking(socket)?,
        })
    }

    /// Sets the default destination of [`UnixDatagram::send`] and the only source
    /// [`UnixDatagram::recv`] accepts. Not async: it does not wait.
    ///
    ///
    /// ```
    /// # goro::block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("goro-doc-{}-{}", std::process::id(), line!()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let server = goro::net::UnixDatagram::bind(dir.join("server"))?;
    /// let client = goro::net::UnixDatagram::unbound()?;
    /// client.connect(dir.join("server"))?;
    /// client.send(b"hi").await?;
    /// let mut buf = [0; 4];
    /// assert_eq!(server.recv(&mut buf).await?, 2);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// What `connect(2)` reports (`NotFound`, `ConnectionRefused`).
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.io.get_ref().connect(path)
    }

    /// Sends a datagram to the connected peer.
    ///
    /// # Errors
    ///
    /// `NotConnected` without a peer; what `send(2)` reports.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is sent whole or not at all, in the poll that completes the
    /// future; one dropped before it completed sent nothing.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_with(|s| s.send(buf)).await
    }

    /// Receives a datagram from the connected peer.
    ///
    /// # Errors
    ///
    /// What `recv(2)` reports.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the future completes in the same poll in which `recv(2)` takes a datagram,
    /// so one dropped before it completed took none, and the datagram waits for the next
    /// receive.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| s.recv(buf)).await
    }

    /// Sends a datagram to the socket at `path`.
    ///
    /// # Errors
    ///
    /// What `sendto(2)` reports (`NotFound`, `ConnectionRefused`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the datagram is sent whole or not at all, in the poll that completes the
    /// future; one dropped before it completed sent nothing.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        self.io.write_with(|s| s.send_to(buf, path)).await
    }

    /// Receives a datagram and its sender's address.
    ///
    /// # Errors
    ///
    /// What `recvfrom(2)` reports.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the future completes in the same poll in which `recvfrom(2)` takes a
    /// datagram, so one dropped before it completed took none, and the datagram waits for the
    /// next receive.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|s| s.recv_from(buf)).await
    }

    /// The address this socket is bound to.
    ///
    /// # Errors
    ///
    /// What `getsockname(2)` reports.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// `NotConnected` without a peer.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the read side, the write side, or both.
    ///
    /// # Errors
    ///
    /// What `shutdown(2)` reports.
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
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}
