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
//! The lock's state (`locked`, `woken`) and its queue of waiters live together under one
//! internal std mutex, held only for a few instructions and never across user code.
//!
//! - **Lock.** A `lock()` that finds the mutex free takes it at once, even if others are queued:
//!   this *barging* keeps the lock busy while a woken waiter is still being scheduled, which is
//!   what makes a contended mutex fast (Go's "normal mode"). Otherwise the future queues its
//!   waker, under the same internal lock, and returns `Pending`.
//! - **Unlock, normal mode.** The guard's drop frees the mutex and wakes the oldest waiter,
//!   unless it has already been woken and not yet run (`woken`: waking it twice would only cost
//!   a spurious poll). The woken waiter stays at the front of the queue; when it runs it takes
//!   the mutex if it is still free, and otherwise (someone barged in) waits again at the front.
//! - **Unlock, handoff.** If the oldest waiter has been waiting longer than
//!   [`STARVATION_THRESHOLD`], unlock does not free the mutex: it hands it straight to that
//!   waiter, which is then its owner before it even runs, so no barging task can take it. A
//!   waiter therefore waits at most one threshold plus one critical section per waiter ahead of
//!   it: none can starve (Go's "starvation mode", with the same 1 ms threshold).
//!
//! No wakeup is lost: a waiter queues under the internal lock, so an unlock either happens
//! before (and the waiter sees the mutex free) or finds it in the queue. While the mutex is free
//! and waiters are queued, the front one is always `woken`: the unlock that freed it woke it,
//! and if that waiter is dropped before running, its drop wakes the next one in its place. A
//! waiter dropped after being handed the mutex owns it, so its drop unlocks again, handing the
//! mutex on to the next waiter.

#![allow(unsafe_code)]

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::waiters::{lock, Key, StdMutex, Waiters};

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
    /// Whether the value is locked, and who waits for it.
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

/// The lock state, under the internal std mutex.
struct Synced {
    /// Whether a guard exists (or the mutex has been handed to a waiter that has not run yet).
    locked: bool,
    /// Whether the front waiter has been woken to retry and has not run since: a later unlock
    /// need not wake it again.
    woken: bool,
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

impl Synced {
    /// Releases the lock: hands it to a starving front waiter, or frees it and wakes the front
    /// waiter. Returns the waker to wake once the internal lock is released.
    fn unlock(&mut self) -> Option<Waker> {
        match self.waiters.front_data() {
            Some(front) if front.is_starving() => {
                self.woken = false;
                self.waiters.grant_front(())
            }
            _ => {
                self.locked = false;
                self.wake_front()
            }
        }
    }

    /// While the mutex is free, makes sure the front waiter (if any) has been woken.
    fn wake_front(&mut self) -> Option<Waker> {
        if self.locked || self.woken {
            return None;
        }
        let front = self.waiters.front()?;
        let waker = self.waiters.waker(front)?;
        if let Some(waiting) = self.waiters.data_mut(front) {
            waiting.wakes += 1;
        }
        self.woken = true;
        Some(waker)
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
            synced: StdMutex::new(Synced {
                locked: false,
                woken: false,
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
        let mut synced = lock(&self.synced);
        if synced.locked {
            return None;
        }
        synced.locked = true;
        Some(MutexGuard { mutex: self })
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

    /// Releases the lock held by a guard being dropped.
    fn unlock(&self) {
        let waker = lock(&self.synced).unlock();
        if let Some(waker) = waker {
            waker.wake();
        }
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
            .field("locked", &synced.locked)
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
            let mut synced = lock(&mutex.synced);
            if !synced.locked {
                synced.locked = true;
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
            drop(synced);
            self.key = None;
            return Poll::Ready(MutexGuard { mutex });
        }
        if synced.woken && synced.waiters.front() == Some(key) {
            // This is the run the wake was for: a later unlock must wake us again.
            synced.woken = false;
        }
        if !synced.locked {
            synced.locked = true;
            synced.waiters.remove(key);
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
        let mut synced = lock(&self.mutex.synced);
        let was_woken = synced.woken && synced.waiters.front() == Some(key);
        let waker = if synced.waiters.remove(key).is_some() {
            // The lock was handed to us: hand it on.
            synced.unlock()
        } else if was_woken {
            // We were woken to take the free lock: wake the next waiter in our place.
            synced.woken = false;
            synced.wake_front()
        } else {
            None
        };
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
