//! [`Semaphore`]: a counting semaphore that serves waiters in arrival order.
//!
//! ```
//! let sem = goro::sync::Semaphore::new(1);
//! let permit = futures_lite::future::block_on(sem.acquire());
//! assert!(sem.try_acquire().is_none());
//! drop(permit);
//! ```
//!
//! # The protocol
//!
//! The number of available permits and the FIFO queue of waiters live together under one
//! internal std mutex. The invariant is: *while anyone is queued, no permit is available*.
//!
//! - **Acquire.** If a permit is available (and so nobody is queued) the future takes it at once;
//!   otherwise it queues and returns `Pending`.
//! - **Release.** A dropped permit, or [`Semaphore::add_permits`], adds permits and then hands
//!   them to queued waiters, oldest first, for as long as there are both: handing over means
//!   taking the permit off the count for the waiter and waking it, so the permit is its own
//!   before it runs and no newcomer can take it.
//!
//! No wakeup is lost: a waiter queues under the internal lock, so a release either came first
//! (and the waiter took the permit) or finds it queued. A waiter dropped after it was handed a
//! permit releases that permit, which goes to the next waiter: a cancelled `acquire` never
//! swallows one.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::waiters::{lock, Key, StdMutex, Waiters};

/// A counting semaphore: at most `n` holders of a [`SemaphorePermit`] at once.
///
/// Bounds concurrency the way a buffered channel of tokens does in Go, without the channel:
///
/// ```
/// use std::sync::Arc;
/// use goro::sync::Semaphore;
///
/// futures_lite::future::block_on(async {
///     let limit = Arc::new(Semaphore::new(2));
///     let a = limit.acquire().await;
///     let b = limit.acquire().await;
///     assert!(limit.try_acquire().is_none()); // two in flight: the third must wait
///     drop(a);
///     assert!(limit.try_acquire().is_some());
///     drop(b);
/// });
/// ```
pub struct Semaphore {
    /// The permits and the waiters, under one lock.
    synced: StdMutex<Synced>,
}

/// The semaphore's state, under the internal std mutex.
struct Synced {
    /// Permits nobody holds; zero whenever a waiter is queued.
    permits: usize,
    /// The futures waiting for a permit; a grant is one permit.
    waiters: Waiters<(), ()>,
}

impl Synced {
    /// Adds `n` permits, then hands them to waiters, oldest first. Returns the wakers to wake.
    fn release(&mut self, n: usize) -> Vec<Waker> {
        // Saturates rather than panics: this runs in `Drop`. `add_permits` checks first.
        self.permits = self.permits.saturating_add(n);
        let mut wakers = Vec::new();
        while self.permits > 0 {
            let Some(waker) = self.waiters.grant_front(()) else {
                break;
            };
            self.permits -= 1;
            wakers.push(waker);
        }
        wakers
    }

    /// Takes a permit for a newcomer if one is available.
    fn try_acquire(&mut self) -> bool {
        let available = self.permits > 0;
        if available {
            self.permits -= 1;
        }
        available
    }
}

impl Semaphore {
    /// Creates a semaphore with `permits` permits available.
    ///
    /// ```
    /// let sem = goro::sync::Semaphore::new(3);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            synced: StdMutex::new(Synced {
                permits,
                waiters: Waiters::new(),
            }),
        }
    }

    /// Acquires a permit, waiting until one is available. Waiters are served in arrival order.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the [`Acquire`] future gives up its place in the queue (a new
    /// `acquire()` starts at the back); a permit already handed to it goes to the next waiter,
    /// or back to the count if nobody waits. No permit is ever lost to a cancellation.
    ///
    /// ```
    /// futures_lite::future::block_on(async {
    ///     let sem = goro::sync::Semaphore::new(1);
    ///     let permit = sem.acquire().await;
    ///     assert_eq!(sem.available_permits(), 0);
    ///     drop(permit);
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire {
            semaphore: self,
            key: None,
        }
    }

    /// Acquires a permit if one is available right now; never waits.
    ///
    /// ```
    /// let sem = goro::sync::Semaphore::new(1);
    /// let permit = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_none());
    /// drop(permit);
    /// ```
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        // The internal lock is released before a permit exists: a permit's drop takes it.
        let acquired = lock(&self.synced).try_acquire();
        acquired.then(|| SemaphorePermit { semaphore: self })
    }

    /// Adds `n` permits, handing them to waiting tasks first.
    ///
    /// # Panics
    ///
    /// If the number of available permits would overflow `usize`.
    ///
    /// ```
    /// let sem = goro::sync::Semaphore::new(0);
    /// sem.add_permits(2);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    #[track_caller]
    pub fn add_permits(&self, n: usize) {
        let mut synced = lock(&self.synced);
        if synced.permits.checked_add(n).is_none() {
            drop(synced);
            panic!(
                "goro: Semaphore::add_permits({n}) overflows the permit count; add fewer permits"
            );
        }
        let wakers = synced.release(n);
        drop(synced);
        crate::waiters::wake_all(wakers);
    }

    /// The number of permits available right now (zero while anyone waits).
    ///
    /// ```
    /// let sem = goro::sync::Semaphore::new(4);
    /// let _p = sem.try_acquire();
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn available_permits(&self) -> usize {
        lock(&self.synced).permits
    }

    /// Releases one permit, from a permit or a waiter being dropped.
    fn release(&self) {
        let wakers = lock(&self.synced).release(1);
        crate::waiters::wake_all(wakers);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let synced = lock(&self.synced);
        f.debug_struct("Semaphore")
            .field("permits", &synced.permits)
            .field("waiters", &synced.waiters.len())
            .finish()
    }
}

/// The future returned by [`Semaphore::acquire`].
///
/// ```
/// let sem = goro::sync::Semaphore::new(1);
/// let fut: goro::sync::semaphore::Acquire<'_> = sem.acquire();
/// let _permit = futures_lite::future::block_on(fut);
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Acquire<'a> {
    /// The semaphore to take a permit from.
    semaphore: &'a Semaphore,
    /// This future's entry in the queue, once it had to wait.
    key: Option<Key>,
}

impl<'a> Future for Acquire<'a> {
    type Output = SemaphorePermit<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit<'a>> {
        let semaphore = self.semaphore;
        let Some(key) = self.key else {
            futures_lite::ready!(crate::coop::poll_proceed(cx));
            let mut synced = lock(&semaphore.synced);
            if synced.try_acquire() {
                return Poll::Ready(SemaphorePermit { semaphore });
            }
            self.key = Some(synced.waiters.push_back((), cx.waker()));
            return Poll::Pending;
        };
        let mut synced = lock(&semaphore.synced);
        if synced.waiters.take_grant(key).is_some() {
            drop(synced);
            self.key = None;
            return Poll::Ready(SemaphorePermit { semaphore });
        }
        synced.waiters.register(key, cx.waker());
        Poll::Pending
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let granted = lock(&self.semaphore.synced).waiters.remove(key);
        if granted.is_some() {
            // A permit was handed to us: pass it on.
            self.semaphore.release();
        }
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("waiting", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

/// One permit of a [`Semaphore`], given back when dropped.
///
/// ```
/// let sem = goro::sync::Semaphore::new(1);
/// let permit: goro::sync::SemaphorePermit<'_> = sem.try_acquire().unwrap();
/// drop(permit);
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[must_use = "the permit is released as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    /// The semaphore the permit goes back to.
    semaphore: &'a Semaphore,
}

impl SemaphorePermit<'_> {
    /// Consumes the permit without releasing it: the semaphore has one permit fewer for good.
    ///
    /// ```
    /// let sem = goro::sync::Semaphore::new(2);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.semaphore.release();
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}

#[cfg(all(test, goro_loom))]
mod loom_tests {
    use super::*;
    use crate::waiters::Arc;
    use loom::thread;

    /// A queued acquire is dropped while the permit holder releases on another thread: the
    /// permit reaches the second acquire whether or not the dropped one had been handed it.
    #[test]
    fn loom_release_vs_dropped_acquire() {
        loom::model(|| {
            let semaphore = Arc::new(Semaphore::new(1));
            let held = semaphore.try_acquire().unwrap();
            let mut first = Box::pin(semaphore.acquire());
            let mut cx = Context::from_waker(Waker::noop());
            assert!(first.as_mut().poll(&mut cx).is_pending());
            let releaser = {
                let semaphore = semaphore.clone();
                // The permit borrows the semaphore: release it on the other thread by forgetting
                // it here and adding the permit back there.
                held.forget();
                thread::spawn(move || semaphore.add_permits(1))
            };
            drop(first);
            drop(crate::waiters::block_on(semaphore.acquire()));
            releaser.join().unwrap();
            assert_eq!(semaphore.available_permits(), 1);
        });
    }
}
