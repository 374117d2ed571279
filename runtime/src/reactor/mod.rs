//! The reactor: one OS poller for a runtime's sockets, and its timers.
//!
//! # Ownership: who drives
//!
//! There is no reactor thread. A worker with nothing to run that holds the *driver role* waits
//! in [`polling::Poller::wait`], with the earliest timer deadline as its timeout; when it
//! returns it fires the due timers and dispatches the socket events, waking their tasks. Only
//! one thread drives at a time; the others sleep on their condition variables. Busy workers
//! also drive for a moment (a zero timeout) every `REACTOR_INTERVAL` ticks, so a runtime whose
//! workers never idle still serves its sockets and timers. Who holds the role, and whom to
//! wake to take it when its holder leaves to run user code (which may block its thread for
//! any time), is the executor's business: `executor/driver.rs`. The reactor only says whether
//! anything is registered (`Reactor::has_pending`).
//!
//! # Why a driver is not late for an earlier timer
//!
//! The driver publishes how long it sleeps (`Sleep::Until`) under the timers lock, in the same
//! critical section in which it read the earliest deadline. A task that inserts an earlier
//! timer sees that, under the same lock, and wakes the poller with `Reactor::notify`. So
//! either the driver saw the new timer before it slept, or the inserter saw it sleeping too
//! long and woke it. That covers a driver asleep in the poller; a timer inserted while nobody
//! drives is the driver role's case (`executor/driver.rs`): the inserter then tells a
//! sleeping worker to take the role.
//!
//! # After shutdown
//!
//! A socket may outlive its runtime (it was moved to another runtime's task, say). Nobody
//! drives a dead runtime's poller, so a task waiting on it would wait for ever. Instead,
//! `Reactor::shutdown` sets `shut_down` and then wakes every waiter of every source, each
//! under its source's lock; a source stores a waker only under that lock after checking the
//! flag. So a waiter either stored its waker before the flag was set, and shutdown wakes it,
//! or sees the flag: then every operation (and every new registration) returns
//! `shut_down_error` at once.
//!
//! # Modules
//!
//! - `timer`: the timer heap (and why a heap).
//! - `source`: per-descriptor readiness and [`Registered`].
//! - `sys`: the platform switch, the only `unsafe` registration.

mod source;
mod sys;
pub(crate) mod timer;

use std::io;
use std::os::fd::AsFd;
use std::sync::atomic::{
    AtomicBool, AtomicU64, AtomicUsize,
    Ordering::{Acquire, Relaxed, Release},
};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::Waker;
use std::time::{Duration, Instant};

use polling::{Events, Poller};
use slab::Slab;

pub(crate) use source::Source;
pub use source::{Interest, Io, Ready, Registered};
use timer::{TimerKey, Timers};

use crate::clock::Clock;

/// Bits of an event key that hold the slab slot; the rest hold the slot's generation.
const SLOT_BITS: u32 = 32;

/// How the driver is sleeping, published under the timers lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sleep {
    /// Not sleeping in the poller: it will look at the timers before it next sleeps.
    Awake,
    /// Sleeping until this instant.
    Until(Instant),
    /// Sleeping until an event or a notification.
    Forever,
}

#[derive(Debug)]
struct TimerState {
    /// The pending timers.
    timers: Timers,
    /// How the driver sleeps: decides whether a new timer must wake it.
    sleep: Sleep,
}

/// What the holder of the driver role (`executor/driver.rs`) owns while it drives.
#[derive(Debug)]
pub(crate) struct Driver {
    /// The buffer the poller fills.
    events: Events,
    /// Wakers collected under locks, called after the locks are released.
    wakers: Vec<Waker>,
}

/// A runtime's poller, sources and timers.
#[derive(Debug)]
pub(crate) struct Reactor {
    /// The OS poller (epoll on Linux).
    poller: Poller,
    /// Edge-triggered or one-shot registration (see `sys.rs`).
    pub(crate) mode: sys::Mode,
    /// Registered descriptors, keyed by slot; an event's key is slot plus generation.
    sources: Mutex<Slab<Arc<Source>>>,
    /// Bumped on every registration, so keys of reused slots differ.
    generation: AtomicUsize,
    /// The timers and the driver's sleep, under one lock (see the module docs).
    timers: Mutex<TimerState>,
    /// The instant timer buckets count from (a copy of the timers' own, readable unlocked).
    timer_origin: Instant,
    /// The last timer bucket fired: a sleep whose bucket is not later has elapsed. Lets a
    /// woken sleep see that it is done without reading the clock or taking the timers lock.
    fired_through: AtomicU64,
    /// The buffers of the thread that drives the poller: the holder of the driver role.
    driver: Mutex<Driver>,
    /// Set once, when the runtime shuts down: nobody will drive the poller again, so every
    /// operation on a source fails instead of waiting (see the module docs).
    shut_down: AtomicBool,
    /// The runtime's clock: real, or paused (`clock.rs`).
    clock: Clock,
    /// With a paused clock: whether the runtime is quiescent, so that the driver may move
    /// the clock to the next timer (`clock.rs` says when). Set once, as the runtime starts.
    quiescent: OnceLock<Quiescent>,
}

/// The error of every operation on a socket whose runtime was shut down.
pub(crate) fn shut_down_error() -> io::Error {
    io::Error::other(
        "goro: the socket's runtime was shut down; create the socket again on a running runtime",
    )
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The test of quiescence a paused clock's driver runs (`clock.rs`).
pub(crate) struct Quiescent(pub(crate) Box<dyn Fn() -> bool + Send + Sync>);

impl std::fmt::Debug for Quiescent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Quiescent")
    }
}

impl Reactor {
    /// A reactor with the real clock, or a paused one (`clock.rs`).
    pub(crate) fn new(paused: bool) -> io::Result<Reactor> {
        let clock = Clock::new(paused);
        let timers = Timers::new(clock.now());
        let poller = Poller::new()?;
        Ok(Reactor {
            mode: sys::mode(&poller),
            poller,
            sources: Mutex::new(Slab::new()),
            generation: AtomicUsize::new(0),
            timer_origin: timers.origin(),
            fired_through: AtomicU64::new(0),
            timers: Mutex::new(TimerState {
                timers,
                sleep: Sleep::Awake,
            }),
            driver: Mutex::new(Driver {
                events: Events::new(),
                wakers: Vec::new(),
            }),
            shut_down: AtomicBool::new(false),
            clock,
            quiescent: OnceLock::new(),
        })
    }

    /// The runtime's clock.
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Gives a paused clock's driver the test of quiescence (`clock.rs`).
    pub(crate) fn set_quiescent(&self, test: Quiescent) {
        let _ = self.quiescent.set(test);
    }

    /// The driver's buffers, for the holder of the driver role (`executor/driver.rs`): only
    /// it calls this, so the lock is never contended.
    pub(crate) fn lock_driver(&self) -> MutexGuard<'_, Driver> {
        lock(&self.driver)
    }

    /// Wakes the driver out of `Poller::wait` (or makes its next wait return at once).
    pub(crate) fn notify(&self) {
        let _ = self.poller.notify();
    }

    /// Whether a timer is pending.
    pub(crate) fn has_timers(&self) -> bool {
        lock(&self.timers).timers.len() > 0
    }

    /// Whether a registered source has a task waiting for it (the deadlock check).
    pub(crate) fn has_waiting_source(&self) -> bool {
        lock(&self.sources).iter().any(|(_, s)| s.has_waker())
    }

    /// Whether anything may come out of the reactor: a pending timer or a registered source.
    pub(crate) fn has_pending(&self) -> bool {
        lock(&self.timers).timers.len() > 0 || !lock(&self.sources).is_empty()
    }

    /// One turn of the driver: fire due timers, wait for events up to `timeout` (`None`:
    /// until the next timer or a notification), dispatch them, fire timers again.
    pub(crate) fn drive(&self, driver: &mut Driver, timeout: Option<Duration>) {
        let wait = self.fire_timers(&mut driver.wakers, timeout);
        wake_all(&mut driver.wakers);
        if wait != Some(Duration::ZERO) && self.clock.is_paused() && self.auto_advance(driver) {
            return;
        }
        driver.events.clear();
        if let Err(e) = self.poller.wait(&mut driver.events, wait) {
            // EINTR is a normal early return; anything else would repeat on every turn.
            debug_assert_eq!(e.kind(), io::ErrorKind::Interrupted, "poller failed: {e}");
        }
        self.fire_timers(&mut driver.wakers, Some(Duration::ZERO));
        self.dispatch(driver);
        wake_all(&mut driver.wakers);
    }

    /// With a paused clock, before the driver sleeps: if the runtime is quiescent and a timer
    /// is pending, dispatch what the OS has ready, or else move the clock to the timer and
    /// fire it. Returns true if it did either; the driver then returns without sleeping, as
    /// after a spurious wake-up, and its worker looks for the work this made.
    ///
    /// It polls the OS only when it will not sleep afterwards: a zero-timeout poll consumes
    /// a pending [`Reactor::notify`], which the sleep that followed would then miss.
    fn auto_advance(&self, driver: &mut Driver) -> bool {
        let Some(quiescent) = self.quiescent.get() else {
            return false;
        };
        let next = lock(&self.timers).timers.next_deadline();
        let Some(next) = next else {
            return false;
        };
        if !(quiescent.0)() {
            return false;
        }
        driver.events.clear();
        if self
            .poller
            .wait(&mut driver.events, Some(Duration::ZERO))
            .is_ok()
        {
            self.dispatch(driver);
        }
        if driver.wakers.is_empty() {
            self.clock.advance_to(next);
            self.fire_timers(&mut driver.wakers, Some(Duration::ZERO));
        }
        wake_all(&mut driver.wakers);
        true
    }

    /// Dispatches the events in the driver's buffer to their sources, collecting wakers.
    fn dispatch(&self, driver: &mut Driver) {
        let sources = lock(&self.sources);
        for ev in driver.events.iter() {
            let slot = ev.key & ((1 << SLOT_BITS) - 1);
            if let Some(source) = sources.get(slot).filter(|s| s.key == ev.key) {
                source.dispatch(self.mode, ev.readable, ev.writable, &mut driver.wakers);
            }
        }
    }

    /// Moves a paused clock forward by `by` and fires the timers that became due, on the
    /// calling thread ([`time::advance`](crate::time::advance)). False for the real clock.
    pub(crate) fn advance(&self, by: Duration) -> bool {
        if !self.clock.advance(by) {
            return false;
        }
        let mut wakers = Vec::new();
        let now = self.clock.now();
        {
            let mut state = lock(&self.timers);
            let fired = state.timers.fire(now, &mut wakers);
            self.fired_through.fetch_max(fired, Release);
        }
        wake_all(&mut wakers);
        true
    }

    /// Fires due timers into `wakers` and publishes how long the driver will sleep: the
    /// shorter of `timeout` and the time to the next deadline, zero if a timer fired. With a
    /// paused clock the next deadline does not count: only the driver moves that clock, and
    /// it does so before it sleeps (`auto_advance`), so it sleeps until woken.
    fn fire_timers(&self, wakers: &mut Vec<Waker>, timeout: Option<Duration>) -> Option<Duration> {
        let now = self.clock.now();
        let mut state = lock(&self.timers);
        let fired = state.timers.fire(now, wakers);
        self.fired_through.fetch_max(fired, Release);
        let mut wait = if wakers.is_empty() {
            timeout
        } else {
            Some(Duration::ZERO)
        };
        if self.clock.is_paused() {
            state.sleep = match wait {
                Some(d) if d.is_zero() => Sleep::Awake,
                _ => Sleep::Forever,
            };
            return wait;
        }
        if let Some(next) = state.timers.next_deadline() {
            // Round up to whole milliseconds: the timers are bucketed by the millisecond, and
            // a shorter wait would only wake the driver before anything is due.
            let until = next.saturating_duration_since(now);
            let until = Duration::from_millis(until.as_nanos().div_ceil(1_000_000) as u64);
            wait = Some(wait.map_or(until, |w| w.min(until)));
        }
        state.sleep = match wait {
            None => Sleep::Forever,
            Some(d) if d.is_zero() => Sleep::Awake,
            Some(d) => Sleep::Until(now + d),
        };
        wait
    }

    /// The timer bucket of `deadline`.
    pub(crate) fn timer_bucket(&self, deadline: Instant) -> u64 {
        timer::bucket_of(self.timer_origin, deadline)
    }

    /// Whether timers of `bucket` have fired: then their deadline has passed.
    pub(crate) fn has_fired(&self, bucket: u64) -> bool {
        bucket <= self.fired_through.load(Acquire)
    }

    /// Adds a timer for `deadline`, waking the driver if it sleeps past it.
    pub(crate) fn insert_timer(&self, deadline: Instant, waker: Waker) -> TimerKey {
        let mut state = lock(&self.timers);
        let key = state.timers.insert(deadline, waker);
        let must_wake = match state.sleep {
            Sleep::Awake => false,
            Sleep::Until(t) => deadline < t,
            Sleep::Forever => true,
        };
        if must_wake {
            state.sleep = Sleep::Awake; // one notification is enough
        }
        drop(state);
        if must_wake {
            self.notify();
        }
        key
    }

    /// Replaces a timer's waker; false if it already fired.
    pub(crate) fn update_timer(&self, key: TimerKey, waker: &Waker) -> bool {
        lock(&self.timers).timers.update(key, waker)
    }

    /// Cancels a timer.
    pub(crate) fn remove_timer(&self, key: TimerKey) {
        lock(&self.timers).timers.remove(key);
    }

    /// Whether the runtime shut down: then nobody drives the poller.
    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down.load(Acquire)
    }

    /// Registers a descriptor.
    ///
    /// The source takes its slot under the sources lock (where shutdown sees it, or it sees
    /// shutdown), and is registered with the poller after the lock is released: the system
    /// call must not hold up the driver's dispatch or another thread's registration (two
    /// workers connecting at once made each other sleep on this lock). No event can name the
    /// source before it is registered, and if registering fails, the slot is given back.
    fn insert_source(&self, io: &impl AsFd) -> io::Result<Arc<Source>> {
        let source = {
            let mut sources = lock(&self.sources);
            if self.is_shut_down() {
                return Err(shut_down_error());
            }
            let entry = sources.vacant_entry();
            let generation =
                self.generation.fetch_add(1, Relaxed) & ((1 << (usize::BITS - SLOT_BITS)) - 1);
            let source = Arc::new(Source::new((generation << SLOT_BITS) | entry.key()));
            entry.insert(source.clone());
            source
        };
        if let Err(err) = sys::register(&self.poller, io, source.key, self.mode) {
            self.forget_source(&source);
            return Err(err);
        }
        Ok(source)
    }

    /// Takes `source` out of the sources, if it is still there.
    fn forget_source(&self, source: &Source) {
        let slot = source.key & ((1 << SLOT_BITS) - 1);
        let mut sources = lock(&self.sources);
        if sources.get(slot).is_some_and(|s| s.key == source.key) {
            sources.remove(slot);
        }
    }

    /// Deregisters a descriptor; must run before the descriptor is closed.
    fn remove_source(&self, source: &Source, io: &impl AsFd) -> io::Result<()> {
        self.forget_source(source);
        source.clear();
        sys::deregister(&self.poller, io)
    }

    fn arm(&self, io: &impl AsFd, key: usize, read: bool, write: bool) -> io::Result<()> {
        sys::arm(&self.poller, io, key, read, write)
    }

    /// Marks the reactor dead and lets go of every waker it holds: timers' wakers are
    /// dropped, so that tasks parked on them can be freed; sources' wakers are woken, so that
    /// a task of another runtime waiting on a socket of this one sees the error instead of
    /// waiting for ever (a task of this runtime is dropped when woken: it is shut down too).
    pub(crate) fn shutdown(&self) {
        // Set under the sources lock: a registration either sees it or is in the list below.
        let sources: Vec<_> = {
            let sources = lock(&self.sources);
            self.shut_down.store(true, Release);
            sources.iter().map(|(_, s)| s.clone()).collect()
        };
        lock(&self.timers).timers.clear();
        let mut wakers = Vec::new();
        for source in sources {
            source.take_all_wakers(&mut wakers);
        }
        wake_all(&mut wakers);
    }
}

fn wake_all(wakers: &mut Vec<Waker>) {
    for waker in wakers.drain(..) {
        waker.wake();
    }
}
