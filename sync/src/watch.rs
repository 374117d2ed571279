//! A single-value channel: one sender publishes the latest value, any number of receivers
//! read it and wait for it to change.
//!
//! Go has no such channel; the Go idiom it replaces is a `sync.Mutex` around the value beside a
//! `sync.Cond` that is broadcast on every change. Receivers see the *latest* value, not every
//! value: two sends between two looks show only the second.
//!
//! ```
//! use goro::sync::watch;
//!
//! goro::block_on(async {
//!     let (tx, mut rx) = watch::channel("starting");
//!     let worker = goro::spawn(async move {
//!         let mut seen = Vec::new();
//!         while rx.changed().await.is_ok() {
//!             seen.push(*rx.borrow_and_update());
//!         }
//!         seen // the sender is gone and every value it left was seen
//!     });
//!     tx.send("ready").unwrap();
//!     drop(tx);
//!     assert_eq!(worker.await.unwrap(), ["ready"]);
//! });
//! ```
//!
//! # The protocol
//!
//! The value and its *version* (a counter bumped by every send) live together under a
//! read-write lock; the waiting [`Changed`] futures, the closed flag and the count of receivers
//! live under a separate mutex. Each receiver remembers the version it last marked seen.
//!
//! - **Send** stores the value and bumps the version under the write lock, releases it, then
//!   takes the waiter mutex and wakes every waiting future.
//! - **Wait** ([`Receiver::changed`]): under the waiter mutex, the future reads the version
//!   (taking the read lock briefly); if it differs from the receiver's, it completes, otherwise
//!   it queues its waker, still under the waiter mutex.
//!
//! No wakeup is lost: a send bumps the version *before* it takes the waiter mutex, and a
//! waiter reads the version *while holding* that mutex. So either the waiter read the bumped
//! version, or it queued before the sender took the mutex and the sender finds it. Closing is
//! the same, with the closed flag set under the waiter mutex.
//!
//! # Cancel safety
//!
//! Nothing is taken from anyone: each receiver only moves its own version, and only in the
//! poll of [`Changed`] that returns `Ready`. A `changed()` dropped before completing (a losing
//! `select!` arm, a timeout) leaves the receiver exactly as it was.

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::waiters::{lock, wake_all, Arc, Key, StdMutex, Waiters};

#[cfg(all(test, goro_loom))]
use loom::sync::{RwLock, RwLockReadGuard};
#[cfg(not(all(test, goro_loom)))]
use std::sync::{RwLock, RwLockReadGuard};

/// The error of [`Sender::send`]: every receiver is gone. Gives the value back.
///
/// ```
/// let (tx, rx) = goro::sync::watch::channel(0);
/// drop(rx);
/// assert_eq!(tx.send(7).unwrap_err().0, 7);
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending on a watch channel with no receivers")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The error of [`Receiver::changed`]: the sender is gone and no unseen value is left.
///
/// ```
/// let (tx, mut rx) = goro::sync::watch::channel(0);
/// drop(tx);
/// assert!(futures_lite::future::block_on(rx.changed()).is_err());
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("watch channel closed")
    }
}

impl std::error::Error for RecvError {}

/// The value and the count of sends that produced it.
struct Versioned<T> {
    /// The latest value.
    value: T,
    /// Bumped by every send; a receiver compares it with the version it saw.
    version: u64,
}

/// The waiter side of the channel, under the waiter mutex.
struct Synced {
    /// The `Changed` futures waiting for a new version or for the close.
    waiters: Waiters<(), ()>,
    /// Set when the sender is dropped; never unset.
    closed: bool,
    /// Live receivers; a send with none fails.
    receivers: usize,
}

/// What the sender and the receivers share.
struct Shared<T> {
    /// The value, written by sends, read by `borrow`.
    value: RwLock<Versioned<T>>,
    /// Waiters, closed flag, receiver count.
    synced: StdMutex<Synced>,
}

impl<T> Shared<T> {
    fn read(&self) -> RwLockReadGuard<'_, Versioned<T>> {
        self.value
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies `f` to the value and bumps the version, then wakes every waiter.
    fn modify(&self, f: impl FnOnce(&mut T)) {
        {
            let mut guard = self
                .value
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut guard.value);
            guard.version += 1;
        }
        // Taken after the version moved: see the module docs.
        let wakers = lock(&self.synced).waiters.grant_all(());
        wake_all(wakers);
    }
}

/// Creates a watch channel holding `initial`, which the first receiver counts as seen.
///
/// ```
/// let (tx, rx) = goro::sync::watch::channel(1);
/// tx.send(2).unwrap();
/// assert_eq!(*rx.borrow(), 2);
/// ```
pub fn channel<T>(initial: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(Versioned {
            value: initial,
            version: 0,
        }),
        synced: StdMutex::new(Synced {
            waiters: Waiters::new(),
            closed: false,
            receivers: 1,
        }),
    });
    let rx = Receiver {
        shared: shared.clone(),
        seen: 0,
    };
    (Sender { shared }, rx)
}

/// Publishes values to the receivers of a watch channel. Dropping it closes the channel.
///
/// ```
/// let (tx, rx) = goro::sync::watch::channel(String::new());
/// tx.send_modify(|s| s.push_str("hi"));
/// assert_eq!(*rx.borrow(), "hi");
/// ```
pub struct Sender<T> {
    /// The channel.
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Replaces the value and wakes every receiver waiting in [`changed`](Receiver::changed).
    ///
    /// ```
    /// let (tx, mut rx) = goro::sync::watch::channel(0);
    /// tx.send(1).unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// ```
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value, not stored, when every receiver is gone.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        self.shared.modify(|old| *old = value);
        Ok(())
    }

    /// Changes the value in place and notifies the receivers, whether or not any is left.
    ///
    /// `f` runs under the channel's write lock: it must not borrow the channel.
    ///
    /// ```
    /// let (tx, rx) = goro::sync::watch::channel(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert_eq!(*rx.borrow(), [1, 2]);
    /// ```
    pub fn send_modify(&self, f: impl FnOnce(&mut T)) {
        self.shared.modify(f);
    }

    /// Borrows the current value. Sends wait while the guard lives: keep it short.
    ///
    /// ```
    /// let (tx, _rx) = goro::sync::watch::channel(3);
    /// assert_eq!(*tx.borrow(), 3);
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.read(),
        }
    }

    /// A new receiver, which counts the current value as seen.
    ///
    /// ```
    /// let (tx, rx) = goro::sync::watch::channel(0);
    /// drop(rx);
    /// let mut rx = tx.subscribe();
    /// assert!(!rx.has_changed().unwrap());
    /// tx.send(1).unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        lock(&self.shared.synced).receivers += 1;
        Receiver {
            seen: self.shared.read().version,
            shared: self.shared.clone(),
        }
    }

    /// How many receivers are alive.
    ///
    /// ```
    /// let (tx, rx) = goro::sync::watch::channel(());
    /// let rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        lock(&self.shared.synced).receivers
    }

    /// Closes the channel, as dropping the sender does: receivers see the last value, then
    /// [`changed`](Receiver::changed) returns [`RecvError`].
    ///
    /// ```
    /// let (tx, mut rx) = goro::sync::watch::channel(0);
    /// tx.close();
    /// assert!(rx.has_changed().is_err());
    /// ```
    pub fn close(self) {
        drop(self);
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let wakers = {
            let mut synced = lock(&self.shared.synced);
            synced.closed = true;
            synced.waiters.grant_all(())
        };
        wake_all(wakers);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Sender").finish_non_exhaustive()
    }
}

/// Reads the latest value of a watch channel and waits for it to change. Cloning gives a
/// receiver that has seen what this one has.
///
/// ```
/// let (tx, rx) = goro::sync::watch::channel(0);
/// let rx2 = rx.clone();
/// tx.send(5).unwrap();
/// assert_eq!((*rx.borrow(), *rx2.borrow()), (5, 5));
/// ```
pub struct Receiver<T> {
    /// The channel.
    shared: Arc<Shared<T>>,
    /// The version this receiver marked seen.
    seen: u64,
}

impl<T> Receiver<T> {
    /// Borrows the current value without marking it seen. Sends wait while the guard lives:
    /// keep it short, and do not await while holding it.
    ///
    /// The guard holds a read lock: calling another method of the same channel while holding
    /// it may deadlock against a waiting send. Copy out what you need, then drop it.
    ///
    /// ```
    /// let (tx, mut rx) = goro::sync::watch::channel(0);
    /// tx.send(1).unwrap();
    /// assert_eq!(*rx.borrow(), 1);
    /// assert!(rx.has_changed().unwrap()); // still unseen
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.read(),
        }
    }

    /// Borrows the current value and marks it seen.
    ///
    /// ```
    /// let (tx, mut rx) = goro::sync::watch::channel(0);
    /// tx.send(1).unwrap();
    /// assert_eq!(*rx.borrow_and_update(), 1);
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.read();
        self.seen = guard.version;
        Ref { guard }
    }

    /// Whether a value this receiver has not seen is there.
    ///
    /// ```
    /// let (tx, rx) = goro::sync::watch::channel(0);
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.has_changed(), Ok(true));
    /// ```
    ///
    /// # Errors
    ///
    /// [`RecvError`] when the sender is gone and nothing unseen is left.
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let synced = lock(&self.shared.synced);
        let changed = self.shared.read().version != self.seen;
        match changed || !synced.closed {
            true => Ok(changed),
            false => Err(RecvError),
        }
    }

    /// Waits until there is a value this receiver has not seen, and marks it seen (read it with
    /// [`borrow`](Receiver::borrow)). Completes at once if one is already there.
    ///
    /// ```
    /// use goro::sync::watch;
    ///
    /// goro::block_on(async {
    ///     let (tx, mut rx) = watch::channel(0);
    ///     goro::spawn(async move { tx.send(1) });
    ///     rx.changed().await.unwrap();
    ///     assert_eq!(*rx.borrow(), 1);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// [`RecvError`] when the sender is gone and nothing unseen is left.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the value is marked seen only by the poll that returns `Ready`, so a
    /// `changed()` dropped unfinished (a losing `select!` arm) leaves the receiver as it was.
    pub fn changed(&mut self) -> Changed<'_, T> {
        Changed {
            receiver: self,
            key: None,
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        lock(&self.shared.synced).receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        lock(&self.shared.synced).receivers -= 1;
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Receiver")
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

/// A borrow of a watch channel's value; sends wait until it is dropped. Do not call other
/// methods of the channel while holding it: it is a read lock, and a waiting send may block a
/// second one.
///
/// ```
/// let (_tx, rx) = goro::sync::watch::channel(String::from("v1"));
/// let value = rx.borrow();
/// assert_eq!(value.len(), 2);
/// ```
pub struct Ref<'a, T> {
    /// The read lock on the value.
    guard: RwLockReadGuard<'a, Versioned<T>>,
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.guard.value.fmt(f)
    }
}

/// The future of [`Receiver::changed`].
///
/// # Cancel safety
///
/// Dropping it unfinished changes nothing: see [`Receiver::changed`].
///
/// ```
/// let (tx, mut rx) = goro::sync::watch::channel(0);
/// tx.send(1).unwrap();
/// futures_lite::future::block_on(rx.changed()).unwrap();
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Changed<'a, T> {
    /// The receiver whose version moves when this completes.
    receiver: &'a mut Receiver<T>,
    /// Our entry in the waiter list, while queued.
    key: Option<Key>,
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let shared = &*this.receiver.shared;
        let mut synced = lock(&shared.synced);
        // Read under the waiter mutex: a send that moves the version after this read finds
        // our entry when it takes the mutex.
        let version = shared.read().version;
        let done = if version != this.receiver.seen {
            this.receiver.seen = version;
            Some(Ok(()))
        } else if synced.closed {
            Some(Err(RecvError))
        } else {
            None
        };
        if let Some(out) = done {
            if let Some(key) = this.key.take() {
                synced.waiters.remove(key);
            }
            return Poll::Ready(out);
        }
        match this.key {
            Some(key) if synced.waiters.data(key).is_some() => {
                synced.waiters.register(key, cx.waker())
            }
            _ => {
                // First poll, or woken by a send whose version we have since seen: queue
                // (again).
                if let Some(key) = this.key.take() {
                    synced.waiters.remove(key);
                }
                this.key = Some(synced.waiters.push_back((), cx.waker()));
            }
        }
        Poll::Pending
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // A grant here is only a wakeup, owed to nobody else: nothing to pass on.
            lock(&self.receiver.shared.synced).waiters.remove(key);
        }
    }
}

impl<T> fmt::Debug for Changed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Changed").finish_non_exhaustive()
    }
}

#[cfg(all(test, goro_loom))]
mod loom_tests {
    use super::*;
    use crate::waiters::block_on;
    use loom::thread;

    /// A `changed()` racing a send either sees the new version or is woken by it: the model
    /// would deadlock (and loom report it) if a send could slip between the check and the
    /// queueing.
    #[test]
    fn loom_changed_racing_send_is_not_lost() {
        loom::model(|| {
            let (tx, mut rx) = channel(0);
            let sender = thread::spawn(move || {
                tx.send(1).unwrap();
                tx
            });
            block_on(rx.changed()).unwrap();
            assert_eq!(*rx.borrow(), 1);
            drop(sender.join().unwrap());
        });
    }

    /// A `changed()` racing the sender's drop ends with `RecvError`, never a hang.
    #[test]
    fn loom_changed_racing_close_is_not_lost() {
        loom::model(|| {
            let (tx, mut rx) = channel(0);
            let closer = thread::spawn(move || drop(tx));
            assert_eq!(block_on(rx.changed()), Err(RecvError));
            closer.join().unwrap();
        });
    }
}
