//! Sockets on goro's reactor: TCP, UDP and Unix sockets, DNS off the workers, and
//! [`Async<T>`] for any other file descriptor.
//!
//! ```
//! use goro::io::{AsyncReadExt, AsyncWriteExt};
//! use goro::net::{TcpListener, TcpStream};
//!
//! # goro::block_on(async {
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//!
//! // An echo server: one task per connection, as Go's one goroutine per connection.
//! // (A real server backs off when `accept` fails: see `TcpListener`.)
//! goro::spawn(async move {
//!     while let Ok((mut conn, _)) = listener.accept().await {
//!         goro::spawn(async move {
//!             let mut buf = [0; 1024];
//!             while let Ok(n @ 1..) = conn.read(&mut buf).await {
//!                 if conn.write_all(&buf[..n]).await.is_err() {
//!                     break;
//!                 }
//!             }
//!         });
//!     }
//! });
//!
//! let mut client = TcpStream::connect(addr).await?;
//! client.write_all(b"hello").await?;
//! let mut buf = [0; 5];
//! client.read_exact(&mut buf).await?;
//! assert_eq!(&buf, b"hello");
//! # std::io::Result::Ok(()) }).unwrap();
//! ```
//!
//! # Implementation
//!
//! Every socket is a std socket in non-blocking mode inside an [`Async`], which registers its
//! descriptor with the reactor of the runtime it was created on. An operation tries the
//! syscall first; on `WouldBlock` the task parks until the reactor reports readiness, then
//! tries again, so a thousand idle connections cost a thousand small records in the poller
//! and no thread each. Each operation takes one unit of the task's cooperative budget, so a
//! task reading from a socket that always has data still lets its neighbours run.
//!
//! Connecting never blocks a worker: host names are resolved with `getaddrinfo` on the
//! blocking pool (numeric addresses are parsed in place), and each address is connected with
//! a non-blocking `connect` whose completion is awaited in the reactor, so
//! `goro::time::timeout` bounds it and cancelling it closes the socket. A lookup that fails
//! while the process is out of file descriptors returns EMFILE (glibc would call the name
//! unknown), and one for which no thread could start returns an error saying so. The few calls std
//! lacks (that connect, `accept4` with SOCK_NONBLOCK, the listen backlog, `sendmsg` with
//! MSG_NOSIGNAL) come from `rustix`, safely. The only `unsafe` code is hyper's: filling its
//! uninitialised read buffer (feature `hyper`, module `hyper::uninit`).
//!
//! A socket belongs to the runtime it was created on (its descriptor is in that runtime's
//! poller). It may be used from any runtime's tasks while that runtime lives; once it is
//! dropped, every read, write, `accept`, `connect`, `readable` or `writable` on the socket
//! returns at once an `io::Error` of kind `Other` saying that the socket's runtime was shut
//! down, instead of waiting for events that nobody would deliver.
//!
//! SIGPIPE cannot kill the process: every stream write goes out with MSG_NOSIGNAL, so
//! writing to a closed peer returns `BrokenPipe` even in a host process (a C program, say)
//! that has not ignored SIGPIPE the way Rust's `main` does.
//!
//! # Cancel safety
//!
//! Every waiting operation here takes what it waits for (a connection, a datagram, bytes)
//! only in the poll that completes it, so a future dropped before completing has taken
//! nothing: `accept`, `recv`, `recv_from`, `send`, `send_to`, `peek`, `readable`, `writable`
//! and the one-shot `read`/`write` of futures-lite's extension traits are all safe `select!`
//! arms. futures-lite's looping helpers (`read_exact`, `read_line`, `read_to_string`,
//! `write_all`) are not: see [`TcpStream`]. Each operation's docs say more.
//!
//! # What goro-net does not do
//!
//! - No TLS, no HTTP: use the futures-io ecosystem (`futures-rustls`, `async-tungstenite`)
//!   on top of [`TcpStream`].
//! - No Windows: Unix file descriptors only.
//! - No automatic TCP_NODELAY (Go sets it on every connection): call
//!   [`TcpStream::set_nodelay`].
//! - No back-off inside `accept`: when the process is out of descriptors, `accept` returns
//!   EMFILE and the server decides (see [`TcpListener`]).
//!
//! # Modules
//!
//! - `async_fd`: [`Async<T>`].
//! - `tcp`: [`TcpListener`], [`TcpStream`], [`OwnedReadHalf`], [`OwnedWriteHalf`].
//! - `udp`: [`UdpSocket`].
//! - `unix`: [`UnixListener`], [`UnixStream`], [`UnixDatagram`].
//! - `addr`: [`ToSocketAddrs`] and [`lookup_host`], the resolution on the blocking pool.
//! - `socket`: the raw socket calls std lacks.
//! - [`process`]: child processes with pipes and exit awaited on the reactor.
//! - [`hyper`] (feature `hyper`): hyper 1.x on goro's sockets, [`hyper::Io`] and
//!   [`hyper::serve`].

// `deny`, not `forbid`: the feature `hyper` reads into hyper's uninitialised buffer, which
// takes two `unsafe` calls; they live in one module, `hyper::uninit`, under a visible
// `#[allow(unsafe_code)]`. Without the feature this crate has no `unsafe` code.
#![deny(unsafe_code)]

mod addr;
mod async_fd;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod process;
mod socket;
mod tcp;
mod udp;
mod unix;

pub use addr::{ToSocketAddrs, lookup_host};
pub use async_fd::Async;
pub use tcp::{Incoming, OwnedReadHalf, OwnedWriteHalf, ReuniteError, TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixIncoming, UnixListener, UnixStream};
