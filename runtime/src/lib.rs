//! goro's runtime: a work-stealing executor, a reactor with timers, a blocking pool.
//!
//! A goroutine is a task: a future spawned onto a pool of worker threads that share the work
//! by stealing it from each other. Sockets and timers wait in one OS poller per runtime, so
//! thousands of tasks can wait on a handful of threads; blocking calls go to a separate pool.
//!
//! ```
//! use std::time::Duration;
//!
//! goro::block_on(async {
//!     let worker = goro::spawn(async {
//!         goro::time::sleep(Duration::from_millis(5)).await;
//!         "done"
//!     });
//!     assert_eq!(worker.await.unwrap(), "done");
//! });
//! ```
//!
//! # Implementation
//!
//! Tasks are `async-task` allocations (`task.rs`). Each worker thread (`executor/worker.rs`)
//! owns a fixed-size local queue that others can steal half of (`executor/queue.rs`) and a
//! LIFO slot for the task its running task just woke (`executor/lifo.rs`); tasks woken from
//! elsewhere go to a shared injector. Idle workers sleep, and a new task wakes at most one of
//! them, none if one is already searching (`executor/idle.rs`).
//!
//! There is no reactor thread: a worker with nothing to do drives the `polling` poller with
//! the next timer deadline as its timeout (`reactor/`, `park.rs`), and busy workers poll it
//! every few dozen tasks, so neither sockets nor timers wait behind a busy queue. A worker
//! that stops driving to run tasks hands the role to a sleeping one whenever a timer or a
//! socket is registered (`executor/driver.rs`), so timers fire on an idle worker however
//! long a task blocks another. A task gets a cooperative budget per poll
//! (`goro_sync::coop`); goro's channels, sockets and due timers spend it, so a task that
//! always finds work still yields.
//!
//! A task that blocks its worker (a long loop, `std::thread::sleep`) is seen by the
//! runtime's monitor thread (`executor/monitor.rs`, Go's sysmon): after 10 ms
//! ([`Builder::blocked_worker_threshold`]) the task is reported once ([`BlockedWorker`]),
//! and if its thread waits in the OS a replacement worker takes the blocked one's place
//! until it returns. Replacements join
//! and leave the idle bookkeeping without losing a wake (`executor/idle.rs`), and the monitor
//! sleeps, then exits, while every worker sleeps, with a gate that a waking worker always
//! gets through.
//!
//! Each runtime reads time from its own clock (`clock.rs`): the real one, or, built with
//! [`Builder::start_paused`], a paused one that moves only by [`time::advance`] or when
//! nothing of the runtime can run before its next timer. The rule for "nothing can run",
//! and why the clock never jumps past a wake in flight, lives in that one file.
//!
//! Dropping a [`Runtime`] stops its workers, drops every task it still has and joins its
//! threads (`runtime.rs`).
//!
//! # What goro does not do
//!
//! - It does not preempt. A task that loops without awaiting holds its worker until it
//!   awaits; other workers steal the tasks queued behind it, timers keep firing, and the
//!   monitor reports it (and replaces a worker blocked in the OS), but the task itself
//!   cannot be interrupted. Put long computations in [`spawn_blocking`] or yield.
//! - It has no single-threaded "current thread" flavour and no `spawn_local` for `!Send`
//!   futures: every task may move between workers.
//! - `block_on` cannot be nested inside a task.
//!
//! # Modules
//!
//! - [`time`]: `sleep`, `timeout`, `interval`, `now`, `advance` (paused clocks).
//! - [`fs`]: files and directories on the blocking pool.
//! - [`context`]: Go's `context`: cancellation and deadlines down a tree.
//! - [`signal`]: Unix signals: `ctrl_c`, signal streams, a context cancelled by a signal.
//! - `hyper_rt` (feature `hyper`): hyper's `Executor` and `Timer` on goro; `time::Sleep`
//!   implements `hyper::rt::Sleep`.
//! - [`task`]: spawning with options, [`JoinHandle`], [`JoinError`]; task dumps
//!   ([`dump_tasks`], `dump.rs`).
//! - [`task_local`](mod@task_local): values set for one future, declared with [`task_local!`].
//! - [`reactor`]: [`reactor::Registered`], the building block of `goro::net`.
//! - `executor`, `park`, `blocking`, `block_on`, `current`, `group`, `join_set`, `runtime`,
//!   `builder`, `registry`, `dump`, `clock`, `deadlock`:
//!   the machinery, one concept per file.

#![deny(unsafe_code)]

mod block_on;
mod blocking;
mod builder;
mod clock;
pub mod context;
mod current;
mod deadlock;
mod dump;
mod executor;
pub mod fs;
mod group;
#[cfg(feature = "hyper")]
pub mod hyper_rt;
mod join_set;
mod loom;
mod metrics;
mod park;
pub mod reactor;
mod registry;
mod runtime;
pub mod signal;
pub mod task;
pub mod task_local;
pub mod time;

pub use block_on::block_on;
pub use blocking::{DEFAULT_MAX_THREADS, KEEP_ALIVE};
pub use builder::{Builder, MAXPROCS_ENV, MAX_WORKERS};
pub use dump::{dump_tasks, DUMP_ON_SIGQUIT_ENV};
pub use executor::monitor::{BlockedWorker, DEFAULT_THRESHOLD as BLOCKED_WORKER_THRESHOLD};
pub use goro_sync::coop;
pub use group::{TaskGroup, Wait};
pub use join_set::JoinSet;
pub use metrics::{metrics, worker_index, Metrics, WorkerMetrics};
pub use runtime::Runtime;
pub use task::{num_tasks, spawn, spawn_blocking, yield_now, JoinError, JoinHandle, YieldNow};
pub use task_local::{AccessError, LocalKey, TaskLocalFuture};
