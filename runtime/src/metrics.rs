//! What a runtime can tell about itself while it runs: Go's `runtime` counters, for tasks.
//!
//! Each worker counts the tasks it polled, the tasks it stole from its peers and the times it
//! went to sleep. A worker is the only writer of its own counters and bumps them with a plain
//! load and store (no read-modify-write, no lock), on the cache line it already writes on every
//! turn of its loop, so counting costs the executor nothing measurable. Readers on other
//! threads see each counter as of a recent moment; a snapshot is not taken atomically across
//! workers.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::runtime::Handle;

/// A snapshot of a runtime's counters, from [`metrics`] or [`Runtime::metrics`].
///
/// ```
/// goro::block_on(async {
///     let tasks: Vec<_> = (0..100).map(|i| goro::spawn(async move { i })).collect();
///     for t in tasks {
///         t.await.unwrap();
///     }
///     let m = goro::metrics();
///     let polled: u64 = m.workers.iter().map(|w| w.polled).sum();
///     assert!(polled >= 100, "every task was polled at least once");
///     println!("{} workers, {} live tasks", m.workers.len(), m.live_tasks);
/// });
/// ```
///
/// [`Runtime::metrics`]: crate::Runtime::metrics
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// One entry per worker the runtime was built with, by worker index (see
    /// [`worker_index`]).
    pub workers: Vec<WorkerMetrics>,
    /// One entry per replacement slot, by worker index minus the number of workers: where
    /// replacement workers run while a task blocks a worker (see
    /// [`Builder::blocked_worker_threshold`](crate::Builder::blocked_worker_threshold)).
    pub replacement_slots: Vec<WorkerMetrics>,
    /// Replacement workers running right now.
    pub replacements_running: usize,
    /// Tasks waiting in the shared injector queue (woken from outside the workers, or
    /// overflowing a local queue).
    pub injector_len: usize,
    /// Live tasks: spawned and not yet finished or dropped ([`num_tasks`](crate::num_tasks)).
    pub live_tasks: usize,
    /// Threads of the blocking pool alive right now.
    pub blocking_threads: usize,
}

/// One worker's counters, since its runtime started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct WorkerMetrics {
    /// Polls of tasks this worker ran.
    pub polled: u64,
    /// Tasks this worker took from other workers' queues.
    pub stolen: u64,
    /// Times this worker went to sleep for lack of work.
    pub parked: u64,
    /// Tasks in this worker's local queue right now (stealable by its peers).
    pub queue_len: usize,
}

/// The counters one worker keeps; lives in the worker's `Remote` (see `executor`).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Polls run.
    polled: AtomicU64,
    /// Tasks stolen.
    stolen: AtomicU64,
    /// Sleeps.
    parked: AtomicU64,
}

impl Counters {
    /// Adds `n` polls. Only the owning worker calls this.
    pub(crate) fn add_polled(&self, n: u64) {
        bump(&self.polled, n);
    }

    /// Adds `n` stolen tasks. Only the owning worker calls this.
    pub(crate) fn add_stolen(&self, n: u64) {
        bump(&self.stolen, n);
    }

    /// Counts one sleep. Only the owning worker calls this.
    pub(crate) fn add_parked(&self) {
        bump(&self.parked, 1);
    }

    /// Polls run so far.
    pub(crate) fn polled(&self) -> u64 {
        self.polled.load(Relaxed)
    }

    /// Sleeps so far.
    pub(crate) fn parked(&self) -> u64 {
        self.parked.load(Relaxed)
    }
}

/// Single-writer increment: a load and a store, no locked instruction.
fn bump(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
}

/// The counters of the runtime behind `handle`.
pub(crate) fn snapshot(handle: &Handle) -> Metrics {
    let executor = &handle.executor;
    let of = |r: &crate::executor::Remote| WorkerMetrics {
        polled: r.counters.polled.load(Relaxed),
        stolen: r.counters.stolen.load(Relaxed),
        parked: r.counters.parked.load(Relaxed),
        queue_len: r.steal.len(),
    };
    let (own, replacements) = executor.remotes.split_at(executor.num_workers);
    Metrics {
        workers: own.iter().map(of).collect(),
        replacement_slots: replacements.iter().map(of).collect(),
        replacements_running: replacements.iter().filter(|r| r.is_running()).count(),
        injector_len: executor.injector.len(),
        live_tasks: handle.tasks.live(),
        blocking_threads: handle.blocking.num_threads(),
    }
}

/// The counters of the current runtime: the one this task runs on, or the global one.
///
/// See [`Metrics`] for an example.
pub fn metrics() -> Metrics {
    crate::current::with_handle(|h| snapshot(h))
}

/// The index of the worker this code runs on, from 0 to the worker count - 1; `None` off the
/// workers (in `block_on`, on a blocking-pool thread, on a thread of your own).
///
/// A task may resume on any worker after an `await` (idle workers steal), so the index
/// describes this moment only: never keep per-worker state keyed by it across an `await`.
///
/// ```
/// goro::block_on(async {
///     assert_eq!(goro::worker_index(), None); // block_on's thread is not a worker
///     let on_worker = goro::spawn(async { goro::worker_index() }).await.unwrap();
///     assert!(on_worker.is_some());
/// });
/// ```
pub fn worker_index() -> Option<usize> {
    crate::current::with_handle(|h| crate::executor::current_worker_index(h))
}
