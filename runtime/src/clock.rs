//! A runtime's clock: the real one, or a paused one for tests, and the rule by which a paused
//! clock moves.
//!
//! # The real clock
//!
//! `Instant::now()`. Timers fire when it passes their deadline (`reactor/timer.rs`).
//!
//! # The paused clock
//!
//! A runtime built with [`Builder::start_paused`](crate::Builder::start_paused) reads its
//! time from a counter instead: `base + elapsed`, where `base` is the instant the runtime
//! was built and `elapsed` only grows. It grows in two ways:
//!
//! - [`time::advance`](crate::time::advance) adds to it, and fires the timers that became
//!   due;
//! - **auto-advance**: when the runtime is *quiescent* — nothing of it could run without a
//!   timer firing first — the driver moves the clock to the earliest pending timer and fires
//!   it. A test of a 30-second timeout then takes as long as its code takes to run.
//!
//! Quiescent means all of:
//!
//! 1. every worker sleeps, and no queue, injector or LIFO slot holds a task;
//! 2. no thread inside the runtime's `block_on` is awake: it polls its future, or has been
//!    woken and not yet polled;
//! 3. no job of the runtime's blocking pool is queued or running (`spawn_blocking`, file
//!    operations): its result would wake a task;
//! 4. no socket is ready now: the driver polls the OS with a zero timeout first, and
//!    dispatches what is ready instead of advancing.
//!
//! A wake from a thread goro does not know about (a `std::thread` that sends on a channel)
//! is not waited for: the clock may jump past it. Run such work with `spawn_blocking`, which
//! holds the clock still while it runs.
//!
//! # Why the clock never jumps while something could still run
//!
//! The driver checks quiescence only while it holds the driver role and is about to sleep in
//! the poller, and only after one poll of the OS found nothing ready. Each condition is
//! published *before* the thing it describes can go idle, and every transition to idle
//! wakes the driver so that it checks again:
//!
//! - a worker counts itself asleep (`executor/idle.rs`) before it parks, and wakes the
//!   driver after; it is counted awake again by whoever gives it work, before the work is
//!   visible to it;
//! - a `block_on` thread is counted awake by the waker that wakes it, *before* the unpark,
//!   and counts itself asleep (then wakes the driver) only before it parks. Its future can
//!   only be woken by a task (counted by 1), a timer (fired by the driver itself), a socket
//!   (condition 4), a blocking job (condition 3), or a foreign thread (not waited for);
//! - a blocking job is counted when it is queued, and uncounted after it has run, so after
//!   the task it woke is in a queue (condition 1).
//!
//! So when the driver sees every count at zero, nothing goro runs could wake a task before a
//! timer does, and moving the clock to that timer skips no work.
//!
//! A paused clock is a testing tool: it changes what `goro::time` and timers see, not
//! [`std::time::Instant::now`]. Read the runtime's time with
//! [`time::now`](crate::time::now).

use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::executor::idle::Idle;
use crate::loom::{AtomicU64, AtomicUsize};

/// The clock of one runtime, and the count of what outside the workers may still wake a task
/// (read by the paused clock's auto-advance and by the deadlock check, `deadlock.rs`).
#[derive(Debug)]
pub(crate) struct Clock {
    /// `None`: the real clock.
    paused: Option<Paused>,
    /// `block_on` threads awake plus blocking jobs queued or running: while it is not zero,
    /// the runtime is not quiescent.
    busy: AtomicUsize,
    /// How many times `busy` was raised: lets the test of quiescence see a raise and a fall
    /// that both happened while it looked.
    wakes: AtomicUsize,
}

#[derive(Debug)]
struct Paused {
    /// The paused clock's zero.
    base: Instant,
    /// Nanoseconds the clock has advanced from `base`.
    elapsed: AtomicU64,
}

impl Clock {
    /// The real clock, or a paused one starting now.
    pub(crate) fn new(paused: bool) -> Clock {
        Clock {
            paused: paused.then(|| Paused {
                base: Instant::now(),
                elapsed: AtomicU64::new(0),
            }),
            busy: AtomicUsize::new(0),
            wakes: AtomicUsize::new(0),
        }
    }

    /// Whether this is a paused clock.
    pub(crate) fn is_paused(&self) -> bool {
        self.paused.is_some()
    }

    /// The time now.
    #[inline]
    pub(crate) fn now(&self) -> Instant {
        match &self.paused {
            None => Instant::now(),
            Some(p) => p.base + Duration::from_nanos(p.elapsed.load(SeqCst)),
        }
    }

    /// Moves a paused clock forward by `by`. Returns false for the real clock.
    pub(crate) fn advance(&self, by: Duration) -> bool {
        let Some(p) = &self.paused else {
            return false;
        };
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = p
            .elapsed
            .fetch_update(SeqCst, SeqCst, |e| Some(e.saturating_add(nanos)));
        true
    }

    /// Moves a paused clock forward to `to` (never back).
    pub(crate) fn advance_to(&self, to: Instant) {
        if let Some(p) = &self.paused {
            let nanos = to.saturating_duration_since(p.base).as_nanos();
            p.elapsed
                .fetch_max(u64::try_from(nanos).unwrap_or(u64::MAX), SeqCst);
        }
    }

    /// Counts one more thing that may wake a task (see the module docs).
    pub(crate) fn busy(&self) {
        // The count first, then the wake: a check that read the count before this raise
        // and finished its reads after it sees the wake (see `quiescent`).
        self.busy.fetch_add(1, SeqCst);
        self.wakes.fetch_add(1, SeqCst);
    }

    /// How many times [`Clock::busy`] was called.
    pub(crate) fn wakes(&self) -> usize {
        self.wakes.load(SeqCst)
    }

    /// Uncounts it; returns true when a paused clock's count fell to zero: then the caller
    /// must wake the driver, so that it checks whether the runtime is quiescent.
    #[must_use]
    pub(crate) fn idle(&self) -> bool {
        self.busy.fetch_sub(1, SeqCst) == 1 && self.paused.is_some()
    }

    /// Whether nothing counted by [`Clock::busy`] is in progress.
    pub(crate) fn nothing_busy(&self) -> bool {
        self.busy.load(SeqCst) == 0
    }
}

/// The test of quiescence (see the module docs), over the clock's count, the workers' sleep
/// bookkeeping and `queues_empty` (every queue, injector and LIFO slot empty).
///
/// The counts are read one after another, not at one instant: a worker could wake a
/// `block_on` thread and sleep between two reads, and that thread give a worker new work
/// before the next. So the wakes of both kinds are counted too, and the answer is yes only
/// if none happened while the counts were read: then each count was zero at the instant the
/// last of them was read. (The loom model below passes work back and forth between the two
/// kinds while this runs: it must never answer yes.)
pub(crate) fn quiescent(clock: &Clock, idle: &Idle, queues_empty: impl FnOnce() -> bool) -> bool {
    let before = (idle.wakes(), clock.wakes());
    let still = clock.nothing_busy() && idle.all_sleeping() && queues_empty();
    still && before == (idle.wakes(), clock.wakes())
}

/// Whether a `block_on` thread is awake, kept by its waker and by the thread itself, so that
/// it is counted busy exactly once however many wakes race its sleep, and never again once
/// its `block_on` has returned (a waker left behind in a channel may still be called).
#[derive(Debug)]
pub(crate) struct Awake {
    /// `ASLEEP`, `AWAKE` (counted in the clock's busy count) or `DONE`.
    state: AtomicUsize,
    /// The reactor whose clock counts it.
    reactor: Arc<crate::reactor::Reactor>,
}

const ASLEEP: usize = 0;
const AWAKE: usize = 1;
const DONE: usize = 2;

impl Awake {
    /// A `block_on` thread that starts awake: counted at once.
    pub(crate) fn new(reactor: Arc<crate::reactor::Reactor>) -> Awake {
        reactor.clock().busy();
        Awake {
            state: AtomicUsize::new(AWAKE),
            reactor,
        }
    }

    /// The thread is (about to be) woken: count it, once.
    pub(crate) fn wake(&self) {
        if self
            .state
            .compare_exchange(ASLEEP, AWAKE, SeqCst, SeqCst)
            .is_ok()
        {
            self.reactor.clock().busy();
        }
    }

    /// The thread is about to sleep: uncount it, and wake the driver if that made the
    /// runtime's count zero.
    pub(crate) fn sleep(&self) {
        if self
            .state
            .compare_exchange(AWAKE, ASLEEP, SeqCst, SeqCst)
            .is_ok()
        {
            self.uncount();
        }
    }

    /// The `block_on` returned: uncount it for good.
    pub(crate) fn finish(&self) {
        if self.state.swap(DONE, SeqCst) == AWAKE {
            self.uncount();
        }
    }

    fn uncount(&self) {
        if self.reactor.clock().idle() {
            self.reactor.notify();
        }
    }
}

impl Drop for Awake {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(all(test, goro_loom))]
mod loom_tests {
    use super::*;
    use loom::thread;

    /// Work passes from a `block_on` thread to a sleeping worker and back, each side counted
    /// awake by the other before it counts itself asleep, as the runtime does: the work is
    /// always held by someone, so the test of quiescence, run meanwhile, must say no.
    #[test]
    fn a_handoff_in_flight_is_never_quiescent() {
        loom::model(|| {
            let clock = loom::sync::Arc::new(Clock::new(true));
            let idle = loom::sync::Arc::new(Idle::counting_wakes(1, 1));
            assert!(!idle.transition_to_parked(0, false));
            clock.busy(); // the block_on thread polls
            let block_on = {
                let (clock, idle) = (clock.clone(), idle.clone());
                thread::spawn(move || {
                    // It spawns a task: the worker is woken (counted), then it sleeps.
                    assert_eq!(idle.worker_to_notify(), Some(0));
                    let _ = clock.idle();
                })
            };
            let worker = {
                let (clock, idle) = (clock.clone(), idle.clone());
                thread::spawn(move || {
                    while idle.is_parked(0) {
                        thread::yield_now();
                    }
                    // It runs the task, which wakes the block_on thread (counted), then
                    // sleeps.
                    let _ = idle.transition_from_searching();
                    clock.busy();
                    let _ = idle.transition_to_parked(0, false);
                })
            };
            assert!(!quiescent(&clock, &idle, || true));
            block_on.join().unwrap();
            worker.join().unwrap();
        });
    }
}

#[cfg(all(test, not(goro_loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_paused_clock_moves_only_when_advanced() {
        let clock = Clock::new(true);
        let t0 = clock.now();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.now(), t0);
        assert!(clock.advance(Duration::from_secs(30)));
        assert_eq!(clock.now(), t0 + Duration::from_secs(30));
        clock.advance_to(t0 + Duration::from_secs(10)); // never back
        assert_eq!(clock.now(), t0 + Duration::from_secs(30));
        clock.advance_to(t0 + Duration::from_secs(31));
        assert_eq!(clock.now(), t0 + Duration::from_secs(31));
    }

    #[test]
    fn the_real_clock_moves_by_itself_and_never_asks_for_the_driver() {
        let clock = Clock::new(false);
        let t0 = clock.now();
        assert!(!clock.advance(Duration::from_secs(1)));
        clock.busy();
        assert!(!clock.nothing_busy());
        assert!(!clock.idle()); // zero again, but only a paused clock's driver cares
        assert!(clock.nothing_busy());
        std::thread::sleep(Duration::from_millis(2));
        assert!(clock.now() > t0);
    }

    #[test]
    fn the_busy_count_reports_its_fall_to_zero() {
        let clock = Clock::new(true);
        clock.busy();
        clock.busy();
        assert!(!clock.idle());
        assert!(!clock.nothing_busy());
        assert!(clock.idle());
        assert!(clock.nothing_busy());
    }
}
