//! Go's coordination vocabulary for async Rust, usable under any executor.
//!
//! `goro-sync` knows nothing about the goro runtime: every primitive here is built on
//! [`std::task::Waker`] alone, so it works under goro, under another executor, and from plain
//! threads. The runtime depends on this crate, never the other way round.
//!
//! ```
//! use std::task::Poll;
//!
//! // Outside a goro worker there is no budget: operations always proceed.
//! let waker = std::task::Waker::noop();
//! let mut cx = std::task::Context::from_waker(waker);
//! assert!(goro_sync::coop::poll_proceed(&mut cx).is_ready());
//! ```
//!
//! # Implementation
//!
//! The one piece of shared machinery is [`coop`], the cooperative budget: a thread-local
//! counter that an executor sets around each poll of a task and that goro's channels and
//! sockets draw on. It lives here, at the bottom of the dependency graph, so that both the
//! primitives of this crate and the runtime above it can reach it without this crate knowing
//! which executor, if any, installed a budget.
//!
//! # Modules
//!
//! - [`coop`]: the cooperative budget hook.

#![deny(unsafe_code)]

pub mod coop;
// [channels] module declarations and re-exports of the channel work go here.
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

pub use barrier::{Barrier, BarrierWaitResult};
pub use mutex::{Mutex, MutexGuard};
pub use notify::Notify;
pub use once::{Once, OnceCell};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{Semaphore, SemaphorePermit};
pub use waitgroup::WaitGroup;
