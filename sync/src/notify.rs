//! [`Notify`]: wake one waiting task, or all of them, without sending any data.
//!
//! ```
//! let notify = goro::sync::Notify::new();
//! notify.notify_one(); // nobody waits yet: kept as a permit
//! futures_lite::future::block_on(notify.notified());
//! ```
//!
//! # The protocol
//!
//! A stored permit, a count of `notify_all` calls and a FIFO queue of waiters live together
//! under one internal std mutex.
//!
//! - **`notify_one`** hands a notification to the oldest queued waiter (taking it out of the
//!   queue and waking it). If nobody waits, it stores a *permit* instead (at most one: permits do
//!   not add up), which the next [`notified`](Notify::notified) consumes without waiting. So a
//!   `notify_one` that runs just before its waiter queues is not lost.
//! - **`notify_all`** hands a notification to every queued waiter and bumps the call count; it
//!   stores no permit. A [`Notified`] future remembers the count when it is *created*, and
//!   completes on its first poll if the count moved since: a `notify_all` between creating the
//!   future and polling it is not lost either. This lets a task create the future, check its
//!   condition, and only then await.
//! - **Waiting.** A future that finds neither a new `notify_all` nor a permit queues, under the
//!   same lock, and returns `Pending`.
//!
//! A future dropped after a `notify_one` handed it the notification passes it on: it calls
//! `notify_one` again, so the next waiter (or the next `notified`) gets it. A notification from
//! `notify_all` is not passed on: it was meant for the waiters of that moment, all of which got
//! it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::waiters::{lock, Key, StdMutex, Waiters};

/// Wakes tasks that wait for an event; carries no data.
///
/// [`notify_one`](Notify::notify_one) wakes one waiter or, if none waits, lets the next one
/// through at once; [`notify_all`](Notify::notify_all) wakes every current waiter. Like a
/// condition variable, but a `notify_one` sent before anyone waits is kept.
///
/// ```
/// use std::sync::Arc;
/// use goro::sync::Notify;
///
/// futures_lite::future::block_on(async {
///     let ready = Arc::new(Notify::new());
///     let signaller = ready.clone();
///     std::thread::spawn(move || signaller.notify_one());
///     ready.notified().await; // returns whether the notify came first or not
/// });
/// ```
pub struct Notify {
    /// Permit, call count and waiters, under one lock.
    synced: StdMutex<Synced>,
}

/// What a waiter was handed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    /// The notification of a `notify_one`: passed on if the waiter is dropped.
    One,
    /// A share of a `notify_all`: not passed on.
    All,
}

/// The notifier's state, under the internal std mutex.
struct Synced {
    /// Whether a `notify_one` found nobody waiting and left a permit.
    permit: bool,
    /// How many times `notify_all` has been called; a `Notified` created before the latest call
    /// completes without waiting.
    all_calls: u64,
    /// The futures waiting for a notification.
    waiters: Waiters<(), Grant>,
}

impl Notify {
    /// Creates a notifier with no stored permit.
    ///
    /// ```
    /// let notify = goro::sync::Notify::new();
    /// notify.notify_one(); // stores a permit: nobody waits yet
    /// futures_lite::future::block_on(notify.notified());
    /// ```
    pub fn new() -> Notify {
        Notify {
            synced: StdMutex::new(Synced {
                permit: false,
                all_calls: 0,
                waiters: Waiters::new(),
            }),
        }
    }

    /// Wakes the oldest waiting task; if none waits, stores a permit so that the next
    /// [`notified`](Notify::notified) completes at once. At most one permit is stored.
    ///
    /// ```
    /// let notify = goro::sync::Notify::new();
    /// notify.notify_one();
    /// notify.notify_one(); // still one permit
    /// futures_lite::future::block_on(notify.notified());
    /// let mut second = std::pin::pin!(notify.notified());
    /// assert!(futures_lite::future::block_on(futures_lite::future::poll_once(&mut second)).is_none());
    /// ```
    pub fn notify_one(&self) {
        let waker = {
            let mut synced = lock(&self.synced);
            let waker = synced.waiters.grant_front(Grant::One);
            if waker.is_none() {
                synced.permit = true;
            }
            waker
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Wakes every task waiting now, and every [`Notified`] future created before this call;
    /// stores no permit for later ones.
    ///
    /// ```
    /// let notify = goro::sync::Notify::new();
    /// let a = notify.notified();
    /// let b = notify.notified();
    /// notify.notify_all();
    /// futures_lite::future::block_on(async { a.await; b.await });
    /// ```
    pub fn notify_all(&self) {
        let wakers = {
            let mut synced = lock(&self.synced);
            synced.all_calls = synced.all_calls.wrapping_add(1);
            synced.waiters.grant_all(Grant::All)
        };
        crate::waiters::wake_all(wakers);
    }

    /// Waits for a notification.
    ///
    /// The future completes when a `notify_one` is handed to it, when it finds a stored permit
    /// on its first poll, or when `notify_all` is called after the future was created (even if
    /// it had not been polled yet).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped [`Notified`] that had been handed a `notify_one` passes it on to
    /// the next waiter (or stores it as the permit), so no `notify_one` is swallowed; a
    /// `Notified` that was never polled took nothing (not even the stored permit). What a
    /// dropped future does lose is its place in the queue, and its share of a `notify_all`,
    /// which is meant for the futures that exist when it is called: in a `select!` loop that
    /// makes a new `notified()` each round, a `notify_all` that comes between two rounds wakes
    /// nobody. Keep one `Notified` across rounds (pinned) if that matters.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicBool, Ordering};
    ///
    /// futures_lite::future::block_on(async {
    ///     let notify = Arc::new(goro::sync::Notify::new());
    ///     let flag = Arc::new(AtomicBool::new(false));
    ///     let (n, f) = (notify.clone(), flag.clone());
    ///     std::thread::spawn(move || {
    ///         f.store(true, Ordering::SeqCst);
    ///         n.notify_all();
    ///     });
    ///     loop {
    ///         let wake = notify.notified(); // created before the check: no lost wakeup
    ///         if flag.load(Ordering::SeqCst) {
    ///             break;
    ///         }
    ///         wake.await;
    ///     }
    /// });
    /// ```
    pub fn notified(&self) -> Notified<'_> {
        let all_calls = lock(&self.synced).all_calls;
        Notified {
            notify: self,
            all_calls,
            key: None,
        }
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let synced = lock(&self.synced);
        f.debug_struct("Notify")
            .field("permit", &synced.permit)
            .field("waiters", &synced.waiters.len())
            .finish()
    }
}

/// The future returned by [`Notify::notified`].
///
/// ```
/// let notify = goro::sync::Notify::new();
/// let fut: goro::sync::notify::Notified<'_> = notify.notified();
/// notify.notify_one();
/// futures_lite::future::block_on(fut);
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Notified<'a> {
    /// The notifier waited on.
    notify: &'a Notify,
    /// `notify_all` calls made before this future was created.
    all_calls: u64,
    /// This future's entry in the queue, once it had to wait.
    key: Option<Key>,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let notify = self.notify;
        let Some(key) = self.key else {
            futures_lite::ready!(crate::coop::poll_proceed(cx));
            let mut synced = lock(&notify.synced);
            if synced.all_calls != self.all_calls {
                return Poll::Ready(());
            }
            if synced.permit {
                synced.permit = false;
                return Poll::Ready(());
            }
            self.key = Some(synced.waiters.push_back((), cx.waker()));
            return Poll::Pending;
        };
        let mut synced = lock(&notify.synced);
        if synced.waiters.take_grant(key).is_some() {
            drop(synced);
            self.key = None;
            return Poll::Ready(());
        }
        synced.waiters.register(key, cx.waker());
        Poll::Pending
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let granted = lock(&self.notify.synced).waiters.remove(key);
        if granted == Some(Grant::One) {
            // A `notify_one` was handed to us and we will never act on it: pass it on.
            self.notify.notify_one();
        }
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("waiting", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, goro_loom))]
mod loom_tests {
    use super::*;
    use crate::waiters::Arc;
    use loom::thread;
    use std::task::Waker;

    /// A queued waiter is dropped while `notify_one` races it: the second waiter still wakes.
    #[test]
    fn loom_notify_one_vs_dropped_waiter() {
        loom::model(|| {
            let notify = Arc::new(Notify::new());
            let mut first = Box::pin(notify.notified());
            let mut cx = Context::from_waker(Waker::noop());
            assert!(first.as_mut().poll(&mut cx).is_pending());
            let notifier = {
                let notify = notify.clone();
                thread::spawn(move || notify.notify_one())
            };
            drop(first);
            crate::waiters::block_on(notify.notified());
            notifier.join().unwrap();
        });
    }

    /// `notify_all` racing a waiter that created its future before the call: never lost.
    #[test]
    fn loom_notify_all_vs_waiter() {
        loom::model(|| {
            let notify = Arc::new(Notify::new());
            let fut = notify.notified();
            let notifier = {
                let notify = notify.clone();
                thread::spawn(move || notify.notify_all())
            };
            crate::waiters::block_on(fut);
            notifier.join().unwrap();
        });
    }
}
