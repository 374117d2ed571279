//! The work-stealing executor: where runnable tasks wait, and how they reach a worker.
//!
//! # Where a task goes when it is woken
//!
//! - Woken by the task running on a worker of its own runtime (a channel send, a spawn):
//!   into that worker's LIFO slot, displacing the slot's previous task to the back of the
//!   worker's local queue. The woken task runs next, while what it needs is in cache.
//! - Woken while running (`yield_now`, a spent cooperative budget, or any wake that arrives
//!   during its poll): to the back of the local queue, behind everything runnable there, as
//!   Go's `Gosched` does; if tasks wait in the injector, a batch of them moves to the local
//!   queue first, so a yielding task also lets work from outside in.
//! - Woken from anywhere else (another runtime, a plain thread, the blocking pool): to the
//!   injector.
//! - After a worker ran `LIFO_POLL_LIMIT` tasks in a row from its LIFO slot (tasks that keep
//!   waking each other, a ping-pong): the next one goes to the back of the local queue, so
//!   that the rest of the queue gets its turn.
//!
//! Whenever new work lands where a sleeping worker could take it, [`Shared::notify_parked`]
//! asks the idle bookkeeping (`idle.rs`) whether to wake someone: at most one worker, and
//! none if one is already searching. Two pushes are not new work and wake nobody: the LIFO
//! limit's (a peer would only steal the task and split the pair across two cores), and a
//! yield with nothing else runnable on the worker (a peer could only steal the yielding task
//! itself, once per yield, while this worker goes idle). Neither loses a wakeup: the task is
//! on the queue of a worker that is awake and takes its next task from that queue.
//!
//! # Who drives the reactor
//!
//! Workers take turns driving the reactor; `driver.rs` says who, and whom to wake so that
//! a sleeping worker fires the timers whenever another one is busy or blocked.
//!
//! # Modules
//!
//! - `worker`: the worker thread's loop.
//! - `driver`: the reactor's driver role, and its hand-off between workers.
//! - `queue`: the local run queue and its steal protocol.
//! - `lifo`: the LIFO slot.
//! - `idle`: sleeping and searching workers.
//! - `monitor`: blocked workers, their reports and replacements (Go's sysmon).

pub(crate) mod driver;
pub(crate) mod idle;
pub(crate) mod lifo;
pub(crate) mod monitor;
pub(crate) mod queue;
pub(crate) mod worker;

use concurrent_queue::ConcurrentQueue;

use crate::park::Unparker;
use crate::task::Runnable;
use driver::DriverRole;
use idle::Idle;
use lifo::LifoSlot;

pub(crate) use worker::{current_worker_index, registry_shard, this_worker};

/// What other threads can reach of one worker. Aligned to its own cache lines: the owner
/// writes its LIFO slot and tick constantly, and must not slow its neighbours down.
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct Remote {
    /// The stealing end of the worker's local queue.
    pub(crate) steal: queue::Steal<Runnable>,
    /// The worker's LIFO slot (stealable, see `lifo.rs`).
    pub(crate) lifo: LifoSlot,
    /// The worker's loop count, published so an idle peer can tell a worker stuck in one
    /// task (its tick does not move) from a busy one.
    pub(crate) tick: std::sync::atomic::AtomicU32,
    /// Wakes the worker when it sleeps.
    pub(crate) unparker: Unparker,
    /// Tasks polled and stolen, sleeps: written by the worker alone (see `metrics.rs`).
    pub(crate) counters: crate::metrics::Counters,
    /// The task in its first poll here, for task dumps: written by the worker alone.
    pub(crate) first_poll: crate::dump::FirstPollSlot,
    /// The kernel id of the thread on this slot (0: unknown), for the monitor.
    pub(crate) tid: std::sync::atomic::AtomicI32,
    /// Whether a thread runs this slot (a replacement slot is empty most of the time).
    pub(crate) occupied: std::sync::atomic::AtomicBool,
}

impl Remote {
    /// An empty slot whose thread will sleep in `unparker`'s parker.
    pub(crate) fn new(steal: queue::Steal<Runnable>, unparker: Unparker) -> Remote {
        Remote {
            steal,
            lifo: LifoSlot::new(),
            tick: std::sync::atomic::AtomicU32::new(0),
            unparker,
            counters: Default::default(),
            first_poll: Default::default(),
            tid: std::sync::atomic::AtomicI32::new(0),
            occupied: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Whether a worker thread runs on this slot.
    pub(crate) fn is_running(&self) -> bool {
        self.occupied.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The executor state shared by all workers of a runtime.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Tasks woken from outside the workers, yielding tasks, and local-queue overflow.
    pub(crate) injector: ConcurrentQueue<Runnable>,
    /// One entry per worker, by index: the runtime's own workers, then the replacement
    /// slots (`monitor.rs`).
    pub(crate) remotes: Box<[Remote]>,
    /// The runtime's own workers (`remotes[..num_workers]`).
    pub(crate) num_workers: usize,
    /// Blocked workers and their replacements.
    pub(crate) monitor: monitor::Monitor,
    /// Which workers sleep or search.
    pub(crate) idle: Idle,
    /// Who drives the reactor.
    pub(crate) driver: DriverRole,
}

impl Shared {
    /// The executor of `num_workers` workers and `remotes.len() - num_workers` replacement
    /// slots; `paused`: the runtime's clock is paused, and its test of quiescence needs to
    /// count the workers' wakes (`clock.rs`).
    pub(crate) fn new(
        remotes: Box<[Remote]>,
        num_workers: usize,
        paused: bool,
        monitor: monitor::Monitor,
    ) -> Shared {
        let slots = remotes.len();
        Shared {
            injector: ConcurrentQueue::unbounded(),
            remotes,
            num_workers,
            monitor,
            idle: if paused {
                Idle::counting_wakes(num_workers, slots)
            } else {
                Idle::new(num_workers, slots)
            },
            driver: DriverRole::new(),
        }
    }

    /// Pushes a task where every worker can see it, and wakes one if needed.
    pub(crate) fn push_injector(&self, runnable: Runnable) {
        if let Err(e) = self.injector.push(runnable) {
            // The injector is only closed at shutdown, after which nothing may run.
            drop_runnable(e.into_inner());
            return;
        }
        self.notify_parked();
    }

    /// Wakes a sleeping worker if new work needs one (see `idle.rs`).
    pub(crate) fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.remotes[index].unparker.unpark();
        }
    }

    /// Drops every task in the injector (shutdown).
    pub(crate) fn drain_injector(&self) {
        while let Ok(runnable) = self.injector.pop() {
            drop_runnable(runnable);
        }
    }

    /// Wakes every worker (shutdown).
    pub(crate) fn unpark_all(&self) {
        for remote in self.remotes.iter() {
            remote.unparker.unpark();
        }
    }

    /// Whether any queue holds a task: the last searcher's re-check before sleeping.
    pub(crate) fn has_work(&self) -> bool {
        !self.injector.is_empty() || self.remotes.iter().any(|r| !r.steal.is_empty())
    }
}

/// The schedule function of every async task.
///
/// On a worker of the task's own runtime the worker does the scheduling (LIFO slot, local
/// queue), and the worker's own reference keeps the runtime alive throughout. Anywhere else
/// the task goes to the injector, holding its own reference to the runtime while it does.
pub(crate) fn schedule(runnable: Runnable, info: async_task::ScheduleInfo) {
    runnable.metadata().activity().scheduled();
    let runnable = match worker::schedule_here(runnable, info.woken_while_running) {
        Ok(()) => return,
        Err(runnable) => runnable,
    };
    let handle = runnable.metadata().handle().clone();
    if handle.is_shutdown() {
        drop_runnable(runnable);
        return;
    }
    handle.executor.push_injector(runnable);
}

/// Schedules a task just spawned on `handle` (borrowed by the caller, so this path, unlike a
/// wake from a foreign thread, needs no reference count of its own).
pub(crate) fn schedule_new(handle: &crate::runtime::Handle, runnable: Runnable) {
    match worker::schedule_here(runnable, false) {
        Ok(()) => {}
        Err(runnable) => handle.executor.push_injector(runnable),
    }
}

/// Drops a task that will never run again (its future's destructor runs here). A panicking
/// destructor is contained: it must not unwind through a runtime thread.
pub(crate) fn drop_runnable(runnable: Runnable) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(runnable)));
}
