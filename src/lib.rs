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
//!   [`TaskGroup`], [`num_tasks`]; named tasks and spawn options in [`task`]; a runtime of
//!   your own with [`Builder`] and [`Runtime`].
//! - [`time`]: `sleep`, `timeout`, `interval`, `after`.
//! - [`sync`]: channels ([`sync::chan`]) and [`select!`], `WaitGroup`, `Mutex`, `RwLock`,
//!   `Semaphore`, `Once`, `OnceCell`, `Barrier`, `Notify`, `Context`.
//! - [`net`]: TCP, UDP and Unix sockets, host-name lookup, [`net::Async`] for any file
//!   descriptor.
//! - [`io`]: the `AsyncRead`/`AsyncWrite` traits goro's sockets implement and the extension
//!   traits that give them `read`, `write_all`, `read_line`, ...; [`stream`]: `StreamExt` for
//!   channel receivers.
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
    block_on, num_tasks, spawn, spawn_blocking, task, time, yield_now, Builder, JoinError,
    JoinHandle, Runtime, TaskGroup, MAX_WORKERS,
};
pub use goro_sync::select;

// Hooks for goro's own crates and for code that builds on the runtime's internals; not part of
// the everyday API, so kept off the front page.
#[doc(hidden)]
pub use goro_runtime::{coop, reactor, MAXPROCS_ENV};

/// Sockets on goro's reactor.
pub mod net {
    pub use goro_net::*;
}

/// Go's coordination vocabulary: channels, WaitGroup, Mutex, RwLock, Once, Context, ...
pub mod sync {
    pub use goro_runtime::context::{self, CancelFn, Context, ContextError};
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
