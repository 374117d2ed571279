//! Go's coordination vocabulary for async Rust, usable under any executor.
//!
//! `goro_sync` knows nothing about the goro runtime: every primitive here is built on
//! [`std::task::Waker`] alone, so it works under goro, under another executor, and from plain
//! threads. The runtime depends on this crate, never the other way round.
//!
//! ```
//! use goro::sync::chan;
//!
//! // An unbuffered channel, as Go's `make(chan int)`: a send completes when a receiver takes it.
//! let (tx, rx) = chan::bounded::<i32>(0);
//! let sender = std::thread::spawn(move || tx.send_blocking(42));
//! assert_eq!(rx.recv_blocking(), Some(42));
//! sender.join().unwrap().unwrap();
//! ```
//!
//! # Implementation
//!
//! Every primitive keeps its state and a FIFO list of waiting futures under one internal
//! mutex; whoever makes progress possible *grants* it to a waiter before waking it, and a
//! waiter dropped after its grant passes it on, so neither wakeups nor values nor permits are
//! lost to cancellation. A `select!` shares one commit token among its channel arms, so that
//! exactly one channel operation takes effect per `select!` (`chan`'s module docs write the
//! protocol out). Each module's docs give its own protocol.
//!
//! The cooperative budget, [`coop`], is a thread-local counter that an executor sets around
//! each poll of a task and that the channels (and goro's sockets) draw on. It lives here, at
//! the bottom of the dependency graph, so that both this crate and the runtime above it can
//! reach it without this crate knowing which executor, if any, installed a budget.
//!
//! # Modules
//!
//! - [`chan`]: Go's channels: unbuffered, bounded, unbounded; many senders and receivers.
//! - [`select!`]: Go's `select`, with `default`, fair among ready arms, committing once.
//! - [`watch`]: one value, the latest, read by many receivers that wait for it to change.
//! - [`broadcast`]: every value to every receiver, through a ring buffer; laggards are told
//!   how many they missed.
//! - [`cancel`]: [`until`](cancel::until), `select!`'s exact commit for combinators that
//!   cancel a future when another completes (the runtime's `timeout` is one).
//! - [`waitgroup`], [`mutex`], [`rwlock`], [`semaphore`], [`once`], [`barrier`], [`notify`]:
//!   Go's `sync` package, async.
//! - [`coop`]: the cooperative budget hook.
//!
//! # What it does not do
//!
//! - No `sync.Cond`: use [`Notify`].
//! - A `select!` nested inside another's arm commits on its own token: both may take effect.
//! - No poisoning: a panic while holding a [`Mutex`] guard releases the lock.

#![deny(unsafe_code)]

pub mod coop;
// [channels] module declarations and re-exports of the channel work go here.
//
// Go's channels and `select!`. `chan` has bounded, unbuffered and unbounded channels with many
// senders and many receivers: one mutex per channel around the buffer and two FIFO queues of
// waiting futures. `select` has the `select!` macro (exported at the crate root) and the commit
// token its channel arms share, so that exactly one arm's operation takes effect; `chan`'s
// module docs write out that protocol and why it neither loses nor duplicates a value.
pub mod broadcast;
pub mod cancel;
pub mod chan;
mod select;
#[doc(hidden)]
pub use select::__private;
// [primitives] module declarations and re-exports of the other primitives go here.
//
// Go's other coordination primitives: `WaitGroup`, `Mutex`, `RwLock`, `Semaphore`, `Once`,
// `OnceCell`, `Barrier`, `Notify`. Each keeps its state and a FIFO queue of waiting futures
// (`waiters`) under one internal std mutex; a waiter is *granted* what it waits for (the lock, a
// permit, a notification) before it is woken, and a waiter dropped after its grant passes it on.
// Each module's docs give its protocol. The main types are re-exported here; the futures
// (`mutex::Lock`, `semaphore::Acquire`, ...) stay in their modules.
pub mod barrier;
pub mod mutex;
pub mod notify;
pub mod once;
pub mod rwlock;
pub mod semaphore;
mod waiters;
pub mod waitgroup;
pub mod watch;

pub use barrier::{Barrier, BarrierWaitResult};
pub use mutex::{Mutex, MutexGuard};
pub use notify::Notify;
pub use once::{Once, OnceCell};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{Semaphore, SemaphorePermit};
pub use waitgroup::WaitGroup;
