//! A multi-producer, multi-consumer channel where every receiver gets every value.
//!
//! Go has no such channel; the Go idiom it replaces is a channel per subscriber, with the
//! publisher looping over them. Here the values sit once in a ring buffer of fixed capacity and
//! each receiver keeps its own position in it. Sending never waits: a receiver that falls more
//! than `capacity` values behind loses the oldest ones and is told how many
//! ([`RecvError::Lagged`]), then continues from the oldest value still kept.
//!
//! ```
//! use goro::sync::broadcast;
//!
//! goro::block_on(async {
//!     let (tx, mut rx1) = broadcast::channel(16);
//!     let mut rx2 = tx.subscribe();
//!     tx.send("hello").unwrap();
//!     tx.send("world").unwrap();
//!     drop(tx);
//!     for rx in [&mut rx1, &mut rx2] {
//!         assert_eq!(rx.recv().await, Ok("hello"));
//!         assert_eq!(rx.recv().await, Ok("world"));
//!         assert_eq!(rx.recv().await, Err(broadcast::RecvError::Closed));
//!     }
//! });
//! ```
//!
//! # The protocol
//!
//! The ring buffer, the position of its oldest value, the counts of senders and receivers and
//! the queue of waiting [`Recv`] futures live under one internal std mutex. Values are numbered
//! by position from the channel's start; a receiver holds the position of the next value it
//! wants.
//!
//! - **Send** appends under the lock (dropping the oldest value if the buffer is full), then
//!   takes every waiter out of the queue and wakes them once the lock is released.
//! - **Receive**, under the lock: a position older than the oldest kept value reports
//!   `Lagged(n)` and jumps to the oldest; a kept position clones the value and moves on; the
//!   position one past the newest queues the future's waker, still under the lock, unless
//!   every sender is gone (`Closed`).
//!
//! A receiver checks and queues under the same lock a sender appends and wakes under, so a send
//! either comes before the check (and is seen) or finds the waiter queued: no wakeup is lost.
//! The last sender's drop wakes every waiter the same way.
//!
//! # Cancel safety
//!
//! A receive takes a value from nobody else: each receiver only moves its own position, and
//! only in the poll of [`Recv`] that returns the value (or the lag). A `recv()` dropped
//! unfinished, such as a losing `select!` arm, leaves the receiver where it was: the next
//! `recv()` returns the same value.
//!
//! `T::clone` runs under the channel's lock: it should be cheap (an `Arc` for large values).

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::waiters::{lock, wake_all, Arc, Key, StdMutex, Waiters};

/// The error of [`Sender::send`]: no receiver is alive. Gives the value back.
///
/// ```
/// let (tx, rx) = goro::sync::broadcast::channel(1);
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
        f.write_str("sending on a broadcast channel with no receivers")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The error of [`Receiver::recv`].
///
/// ```
/// use goro::sync::broadcast::{self, RecvError};
///
/// let (tx, mut rx) = broadcast::channel(1);
/// tx.send(1).unwrap();
/// tx.send(2).unwrap(); // pushes 1 out of the buffer
/// assert_eq!(futures_lite::future::block_on(rx.recv()), Err(RecvError::Lagged(1)));
/// assert_eq!(futures_lite::future::block_on(rx.recv()), Ok(2));
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum RecvError {
    /// Every sender is gone and this receiver has seen every value kept.
    Closed,
    /// This receiver fell behind: this many values were dropped before it saw them. The next
    /// receive returns the oldest value still kept.
    Lagged(u64),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("broadcast channel closed"),
            RecvError::Lagged(n) => write!(f, "broadcast receiver lagged behind by {n} values"),
        }
    }
}

impl std::error::Error for RecvError {}

/// The error of [`Receiver::try_recv`].
///
/// ```
/// use goro::sync::broadcast::{self, TryRecvError};
///
/// let (tx, mut rx) = broadcast::channel::<i32>(1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryRecvError {
    /// No value is there yet.
    Empty,
    /// Every sender is gone and this receiver has seen every value kept.
    Closed,
    /// As [`RecvError::Lagged`].
    Lagged(u64),
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("receiving on an empty broadcast channel"),
            TryRecvError::Closed => f.write_str("broadcast channel closed"),
            TryRecvError::Lagged(n) => {
                write!(f, "broadcast receiver lagged behind by {n} values")
            }
        }
    }
}

impl std::error::Error for TryRecvError {}

/// The channel's state, under its mutex.
struct Synced<T> {
    /// The kept values, oldest first; at most `capacity`.
    buffer: VecDeque<T>,
    /// The position of `buffer[0]`: how many values were dropped from the front so far.
    start: u64,
    /// The most values kept.
    capacity: usize,
    /// Live senders; the channel closes when this reaches zero.
    senders: usize,
    /// Live receivers; a send with none fails.
    receivers: usize,
    /// The `Recv` futures waiting for a value or the close.
    waiters: Waiters<(), ()>,
}

impl<T> Synced<T> {
    /// The position the next sent value will take.
    fn end(&self) -> u64 {
        self.start + self.buffer.len() as u64
    }

    /// The receive step at `next`: the value (moving `next` on), the lag (moving `next` to
    /// the oldest kept value), or why nothing is there.
    fn take(&self, next: &mut u64) -> Result<T, TryRecvError>
    where
        T: Clone,
    {
        if *next < self.start {
            let missed = self.start - *next;
            *next = self.start;
            return Err(TryRecvError::Lagged(missed));
        }
        match self.buffer.get((*next - self.start) as usize) {
            Some(value) => {
                *next += 1;
                Ok(value.clone())
            }
            None if self.senders == 0 => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }
}

/// Creates a broadcast channel that keeps the latest `capacity` values.
///
/// ```
/// let (tx, mut rx) = goro::sync::broadcast::channel(8);
/// assert_eq!(tx.send(1), Ok(1)); // one receiver got it
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
///
/// # Panics
///
/// If `capacity` is zero: a broadcast channel must keep at least the latest value.
#[track_caller]
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "goro::sync::broadcast::channel: capacity must be at least 1"
    );
    let shared = Arc::new(StdMutex::new(Synced {
        buffer: VecDeque::with_capacity(capacity),
        start: 0,
        capacity,
        senders: 1,
        receivers: 1,
        waiters: Waiters::new(),
    }));
    let rx = Receiver {
        shared: shared.clone(),
        next: 0,
    };
    (Sender { shared }, rx)
}

/// Sends values to every receiver of a broadcast channel. Clone it for more senders; the
/// channel closes when the last one is dropped.
///
/// ```
/// let (tx, mut rx) = goro::sync::broadcast::channel(4);
/// let tx2 = tx.clone();
/// tx.send(1).unwrap();
/// tx2.send(2).unwrap();
/// assert_eq!((rx.try_recv(), rx.try_recv()), (Ok(1), Ok(2)));
/// ```
pub struct Sender<T> {
    /// The channel.
    shared: Arc<StdMutex<Synced<T>>>,
}

impl<T> Sender<T> {
    /// Sends `value` to every receiver, never waiting; returns how many receivers there are.
    /// If the buffer is full, its oldest value is dropped (receivers that had not seen it will
    /// get [`RecvError::Lagged`]).
    ///
    /// ```
    /// let (tx, rx) = goro::sync::broadcast::channel(4);
    /// let _rx2 = tx.subscribe();
    /// assert_eq!(tx.send("x"), Ok(2));
    /// ```
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value when no receiver is alive; the value is not kept.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let (receivers, wakers, dropped) = {
            let mut synced = lock(&self.shared);
            if synced.receivers == 0 {
                return Err(SendError(value));
            }
            synced.buffer.push_back(value);
            let mut dropped = None;
            if synced.buffer.len() > synced.capacity {
                dropped = synced.buffer.pop_front();
                synced.start += 1;
            }
            (synced.receivers, synced.waiters.grant_all(()), dropped)
        };
        drop(dropped); // user code, outside the lock
        wake_all(wakers);
        Ok(receivers)
    }

    /// A new receiver, which gets every value sent from now on.
    ///
    /// ```
    /// let (tx, _rx) = goro::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut late = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(late.try_recv(), Ok(2));
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let mut synced = lock(&self.shared);
        synced.receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            next: synced.end(),
        }
    }

    /// How many values the channel keeps now (at most its capacity).
    ///
    /// ```
    /// let (tx, _rx) = goro::sync::broadcast::channel(2);
    /// (0..5).for_each(|i| { tx.send(i).unwrap(); });
    /// assert_eq!(tx.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        lock(&self.shared).buffer.len()
    }

    /// Whether the channel keeps no value.
    ///
    /// ```
    /// let (tx, _rx) = goro::sync::broadcast::channel::<()>(2);
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many receivers are alive.
    ///
    /// ```
    /// let (tx, rx) = goro::sync::broadcast::channel::<()>(2);
    /// let _rx2 = tx.subscribe();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        lock(&self.shared).receivers
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        lock(&self.shared).senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let wakers = {
            let mut synced = lock(&self.shared);
            synced.senders -= 1;
            match synced.senders {
                0 => synced.waiters.grant_all(()),
                _ => Vec::new(),
            }
        };
        wake_all(wakers);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Sender").finish_non_exhaustive()
    }
}

/// Receives every value sent to a broadcast channel after it subscribed.
///
/// ```
/// let (tx, mut rx) = goro::sync::broadcast::channel(4);
/// tx.send(1).unwrap();
/// assert_eq!(futures_lite::future::block_on(rx.recv()), Ok(1));
/// ```
pub struct Receiver<T> {
    /// The channel.
    shared: Arc<StdMutex<Synced<T>>>,
    /// The position of the next value this receiver wants.
    next: u64,
}

impl<T: Clone> Receiver<T> {
    /// Waits for the next value this receiver has not seen.
    ///
    /// ```
    /// use goro::sync::broadcast;
    ///
    /// goro::block_on(async {
    ///     let (tx, mut rx) = broadcast::channel(4);
    ///     goro::spawn(async move { tx.send(42) });
    ///     assert_eq!(rx.recv().await, Ok(42));
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`] when values were dropped before this receiver saw them (the next
    /// call continues from the oldest kept value); [`RecvError::Closed`] once every sender is
    /// gone and every kept value was received.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the receiver moves on only in the poll that returns, so a `recv()` dropped
    /// unfinished (a losing `select!` arm, a timeout) skips no value.
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv {
            receiver: self,
            key: None,
        }
    }

    /// Takes the next value if one is there, without waiting.
    ///
    /// ```
    /// use goro::sync::broadcast::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] when no new value is there; `Lagged` and `Closed` as for
    /// [`recv`](Receiver::recv).
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        lock(&self.shared).take(&mut self.next)
    }
}

impl<T> Receiver<T> {
    /// How many kept values this receiver has not received yet.
    ///
    /// ```
    /// let (tx, rx) = goro::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        let synced = lock(&self.shared);
        (synced.end() - self.next.max(synced.start)) as usize
    }

    /// Whether this receiver has received every kept value.
    ///
    /// ```
    /// let (_tx, rx) = goro::sync::broadcast::channel::<()>(4);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A new receiver of the same channel, which gets the values sent from now on (not those
    /// this one has not received yet).
    ///
    /// ```
    /// let (tx, rx) = goro::sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut other = rx.resubscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(other.try_recv(), Ok(2));
    /// ```
    pub fn resubscribe(&self) -> Receiver<T> {
        let mut synced = lock(&self.shared);
        synced.receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            next: synced.end(),
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        lock(&self.shared).receivers -= 1;
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// The future of [`Receiver::recv`].
///
/// # Cancel safety
///
/// Dropping it unfinished skips no value: see [`Receiver::recv`].
///
/// ```
/// let (tx, mut rx) = goro::sync::broadcast::channel(4);
/// tx.send(1).unwrap();
/// assert_eq!(futures_lite::future::block_on(rx.recv()), Ok(1));
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Recv<'a, T> {
    /// The receiver whose position moves when this completes.
    receiver: &'a mut Receiver<T>,
    /// Our entry in the waiter list, while queued.
    key: Option<Key>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut synced = lock(&this.receiver.shared);
        let out = match synced.take(&mut this.receiver.next) {
            Ok(value) => Ok(value),
            Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
            Err(TryRecvError::Empty) => {
                match this.key {
                    Some(key) if synced.waiters.data(key).is_some() => {
                        synced.waiters.register(key, cx.waker())
                    }
                    _ => {
                        // First poll, or woken while nothing new is there (a send this
                        // receiver already took with `try_recv`): queue (again).
                        if let Some(key) = this.key.take() {
                            synced.waiters.remove(key);
                        }
                        this.key = Some(synced.waiters.push_back((), cx.waker()));
                    }
                }
                return Poll::Pending;
            }
        };
        if let Some(key) = this.key.take() {
            synced.waiters.remove(key);
        }
        Poll::Ready(out)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // A grant here is only a wakeup, owed to nobody else: nothing to pass on.
            lock(&self.receiver.shared).waiters.remove(key);
        }
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Recv").finish_non_exhaustive()
    }
}

#[cfg(all(test, goro_loom))]
mod loom_tests {
    use super::*;
    use crate::waiters::block_on;
    use loom::thread;

    /// Two receivers waiting while a sender sends once and leaves: each gets the value, then
    /// `Closed`; a lost wakeup would deadlock the model.
    #[test]
    fn loom_recv_racing_send_and_close_is_not_lost() {
        loom::model(|| {
            let (tx, mut rx1) = channel(1);
            let mut rx2 = tx.subscribe();
            let sender = thread::spawn(move || {
                tx.send(7).unwrap();
            });
            let other = thread::spawn(move || {
                assert_eq!(block_on(rx2.recv()), Ok(7));
                assert_eq!(block_on(rx2.recv()), Err(RecvError::Closed));
            });
            assert_eq!(block_on(rx1.recv()), Ok(7));
            assert_eq!(block_on(rx1.recv()), Err(RecvError::Closed));
            sender.join().unwrap();
            other.join().unwrap();
        });
    }
}
