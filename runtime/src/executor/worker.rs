//! A worker thread: the loop that runs tasks, steals, drives the reactor and sleeps.
//!
//! # The loop
//!
//! Each turn is one of these named steps, in this order:
//!
//! 1. **tick**: count the turn.
//! 2. **maintenance**: every [`REACTOR_INTERVAL`] ticks, poll the reactor without blocking
//!    if nobody drives it, so a runtime whose workers never idle still fires timers and reads
//!    sockets.
//! 3. **next local task**: the LIFO slot, then the local queue; every
//!    [`GLOBAL_QUEUE_INTERVAL`] ticks the injector goes first, so tasks woken from outside
//!    (and yielding tasks) cannot be starved by two tasks that keep waking each other.
//! 4. **injector**: a batch from the shared queue.
//! 5. **steal**: become a searcher (at most half of the workers search), take half of a
//!    random victim's queue, then a batch from the injector.
//! 6. **park**: announce sleep (`idle.rs`), re-check every queue if this was the last
//!    searcher, then sleep, driving the reactor if nobody else does (`driver.rs`, `park.rs`).
//!    While a peer is awake the sleep is bounded, and on waking the worker takes the LIFO task
//!    of a peer whose tick has not moved (a peer stuck in one long poll).
//!
//! # Why no work is left with nobody to run it
//!
//! Work is published before anyone is woken for it, and a worker announces its sleep before
//! its last look at the queues (`idle.rs`). A worker that wakes from the reactor with tasks
//! in hand takes itself off the sleepers list, wakes a peer if it holds more than it can run
//! alone, and gives up the driver role if it held it: user code may block its thread for any
//! time. `driver.rs` then hands the role to a sleeping peer whenever timers or sockets are
//! registered, so timers fire on an idle worker however long a busy one blocks.
//!
//! # Replacement workers
//!
//! The same loop runs a replacement worker (`monitor.rs`) on a slot past the runtime's own.
//! It differs in one thing: at each sleep, at each maintenance turn and at each wake from its
//! sleep it asks the monitor whether it is still needed, and if not it leaves, through
//! `Idle::retire` (awake: its tasks go to the injector first) or `Idle::retire_parked`
//! (asleep), and gives its slot back.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::Arc;
use std::time::Duration;

use super::queue;
use super::{drop_runnable, Remote};
use crate::park::Parker;
use crate::runtime::Handle;
use crate::task::Runnable;

/// Check the injector before the local queue every this many ticks: often enough that
/// outside wakes are not starved, rarely enough that the shared queue is not contended.
/// The same prime Go and tokio use, so it does not beat in step with other periodic work.
pub(crate) const GLOBAL_QUEUE_INTERVAL: u32 = 61;

/// Poll the reactor (without blocking) every this many ticks when the worker never idles.
pub(crate) const REACTOR_INTERVAL: u32 = 61;

/// The most tasks run back to back from the LIFO slot before the slot's task goes to the
/// back of the queue: two tasks that keep waking each other cannot starve the rest.
pub(crate) const LIFO_POLL_LIMIT: u32 = 3;

/// While a peer is awake, an idle worker sleeps at most this long before it looks at the
/// peers' LIFO slots. Searching workers leave LIFO slots alone (stealing a task that is about
/// to run hot in its worker's cache would make every message bounce between threads), so
/// this is how a task woken by a task that then blocked its thread gets to run: if the peer's
/// tick has not moved for a whole period, the idle worker takes the task. Go's `sysmon`
/// polls at 20 µs–10 ms for the same reason; 2 ms costs an idle worker about 500 wakeups a
/// second, only while some other worker is busy.
const STUCK_PEER_CHECK: Duration = Duration::from_millis(2);

/// How many tasks a worker takes from the injector at once, at most.
const INJECTOR_BATCH: usize = 32;

thread_local! {
    /// The worker running on this thread, if it is a worker thread.
    static WORKER: RefCell<Option<Rc<Worker>>> = const { RefCell::new(None) };
    /// The index plus one of the worker running on this thread, 0 off the workers: what a
    /// task's poll records for task dumps, so a plain cell, read without a borrow.
    static WORKER_INDEX: Cell<usize> = const { Cell::new(0) };
}

/// What a worker owns and only it touches.
#[derive(Debug)]
pub(crate) struct Core {
    /// The owner's end of the local run queue.
    queue: queue::Local<Runnable>,
    /// Turns of the loop, for the periodic steps.
    tick: u32,
    /// Whether this worker counts as searching in `idle.rs`.
    is_searching: bool,
    /// State of the xorshift generator that picks steal victims.
    rng: u32,
    /// The peers' ticks when this worker last went to sleep (see `STUCK_PEER_CHECK`).
    peer_ticks: Vec<u32>,
}

/// One worker thread.
#[derive(Debug)]
struct Worker {
    /// The runtime.
    handle: Arc<Handle>,
    /// This worker's index in `handle.executor.remotes`.
    index: usize,
    /// Whether this is a replacement worker (`monitor.rs`), which leaves when not needed.
    replacement: bool,
    /// The worker's own state. Borrowed only briefly, never across user code.
    core: RefCell<Core>,
    /// How this worker sleeps.
    parker: Parker,
}

impl Core {
    pub(crate) fn new(queue: queue::Local<Runnable>, index: usize) -> Core {
        Core {
            queue,
            tick: 0,
            is_searching: false,
            peer_ticks: Vec::new(),
            rng: 0x9E37_79B9 ^ (index as u32).wrapping_mul(0x85EB_CA6B) | 1,
        }
    }

    fn next_rand(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }
}

/// Runs worker `index` of `handle` on the current thread until the runtime shuts down.
pub(crate) fn run(handle: Arc<Handle>, index: usize, core: Core, parker: Parker) {
    run_slot(handle, index, core, parker, false);
}

/// Runs replacement worker `index` (`monitor.rs`) until it is no longer needed or the
/// runtime shuts down, then gives its slot back to the monitor.
pub(crate) fn run_replacement(handle: Arc<Handle>, index: usize, mut core: Core, parker: Parker) {
    // It joined the sleep bookkeeping as a searcher (`Idle::add_spare`).
    core.is_searching = true;
    let h = handle.clone();
    if let Some((core, parker)) = run_slot(handle, index, core, parker, true) {
        h.executor
            .monitor
            .slot_free(index, super::monitor::FreeSlot { core, parker });
    }
}

/// The worker thread's life: enter the runtime, loop, drain at shutdown, leave. Gives the
/// slot's core and parker back.
fn run_slot(
    handle: Arc<Handle>,
    index: usize,
    core: Core,
    parker: Parker,
    replacement: bool,
) -> Option<(Core, Parker)> {
    let _enter = crate::current::enter(handle.clone());
    let _goro_thread = crate::deadlock::GoroThread::enter();
    let remote = &handle.executor.remotes[index];
    remote.tid.store(crate::deadlock::this_tid(), Relaxed);
    remote.occupied.store(true, SeqCst);
    crate::builder::Hooks::run_thread_hook(&handle.hooks.thread_start);
    let worker = Rc::new(Worker {
        handle,
        index,
        replacement,
        core: RefCell::new(core),
        parker,
    });
    WORKER.with(|w| *w.borrow_mut() = Some(worker.clone()));
    WORKER_INDEX.with(|i| i.set(index + 1));
    worker.run_loop();
    if worker.handle.is_shutdown() {
        worker.drain();
    }
    WORKER_INDEX.with(|i| i.set(0));
    WORKER.with(|w| w.borrow_mut().take());
    crate::builder::Hooks::run_thread_hook(&worker.handle.hooks.thread_stop);
    worker.remote().occupied.store(false, SeqCst);
    let worker = Rc::try_unwrap(worker).ok()?;
    Some((worker.core.into_inner(), worker.parker))
}

/// The index of the worker running on this thread, if it is a worker of `handle`.
pub(crate) fn current_worker_index(handle: &Handle) -> Option<usize> {
    WORKER
        .try_with(|w| match &*w.borrow() {
            Some(worker) if std::ptr::eq(&*worker.handle, handle) => Some(worker.index),
            _ => None,
        })
        .ok()
        .flatten()
}

/// The index of the worker running on this thread (of whichever runtime): a task polled
/// here belongs to that worker's runtime.
#[inline]
pub(crate) fn this_worker() -> Option<usize> {
    WORKER_INDEX.with(|i| i.get().checked_sub(1))
}

/// The registry shard of this thread for `handle`: its worker index plus one, or 0.
pub(crate) fn registry_shard(handle: &Handle) -> usize {
    current_worker_index(handle).map_or(0, |i| i + 1)
}

/// Whether this thread is a worker of any goro runtime.
pub(crate) fn is_worker_thread() -> bool {
    WORKER.try_with(|w| w.borrow().is_some()).unwrap_or(false)
}

/// Schedules `runnable` on this thread's worker if the task belongs to this worker's
/// runtime; gives it back otherwise. A task that `yielded` (was woken while it ran) goes
/// behind the runnable tasks; any other goes to the LIFO slot.
pub(crate) fn schedule_here(runnable: Runnable, yielded: bool) -> Result<(), Runnable> {
    let worker = WORKER.try_with(|w| match &*w.borrow() {
        Some(worker) if Arc::ptr_eq(&worker.handle, runnable.metadata().handle()) => {
            Some(worker.clone())
        }
        _ => None,
    });
    let Ok(Some(worker)) = worker else {
        return Err(runnable);
    };
    if worker.handle.is_shutdown() {
        drop_runnable(runnable);
    } else if yielded {
        worker.push_yielded(runnable);
    } else {
        worker.push_lifo(runnable);
    }
    Ok(())
}

impl Worker {
    fn remote(&self) -> &Remote {
        &self.handle.executor.remotes[self.index]
    }

    fn run_loop(&self) {
        while !self.handle.is_shutdown() {
            let tick = self.tick();
            if tick.is_multiple_of(REACTOR_INTERVAL) {
                self.maintenance();
                if self.replacement && self.handle.executor.monitor.try_retire() {
                    self.leave_busy();
                    return;
                }
            }
            if let Some(task) = self.next_task(tick) {
                self.run_task(task);
                continue;
            }
            if let Some(task) = self.steal_work() {
                self.run_task(task);
                continue;
            }
            if self.park() == Park::Leave {
                return;
            }
        }
    }

    /// A replacement leaves while it has work: its tasks go to the injector, where the
    /// others take them, then it stops counting as a worker (`idle.rs`).
    fn leave_busy(&self) {
        let executor = &self.handle.executor;
        while let Some(task) = self.remote().lifo.take() {
            executor.push_injector(task);
        }
        loop {
            let task = self.core.borrow_mut().queue.pop();
            match task {
                Some(task) => executor.push_injector(task),
                None => break,
            }
        }
        let was_searching = std::mem::take(&mut self.core.borrow_mut().is_searching);
        self.retire(was_searching);
    }

    /// Stops counting as a worker; if this was the last searcher, re-checks the queues as a
    /// worker going to sleep does (`idle.rs`).
    fn retire(&self, was_searching: bool) {
        let executor = &self.handle.executor;
        if executor.idle.retire(was_searching) && executor.has_work() {
            executor.notify_parked();
        }
        if self.handle.reactor.clock().is_paused() {
            self.handle.reactor.notify(); // as in `park`: the driver must look
        }
    }

    fn tick(&self) -> u32 {
        let mut core = self.core.borrow_mut();
        core.tick = core.tick.wrapping_add(1);
        self.remote().tick.store(core.tick, Relaxed);
        core.tick
    }

    /// Polls the reactor without blocking, if nobody else is driving it.
    fn maintenance(&self) {
        let role = &self.handle.executor.driver;
        if role.try_take_vacant() {
            let reactor = &self.handle.reactor;
            reactor.drive(&mut reactor.lock_driver(), Some(Duration::ZERO));
            role.release(&*self.handle);
        }
    }

    fn next_task(&self, tick: u32) -> Option<Runnable> {
        let injector = &self.handle.executor.injector;
        if tick.is_multiple_of(GLOBAL_QUEUE_INTERVAL) {
            if let Ok(task) = injector.pop() {
                return Some(task);
            }
        }
        if let Some(task) = self.remote().lifo.take() {
            return Some(task);
        }
        let mut core = self.core.borrow_mut();
        if let Some(task) = core.queue.pop() {
            return Some(task);
        }
        self.take_injector_batch(&mut core)
    }

    /// Moves a batch of injector tasks into the local queue and returns the first.
    fn take_injector_batch(&self, core: &mut Core) -> Option<Runnable> {
        let executor = &self.handle.executor;
        let first = executor.injector.pop().ok()?;
        let share = executor.injector.len() / executor.num_workers + 1;
        let room = queue::CAPACITY / 2 - core.queue.len().min(queue::CAPACITY / 2);
        for _ in 0..share.min(INJECTOR_BATCH).min(room) {
            match executor.injector.pop() {
                Ok(task) => core
                    .queue
                    .push_back(task, &mut |t| executor.push_injector(t)),
                Err(_) => break,
            }
        }
        Some(first)
    }

    /// Looks for work elsewhere: other workers' queues, then the injector.
    fn steal_work(&self) -> Option<Runnable> {
        let executor = &self.handle.executor;
        let mut core = self.core.borrow_mut();
        if !core.is_searching {
            if !executor.idle.transition_to_searching() {
                return None;
            }
            core.is_searching = true;
        }
        let n = executor.remotes.len();
        let start = core.next_rand() as usize % n;
        for i in (0..n).map(|i| (start + i) % n).filter(|&i| i != self.index) {
            let before = core.queue.len();
            if let Some(task) = executor.remotes[i].steal.steal_into(&mut core.queue) {
                let taken = core.queue.len().saturating_sub(before) + 1;
                self.remote().counters.add_stolen(taken as u64);
                return Some(task);
            }
        }
        self.take_injector_batch(&mut core)
    }

    /// Runs `task`, then up to `LIFO_POLL_LIMIT` tasks it woke into the LIFO slot.
    fn run_task(&self, task: Runnable) {
        self.transition_from_searching();
        let mut task = task;
        let mut lifo_polls = 0;
        loop {
            // Counted before the poll: whoever sees the task's result also sees the count.
            self.remote().counters.add_polled(1);
            run_contained(task);
            let Some(next) = self.remote().lifo.take() else {
                return;
            };
            if lifo_polls == LIFO_POLL_LIMIT || self.handle.is_shutdown() {
                // To the back of our own queue, and nobody woken: this is not new work for
                // another worker but the next turn of tasks that keep waking each other
                // (a ping-pong), which run best on this worker, where their data is. A peer
                // woken here would steal the task and split the pair across two cores.
                // Whatever else waits in the queue was announced when it was pushed.
                self.push_local_quietly(next);
                return;
            }
            lifo_polls += 1;
            task = next;
        }
    }

    fn transition_from_searching(&self) {
        let mut core = self.core.borrow_mut();
        if !core.is_searching {
            return;
        }
        core.is_searching = false;
        drop(core);
        if self.handle.executor.idle.transition_from_searching() {
            // We were the last searcher and found work: there may be more.
            self.handle.executor.notify_parked();
        }
    }

    /// Puts a task woken on this worker into the LIFO slot.
    fn push_lifo(&self, runnable: Runnable) {
        if let Some(prev) = self.remote().lifo.replace(runnable) {
            self.push_local(prev);
        }
    }

    /// Puts a task that yielded behind the runnable tasks: a batch of injector tasks moves to
    /// the local queue first, then the task goes to the back.
    ///
    /// A task that yields with nothing else runnable on this worker wakes nobody: a peer
    /// woken for it could only steal this same task, moving it (and its data) to another core
    /// at every yield while this worker goes idle. This worker runs it again next. Tasks
    /// queued behind it later announce themselves as usual.
    fn push_yielded(&self, runnable: Runnable) {
        let executor = &self.handle.executor;
        if !executor.injector.is_empty() {
            if let Ok(mut core) = self.core.try_borrow_mut() {
                if let Some(first) = self.take_injector_batch(&mut core) {
                    core.queue
                        .push_back(first, &mut |t| executor.push_injector(t));
                }
            }
        }
        let alone = !self.remote().lifo.is_some()
            && self
                .core
                .try_borrow()
                .is_ok_and(|core| core.queue.is_empty());
        if alone {
            self.push_local_quietly(runnable);
        } else {
            self.push_local(runnable);
        }
    }

    /// Pushes a task at the back of the local queue and wakes a peer to steal if needed.
    fn push_local(&self, runnable: Runnable) {
        let executor = &self.handle.executor;
        if !self.push_local_quietly(runnable) {
            return;
        }
        // This worker is awake and will run the task; only a peer could need waking.
        if executor.num_workers > 1 || executor.monitor.any_replacement() {
            executor.notify_parked();
        }
    }

    /// Pushes a task at the back of the local queue, waking nobody. False if the queue was
    /// borrowed (a wake from inside this worker's own queue handling): the task went to the
    /// injector, which the injector's own rules announce.
    fn push_local_quietly(&self, runnable: Runnable) -> bool {
        let executor = &self.handle.executor;
        match self.core.try_borrow_mut() {
            Ok(mut core) => {
                core.queue
                    .push_back(runnable, &mut |t| executor.push_injector(t));
                true
            }
            Err(_) => {
                executor.push_injector(runnable);
                false
            }
        }
    }

    /// Sleeps until there is work (or shutdown); a replacement that is no longer needed
    /// leaves instead.
    fn park(&self) -> Park {
        let executor = &self.handle.executor;
        let was_searching = std::mem::take(&mut self.core.borrow_mut().is_searching);
        if self.replacement && executor.monitor.try_retire() {
            self.retire(was_searching);
            return Park::Leave;
        }
        if executor
            .idle
            .transition_to_parked(self.index, was_searching)
            && executor.has_work()
        {
            // Last searcher: a producer may have skipped waking anyone because of us.
            executor.notify_parked();
        }
        if self.handle.reactor.clock().is_paused() {
            // This may have made the runtime quiescent: the driver must look (`clock.rs`).
            self.handle.reactor.notify();
        }
        // Whether this worker holds the driver role: kept across spurious wake-ups, given
        // up when the worker leaves its sleep (`driver.rs`).
        self.remote().counters.add_parked();
        crate::dump::forget_now();
        let role = &executor.driver;
        let mut driving = false;
        while !self.handle.is_shutdown() {
            let watching = self.snapshot_peer_ticks();
            driving = driving || role.try_take();
            self.parker
                .park_timeout(watching.then_some(STUCK_PEER_CHECK), driving);
            if self.replacement && executor.monitor.try_retire() {
                if executor.idle.retire_parked(self.index) {
                    if driving {
                        role.release(&*self.handle);
                    } else {
                        role.leave_sleep(self.index, &*self.handle);
                    }
                    return Park::Leave;
                }
                // Taken off the sleepers to run new work: it stays for now.
                executor.monitor.cancel_retire();
            }
            if watching {
                self.take_stuck_lifo_tasks();
            }
            if self.transition_from_parked() {
                if driving {
                    role.release(&*self.handle);
                } else {
                    role.leave_sleep(self.index, &*self.handle);
                }
                executor.monitor.worker_awake(&self.handle);
                self.notify_if_hoarding();
                return Park::Run;
            }
        }
        if driving {
            role.release(&*self.handle);
        }
        Park::Run
    }

    /// Records every peer's tick; returns whether any peer is awake (and so might get stuck
    /// in a long poll with a task in its LIFO slot).
    fn snapshot_peer_ticks(&self) -> bool {
        let executor = &self.handle.executor;
        // This worker already counts as asleep: anyone awake is a peer.
        let peers_awake = executor.idle.any_awake();
        if peers_awake {
            let mut core = self.core.borrow_mut();
            core.peer_ticks.clear();
            core.peer_ticks
                .extend(executor.remotes.iter().map(|r| r.tick.load(Relaxed)));
        }
        peers_awake
    }

    /// Takes into this worker's LIFO slot the LIFO task of every peer whose tick has not
    /// moved since the snapshot: that peer is stuck in one long poll.
    fn take_stuck_lifo_tasks(&self) {
        let remotes = &self.handle.executor.remotes;
        for (i, remote) in remotes.iter().enumerate() {
            if i == self.index || !remote.lifo.is_some() {
                continue;
            }
            let before = self.core.borrow().peer_ticks.get(i).copied();
            if before == Some(remote.tick.load(Relaxed)) {
                if let Some(task) = remote.lifo.take() {
                    self.push_lifo(task);
                }
            }
        }
    }

    /// After waking: decides whether to leave the sleepers. True when there is work to do.
    fn transition_from_parked(&self) -> bool {
        let idle = &self.handle.executor.idle;
        let has_local = self.remote().lifo.is_some() || !self.core.borrow().queue.is_empty();
        if has_local {
            // Woken by the reactor with tasks in hand; if somebody already took us off the
            // sleepers list, they counted us as searching.
            let searching = !idle.unpark_self(self.index);
            self.core.borrow_mut().is_searching = searching;
            return true;
        }
        if idle.is_parked(self.index) {
            return false; // a spurious wake, or the reactor woke us for nothing of ours
        }
        self.core.borrow_mut().is_searching = true;
        true
    }

    /// Wakes a peer when this worker holds more runnable tasks than it can start at once.
    fn notify_if_hoarding(&self) {
        let core = self.core.borrow();
        let queued = core.queue.len() + usize::from(self.remote().lifo.is_some());
        let searching = core.is_searching;
        drop(core);
        if !searching && queued > 1 {
            self.handle.executor.notify_parked();
        }
    }

    /// At shutdown: drops the tasks still queued on this worker.
    fn drain(&self) {
        while let Some(task) = self.remote().lifo.take() {
            drop_runnable(task);
        }
        loop {
            let task = self.core.borrow_mut().queue.pop();
            match task {
                Some(task) => drop_runnable(task),
                None => break,
            }
        }
    }
}

/// What a worker does after `park`.
#[derive(Debug, PartialEq, Eq)]
enum Park {
    /// Run tasks (or stop, at shutdown).
    Run,
    /// Leave: a replacement no longer needed.
    Leave,
}

/// Runs one task. The task's own future cannot panic out of `run` (see `task.rs`), but the
/// destructor of a finished future can: contain it here.
fn run_contained(task: Runnable) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| task.run()));
}
