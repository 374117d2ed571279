//! The socket calls std does not offer, through `rustix` (all safe).
//!
//! std's `TcpStream::connect` blocks its thread until the handshake ends, its listeners use a
//! backlog of 128, its `accept` needs a second syscall to make the new socket non-blocking,
//! and its vectored writes use `writev`, which raises SIGPIPE on a closed peer. Everything
//! else goro-net does through std.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};

use rustix::io::Errno;
use rustix::net::{
    AddressFamily, SendAncillaryBuffer, SendFlags, SocketAddrAny, SocketFlags, SocketType,
};

/// The listen backlog of goro's TCP listeners.
///
/// std uses 128; a burst of new connections beyond it is dropped by the kernel and each
/// client retries its SYN a second later. tokio (mio) uses 1024, Go the system maximum; the
/// kernel caps the value at `net.core.somaxconn` (4096 on current Linux).
pub(crate) const LISTEN_BACKLOG: i32 = 1024;

/// The flags every socket goro creates carries: non-blocking for the reactor, close-on-exec
/// so that a child process does not inherit it.
fn flags() -> SocketFlags {
    SocketFlags::NONBLOCK | SocketFlags::CLOEXEC
}

fn family(addr: &SocketAddr) -> AddressFamily {
    match addr {
        SocketAddr::V4(_) => AddressFamily::INET,
        SocketAddr::V6(_) => AddressFamily::INET6,
    }
}

/// A new non-blocking socket of `kind` for `addr`'s family.
pub(crate) fn new_socket(family: AddressFamily, kind: SocketType) -> io::Result<OwnedFd> {
    Ok(rustix::net::socket_with(family, kind, flags(), None)?)
}

/// A non-blocking TCP socket for `addr`'s family.
pub(crate) fn tcp_socket(addr: &SocketAddr) -> io::Result<OwnedFd> {
    new_socket(family(addr), SocketType::STREAM)
}

/// A non-blocking listening TCP socket bound to `addr` (with SO_REUSEADDR, as std does).
pub(crate) fn tcp_listen(addr: &SocketAddr) -> io::Result<OwnedFd> {
    let fd = tcp_socket(addr)?;
    rustix::net::sockopt::set_socket_reuseaddr(&fd, true)?;
    rustix::net::bind(&fd, addr)?;
    rustix::net::listen(&fd, LISTEN_BACKLOG)?;
    Ok(fd)
}

/// What a non-blocking `connect` call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Connect {
    /// Connected at once.
    Done,
    /// The handshake goes on; the socket becomes writable when it ends.
    InProgress,
    /// A Unix socket whose listener's backlog is full (EAGAIN): nothing was queued.
    Busy,
}

/// Starts a non-blocking connect of `fd` to `addr`.
pub(crate) fn start_connect(
    fd: impl AsFd,
    addr: &impl rustix::net::addr::SocketAddrArg,
) -> io::Result<Connect> {
    match rustix::net::connect(fd, addr) {
        Ok(()) => Ok(Connect::Done),
        // EINTR on a non-blocking connect: the handshake goes on in the background.
        Err(Errno::INPROGRESS | Errno::INTR) => Ok(Connect::InProgress),
        Err(Errno::AGAIN) => Ok(Connect::Busy),
        Err(e) => Err(e.into()),
    }
}

/// The outcome of a connect started by [`start_connect`], once the socket is writable:
/// `WouldBlock` while the handshake still goes on.
pub(crate) fn finish_connect(fd: impl AsFd) -> io::Result<()> {
    let fd = fd.as_fd();
    if let Err(e) = rustix::net::sockopt::socket_error(fd)? {
        return Err(e.into());
    }
    match rustix::net::getpeername(fd) {
        Ok(_) => Ok(()),
        Err(Errno::NOTCONN) => Err(io::ErrorKind::WouldBlock.into()),
        Err(e) => Err(e.into()),
    }
}

/// Accepts a connection as a non-blocking, close-on-exec socket in one syscall.
pub(crate) fn accept(listener: impl AsFd) -> io::Result<(OwnedFd, Option<SocketAddrAny>)> {
    Ok(rustix::net::acceptfrom_with(listener, flags())?)
}

/// `sendmsg` with MSG_NOSIGNAL: a vectored write to a closed peer returns EPIPE instead of
/// raising SIGPIPE (std's `write_vectored` uses `writev`, which raises it).
pub(crate) fn send_vectored(fd: impl AsFd, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    let mut control = SendAncillaryBuffer::default();
    Ok(rustix::net::sendmsg(
        fd,
        bufs,
        &mut control,
        SendFlags::NOSIGNAL,
    )?)
}

/// Puts `fd` in non-blocking mode.
pub(crate) fn set_nonblocking(fd: impl AsFd) -> io::Result<()> {
    Ok(rustix::io::ioctl_fionbio(fd, true)?)
}
