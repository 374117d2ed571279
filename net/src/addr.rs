//! Address resolution: literal addresses at once, host names on the blocking pool.
//!
//! `getaddrinfo` blocks its thread for as long as DNS takes (seconds when a resolver is
//! unreachable), so it never runs on a worker: a host name is resolved by
//! [`goro::spawn_blocking`](goro_runtime::spawn_blocking), while an address that is already numeric
//! (`"127.0.0.1:80"`, `(Ipv4Addr, u16)`, `SocketAddr`) is parsed in place, with no thread hop.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Anything std's [`std::net::ToSocketAddrs`] takes: [`SocketAddr`], `(IpAddr, u16)`,
/// `(&str, u16)`, `(String, u16)`, `"host:port"` as `&str` or `String`, `&[SocketAddr]`, and
/// references to these.
///
/// goro has its own trait because std's resolves host names by blocking the calling thread;
/// goro resolves them on the blocking pool. The trait is sealed: it has no methods to call.
///
/// ```
/// # goro::block_on(async {
/// let addrs: Vec<_> = goro::net::lookup_host(("127.0.0.1", 80)).await?.collect();
/// assert_eq!(addrs, ["127.0.0.1:80".parse().unwrap()]);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub trait ToSocketAddrs: sealed::Sealed {}

mod sealed {
    /// The hidden half of [`super::ToSocketAddrs`].
    pub trait Sealed {
        /// What resolving this address takes.
        fn to_resolve(&self) -> super::Resolve;
    }
}

/// What resolving an address takes.
#[derive(Debug)]
pub enum Resolve {
    /// Nothing: the addresses are known (or the input is invalid).
    Done(io::Result<Vec<SocketAddr>>),
    /// A DNS lookup of a host and port.
    Lookup(String, u16),
    /// A DNS lookup of a `"host:port"` string.
    LookupStr(String),
}

impl Resolve {
    /// Resolves, on the blocking pool if a lookup is needed.
    pub(crate) async fn run(self) -> io::Result<Vec<SocketAddr>> {
        let blocking = match self {
            Resolve::Done(addrs) => return addrs,
            Resolve::Lookup(host, port) => {
                goro_runtime::spawn_blocking(move || lookup((host.as_str(), port)))
            }
            Resolve::LookupStr(s) => goro_runtime::spawn_blocking(move || lookup(s.as_str())),
        };
        blocking.await.map_err(|e| match e.spawn_error() {
            // Kind `Other` whatever the OS said: EAGAIN would read as `WouldBlock`.
            Some(os) => io::Error::other(format!(
                "could not resolve the host name: the OS refused to start a thread for the \
                 lookup ({os})"
            )),
            None => io::Error::other(format!("address lookup did not finish: {e}")),
        })?
    }
}

fn lookup(addr: impl std::net::ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    match addr.to_socket_addrs() {
        Ok(addrs) => Ok(addrs.collect()),
        Err(e) => Err(out_of_descriptors().unwrap_or(e)),
    }
}

/// After a failed lookup: EMFILE or ENFILE if the process cannot open a descriptor now.
///
/// `getaddrinfo` needs descriptors (for `/etc/hosts`, for the socket to the DNS server); when
/// it cannot open them, glibc reports the name as unknown ("Name or service not known"),
/// which sends the reader looking for a DNS problem. Opening a socket ourselves tells the
/// real cause apart. The OS error is returned as it is, so that a program backs off on
/// EMFILE from a host-name `connect` just as it does from `accept` or a numeric `connect`.
fn out_of_descriptors() -> Option<io::Error> {
    use rustix::io::Errno;
    use rustix::net::{AddressFamily, SocketType};
    match rustix::net::socket(AddressFamily::INET, SocketType::DGRAM, None) {
        Err(e) if e == Errno::MFILE || e == Errno::NFILE => Some(e.into()),
        _ => None, // the descriptor, if any, is closed here
    }
}

fn done(addr: impl Into<SocketAddr>) -> Resolve {
    Resolve::Done(Ok(vec![addr.into()]))
}

/// The error for an address that resolved to nothing, as std words it.
pub(crate) fn no_addresses() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "could not resolve to any addresses",
    )
}

/// Resolves `addr` and runs `f` on each address in order until one succeeds; returns the
/// last error otherwise.
pub(crate) async fn each_addr<T, F, Fut>(addr: impl ToSocketAddrs, mut f: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let addrs = addr.to_resolve().run().await?;
    let mut last = None;
    for a in addrs {
        match f(a).await {
            Ok(t) => return Ok(t),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(no_addresses))
}

/// Resolves `addr` to its first address.
pub(crate) async fn first_addr(addr: impl ToSocketAddrs) -> io::Result<SocketAddr> {
    let addrs = addr.to_resolve().run().await?;
    addrs.into_iter().next().ok_or_else(no_addresses)
}

/// Resolves a host name (and port) to socket addresses, on the blocking pool: Go's
/// `net.LookupHost`, with the port kept.
///
/// ```
/// # goro::block_on(async {
/// for addr in goro::net::lookup_host("localhost:8080").await? {
///     assert_eq!(addr.port(), 8080);
///     assert!(addr.ip().is_loopback());
/// }
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
///
/// # Errors
///
/// If the name does not resolve (the resolver's error), or the input is not of the form
/// `host:port`; EMFILE ("Too many open files") or ENFILE if the lookup failed while the
/// process or the system is out of file descriptors (glibc's own error would say the name
/// is unknown); an error of kind `Other` if no thread could start for the lookup (the
/// process is at its thread limit and the blocking pool has no thread).
///
/// # Cancel safety
///
/// Cancel safe: nothing is lost but the work. Dropping the future abandons the lookup; the
/// blocking thread finishes it and discards the result. A literal address is never waited on.
pub async fn lookup_host(addr: impl ToSocketAddrs) -> io::Result<std::vec::IntoIter<SocketAddr>> {
    Ok(addr.to_resolve().run().await?.into_iter())
}

impl ToSocketAddrs for SocketAddr {}
impl sealed::Sealed for SocketAddr {
    fn to_resolve(&self) -> Resolve {
        done(*self)
    }
}

impl ToSocketAddrs for SocketAddrV4 {}
impl sealed::Sealed for SocketAddrV4 {
    fn to_resolve(&self) -> Resolve {
        done(*self)
    }
}

impl ToSocketAddrs for SocketAddrV6 {}
impl sealed::Sealed for SocketAddrV6 {
    fn to_resolve(&self) -> Resolve {
        done(*self)
    }
}

impl ToSocketAddrs for (IpAddr, u16) {}
impl sealed::Sealed for (IpAddr, u16) {
    fn to_resolve(&self) -> Resolve {
        done(*self)
    }
}

impl ToSocketAddrs for (Ipv4Addr, u16) {}
impl sealed::Sealed for (Ipv4Addr, u16) {
    fn to_resolve(&self) -> Resolve {
        done(*self)
    }
}

impl ToSocketAddrs for (Ipv6Addr, u16) {}
impl sealed::Sealed for (Ipv6Addr, u16) {
    fn to_resolve(&self) -> Resolve {
        done(*self)
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl sealed::Sealed for (&str, u16) {
    fn to_resolve(&self) -> Resolve {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => done((ip, port)),
            Err(_) => Resolve::Lookup(host.to_owned(), port),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl sealed::Sealed for (String, u16) {
    fn to_resolve(&self) -> Resolve {
        (self.0.as_str(), self.1).to_resolve()
    }
}

impl ToSocketAddrs for str {}
impl sealed::Sealed for str {
    fn to_resolve(&self) -> Resolve {
        match self.parse::<SocketAddr>() {
            Ok(addr) => done(addr),
            Err(_) => Resolve::LookupStr(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl sealed::Sealed for String {
    fn to_resolve(&self) -> Resolve {
        self.as_str().to_resolve()
    }
}

impl ToSocketAddrs for [SocketAddr] {}
impl sealed::Sealed for [SocketAddr] {
    fn to_resolve(&self) -> Resolve {
        Resolve::Done(Ok(self.to_vec()))
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrs + ?Sized> sealed::Sealed for &T {
    fn to_resolve(&self) -> Resolve {
        (**self).to_resolve()
    }
}

#[cfg(test)]
mod tests {
    use super::sealed::Sealed;
    use super::*;

    #[test]
    fn numeric_addresses_need_no_lookup() {
        for r in [
            "127.0.0.1:80".to_resolve(),
            "[::1]:80".to_resolve(),
            ("10.0.0.1", 1).to_resolve(),
            ("::1", 1).to_resolve(),
        ] {
            assert!(matches!(r, Resolve::Done(Ok(_))), "{r:?}");
        }
    }

    #[test]
    fn host_names_are_looked_up() {
        assert!(matches!("localhost:80".to_resolve(), Resolve::LookupStr(_)));
        assert!(matches!(
            ("example.invalid", 1).to_resolve(),
            Resolve::Lookup(..)
        ));
    }
}
