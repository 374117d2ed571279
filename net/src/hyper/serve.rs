//! [`serve`]: an HTTP/1.1 server on a goro listener, one task per connection, with a
//! graceful drain when its [`Context`] is cancelled.
//!
//! # Draining
//!
//! Each connection task holds a clone of one channel's sender and watches the context. When
//! the context is done, the accept loop drops the listener (new connections are refused) and
//! drops its own sender; each connection task calls hyper's `graceful_shutdown`, which closes
//! an idle connection at once and lets a request in flight finish (its response says
//! `connection: close`). A task's sender goes with it however the task ends (finished,
//! failed, panicked), so `serve` waits on the channel until it reports every sender gone:
//! no connection can be missed, and no count can be left behind.

use std::error::Error as StdError;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::pin;
use std::time::Duration;

use ::hyper::body::{Body, Incoming};
use ::hyper::server::conn::http1;
use ::hyper::service::Service;
use ::hyper::{Request, Response};
use goro_runtime::context::Context;
use goro_runtime::hyper_rt::Timer;
use goro_sync::chan::{self, Sender};
use rustix::io::Errno;

use super::Io;
use crate::{TcpListener, TcpStream, UnixListener, UnixStream};

/// The first pause after an `accept` fails for want of resources (descriptors, memory): Go's
/// `net/http` starts at 5 ms too. It doubles on each further failure.
pub const ACCEPT_BACKOFF_START: Duration = Duration::from_millis(5);

/// The longest pause between failing `accept`s: while the process stays out of descriptors,
/// one attempt a second costs nothing and notices recovery within a second (Go's bound).
pub const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Where [`serve`] gets its connections: goro's TCP and Unix listeners, or a listener of
/// your own (one that counts, filters, or wraps connections in TLS with
/// [`Io::with_zero_fill`]).
///
/// ```
/// use goro::net::TcpListener;
/// use goro::hyper::{Io, Listener};
///
/// /// Accepts from a TCP listener, but only connections from loopback.
/// struct LoopbackOnly(TcpListener);
///
/// impl Listener for LoopbackOnly {
///     type Conn = Io<goro::net::TcpStream>;
///
///     async fn accept(&self) -> std::io::Result<Self::Conn> {
///         loop {
///             let (stream, peer) = self.0.accept().await?;
///             if peer.ip().is_loopback() {
///                 return Ok(Io::new(stream));
///             }
///         }
///     }
/// }
/// ```
pub trait Listener {
    /// A connection, ready for hyper.
    type Conn: ::hyper::rt::Read + ::hyper::rt::Write + Unpin + Send + 'static;

    /// Waits for the next connection.
    ///
    /// # Errors
    ///
    /// What the listener's `accept` reports; see [`serve`] for how each kind is handled.
    ///
    /// # Cancel safety
    ///
    /// Must be cancel safe: [`serve`] drops it when its context is cancelled.
    fn accept(&self) -> impl Future<Output = io::Result<Self::Conn>> + Send;
}

impl Listener for TcpListener {
    type Conn = Io<TcpStream>;

    async fn accept(&self) -> io::Result<Io<TcpStream>> {
        let (stream, _) = TcpListener::accept(self).await?;
        // hyper writes a response's head and body as they come: without TCP_NODELAY the
        // second small write can wait for the peer's delayed ACK (40 ms). A failure here
        // means the connection is already dead, which its first read reports.
        let _ = stream.set_nodelay(true);
        Ok(Io::new(stream))
    }
}

impl Listener for UnixListener {
    type Conn = Io<UnixStream>;

    async fn accept(&self) -> io::Result<Io<UnixStream>> {
        let (stream, _) = UnixListener::accept(self).await?;
        Ok(Io::new(stream))
    }
}

/// What the accept loop does after `accept` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AcceptFailure {
    /// One connection's fault (reset, aborted before it was accepted): accept again at once.
    Retry,
    /// Out of a resource (EMFILE, ENFILE, ENOBUFS, ENOMEM) or unknown: pause, then retry.
    BackOff,
    /// The listener itself is unusable: `serve` returns the error.
    Fatal,
}

fn classify(e: &io::Error) -> AcceptFailure {
    match Errno::from_io_error(e) {
        Some(Errno::BADF | Errno::INVAL | Errno::NOTSOCK | Errno::FAULT) => AcceptFailure::Fatal,
        // Linux reports a new connection's pending network error from `accept` itself: the
        // listener is fine (accept(2), "Error handling").
        Some(
            Errno::CONNABORTED
            | Errno::PROTO
            | Errno::PERM
            | Errno::NETDOWN
            | Errno::NOPROTOOPT
            | Errno::HOSTDOWN
            | Errno::NONET
            | Errno::HOSTUNREACH
            | Errno::OPNOTSUPP
            | Errno::NETUNREACH
            | Errno::INTR,
        ) => AcceptFailure::Retry,
        Some(_) => AcceptFailure::BackOff,
        None => match e.kind() {
            io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted => AcceptFailure::Retry,
            _ => AcceptFailure::BackOff,
        },
    }
}

/// Serves HTTP/1.1 on `listener` until `ctx` is cancelled, then drains: one task per
/// connection, keep-alive on, hyper's timers on goro (a client that sends no request head
/// within 30 s is disconnected, hyper's default `header_read_timeout`).
///
/// `service` is cloned once per connection and called for each of its requests: anything
/// implementing hyper's `Service` works, [`hyper::service::service_fn`] included. A
/// `tower::Service` (an axum `Router`, say) goes through an adapter such as hyper-util's
/// `service::TowerToHyperService`.
///
/// When `ctx` is done, `serve` stops accepting and closes the listener (new connections are
/// refused), closes idle connections, lets each request in flight finish (its response
/// carries `connection: close`), and returns once every connection has ended. A drain with a
/// deadline is `goro::time::timeout(d, serve(..))`; connections still open when it fires
/// keep their tasks until they end.
///
/// ```
/// use std::convert::Infallible;
/// use hyper::{Request, Response, body::Incoming, service::service_fn};
/// use goro::net::TcpListener;
/// use goro::sync::Context;
///
/// # goro::block_on(async {
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let hello = service_fn(|_req: Request<Incoming>| async {
///     Ok::<_, Infallible>(Response::new("hello".to_string()))
/// });
/// let (ctx, cancel) = Context::background().with_cancel();
/// let server = goro::spawn(goro::hyper::serve(listener, hello, ctx));
/// cancel.cancel(); // no connections: returns at once
/// server.await.unwrap()?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
///
/// # Errors
///
/// `accept` failures are handled as Go's `net/http` does: one connection's error (reset,
/// aborted) is skipped; running out of descriptors or memory (EMFILE, ENFILE, ENOBUFS,
/// ENOMEM) pauses the loop, 5 ms at first, doubling up to 1 s, then retries (the pause ends
/// early if `ctx` is cancelled). An error that says the listener itself is unusable (EBADF,
/// EINVAL, ENOTSOCK) is returned at once; connections already accepted are then left to
/// finish on their own. Errors of single connections are not reported.
///
/// # Cancel safety
///
/// Dropping the future closes the listener; connections already accepted keep being served
/// by their own tasks until they end or `ctx` is cancelled.
pub async fn serve<L, S, B>(listener: L, service: S, ctx: Context) -> io::Result<()>
where
    L: Listener,
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    serve_with(http1::Builder::new(), listener, service, ctx).await
}

/// [`serve`] with hyper's HTTP/1 settings of your choice (timeouts, header limits, ...); goro's
/// [`Timer`] is set on `builder`, so its timeouts work.
///
/// ```
/// use std::convert::Infallible;
/// use std::time::Duration;
/// use hyper::{Request, Response, body::Incoming, server::conn::http1, service::service_fn};
/// use goro::net::TcpListener;
/// use goro::sync::Context;
///
/// # goro::block_on(async {
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let mut builder = http1::Builder::new();
/// builder.header_read_timeout(Duration::from_secs(5)).max_buf_size(64 * 1024);
/// let hello = service_fn(|_req: Request<Incoming>| async {
///     Ok::<_, Infallible>(Response::new("hello".to_string()))
/// });
/// let (ctx, cancel) = Context::background().with_cancel();
/// cancel.cancel();
/// goro::hyper::serve_with(builder, listener, hello, ctx).await?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
///
/// # Errors
///
/// As [`serve`].
pub async fn serve_with<L, S, B>(
    builder: http1::Builder,
    listener: L,
    service: S,
    ctx: Context,
) -> io::Result<()>
where
    L: Listener,
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let mut builder = builder;
    builder.timer(Timer::new());
    // Never sent on: each connection holds a sender, and `recv` returns `None` once all are
    // gone (see the module docs).
    let (live, all_ended) = chan::bounded::<()>(1);
    let result = accept_loop(&listener, &ctx, |conn| {
        let task = connection(
            builder.clone(),
            conn,
            service.clone(),
            ctx.clone(),
            live.clone(),
        );
        drop(goro_runtime::spawn(task));
    })
    .await;
    drop(listener);
    drop(live);
    if result.is_ok() {
        while all_ended.recv().await.is_some() {}
    }
    result
}

/// Accepts connections and hands each to `start` until `ctx` is done (`Ok`) or the listener
/// fails for good (`Err`).
async fn accept_loop<L: Listener>(
    listener: &L,
    ctx: &Context,
    mut start: impl FnMut(L::Conn),
) -> io::Result<()> {
    let mut backoff = ACCEPT_BACKOFF_START;
    while ctx.err().is_none() {
        let accepted = futures_lite::future::or(async { Some(listener.accept().await) }, async {
            ctx.done().await;
            None
        })
        .await;
        match accepted {
            None => break,
            Some(Ok(conn)) => {
                backoff = ACCEPT_BACKOFF_START;
                start(conn);
            }
            Some(Err(e)) => match classify(&e) {
                AcceptFailure::Retry => {}
                AcceptFailure::Fatal => return Err(e),
                AcceptFailure::BackOff => {
                    let pause = goro_runtime::time::sleep(backoff);
                    futures_lite::future::or(pause, ctx.done()).await;
                    backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                }
            },
        }
    }
    Ok(())
}

/// Serves one connection until it ends; once `ctx` is done, shuts it down gracefully.
async fn connection<I, S, B>(
    builder: http1::Builder,
    io: I,
    service: S,
    ctx: Context,
    _live: Sender<()>,
) where
    I: ::hyper::rt::Read + ::hyper::rt::Write + Unpin + Send + 'static,
    S: Service<Request<Incoming>, Response = Response<B>>,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let mut conn = pin!(builder.serve_connection(io, service).with_upgrades());
    let mut done = pin!(ctx.done());
    let mut draining = false;
    // A connection's error (a reset peer, a malformed request, a header timeout) concerns
    // that connection alone.
    let _ = poll_fn(|cx| {
        if !draining && done.as_mut().poll(cx).is_ready() {
            draining = true;
            conn.as_mut().graceful_shutdown();
        }
        conn.as_mut().poll(cx)
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_errors_are_classified_as_go_does() {
        let os = |e: Errno| io::Error::from_raw_os_error(e.raw_os_error());
        assert_eq!(classify(&os(Errno::MFILE)), AcceptFailure::BackOff);
        assert_eq!(classify(&os(Errno::NFILE)), AcceptFailure::BackOff);
        assert_eq!(classify(&os(Errno::NOBUFS)), AcceptFailure::BackOff);
        assert_eq!(classify(&os(Errno::CONNABORTED)), AcceptFailure::Retry);
        assert_eq!(classify(&os(Errno::BADF)), AcceptFailure::Fatal);
        assert_eq!(classify(&os(Errno::INVAL)), AcceptFailure::Fatal);
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(classify(&reset), AcceptFailure::Retry);
        assert_eq!(classify(&io::Error::other("tls")), AcceptFailure::BackOff);
    }
}
