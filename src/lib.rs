//! goro: a Go-style async runtime for Rust. Goroutines are tasks.
//!
//! Cheap tasks spread over every core by a work-stealing scheduler, a network poller so
//! thousands of connections wait on a handful of threads, a pool for blocking calls, and Go's
//! vocabulary to coordinate them: channels with [`select!`], `WaitGroup`, `Mutex`, `Once`,
//! `Context`, and [`TaskGroup`] (Go's errgroup).
//!
//! ```
//! use std::time::Duration;
//! use goro::sync::chan;
//!
//! goro::block_on(async {
//!     let (tx, rx) = chan::bounded(0); // Go's make(chan int)
//!     for id in 0..3 {
//!         let tx = tx.clone();
//!         goro::spawn(async move {
//!             goro::time::sleep(Duration::from_millis(1)).await;
//!             tx.send(id * 2).await.unwrap();
//!         });
//!     }
//!     drop(tx); // the channel closes when the last sender is gone
//!     let mut sum = 0;
//!     while let Some(v) = rx.recv().await {
//!         sum += v;
//!     }
//!     assert_eq!(sum, 6);
//! });
//! ```
//!
//! A program's `main` and its tests use the attributes, which start goro's runtime around an
//! `async fn`:
//!
//! ```
//! #[goro::main]
//! async fn main() {
//!     let answer = goro::spawn(async { 21 * 2 }).await.unwrap();
//!     println!("{answer}");
//! }
//! ```
//!
//! # Where things are
//!
//! - Tasks: [`spawn`], [`spawn_blocking`], [`yield_now`], [`block_on`], [`JoinHandle`],
//!   [`TaskGroup`], [`JoinSet`], [`num_tasks`]; named tasks and spawn options in [`task`]; a runtime of
//!   your own with [`Builder`] and [`Runtime`]; what the runtime is doing with [`metrics`],
//!   [`worker_index`] and [`dump_tasks`] (also printed on SIGQUIT with
//!   `GORO_DUMP_ON_SIGQUIT=1`); values set for one future with [`task_local!`].
//! - [`time`]: `sleep`, `timeout`, `interval`, `after`; paused time for tests (`now`,
//!   `advance`).
//! - [`fs`]: files and directories (`read`, `write`, `File`, `read_dir`, ...) on the
//!   blocking pool.
//! - [`signal`]: Unix signals: `ctrl_c`, a stream of [`signal::Signal`]s, and
//!   `Context::with_signals` for a graceful shutdown.
//! - [`sync`]: channels ([`sync::chan`], [`sync::watch`], [`sync::broadcast`]) and
//!   [`select!`], `WaitGroup`, `Mutex`, `RwLock`,
//!   `Semaphore`, `Once`, `OnceCell`, `Barrier`, `Notify`, `Context`.
//! - [`net`]: TCP, UDP and Unix sockets, host-name lookup, [`net::Async`] for any file
//!   descriptor.
//! - [`io`]: the `AsyncRead`/`AsyncWrite` traits goro's sockets implement and the extension
//!   traits that give them `read`, `write_all`, `read_line`, ...; [`stream`]: `StreamExt` for
//!   channel receivers.
//! - [`process`]: child processes (`Command`, `Child`) whose pipes and exit are awaited on the
//!   reactor.
//! - `hyper` (feature `hyper`): hyper 1.x on goro: `Io`, `Executor`, `Timer`, `serve`.
//! - When a program is stuck: `block_on` reports a deadlock (`all tasks are asleep -
//!   deadlock!`, see [`Builder::detect_deadlocks`]), [`dump_tasks`] lists the live tasks, a
//!   monitor replaces a worker that a task blocks and names the task ([`BlockedWorker`], see
//!   [`Builder::blocked_worker_threshold`]), and `#[goro::test]` fails a test that leaves
//!   tasks running. The README's "When your program
//!   is stuck" shows each with real output.
//!
//! # Depending on goro
//!
//! The package is named `goro-rt` (the name `goro` on crates.io is taken by an unrelated
//! crate) and its library `goro`, so a dependency written `goro = { package = "goro-rt", .. }`
//! or `goro-rt = { .. }` is used as `goro::`. Under another name, tell the attributes where
//! goro is: `#[my_goro::main(crate = "my_goro")]`.
//!
//! # Go → goro
//!
#![doc = include_str!("docs/go-to-goro.md")]
//!
//! # Ecosystem
//!
#![doc = include_str!("docs/ecosystem.md")]
//!
//! # What goro does not do
//!
#![doc = include_str!("docs/limits.md")]

pub use goro_macros::{main, test};
pub use goro_runtime::{
    block_on, dump_tasks, fs, metrics, num_tasks, signal, spawn, spawn_blocking, task, time,
    worker_index, yield_now, BlockedWorker, Builder, JoinError, JoinHandle, JoinSet, Metrics,
    Runtime, TaskGroup, WorkerMetrics, BLOCKED_WORKER_THRESHOLD, DUMP_ON_SIGQUIT_ENV, MAX_WORKERS,
};
pub use goro_runtime::{task_local, AccessError, LocalKey, TaskLocalFuture};
pub use goro_sync::select;

// Hooks for goro's own crates and for code that builds on the runtime's internals; not part of
// the everyday API, so kept off the front page.
#[doc(hidden)]
pub use goro_runtime::{coop, reactor, MAXPROCS_ENV};

/// Sockets on goro's reactor.
pub mod net {
    pub use goro_net::*;
}

/// Child processes whose pipes and exit are awaited on goro's reactor: Go's `os/exec`.
pub mod process {
    pub use goro_net::process::*;
}

/// Go's coordination vocabulary: channels, WaitGroup, Mutex, RwLock, Once, Context, ...
pub mod sync {
    pub use goro_runtime::context::{self, CancelFn, Context, ContextError, ContextKey};
    pub use goro_sync::*;
}

pub mod io {
    //! Asynchronous reading and writing: the traits goro's streams implement, and the extension
    //! traits and helpers that give them their methods.
    //!
    //! goro's sockets implement the `futures-io` traits ([`AsyncRead`], [`AsyncWrite`]), the
    //! ones the futures ecosystem shares (futures-rustls, async-tungstenite, ...). Their methods
    //! (`read`, `read_exact`, `write_all`, `read_line`, ...) come from the extension traits
    //! [`AsyncReadExt`], [`AsyncWriteExt`] and [`AsyncBufReadExt`]: import the ones you call.
    //! These are futures-lite's, re-exported so that goro is the only dependency a program needs.
    //!
    //! ```
    //! use goro::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    //! use goro::net::UnixStream;
    //!
    //! goro::block_on(async {
    //!     let (mut a, b) = UnixStream::pair()?;
    //!     a.write_all(b"hello\nworld\n").await?;
    //!     let mut lines = BufReader::new(b);
    //!     let mut line = String::new();
    //!     lines.read_line(&mut line).await?;
    //!     assert_eq!(line, "hello\n");
    //!     Ok::<_, std::io::Error>(())
    //! })
    //! .unwrap();
    //! ```
    //!
    //! [`split`] gives a stream's reading and writing halves to two tasks (goro's TCP and Unix
    //! streams also have `into_split`, which needs no lock); [`copy`] moves everything from a
    //! reader to a writer.
    pub use futures_lite::io::{
        copy, empty, repeat, sink, split, AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt,
        AsyncSeek, AsyncSeekExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter, Cursor, Empty,
        Error, ErrorKind, ReadHalf, Repeat, Result, SeekFrom, Sink, WriteHalf,
    };
}

#[cfg(feature = "hyper")]
pub mod hyper {
    //! hyper 1.x on goro (feature `hyper`): hyper's IO traits for goro's streams ([`Io`]), its
    //! runtime traits ([`Executor`], [`Timer`]; goro's `time::Sleep` is hyper's `Sleep`), and
    //! an HTTP/1.1 server, [`serve`], with one task per connection and a graceful drain when
    //! its [`Context`](crate::sync::Context) is cancelled.
    //!
    //! ```toml
    //! [dependencies]
    //! goro = { package = "goro-rt", path = "../goro", features = ["hyper"] }
    //! hyper = { version = "1", features = ["server", "http1"] } # "client" for a client
    //! ```
    //!
    //! # Server
    //!
    //! ```
    //! use std::convert::Infallible;
    //! use hyper::{body::Incoming, service::service_fn, Request, Response};
    //! use goro::net::TcpListener;
    //! use goro::sync::Context;
    //!
    //! goro::block_on(async {
    //!     let listener = TcpListener::bind("127.0.0.1:0").await?;
    //!     println!("listening on http://{}", listener.local_addr()?);
    //!     let hello = service_fn(|req: Request<Incoming>| async move {
    //!         Ok::<_, Infallible>(Response::new(format!("hello from {}", req.uri().path())))
    //!     });
    //!     // Cancel the context to stop accepting and drain; `serve` returns when every
    //!     // connection has ended.
    //!     let (ctx, cancel) = Context::background().with_cancel();
    //!     let server = goro::spawn(goro::hyper::serve(listener, hello, ctx));
    //!     cancel.cancel();
    //!     server.await.unwrap()
    //! })
    //! .unwrap();
    //! ```
    //!
    //! An axum `Router` is a `tower::Service`: serve it through hyper-util's adapter,
    //! `serve(listener, TowerToHyperService::new(router), ctx)` (hyper-util with only its
    //! `service` feature; axum with default features off needs no tokio). The example
    //! `axum-hello` does it.
    //!
    //! # Client
    //!
    //! ```
    //! use std::convert::Infallible;
    //! use http_body_util::{BodyExt, Empty};
    //! use hyper::{body::{Bytes, Incoming}, service::service_fn, Request, Response};
    //! use goro::hyper::Io;
    //! use goro::net::{TcpListener, TcpStream};
    //! use goro::sync::Context;
    //!
    //! goro::block_on(async {
    //!     let listener = TcpListener::bind("127.0.0.1:0").await?;
    //!     let addr = listener.local_addr()?;
    //!     let hello = service_fn(|_: Request<Incoming>| async {
    //!         Ok::<_, Infallible>(Response::new("hello".to_string()))
    //!     });
    //!     goro::spawn(goro::hyper::serve(listener, hello, Context::background()));
    //!
    //!     // hyper's client over a goro TcpStream: the connection runs in a task of its own.
    //!     let stream = TcpStream::connect(addr).await?;
    //!     let (mut sender, conn) = hyper::client::conn::http1::handshake(Io::new(stream))
    //!         .await
    //!         .map_err(std::io::Error::other)?;
    //!     goro::spawn(conn);
    //!     let req = Request::get("/").header("host", "localhost").body(Empty::<Bytes>::new()).unwrap();
    //!     let res = sender.send_request(req).await.map_err(std::io::Error::other)?;
    //!     assert_eq!(res.status(), 200);
    //!     let body = res.into_body().collect().await.map_err(std::io::Error::other)?.to_bytes();
    //!     assert_eq!(&body[..], b"hello");
    //!     Ok::<_, std::io::Error>(())
    //! })
    //! .unwrap();
    //! ```
    //!
    //! The example `http-fetch` (`examples/http-fetch/`) is a whole client on this: a
    //! keep-alive pool, redirects, HTTPS through futures-rustls wrapped in
    //! [`Io::with_zero_fill`], a deadline per request, many requests at once.
    //!
    //! # Reads without zeroing
    //!
    //! hyper reads into a buffer that may be uninitialised. [`Io::new`] takes goro's streams
    //! ([`ReadUninit`]), whose reads go to `read(2)` through rustix and fill that buffer as it
    //! is, with nothing zeroed; [`Io::with_zero_fill`] takes any other futures-io stream and
    //! reads it through a scratch buffer zeroed once. The two `unsafe` calls this takes
    //! (hyper's `ReadBufCursor::as_mut` and `advance`) sit in one module of goro-net, each
    //! with its argument.
    //!
    //! # What it does not do
    //!
    //! - HTTP/2: hyper's `http2` feature brings in `h2` and a tokio-util codec stack; goro's
    //!   [`Executor`] is ready for it, and hyper's `http2` builders take it with [`Timer`],
    //!   but [`serve`] speaks HTTP/1.1 only.
    //! - TLS: wrap a TLS stream with [`Io::with_zero_fill`] and accept it in a [`Listener`]
    //!   of your own.
    pub use goro_net::hyper::*;
    pub use goro_runtime::hyper_rt::{Executor, Timer};
}

pub mod stream {
    //! Streams of values, such as a channel's [`Receiver`](crate::sync::chan::Receiver): the `Stream`
    //! trait and its combinators (`next`, `map`, `filter`, `collect`, ...).
    //!
    //! ```
    //! use goro::stream::StreamExt;
    //! use goro::sync::chan;
    //!
    //! goro::block_on(async {
    //!     let (tx, rx) = chan::unbounded();
    //!     for i in 1..=3 {
    //!         tx.try_send(i).unwrap();
    //!     }
    //!     tx.close();
    //!     let doubled: Vec<i32> = rx.map(|v| v * 2).collect().await;
    //!     assert_eq!(doubled, [2, 4, 6]);
    //! });
    //! ```
    pub use futures_lite::stream::{Stream, StreamExt};
}
