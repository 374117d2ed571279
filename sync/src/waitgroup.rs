//! [`WaitGroup`]: wait for a set of tasks to finish, as Go's `sync.WaitGroup`.
//!
//! ```
//! let wg = goro::sync::WaitGroup::new();
//! wg.add(1);
//! let worker = wg.clone();
//! std::thread::spawn(move || worker.done());
//! futures_lite::future::block_on(wg.wait());
//! ```
//!
//! # The protocol
//!
//! The counter is one atomic word; the queue of waiting futures lives under one internal std
//! mutex. Both are shared by every clone of the group.
//!
//! - **`add(n)`** raises the counter. **`done()`** lowers it by one with a single atomic
//!   operation; only the `done` that takes it to zero takes the mutex, to release every queued
//!   waiter at once (taking them out of the queue and waking them). So tasks finishing on
//!   several workers never contend for a lock, as in Go's `WaitGroup`.
//! - **`wait()`** completes at once if the counter reads zero; otherwise it takes the mutex,
//!   reads the counter again, and queues if it is still not zero, returning `Pending`.
//!
//! No wakeup is lost: the `done` that reaches zero lowers the counter *before* it takes the
//! mutex, and a waiter reads the counter *under* the mutex before queuing. If the waiter took
//! the mutex first, that `done` finds it queued; if the `done` did, the waiter reads zero.
//! Releasing is final: a waiter released when the counter reached zero completes even if `add`
//! raises the counter again before the waiter runs. A dropped waiter simply leaves the queue:
//! a release is meant for everyone waiting, so there is nothing to pass on.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use std::sync::atomic::Ordering::{AcqRel, Acquire};

use crate::waiters::{lock, Arc, Key, StdMutex, Waiters};

#[cfg(all(test, goro_loom))]
use loom::sync::atomic::AtomicUsize;
#[cfg(not(all(test, goro_loom)))]
use std::sync::atomic::AtomicUsize;

/// Waits for a collection of tasks to finish.
///
/// The main task calls [`add`](WaitGroup::add) with the number of tasks to wait for, each task
/// calls [`done`](WaitGroup::done) when it finishes, and [`wait`](WaitGroup::wait) completes
/// once every task has. Clones share one counter: give each task a clone.
///
/// ```
/// use goro::sync::WaitGroup;
///
/// futures_lite::future::block_on(async {
///     let wg = WaitGroup::new();
///     for _ in 0..3 {
///         wg.add(1);
///         let wg = wg.clone();
///         std::thread::spawn(move || {
///             // ... work ...
///             wg.done();
///         });
///     }
///     wg.wait().await;
/// });
/// ```
///
/// # Reuse
///
/// As in Go, a `WaitGroup` may be reused to wait for several independent sets of tasks, but
/// the `add` calls of a new set must happen after every `wait` on the previous set has
/// returned; otherwise a `wait` that has not yet seen the counter reach zero ends up waiting
/// for the new set as well. (Unlike Go this is not a data race and never panics: a `wait`
/// already released by the counter reaching zero completes whatever happens afterwards.)
#[derive(Clone)]
pub struct WaitGroup {
    /// The counter and the waiters, shared by all clones.
    shared: Arc<Shared>,
}

/// What the clones of a group share.
struct Shared {
    /// Tasks added and not yet done.
    count: AtomicUsize,
    /// The futures waiting for `count` to reach zero.
    waiters: StdMutex<Waiters<(), ()>>,
}

impl WaitGroup {
    /// Creates a group with a counter of zero.
    ///
    /// ```
    /// let wg = goro::sync::WaitGroup::new();
    /// futures_lite::future::block_on(wg.wait()); // zero: returns at once
    /// ```
    pub fn new() -> WaitGroup {
        WaitGroup {
            shared: Arc::new(Shared {
                count: AtomicUsize::new(0),
                waiters: StdMutex::new(Waiters::new()),
            }),
        }
    }

    /// Adds `n` to the counter: call it before starting the `n` tasks that will call
    /// [`done`](WaitGroup::done), not inside them, or `wait` may return before they start.
    ///
    /// # Panics
    ///
    /// If the counter would overflow `usize`.
    ///
    /// ```
    /// let wg = goro::sync::WaitGroup::new();
    /// wg.add(2);
    /// wg.done();
    /// wg.done();
    /// futures_lite::future::block_on(wg.wait());
    /// ```
    #[track_caller]
    pub fn add(&self, n: usize) {
        let count = &self.shared.count;
        let mut current = count.load(Acquire);
        loop {
            let Some(next) = current.checked_add(n) else {
                panic!("goro: WaitGroup counter overflowed usize in add({n})");
            };
            match count.compare_exchange_weak(current, next, AcqRel, Acquire) {
                Ok(_) => return,
                Err(now) => current = now,
            }
        }
    }

    /// Marks one task as finished, lowering the counter by one; when it reaches zero every
    /// waiting [`wait`](WaitGroup::wait) completes.
    ///
    /// # Panics
    ///
    /// If the counter is already zero: `done` was called more times than `add` counted. As in
    /// Go (`sync: negative WaitGroup counter`), this is a bug in the program.
    ///
    /// ```
    /// let wg = goro::sync::WaitGroup::new();
    /// wg.add(1);
    /// wg.done();
    /// let too_many = std::panic::catch_unwind(|| wg.done());
    /// assert!(too_many.is_err());
    /// ```
    #[track_caller]
    pub fn done(&self) {
        let count = &self.shared.count;
        let mut current = count.load(Acquire);
        loop {
            if current == 0 {
                panic!(
                    "goro: WaitGroup::done called more times than add counted (negative WaitGroup \
                 counter); call add(n) once for the n tasks before starting them, and done() \
                 exactly once in each"
                );
            }
            match count.compare_exchange_weak(current, current - 1, AcqRel, Acquire) {
                Ok(_) => break,
                Err(now) => current = now,
            }
        }
        if current > 1 {
            return;
        }
        // The counter reached zero: release everyone queued (see "No wakeup is lost").
        let wakers = lock(&self.shared.waiters).grant_all(());
        crate::waiters::wake_all(wakers);
    }

    /// Waits until the counter is zero.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the [`Wait`] future only takes it out of the queue; the counter is
    /// not touched, and the release at zero goes to every waiter, so a dropped one takes
    /// nothing from the others. A new `wait()` sees the counter as it is then.
    ///
    /// ```
    /// use goro::sync::WaitGroup;
    ///
    /// let wg = WaitGroup::new();
    /// wg.add(1);
    /// let worker = wg.clone();
    /// std::thread::spawn(move || worker.done());
    /// futures_lite::future::block_on(wg.wait());
    /// ```
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            group: self,
            key: None,
        }
    }
}

impl Default for WaitGroup {
    fn default() -> Self {
        WaitGroup::new()
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroup")
            .field("count", &self.shared.count.load(Acquire))
            .field("waiters", &lock(&self.shared.waiters).len())
            .finish()
    }
}

/// The future returned by [`WaitGroup::wait`].
///
/// ```
/// let wg = goro::sync::WaitGroup::new();
/// let fut: goro::sync::waitgroup::Wait<'_> = wg.wait();
/// futures_lite::future::block_on(fut);
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Wait<'a> {
    /// The group waited on.
    group: &'a WaitGroup,
    /// This future's entry in the queue, once it had to wait.
    key: Option<Key>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let group = self.group;
        let Some(key) = self.key else {
            futures_lite::ready!(crate::coop::poll_proceed(cx));
            if group.shared.count.load(Acquire) == 0 {
                return Poll::Ready(());
            }
            let mut waiters = lock(&group.shared.waiters);
            if group.shared.count.load(Acquire) == 0 {
                return Poll::Ready(());
            }
            self.key = Some(waiters.push_back((), cx.waker()));
            return Poll::Pending;
        };
        let mut waiters = lock(&group.shared.waiters);
        if waiters.take_grant(key).is_some() {
            drop(waiters);
            self.key = None;
            return Poll::Ready(());
        }
        waiters.register(key, cx.waker());
        Poll::Pending
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            lock(&self.group.shared.waiters).remove(key);
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

#[cfg(all(test, goro_loom))]
mod loom_tests {
    use super::*;
    use loom::thread;

    /// Two tasks call `done` on their own threads while the main thread waits: `wait` returns,
    /// whichever `done` it races with.
    #[test]
    fn loom_done_vs_wait() {
        loom::model(|| {
            let wg = WaitGroup::new();
            wg.add(2);
            let workers: Vec<_> = (0..2)
                .map(|_| {
                    let wg = wg.clone();
                    thread::spawn(move || wg.done())
                })
                .collect();
            crate::waiters::block_on(wg.wait());
            assert_eq!(wg.shared.count.load(Acquire), 0);
            for worker in workers {
                worker.join().unwrap();
            }
        });
    }

    /// A released waiter completes even when `add` reuses the group before it runs.
    #[test]
    fn loom_release_survives_reuse() {
        loom::model(|| {
            let wg = WaitGroup::new();
            wg.add(1);
            let mut wait = Box::pin(wg.wait());
            let mut cx = Context::from_waker(std::task::Waker::noop());
            assert!(wait.as_mut().poll(&mut cx).is_pending());
            let worker = {
                let wg = wg.clone();
                thread::spawn(move || {
                    wg.done();
                    wg.add(1);
                })
            };
            crate::waiters::block_on(wait);
            worker.join().unwrap();
        });
    }
}
