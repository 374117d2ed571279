//! [`Barrier`]: `n` tasks wait for each other, then all go on together; reusable.
//!
//! ```
//! let barrier = goro::sync::Barrier::new(1);
//! assert!(futures_lite::future::block_on(barrier.wait()).is_leader());
//! ```
//!
//! # The protocol
//!
//! The number of tasks arrived in the current generation and the queue of those waiting live
//! together under one internal std mutex.
//!
//! - **Arrive.** On its first poll a [`Wait`] future counts itself in. If it is the `n`-th, it
//!   *trips* the barrier: it releases every queued waiter (taking them out of the queue and
//!   waking them), resets the count for the next generation, and completes as the leader.
//!   Otherwise it queues, under the same lock, and returns `Pending`.
//! - **Release.** A released waiter completes, not the leader, whenever it next runs, even if
//!   the next generation has filled up again meanwhile: its release was recorded in its entry.
//!
//! No wakeup is lost: arriving and queueing happen under the lock that the tripping arrival
//! takes, so the last arrival always finds every earlier one in the queue. A waiter dropped
//! before the barrier trips withdraws its arrival (the count goes back down), so a cancelled
//! task does not let the others through one short. A waiter dropped after it was released has
//! nothing to pass on: the generation is complete.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::waiters::{lock, Key, StdMutex, Waiters};

/// Lets `n` tasks wait until all of them have reached the same point; reusable.
///
/// ```
/// use std::sync::Arc;
/// use goro::sync::Barrier;
///
/// let barrier = Arc::new(Barrier::new(3));
/// let threads: Vec<_> = (0..3)
///     .map(|_| {
///         let barrier = barrier.clone();
///         std::thread::spawn(move || futures_lite::future::block_on(barrier.wait()).is_leader())
///     })
///     .collect();
/// let leaders = threads
///     .into_iter()
///     .map(|t| t.join().unwrap())
///     .filter(|&leader| leader)
///     .count();
/// assert_eq!(leaders, 1);
/// ```
pub struct Barrier {
    /// The tasks that must arrive before any may go on.
    n: usize,
    /// The current generation's arrivals and waiters.
    synced: StdMutex<Synced>,
}

/// The barrier's state, under the internal std mutex.
struct Synced {
    /// Tasks arrived in the current generation.
    arrived: usize,
    /// Generations completed so far.
    generation: u64,
    /// The arrived tasks waiting for the rest; a grant is the release.
    waiters: Waiters<(), ()>,
}

impl Barrier {
    /// Creates a barrier for `n` tasks. A barrier for zero tasks behaves like one for one
    /// (every `wait` completes at once, as the leader), as `std::sync::Barrier` does.
    ///
    /// ```
    /// let barrier = goro::sync::Barrier::new(1);
    /// assert!(futures_lite::future::block_on(barrier.wait()).is_leader());
    /// ```
    pub fn new(n: usize) -> Barrier {
        Barrier {
            n: n.max(1),
            synced: StdMutex::new(Synced {
                arrived: 0,
                generation: 0,
                waiters: Waiters::new(),
            }),
        }
    }

    /// Waits until `n` tasks (this one included) are waiting, then lets all of them go on.
    ///
    /// Exactly one task of each generation, the one whose arrival completed it, learns that it
    /// is the leader ([`BarrierWaitResult::is_leader`]).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a [`Wait`] counts as arrived from its first poll. Dropped before the
    /// barrier trips, it withdraws its arrival, so the barrier still waits for `n` tasks;
    /// dropped after it tripped (released but not yet polled), it changes nothing: the others
    /// were released with it. A new `wait()` then arrives in the next generation.
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let barrier = Arc::new(goro::sync::Barrier::new(2));
    /// let other = barrier.clone();
    /// let t = std::thread::spawn(move || futures_lite::future::block_on(other.wait()).is_leader());
    /// let me = futures_lite::future::block_on(barrier.wait()).is_leader();
    /// assert!(me != t.join().unwrap()); // exactly one leader
    /// ```
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            barrier: self,
            key: None,
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let synced = lock(&self.synced);
        f.debug_struct("Barrier")
            .field("n", &self.n)
            .field("arrived", &synced.arrived)
            .field("generation", &synced.generation)
            .finish()
    }
}

/// The future returned by [`Barrier::wait`].
///
/// ```
/// let barrier = goro::sync::Barrier::new(1);
/// let fut: goro::sync::barrier::Wait<'_> = barrier.wait();
/// assert!(futures_lite::future::block_on(fut).is_leader());
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Wait<'a> {
    /// The barrier waited on.
    barrier: &'a Barrier,
    /// This future's entry in the queue, once it has arrived and waits for the rest.
    key: Option<Key>,
}

impl Future for Wait<'_> {
    type Output = BarrierWaitResult;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        let barrier = self.barrier;
        let Some(key) = self.key else {
            futures_lite::ready!(crate::coop::poll_proceed(cx));
            let mut synced = lock(&barrier.synced);
            synced.arrived += 1;
            if synced.arrived < barrier.n {
                self.key = Some(synced.waiters.push_back((), cx.waker()));
                return Poll::Pending;
            }
            synced.arrived = 0;
            synced.generation = synced.generation.wrapping_add(1);
            let wakers = synced.waiters.grant_all(());
            drop(synced);
            crate::waiters::wake_all(wakers);
            return Poll::Ready(BarrierWaitResult { leader: true });
        };
        let mut synced = lock(&barrier.synced);
        if synced.waiters.take_grant(key).is_some() {
            drop(synced);
            self.key = None;
            return Poll::Ready(BarrierWaitResult { leader: false });
        }
        synced.waiters.register(key, cx.waker());
        Poll::Pending
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let mut synced = lock(&self.barrier.synced);
        if synced.waiters.remove(key).is_none() {
            // Still waiting in this generation: withdraw the arrival.
            synced.arrived -= 1;
        }
    }
}

impl fmt::Debug for Wait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("waiting", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

/// What [`Barrier::wait`] tells a task: whether it is its generation's leader.
///
/// ```
/// let barrier = goro::sync::Barrier::new(1);
/// let result: goro::sync::BarrierWaitResult = futures_lite::future::block_on(barrier.wait());
/// assert!(result.is_leader());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult {
    /// Whether this task's arrival completed the generation.
    leader: bool,
}

impl BarrierWaitResult {
    /// Whether this task is the leader of its generation: exactly one task per generation is.
    ///
    /// ```
    /// let barrier = goro::sync::Barrier::new(1);
    /// assert!(futures_lite::future::block_on(barrier.wait()).is_leader());
    /// ```
    pub fn is_leader(&self) -> bool {
        self.leader
    }
}
