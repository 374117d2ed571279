//! [`UdpSocket`]: datagrams on the reactor.

use std::fmt;
use std::io;
use std::net::{self, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use rustix::net::SocketType;

use crate::addr::{self, ToSocketAddrs};
use crate::{Async, socket};

/// A UDP socket: Go's `net.ListenUDP` / `net.DialUDP`.
///
/// All methods take `&self`: share the socket in an `Arc` and any number of tasks may send
/// and receive on it at once.
///
/// ```
/// use goro::net::UdpSocket;
///
/// # goro::block_on(async {
/// let a = UdpSocket::bind("127.0.0.1:0").await?;
/// let b = UdpSocket::bind("127.0.0.1:0").await?;
/// a.send_to(b"ping", b.local_addr()?).await?;
/// let mut buf = [0; 16];
/// let (n, from) = b.recv_from(&mut buf).await?;
/// assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UdpSocket {
    /// The socket, registered.
    io: Async<net::UdpSocket>,
}

impl UdpSocket {
    /// Creates a socket bound to `addr` (port 0 picks a free port). Host names are resolved
    /// on the blocking pool; each address is tried in order until one binds.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let socket = goro::net::UdpSocket::bind(("127.0.0.1", 0)).await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// If the name does not resolve or no address can be bound: the last error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped future leaves no socket behind (a name lookup it started
    /// finishes on the blocking pool and is discarded).
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        addr::each_addr(addr, |a| async move {
            let family = match a {
                SocketAddr::V4(_) => rustix::net::AddressFamily::INET,
                SocketAddr::V6(_) => rustix::net::AddressFamily::INET6,
            };
            let fd = socket::new_socket(family, SocketType::DGRAM)?;
            rustix::net::bind(&fd, &a)?;
            Ok(UdpSocket {
                io: Async::new_nonblocking(net::UdpSocket::from(fd))?,
            })
        })
        .await
    }

    /// Wraps a std socket (made non-blocking here) in the reactor.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let socket = goro::net::UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0")?)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// If the socket cannot be made non-blocking or registered.
    pub fn from_std(socket: net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            io: Async::new_nonblocking(socket)?,
        })
    }

    /// Sets the default destination of [`UdpSocket::send`] and the only source
    /// [`UdpSocket::recv`] accepts. Host names are resolved on the blocking pool.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let a = goro::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// let b = goro::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// a.connect(b.local_addr()?).await?;
    /// assert_eq!(a.peer_addr()?, b.local_addr()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// If the name does not resolve or `connect(2)` fails for every address.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the only wait is the name lookup; `connect(2)` itself does not wait. A
    /// future dropped before it completed left the socket's peer as it was.
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        // Through the reactor (connect never returns WouldBlock on UDP) so that a socket
        // whose runtime was shut down fails here as every other operation does.
        addr::each_addr(addr, |a| self.io.write_with(move |s| s.connect(a))).await
    }

    /// Sends a datagram to the connected peer; returns the bytes sent.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let a = goro::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// let b = goro::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// a.connect(b.local_addr()?).await?;
    /// b.connect(a.local_addr()?).await?;
    /// a.send(b"hi").await?;
    /// let mut buf = [0; 8];
    /// assert_eq!(b.recv(&mut buf).await?, 2);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// `NotConnected` without a [`UdpSocket::connect`]; `ConnectionRefused` if an earlier
    /// datagram was refused by the peer (an ICMP error); what `send(2)` reports.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is sent whole or not at all, in the poll that completes the
    /// future; one dropped before it completed sent nothing.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_with(|s| s.send(buf)).await
    }

    /// Receives a datagram from the connected peer; returns its length. A datagram longer
    /// than `buf` is truncated.
    ///
    /// # Errors
    ///
    /// `ConnectionRefused` if a datagram sent earlier was refused; what `recv(2)` reports.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the future completes in the same poll in which `recv(2)` takes a datagram,
    /// so one dropped before it completed took none, and the datagram waits for the next
    /// receive. As a losing `select!` arm it loses nothing.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| s.recv(buf)).await
    }

    /// Sends a datagram to `addr` (resolved on the blocking pool if it is a name; the first
    /// address is used); returns the bytes sent.
    ///
    /// # Errors
    ///
    /// If the name does not resolve; what `sendto(2)` reports.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the datagram is sent whole or not at all, in the poll that completes the
    /// future; one dropped before it completed (during the name lookup, or while the send
    /// buffer was full) sent nothing.
    pub async fn send_to(&self, buf: &[u8], addr: impl ToSocketAddrs) -> io::Result<usize> {
        let target = addr::first_addr(addr).await?;
        self.io.write_with(|s| s.send_to(buf, target)).await
    }

    /// Receives a datagram; returns its length and its sender. A datagram longer than `buf`
    /// is truncated.
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

    /// Like [`UdpSocket::recv_from`], but the datagram stays queued.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let a = goro::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// let b = goro::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// a.send_to(b"x", b.local_addr()?).await?;
    /// let mut buf = [0; 4];
    /// let (n, from) = b.peek_from(&mut buf).await?;
    /// assert_eq!(b.recv_from(&mut buf).await?, (n, from)); // still there
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// What `recvfrom(2)` reports.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it never consumes a datagram.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|s| s.peek_from(buf)).await
    }

    /// Like [`UdpSocket::recv`], but the datagram stays queued.
    ///
    /// # Errors
    ///
    /// What `recv(2)` reports.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it never consumes a datagram.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| s.peek(buf)).await
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
    /// `NotConnected` without a [`UdpSocket::connect`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sets SO_BROADCAST: whether datagrams may be sent to a broadcast address.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let socket = goro::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// socket.set_broadcast(true)?;
    /// assert!(socket.broadcast()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Whether SO_BROADCAST is set.
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with address `interface`
    /// (`Ipv4Addr::UNSPECIFIED`: the system's choice).
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// # goro::block_on(async {
    /// let socket = goro::net::UdpSocket::bind("0.0.0.0:0").await?;
    /// let group = Ipv4Addr::new(239, 255, 0, 1);
    /// if socket.join_multicast_v4(&group, &Ipv4Addr::LOCALHOST).is_ok() {
    ///     socket.leave_multicast_v4(&group, &Ipv4Addr::LOCALHOST)?;
    /// }
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// What `setsockopt(IP_ADD_MEMBERSHIP)` reports (no such interface, not multicast).
    pub fn join_multicast_v4(&self, multiaddr: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().join_multicast_v4(multiaddr, interface)
    }

    /// Leaves an IPv4 multicast group joined with [`UdpSocket::join_multicast_v4`].
    ///
    /// # Errors
    ///
    /// What `setsockopt(IP_DROP_MEMBERSHIP)` reports.
    pub fn leave_multicast_v4(&self, multiaddr: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v4(multiaddr, interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on interface index `interface` (0: any).
    ///
    /// # Errors
    ///
    /// What `setsockopt(IPV6_ADD_MEMBERSHIP)` reports.
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv6 multicast group.
    ///
    /// # Errors
    ///
    /// What `setsockopt(IPV6_DROP_MEMBERSHIP)` reports.
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v6(multiaddr, interface)
    }

    /// Sets IP_MULTICAST_LOOP: whether this host receives its own IPv4 multicast datagrams.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let socket = goro::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// socket.set_multicast_loop_v4(false)?;
    /// assert!(!socket.multicast_loop_v4()?);
    /// socket.set_multicast_ttl_v4(4)?;
    /// assert_eq!(socket.multicast_ttl_v4()?, 4);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(on)
    }

    /// Whether IP_MULTICAST_LOOP is set.
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v4()
    }

    /// Sets IP_MULTICAST_TTL: how many hops IPv4 multicast datagrams may take (default 1).
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports.
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// The IP_MULTICAST_TTL.
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.get_ref().multicast_ttl_v4()
    }

    /// Sets IPV6_MULTICAST_LOOP: whether this host receives its own IPv6 multicast datagrams.
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports (an IPv4 socket refuses it).
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v6(on)
    }

    /// Whether IPV6_MULTICAST_LOOP is set.
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v6()
    }

    /// Sets the IP time-to-live of unicast datagrams.
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live of unicast datagrams.
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
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

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.get_ref().fmt(f)
    }
}
