//! Go's channels: bounded, unbuffered and unbounded, many senders and many receivers, usable
//! from tasks, from plain threads and as [`select!`](crate::select!) arms.
//!
//! ```
//! use goro::sync::chan;
//!
//! # futures_lite::future::block_on(async {
//! let (tx, rx) = chan::bounded(0); // unbuffered: a send waits for its receiver
//! let producer = std::thread::spawn(move || {
//!     for i in 0..3 {
//!         tx.send_blocking(i).unwrap();
//!     }
//!     // Dropping the last sender closes the channel.
//! });
//! let mut got = Vec::new();
//! while let Some(v) = rx.recv().await {
//!     got.push(v);
//! }
//! producer.join().unwrap();
//! assert_eq!(got, [0, 1, 2]);
//! # });
//! ```
//!
//! | Go | goro |
//! |---|---|
//! | `make(chan T)` | [`bounded(0)`](bounded) |
//! | `make(chan T, n)` | [`bounded(n)`](bounded) |
//! | (none) | [`unbounded()`](unbounded) |
//! | `ch <- v` | [`tx.send(v).await`](Sender::send) (`Err` on a closed channel, where Go panics) |
//! | `v, ok := <-ch` | [`rx.recv().await`](Receiver::recv) (`None` once closed and drained) |
//! | `close(ch)` | [`tx.close()`](Sender::close), or drop every sender |
//! | `len(ch)`, `cap(ch)` | [`len`](Sender::len), [`capacity`](Sender::capacity) |
//! | `select { case ... default: }` | [`select!`](crate::select!) |
//!
//! Unlike Go, a channel also closes when every receiver is gone: sends then fail at once
//! instead of blocking for ever.
//!
//! # The commit protocol
//!
//! Each channel is one mutex around its state: the buffer, the capacity, the closed flag, the
//! sender and receiver counts, and two FIFO queues of waiters: senders waiting with their
//! value, receivers waiting with an empty slot. Every operation takes the lock once per poll; nothing under the lock wakes a
//! waker or drops a `T`.
//!
//! **Who may take a waiter.** A waiter belongs either to a *plain* operation (a `send().await`,
//! a `recv().await`, the stream) or to an arm of a `select!` (or of
//! [`cancel::until`](crate::cancel::until), a two-arm select that `timeout` is built on). A
//! plain operation only ever changes its mind under the channel lock, so while its waiter is
//! queued, any counterpart may take it — Go's rendezvous, which is also why a plain send
//! dropped by foreign code may have been delivered just before (see
//! [`Sender::send`](Sender::send)). The receiver's stream is the exception: its
//! operation outlives the `next()` futures that poll it, and one of those may be dropped
//! without a word, so it is never handed a value; a sender that finds it wakes it, puts the
//! value at the front of the buffer, where any receiver gets it, and looks on for a receiver
//! that can take the value directly. A select's arms, though, sit in several channels at once, and at most one of them
//! may take effect: they share a *token* (kept by the `select!` machinery) that is
//! `IDLE` while the select waits, `POLLING` while its task runs a pass over its arms (plus a
//! `DIRTY` bit), and finally `CLAIMED(arm)`. A counterpart may take a select's waiter only by
//! winning the token, `IDLE → CLAIMED(arm)` in one compare-and-swap, made while holding the
//! channel lock where it found the waiter.
//!
//! **An operation, under the lock:**
//!
//! 1. If a counterpart took our waiter (it carries the value, or the send was taken), complete.
//!    (A woken stream waiter carries nothing: it goes on to step 2.)
//! 2. Otherwise (a plain operation takes its unit of budget here) try to complete now. A send goes, in order, to the first waiting receiver that
//!    can be claimed (only when the buffer is empty, or it would overtake older values), into
//!    the buffer if it has room, or back to the caller if the channel is closed. A receive takes
//!    the oldest buffered value (then moves the first claimable waiting sender's value into the
//!    freed space, claiming it, so that waiting senders drain in order), or the value of the
//!    first claimable waiting sender, or `None` if the channel is closed. While walking a queue,
//!    a waiter whose select is `CLAIMED` by another arm is stale: it is unlinked and the walk
//!    goes on.
//! 3. A select arm that completes commits its own token, `POLLING → CLAIMED(arm)`. Only the
//!    polling thread ever moves a token out of `POLLING`, so this cannot fail, and it is safe to
//!    make after the counterpart was claimed: the select commits exactly the arm whose
//!    operation just took effect.
//! 4. Otherwise queue a waiter (or refresh the queued one's waker) and return `Pending`.
//!
//! **Exactly once.** A value moves only under a channel lock, between the buffer, a sender
//! waiter, a receiver waiter and a future, and each move has exactly one owner afterwards. A
//! waiter is taken only by a counterpart that (for a select) won its token; the token is
//! claimed once, by a counterpart (`IDLE → CLAIMED`, impossible while `POLLING`) or by the
//! select itself (only while `POLLING`, impossible once `IDLE` or `CLAIMED`). So a select's
//! arms can never both be taken, or one taken while another completes on its own: exactly one
//! channel operation commits per `select!` (a `select!` nested in another's arm is, to the
//! outer one, an ordinary future: see the macro's docs). Its other arms' waiters become stale and are
//! dropped with their futures (a send's value stays in its future's waiter and is dropped with
//! it, never delivered). A receive that was handed a value but is dropped before collecting it
//! puts the value back: to a waiting receiver, or to the front of the buffer (exceeding the
//! capacity for a moment if need be) — no value is lost.
//!
//! **Skipping a waiter never loses a wakeup.** The walk in step 2 passes over a waiter only in
//! these cases, each of which leaves someone bound to look again:
//!
//! - *Its select is `POLLING` on another thread* (in the middle of a pass over its arms; it
//!   may be waiting for this very lock). We must not wait for it, or two selects could wait for
//!   each other, so we set its `DIRTY` bit (the same CAS that finds `POLLING` sets it) and move
//!   on. Whatever we then do — queue our own waiter, put a value in the buffer, take a buffered
//!   value — we do under this lock, before releasing it. The select cannot end its pass without
//!   a CAS `POLLING → IDLE`, which fails on `DIRTY`; it then runs another pass, which takes this
//!   lock after us and sees our change: our waiter (now claimable by it), the value, the space.
//!   (A `try_` operation that skips a select mid-pass and so finds nothing leaves nothing
//!   behind for it; that is fine: the select was running, not waiting.)
//! - *Its select is being polled on this very thread*: ours (a select with a send and a
//!   receive arm on the same channel), or one ours is nested inside. Go never pairs two cases
//!   of one select either; and since that select is mid-pass on our own stack, marking it
//!   `DIRTY` would only make it re-run, find us again and spin. Nothing is lost: no other
//!   thread is waiting for this pairing.
//! - *It is stale.* Its select already took effect elsewhere and was woken by whoever claimed
//!   it.
//!
//! And a waiter that is *not* skipped is never missed: a select queues its waiters during its
//! pass, under each channel's lock, and only then ends the pass; a counterpart that arrives
//! after the pass ended finds the waiter `IDLE` and claims it (the CAS reads the latest token
//! state, so it cannot act on a stale `POLLING`). A counterpart that arrives before the select
//! reached its channel is seen by that pass. One arriving in between finds `POLLING` and takes
//! the first case above. A plain waiter is claimable whenever it is queued, and it is queued
//! and withdrawn only under the lock.
//!
//! **Two selects.** Two selects on different threads that each find the other mid-pass both
//! set the other's `DIRTY` bit, and both run another pass. In principle they could keep
//! meeting mid-pass; a select therefore runs at most `MAX_PASSES` (4) passes per
//! poll, then goes `IDLE`, wakes its own task and returns to the executor, whose scheduling
//! breaks the symmetry (the other select, still in its pass, then finds it `IDLE` and claims
//! it). An ordering rule (only the select with the higher id re-runs) would guarantee progress
//! in theory, but the higher select must then spin until the lower one ends its pass, also
//! while that one's thread is descheduled; an earlier version did this, loom reported the spin
//! at once, and on a loaded machine it would burn a worker.
//!
//! **Streams.** A sender that passes waiting streams wakes every one of them (unlinked, marked
//! handed with no value) and goes on to the first receiver it can claim; only if there is none
//! does the value go to the front of the buffer. So a value left in the buffer for streams has
//! woken every stream that might take it, and no plain receiver or idle select was waiting
//! behind them (it would have been handed the value): the usual rule, "a receiver only waits
//! while the buffer is empty", still holds for everyone but select arms skipped mid-pass,
//! which look again anyway. A woken stream whose `next()` was dropped never takes the value;
//! any other receive does, as from a buffered channel. A stream bound to a select arm is an
//! arm like any other; the value a counterpart hands it stays in the receiver's stream
//! operation until the stream, `try_recv` or the receiver's drop collects it or puts it back
//! (`recv` does not look: see `Receiver::reclaim_stream`).
//!
//! **Close.** `close` (or the last sender or receiver going away) sets the flag and unlinks and
//! wakes every waiter, claiming nothing: each woken future, or select pass, sees the channel
//! closed (a closed channel counts as ready) or, for a receive, the values still buffered. A
//! sender waiting at the moment of close gets its value back. After close nobody waits.
//!
//! **Budget.** A plain operation takes a unit of the task's [`coop`](crate::coop) budget on
//! every poll that does work, under the lock after step 1 (returning `Pending`, with its task
//! woken once the lock is released, when it is spent): collecting what a counterpart handed
//! over is free, so a spent budget never holds back an operation that already took effect —
//! `cancel::until` relies on that to report it. A select (and `until`) takes one unit per poll
//! on behalf of all its arms, so that a spent budget can never make a ready arm look not ready
//! and send a select to its `default`.

// Files: `mod.rs` (the handles), `ops.rs` (the `Send`/`Recv` futures and the per-poll steps),
// `state.rs` (the state and the hand-over moves), `waiters.rs` (the waiter queue),
// `errors.rs`, `loom.rs` (the loom switch). The commit token lives in `select.rs`, and
// `cancel.rs` uses it for `cancel::until`.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex as StdMutex, PoisonError};
use std::task::{Context, Poll};

use futures_lite::Stream;

mod errors;
pub(crate) mod loom;
mod ops;
mod state;
mod waiters;

#[cfg(all(test, goro_loom))]
mod loom_tests;

pub use errors::{SendError, TryRecvError, TrySendError};
pub use ops::{Recv, Send};

use self::loom::{Mutex, MutexGuard};
use ops::Op;
use state::{State, Wakeups};

/// Creates a channel that buffers up to `cap` values; `bounded(0)` is Go's unbuffered channel.
///
/// On an unbuffered channel a send completes only once a receiver has taken the value. On a
/// buffered one a send completes once the value is in the buffer, and waits while it is full.
///
/// ```
/// use goro::sync::chan;
///
/// let (tx, rx) = chan::bounded(2);
/// tx.try_send('a').unwrap();
/// tx.try_send('b').unwrap();
/// assert!(tx.try_send('c').unwrap_err().is_full());
/// assert_eq!(tx.capacity(), Some(2));
/// assert_eq!(rx.try_recv(), Ok('a'));
/// ```
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    channel(Some(cap))
}

/// Creates a channel whose buffer grows as needed: sends never wait.
///
/// ```
/// use goro::sync::chan;
///
/// let (tx, rx) = chan::unbounded();
/// for i in 0..1000 {
///     tx.try_send(i).unwrap();
/// }
/// assert_eq!(rx.len(), 1000);
/// assert_eq!(tx.capacity(), None);
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    channel(None)
}

fn channel<T>(cap: Option<usize>) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan {
        state: Mutex::new(State::new(cap)),
    });
    let sender = Sender { chan: chan.clone() };
    let receiver = Receiver::new(chan);
    (sender, receiver)
}

/// Blocks the thread on `future`. Outside any budget, as a blocking call has no neighbours
/// to yield to: called (wrongly) inside a task whose budget is spent, a budgeted operation
/// would return `Pending` on every poll and this would spin instead of block.
fn block_on_unbudgeted<F: std::future::Future>(future: F) -> F::Output {
    crate::coop::with_budget(u32::MAX, || futures_lite::future::block_on(future))
}

/// What every handle to one channel shares.
struct Chan<T> {
    /// The whole channel: buffer, flags, counts and waiter queues.
    state: Mutex<State<T>>,
}

impl<T> Chan<T> {
    /// Locks the state, treating a poisoned lock as usable: no user code runs under it, so a
    /// panic elsewhere cannot have left it half-updated. A taken lock is retried with the
    /// backoff of [`crate::waiters::lock`], which keeps the state on one core while tasks on two
    /// workers share the channel.
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        crate::waiters::lock(&self.state)
    }

    /// Runs `f` under the lock, then wakes whoever it collected, unlocked.
    fn with<R>(&self, f: impl FnOnce(&mut State<T>, &mut Wakeups) -> R) -> R {
        let mut wakeups = Wakeups::default();
        let out = f(&mut self.lock(), &mut wakeups);
        wakeups.wake();
        out
    }
}

/// The sending half of a channel. Clone it to send from several tasks or threads.
///
/// The channel closes when the last `Sender` is dropped (receivers then drain what is queued
/// and get `None`), or when [`close`](Sender::close) is called.
///
/// ```
/// use goro::sync::chan;
///
/// let (tx, rx) = chan::unbounded();
/// let tx2 = tx.clone();
/// tx.try_send(1).unwrap();
/// tx2.try_send(2).unwrap();
/// drop((tx, tx2));
/// assert_eq!(rx.try_recv(), Ok(1));
/// assert_eq!(rx.try_recv(), Ok(2));
/// assert!(rx.try_recv().unwrap_err().is_closed());
/// ```
pub struct Sender<T> {
    /// The channel.
    chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting while the buffer is full (or, unbuffered, until a receiver takes
    /// it).
    ///
    /// ```
    /// use goro::sync::chan;
    ///
    /// # futures_lite::future::block_on(async {
    /// let (tx, rx) = chan::bounded(0);
    /// let consumer = std::thread::spawn(move || rx.recv_blocking());
    /// tx.send(5).await.unwrap(); // returns once the consumer has the value
    /// assert_eq!(consumer.join().unwrap(), Some(5));
    /// # });
    /// ```
    ///
    /// # Errors
    ///
    /// If the channel is closed (or closes while the send waits), the value comes back in
    /// [`SendError`].
    ///
    /// # Cancel safety
    ///
    /// goro keeps Go's rendezvous: while the send waits, a receiver may take its value at any
    /// moment, a non-blocking one ([`try_recv`](Receiver::try_recv), a
    /// [`select!`](crate::select!) with `default`) included. So:
    ///
    /// - Cancelled by a goro combinator — a `select!` arm not chosen, `goro::time::timeout`
    ///   returning `Elapsed`, [`cancel::until`](crate::cancel::until) returning `Err` — the
    ///   send did not happen: the value is dropped with the future, and sending it again
    ///   cannot duplicate it. These commit through a token that a receiver must win before it
    ///   may take the value, and if one did, they report the send done instead.
    /// - Dropped by code that does not take part in that commit (futures-lite's `race`, a
    ///   hand-written select, an aborted task, a future simply dropped after it returned
    ///   `Pending`): the value may have been delivered just before the drop, and then it was;
    ///   otherwise it is dropped with the future. Nothing is lost or duplicated inside the
    ///   channel, but the caller cannot tell which happened: do not retry such a send, or use
    ///   `timeout` or `select!`.
    ///
    /// Once the future has completed, the value was delivered. (tokio's channels take the
    /// other side: a value moves only inside the sender's own poll, so a dropped send never
    /// delivered anything, but a receiver can never take a waiting sender's value without
    /// waiting for that sender to run again, and Go's non-blocking receive from a waiting
    /// sender is lost.)
    ///
    /// ```
    /// use futures_lite::future;
    /// use goro::sync::chan;
    ///
    /// let (tx, rx) = chan::bounded(0);
    /// let mut send = Box::pin(tx.send(1));
    /// let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// assert!(send.as_mut().poll(&mut cx).is_pending()); // waiting for a receiver
    /// assert_eq!(rx.try_recv(), Ok(1)); // a non-blocking receive takes it
    /// drop(send); // dropped unpolled: the value was delivered all the same
    /// # use std::future::Future;
    /// ```
    pub fn send(&self, value: T) -> Send<'_, T> {
        Send::new(self, value)
    }

    /// Sends `value` if that needs no waiting: a receiver is waiting for it, or the buffer has
    /// room.
    ///
    /// ```
    /// use goro::sync::chan::{self, TrySendError};
    ///
    /// let (tx, _rx) = chan::bounded(0);
    /// // Unbuffered, and nobody is receiving.
    /// assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    /// ```
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] if the send would have to wait, [`TrySendError::Closed`] if the
    /// channel is closed; both give the value back.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan
            .with(|state, wakeups| state.send_now(value, wakeups))
    }

    /// Sends `value` from a plain thread, blocking it while the send waits.
    ///
    /// Do not call this inside an async task: it blocks the worker thread. Use
    /// [`send`](Sender::send) there.
    ///
    /// ```
    /// use goro::sync::chan;
    ///
    /// let (tx, rx) = chan::bounded(0);
    /// let producer = std::thread::spawn(move || tx.send_blocking("ping"));
    /// assert_eq!(rx.recv_blocking(), Some("ping"));
    /// producer.join().unwrap().unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// As [`send`](Sender::send): [`SendError`] with the value if the channel is closed.
    pub fn send_blocking(&self, value: T) -> Result<(), SendError<T>> {
        block_on_unbudgeted(self.send(value))
    }

    /// Closes the channel. Returns `true` if this call closed it, `false` if it already was.
    ///
    /// Receivers still get every queued value, then `None`. Sends fail from now on, including
    /// those waiting now, which get their values back.
    ///
    /// ```
    /// use goro::sync::chan;
    ///
    /// let (tx, rx) = chan::bounded(1);
    /// tx.try_send(1).unwrap();
    /// assert!(tx.close());
    /// assert!(!tx.close());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert!(rx.try_recv().unwrap_err().is_closed());
    /// ```
    pub fn close(&self) -> bool {
        self.chan.with(|state, wakeups| state.close(wakeups))
    }

    /// Whether the channel is closed (by [`close`](Sender::close), or because every receiver
    /// is gone).
    ///
    /// ```
    /// let (tx, rx) = goro::sync::chan::bounded::<()>(1);
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.lock().is_closed()
    }

    /// The number of values queued in the buffer (0 on an unbuffered channel, as Go's `len`,
    /// except for a moment after a dropped receive put back a value it had been handed, or a
    /// sender left one for a waiting stream).
    ///
    /// ```
    /// let (tx, _rx) = goro::sync::chan::bounded(4);
    /// tx.try_send(()).unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.lock().len()
    }

    /// Whether no value is queued in the buffer.
    ///
    /// ```
    /// let (tx, _rx) = goro::sync::chan::bounded::<()>(4);
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer's capacity: `Some(n)` for [`bounded(n)`](bounded), `None` for
    /// [`unbounded`].
    ///
    /// ```
    /// let (tx, _rx) = goro::sync::chan::bounded::<()>(0);
    /// assert_eq!(tx.capacity(), Some(0));
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        self.chan.lock().capacity()
    }

    /// The number of waiter entries the channel holds for pending futures (both sides); a
    /// test hook to check that dropped futures leave nothing behind.
    ///
    /// ```
    /// let (tx, _rx) = goro::sync::chan::bounded::<()>(0);
    /// assert_eq!(tx.waiter_count(), 0);
    /// ```
    #[doc(hidden)]
    pub fn waiter_count(&self) -> usize {
        self.chan.lock().waiter_count()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        state::add_handle(&mut self.chan.lock().senders);
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.with(|state, wakeups| {
            state.senders -= 1;
            if state.senders == 0 {
                state.close(wakeups);
            }
        });
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.chan.lock();
        f.debug_struct("Sender")
            .field("len", &state.len())
            .field("capacity", &state.capacity())
            .field("closed", &state.is_closed())
            .finish()
    }
}

/// The receiving half of a channel. Clone it to receive from several tasks or threads: each
/// value goes to exactly one receiver.
///
/// It is also a [`Stream`] of the values, ending when the channel is closed and drained.
///
/// ```
/// use goro::stream::StreamExt;
/// use goro::sync::chan;
///
/// # futures_lite::future::block_on(async {
/// let (tx, rx) = chan::unbounded();
/// for i in 1..=3 {
///     tx.send(i).await.unwrap();
/// }
/// drop(tx);
/// let sum: i32 = rx.fold(0, |a, b| a + b).await;
/// assert_eq!(sum, 6);
/// # });
/// ```
pub struct Receiver<T> {
    /// The channel.
    chan: Arc<Chan<T>>,
    /// The receive in progress through the `Stream` impl, which has nowhere else to live.
    /// `poll_next` reaches it through `&mut self` (no locking); the `&self` methods that
    /// reclaim an abandoned one lock it.
    stream: StdMutex<Op>,
    /// Whether `stream` has a waiter in the channel, so that reclaiming costs one load when
    /// there is nothing to reclaim. Written by `poll_next` and `reclaim_stream` only, with the
    /// receiver borrowed mutably or locked: `Relaxed` is enough.
    stream_queued: AtomicBool,
}

impl<T> Receiver<T> {
    fn new(chan: Arc<Chan<T>>) -> Self {
        Receiver {
            chan,
            stream: StdMutex::new(Op::new_stream()),
            stream_queued: AtomicBool::new(false),
        }
    }

    /// Withdraws the stream's receive, putting back any value it was handed, if a `next()`
    /// that was not polled to completion left it queued. A `next()` future borrows the
    /// receiver mutably, so while a `&self` method runs none is in progress: a queued stream
    /// receive has been abandoned.
    ///
    /// `try_recv` calls it, `recv` does not: any check on the path of `recv`, even this one
    /// load, cost a single-worker ping-pong 10-15% (measured), for a value that can only be
    /// stranded this way by a select dropped between choosing a stream arm and collecting.
    #[inline]
    fn reclaim_stream(&self) {
        if self.stream_queued.load(Relaxed) {
            self.reclaim_queued_stream();
        }
    }

    /// [`reclaim_stream`](Self::reclaim_stream)'s rare half, kept out of line so that the
    /// common receive stays as small as it was.
    #[cold]
    #[inline(never)]
    fn reclaim_queued_stream(&self) {
        let mut op = self.stream.lock().unwrap_or_else(PoisonError::into_inner);
        op.cancel_recv(&self.chan);
        self.stream_queued.store(false, Relaxed);
    }

    /// Receives the next value, waiting while none is available. `None` once the channel is
    /// closed and every queued value has been received.
    ///
    /// ```
    /// use goro::sync::chan;
    ///
    /// # futures_lite::future::block_on(async {
    /// let (tx, rx) = chan::bounded(1);
    /// tx.send("a").await.unwrap();
    /// drop(tx);
    /// assert_eq!(rx.recv().await, Some("a"));
    /// assert_eq!(rx.recv().await, None);
    /// # });
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the [`Recv`] future loses no value. A value leaves the channel
    /// only in the poll that returns it; if a sender had already handed a value to this
    /// waiting receiver and the future is dropped before taking it, the value goes back to
    /// the front of the channel (or to another waiting receiver), and the next `recv` gets it,
    /// in order. As a `select!` arm that is not chosen, `recv` receives nothing. The dropped
    /// future gives up its place among waiting receivers.
    /// Wrapped in a goro combinator that cancels it (`goro::time::timeout` that elapsed), it
    /// also consumed nothing.
    pub fn recv(&self) -> Recv<'_, T> {
        Recv::new(self)
    }

    /// Receives a value if one is available without waiting.
    ///
    /// ```
    /// use goro::sync::chan::{self, TryRecvError};
    ///
    /// let (tx, rx) = chan::bounded(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.try_send(9).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(9));
    /// ```
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if a receive would have to wait, [`TryRecvError::Closed`] if the
    /// channel is closed and drained.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.reclaim_stream();
        self.chan.with(|state, wakeups| state.recv_now(wakeups))
    }

    /// Receives from a plain thread, blocking it while the receive waits.
    ///
    /// Do not call this inside an async task: it blocks the worker thread. Use
    /// [`recv`](Receiver::recv) there.
    ///
    /// ```
    /// use goro::sync::chan;
    ///
    /// let (tx, rx) = chan::unbounded();
    /// std::thread::spawn(move || tx.try_send(1).unwrap());
    /// assert_eq!(rx.recv_blocking(), Some(1));
    /// assert_eq!(rx.recv_blocking(), None); // the sender is gone
    /// ```
    pub fn recv_blocking(&self) -> Option<T> {
        block_on_unbudgeted(self.recv())
    }

    /// Whether the channel is closed. Values may still be queued: receive until `None`.
    ///
    /// ```
    /// let (tx, rx) = goro::sync::chan::bounded(1);
    /// tx.try_send(()).unwrap();
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.lock().is_closed()
    }

    /// The number of values queued in the buffer.
    ///
    /// ```
    /// let (tx, rx) = goro::sync::chan::unbounded();
    /// tx.try_send(()).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.lock().len()
    }

    /// Whether no value is queued in the buffer.
    ///
    /// ```
    /// let (_tx, rx) = goro::sync::chan::unbounded::<()>();
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer's capacity: `Some(n)` for [`bounded(n)`](bounded), `None` for
    /// [`unbounded`].
    ///
    /// ```
    /// let (_tx, rx) = goro::sync::chan::bounded::<()>(3);
    /// assert_eq!(rx.capacity(), Some(3));
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        self.chan.lock().capacity()
    }

    /// The number of waiter entries the channel holds for pending futures (both sides); a
    /// test hook to check that dropped futures leave nothing behind.
    ///
    /// ```
    /// let (_tx, rx) = goro::sync::chan::bounded::<()>(0);
    /// assert_eq!(rx.waiter_count(), 0);
    /// ```
    #[doc(hidden)]
    pub fn waiter_count(&self) -> usize {
        self.chan.lock().waiter_count()
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        state::add_handle(&mut self.chan.lock().receivers);
        Receiver::new(self.chan.clone())
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let stream = self
            .stream
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        stream.cancel_recv(&self.chan);
        let dropped: VecDeque<T> = self.chan.with(|state, wakeups| {
            state.receivers -= 1;
            if state.receivers == 0 {
                state.close_for_good(wakeups)
            } else {
                VecDeque::new()
            }
        });
        drop(dropped);
    }
}

/// The values, ending when the channel is closed and drained.
///
/// # Cancel safety
///
/// Cancel-safe: a `next()` (or `poll_next`) that is dropped before it completes loses no
/// value. While polled on its own, the stream's receive is never handed a value: a sender that
/// finds it waiting puts the value in the channel (past the capacity if need be) and wakes it,
/// so a value sent then is there for the next `next()`, `recv()` or `try_recv()` of any
/// receiver. As a [`select!`](crate::select!) arm it commits with the select like any other
/// arm: an arm not chosen received nothing, and if the select is dropped after choosing it but
/// before taking the value, the value stays with this receiver's stream until the stream is
/// polled again (the value comes out first), [`try_recv`](Receiver::try_recv) is called (it
/// puts the value back first), or the receiver is dropped (back to the channel); a
/// [`recv`](Receiver::recv) does not look there.
///
/// ```
/// use std::future::Future;
/// use goro::stream::StreamExt;
/// use goro::sync::chan;
///
/// let (tx, mut rx) = chan::bounded(0);
/// {
///     let mut next = rx.next();
///     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
///     assert!(std::pin::Pin::new(&mut next).poll(&mut cx).is_pending());
///     tx.try_send(1).unwrap(); // the stream was waiting: the send completes
/// } // ...and its `next()` is dropped without taking the value
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        let op = this
            .stream
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        let poll = op.poll_recv(&this.chan, cx);
        *this.stream_queued.get_mut() = op.is_queued();
        poll
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.chan.lock();
        f.debug_struct("Receiver")
            .field("len", &state.len())
            .field("capacity", &state.capacity())
            .field("closed", &state.is_closed())
            .finish()
    }
}
