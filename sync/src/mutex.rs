//! [`Mutex`]: an async mutual-exclusion lock, fair like Go's `sync.Mutex`.
//!
//! ```
//! let m = goro::sync::Mutex::new(0);
//! futures_lite::future::block_on(async { *m.lock().await += 1 });
//! assert_eq!(m.into_inner(), 1);
//! ```
//!
//! # The protocol
//!
//! The lock itself is one atomic word, `state`: `LOCKED` (a guard exists, or the mutex was
//! handed to a waiter that has not run yet), `QUEUED` (futures wait in the queue) and `WOKEN`
//! (the front waiter has been woken to retry and has not run since). The queue lives under
//! one internal std mutex, held only for a few instructions and never across user code.
//! `QUEUED` and `WOKEN` change only under that mutex; `QUEUED` says whether the queue is
//! empty.
//!
//! - **Lock, fast path.** A `lock()` that finds `LOCKED` clear sets it with one
//!   compare-and-swap, even if others are queued: this *barging* keeps the lock busy while a
//!   woken waiter is still being scheduled, which is what makes a contended mutex fast (Go's
//!   "normal mode"). On a machine with more than one CPU a lock held by another thread is
//!   usually released within nanoseconds, so a `lock()` that finds it held retries a few times
//!   with a short spin (Go spins four times too) before it queues.
//! - **Lock, slow path.** Under the internal mutex, the future either takes the lock (it was
//!   freed meanwhile) or sets `QUEUED`, in one compare-and-swap on `state`, queues its waker,
//!   and returns `Pending`.
//! - **Unlock, fast path.** The guard's drop clears `LOCKED` with one compare-and-swap if
//!   nobody waits (`state` is exactly `LOCKED`), or if `WOKEN` is set: the front waiter has
//!   been woken and will retry when it runs, so there is nobody to wake. Under contention
//!   this is most unlocks: without it, every unlock with a queue took the internal mutex
//!   only to find the front waiter already woken, and that mutex's cache line crossed cores
//!   on every lock (`mutex_contention` in BENCHMARKS.md: 31–84 ns/lock before, 15–21 after;
//!   Go's `sync.Mutex` skips its wake the same way when its `mutexWoken` bit is set).
//! - **Unlock, slow path (normal mode).** With `QUEUED` set and `WOKEN` clear, the drop takes
//!   the internal mutex, clears `LOCKED`, wakes the oldest waiter and sets `WOKEN`. The woken
//!   waiter stays at the front of the queue; when it runs it clears `WOKEN` and takes the
//!   mutex if it is still free, and otherwise (someone barged in) waits again at the front,
//!   where the next unlock, which now takes the slow path, finds it.
//! - **Unlock, handoff.** If the oldest waiter has been waiting longer than
//!   [`STARVATION_THRESHOLD`], unlock does not clear `LOCKED`: it hands the mutex straight to
//!   that waiter, which is then its owner before it even runs, so no barging task can take it.
//!   A waiter therefore waits at most one threshold plus one critical section per waiter ahead
//!   of it: none can starve (Go's "starvation mode", with the same 1 ms threshold).
//!
//! No wakeup is lost: a waiter sets `QUEUED` in the same compare-and-swap that finds `LOCKED`
//! set, so the holder's later unlock either takes the internal mutex, behind the waiter's
//! queuing, or finds `WOKEN` set (a waiter ahead of it will run; see below); an unlock that
//! came first left `LOCKED` clear, and the waiter takes
//! the lock instead of queuing. While the mutex is free and waiters are queued, the front one
//! is always woken: the unlock that freed it woke it or found `WOKEN` set (or saw a barger
//! holding the lock, whose own unlock will take the slow path), and if that waiter is dropped
//! before running, its drop wakes the next one in its place. An unlock that skips the
//! internal mutex because `WOKEN` is set cannot strand the front waiter: the waiter clears
//! `WOKEN` under that mutex *before* it retries, so an unlock that saw `WOKEN` freed the lock
//! before the retry (which then takes it), and an unlock after the retry fails its
//! compare-and-swap on the changed word, takes the slow path and wakes the waiter again.
//! (loom: `loom_unlock_vs_lock` deadlocks if the fast path also skips with `WOKEN` clear, or
//! if the woken waiter does not clear it.) A waiter dropped after being handed the mutex
//! owns it, so its drop unlocks again, handing the mutex on to the next waiter.

#![allow(unsafe_code)]

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::waiters::{lock, multi_cpu, Key, StdMutex, Waiters};

#[cfg(all(test, goro_loom))]
use loom::sync::atomic::AtomicUsize;
#[cfg(not(all(test, goro_loom)))]
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

/// `state`: a guard exists, or the mutex was handed to a waiter.
const LOCKED: usize = 1;
/// `state`: the queue of waiters is not empty (changed only under the internal mutex).
const QUEUED: usize = 2;
/// `state`: the front waiter has been woken to retry and has not run since, so an unlock
/// need not wake it again (changed only under the internal mutex).
const WOKEN: usize = 4;

/// How many times a `lock()` that finds the mutex held retries before it queues (only with
/// more than one CPU; none under loom, which would explore every spin).
const SPIN_ROUNDS: u32 = if cfg!(all(test, goro_loom)) { 0 } else { 4 };
/// The CPU pauses between two tries.
const SPIN_PAUSES: u32 = 16;

/// How long the oldest waiter may wait before unlock hands the mutex straight to it.
///
/// Go's value (`starvationThresholdNs`): short enough that no waiter notices the unfairness,
/// long enough that a mutex passed between busy tasks still barges, and so stays fast, almost
/// always.
///
/// ```
/// assert_eq!(goro::sync::mutex::STARVATION_THRESHOLD.as_millis(), 1);
/// ```
pub const STARVATION_THRESHOLD: Duration = Duration::from_millis(1);

/// An async mutex: [`lock`](Mutex::lock) waits for the value without blocking the thread.
///
/// Waiters are served fairly: after [`STARVATION_THRESHOLD`] the oldest waiter is handed the
/// lock directly, so a task hammering the mutex cannot starve another.
///
/// ```
/// use goro::sync::Mutex;
///
/// futures_lite::future::block_on(async {
///     let counter = Mutex::new(0);
///     *counter.lock().await += 1;
///     assert_eq!(*counter.lock().await, 1);
/// });
/// ```
pub struct Mutex<T: ?Sized> {
    /// `LOCKED` and `QUEUED` (see the module docs).
    state: AtomicUsize,
    /// Who waits for the lock.
    synced: StdMutex<Synced>,
    /// The protected value; reached only through a [`MutexGuard`].
    value: UnsafeCell<T>,
}

// SAFETY: a `Mutex<T>` owns its `T` and can be sent wherever `T` can.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: the lock protocol gives at most one `MutexGuard` access to the value at a time, so
// sharing the mutex only ever moves exclusive access to `T` between threads: `T: Send` suffices,
// as for `std::sync::Mutex`.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// The waiters, under the internal std mutex.
struct Synced {
    /// The futures waiting for the lock; a grant is the lock itself.
    waiters: Waiters<Waiting, ()>,
}

/// What the queue knows about one waiter.
struct Waiting {
    /// When it started waiting.
    since: Instant,
    /// How often an unlock woke it to retry (it may have lost the race to a barging task).
    wakes: u32,
}

impl Waiting {
    /// Whether the waiter has waited long enough to be handed the lock.
    fn is_starving(&self) -> bool {
        if cfg!(all(test, goro_loom)) {
            // loom replays schedules and cannot model the clock: there a waiter counts as
            // starving once it has been woken, so that both modes are explored, including a
            // handoff to a waiter that was woken and has not run yet.
            self.wakes > 0
        } else {
            self.since.elapsed() >= STARVATION_THRESHOLD
        }
    }
}

impl<T> Mutex<T> {
    /// Creates an unlocked mutex holding `value`.
    ///
    /// ```
    /// let m = goro::sync::Mutex::new(5);
    /// assert_eq!(*m.try_lock().unwrap(), 5);
    /// ```
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            state: AtomicUsize::new(0),
            synced: StdMutex::new(Synced {
                waiters: Waiters::new(),
            }),
            value: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex, returning its value (no lock needed: nobody else can hold it).
    ///
    /// ```
    /// let m = goro::sync::Mutex::new(String::from("hi"));
    /// assert_eq!(m.into_inner(), "hi");
    /// ```
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks the mutex, waiting until it is free.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the [`Lock`] future before it completes gives up its place in the
    /// queue (a new `lock()` starts at the back). If the lock had already been handed to it,
    /// the drop hands it on to the next waiter; if an unlock had woken it to take the free
    /// lock, the drop wakes the next waiter in its place. So nothing is held and nobody is
    /// left waiting.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use goro::sync::Mutex;
    ///
    /// futures_lite::future::block_on(async {
    ///     let shared = Arc::new(Mutex::new(Vec::new()));
    ///     shared.lock().await.push(1);
    ///     assert_eq!(*shared.lock().await, [1]);
    /// });
    /// ```
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            mutex: self,
            key: None,
        }
    }

    /// Locks the mutex if it is free right now; never waits.
    ///
    /// ```
    /// let m = goro::sync::Mutex::new(1);
    /// let guard = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_none());
    /// drop(guard);
    /// assert!(m.try_lock().is_some());
    /// ```
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.try_acquire().then(|| MutexGuard { mutex: self })
    }

    /// A mutable reference to the value; no lock needed, since `&mut self` proves exclusivity.
    ///
    /// ```
    /// let mut m = goro::sync::Mutex::new(1);
    /// *m.get_mut() += 1;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// Sets `LOCKED` if it is clear.
    #[inline]
    fn try_acquire(&self) -> bool {
        let mut state = self.state.load(Relaxed);
        while state & LOCKED == 0 {
            match (self.state).compare_exchange_weak(state, state | LOCKED, Acquire, Relaxed) {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
        false
    }

    /// Retries a held lock a few times, pausing in between (see the module docs).
    fn spin_acquire(&self) -> bool {
        if !multi_cpu() {
            return false;
        }
        for _ in 0..SPIN_ROUNDS {
            for _ in 0..SPIN_PAUSES {
                std::hint::spin_loop();
            }
            if self.try_acquire() {
                return true;
            }
        }
        false
    }

    /// Under the internal mutex: takes the lock if it is free, or else marks the queue as
    /// not empty, in one step. True if the lock was taken.
    fn acquire_or_mark_queued(&self) -> bool {
        let mut state = self.state.load(Relaxed);
        loop {
            let (next, ordering) = if state & LOCKED == 0 {
                (state | LOCKED, Acquire)
            } else {
                (state | QUEUED, Relaxed)
            };
            match (self.state).compare_exchange_weak(state, next, ordering, Relaxed) {
                Ok(_) => return state & LOCKED == 0,
                Err(now) => state = now,
            }
        }
    }

    /// Under the internal mutex: whether the front waiter has been woken and not run since.
    fn is_woken(&self) -> bool {
        self.state.load(Relaxed) & WOKEN != 0
    }

    /// Under the internal mutex, after the queue changed: clears `QUEUED` if it is empty.
    fn sync_queued(&self, synced: &Synced) {
        if synced.waiters.is_empty() {
            self.state.fetch_and(!QUEUED, Relaxed);
        }
    }

    /// Releases the lock held by a guard being dropped.
    fn unlock(&self) {
        let mut state = LOCKED;
        // Nobody waits, or the front waiter has been woken and will retry: clear `LOCKED`
        // without the internal mutex.
        while state == LOCKED || state & WOKEN != 0 {
            match (self.state).compare_exchange_weak(state, state & !LOCKED, Release, Relaxed) {
                Ok(_) => return,
                Err(now) => state = now,
            }
        }
        let mut synced = lock(&self.synced);
        let waker = self.unlock_slow(&mut synced);
        drop(synced);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Under the internal mutex, by the lock's owner: hands the lock to a starving front
    /// waiter, or clears `LOCKED` and wakes the front waiter. Returns the waker to wake once
    /// the internal mutex is released.
    fn unlock_slow(&self, synced: &mut Synced) -> Option<Waker> {
        let starving = synced
            .waiters
            .front_data()
            .is_some_and(Waiting::is_starving);
        let waker = if starving {
            self.state.fetch_and(!WOKEN, Relaxed);
            synced.waiters.grant_front(())
        } else {
            self.state.fetch_and(!LOCKED, Release);
            self.wake_front(synced)
        };
        self.sync_queued(synced);
        waker
    }

    /// Under the internal mutex, while the lock is free: makes sure the front waiter (if any)
    /// has been woken. A lock taken meanwhile by a barging task needs no wake: its unlock
    /// takes the slow path (`QUEUED` is set) and wakes the front waiter then.
    fn wake_front(&self, synced: &mut Synced) -> Option<Waker> {
        if self.state.load(Relaxed) & (WOKEN | LOCKED) != 0 {
            return None;
        }
        let front = synced.waiters.front()?;
        let waker = synced.waiters.waker(front)?;
        if let Some(waiting) = synced.waiters.data_mut(front) {
            waiting.wakes += 1;
        }
        self.state.fetch_or(WOKEN, Relaxed);
        Some(waker)
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let synced = lock(&self.synced);
        f.debug_struct("Mutex")
            .field("locked", &(self.state.load(Relaxed) & LOCKED != 0))
            .field("waiters", &synced.waiters.len())
            .finish_non_exhaustive()
    }
}

/// The future returned by [`Mutex::lock`].
///
/// ```
/// let m = goro::sync::Mutex::new(());
/// let fut: goro::sync::mutex::Lock<'_, ()> = m.lock();
/// drop(futures_lite::future::block_on(fut));
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Lock<'a, T: ?Sized> {
    /// The mutex being locked.
    mutex: &'a Mutex<T>,
    /// This future's entry in the queue, once it had to wait.
    key: Option<Key>,
}

impl<'a, T: ?Sized> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let mutex = self.mutex;
        let Some(key) = self.key else {
            futures_lite::ready!(crate::coop::poll_proceed(cx));
            if mutex.try_acquire() || mutex.spin_acquire() {
                return Poll::Ready(MutexGuard { mutex });
            }
            let mut synced = lock(&mutex.synced);
            if mutex.acquire_or_mark_queued() {
                return Poll::Ready(MutexGuard { mutex });
            }
            let waiting = Waiting {
                since: Instant::now(),
                wakes: 0,
            };
            self.key = Some(synced.waiters.push_back(waiting, cx.waker()));
            return Poll::Pending;
        };
        let mut synced = lock(&mutex.synced);
        if synced.waiters.take_grant(key).is_some() {
            // Handed the lock: `LOCKED` was never cleared for us.
            mutex.sync_queued(&synced);
            drop(synced);
            self.key = None;
            return Poll::Ready(MutexGuard { mutex });
        }
        if mutex.is_woken() && synced.waiters.front() == Some(key) {
            // This is the run the wake was for: a later unlock must wake us again.
            mutex.state.fetch_and(!WOKEN, Relaxed);
        }
        if mutex.try_acquire() {
            synced.waiters.remove(key);
            mutex.sync_queued(&synced);
            drop(synced);
            self.key = None;
            return Poll::Ready(MutexGuard { mutex });
        }
        synced.waiters.register(key, cx.waker());
        Poll::Pending
    }
}

impl<T: ?Sized> Drop for Lock<'_, T> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let mutex = self.mutex;
        let mut synced = lock(&mutex.synced);
        let was_woken = mutex.is_woken() && synced.waiters.front() == Some(key);
        let waker = if synced.waiters.remove(key).is_some() {
            // The lock was handed to us: hand it on.
            mutex.unlock_slow(&mut synced)
        } else if was_woken {
            // We were woken to take the free lock: wake the next waiter in our place.
            mutex.state.fetch_and(!WOKEN, Relaxed);
            mutex.wake_front(&mut synced)
        } else {
            None
        };
        mutex.sync_queued(&synced);
        drop(synced);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T: ?Sized> fmt::Debug for Lock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("waiting", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

/// Exclusive access to the value of a [`Mutex`]; dropping it unlocks the mutex.
///
/// ```
/// let m = goro::sync::Mutex::new(1);
/// let mut guard = m.try_lock().unwrap();
/// *guard += 1;
/// drop(guard);
/// assert_eq!(m.into_inner(), 2);
/// ```
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    /// The locked mutex; this guard is its only accessor until dropped.
    mutex: &'a Mutex<T>,
}

// SAFETY: a guard shared between threads gives out `&T` only: `T: Sync` makes that safe.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while the lock is held by it (`locked` was set for this
        // guard and is cleared only by its drop), so no `&mut T` exists elsewhere.
        unsafe { &*self.mutex.value.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, the guard has exclusive access for its lifetime; `&mut self`
        // makes this reference the only one derived from the guard.
        unsafe { &mut *self.mutex.value.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

#[cfg(all(test, goro_loom))]
mod loom_tests {
    use super::*;
    use crate::waiters::Arc;
    use loom::sync::atomic::{AtomicBool, Ordering};
    use loom::thread;

    /// Locks, checks that nobody else is inside, increments.
    async fn critical(m: &Mutex<u32>, inside: &AtomicBool) {
        let mut guard = m.lock().await;
        assert!(!inside.swap(true, Ordering::SeqCst), "two guards at once");
        *guard += 1;
        inside.store(false, Ordering::SeqCst);
    }

    /// Three threads lock, one of them twice (so a woken waiter can lose the race to a barging
    /// lock and then be handed the mutex while a third waits): every lock completes, exclusively.
    #[test]
    fn loom_unlock_vs_lock() {
        loom::model(|| {
            let m = Arc::new((Mutex::new(0), AtomicBool::new(false)));
            let others: Vec<_> = (0..2)
                .map(|_| {
                    let m = m.clone();
                    thread::spawn(move || crate::waiters::block_on(critical(&m.0, &m.1)))
                })
                .collect();
            crate::waiters::block_on(async {
                critical(&m.0, &m.1).await;
                critical(&m.0, &m.1).await;
            });
            for other in others {
                other.join().unwrap();
            }
            assert_eq!(*m.0.try_lock().unwrap(), 4);
        });
    }

    /// A waiter is queued; the holder unlocks and the waiter is dropped, in either order, with
    /// the waiter starving (handed the lock) or not (woken to retry), while a third task locks:
    /// the third task always gets the lock.
    #[test]
    fn loom_dropped_waiter_hands_the_lock_on() {
        for (starving, unlock_first) in [(false, true), (true, true), (false, false)] {
            loom::model(move || {
                let m = Arc::new(Mutex::new(0));
                let guard = m.try_lock().unwrap();
                let mut first = Box::pin(m.lock());
                let mut cx = Context::from_waker(Waker::noop());
                assert!(first.as_mut().poll(&mut cx).is_pending());
                if starving {
                    let mut synced = lock(&m.synced);
                    let key = synced.waiters.front().unwrap();
                    synced.waiters.data_mut(key).unwrap().wakes = 1;
                }
                let third = {
                    let m = m.clone();
                    thread::spawn(move || *crate::waiters::block_on(m.lock()) += 1)
                };
                if unlock_first {
                    drop(guard);
                    drop(first);
                } else {
                    drop(first);
                    drop(guard);
                }
                third.join().unwrap();
                assert_eq!(*m.try_lock().unwrap(), 1);
            });
        }
    }
}
