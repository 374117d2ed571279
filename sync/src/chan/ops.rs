//! The futures of `send` and `recv`, and the per-operation state they share with the stream.
//!
//! An [`Op`] is one pending channel operation: how it commits (its [`Binding`]) and the key of
//! its waiter, if it has queued one. Each poll:
//!
//! 1. derives the binding from the select arm being polled, if any (an arm whose select chose
//!    another arm does nothing);
//! 2. under the channel lock, collects a hand-over: if a counterpart claimed our waiter, the
//!    operation is done (a stream's waiter is only notified: it receives in step 4); otherwise
//!    a plain operation takes a unit of the task's budget, and returns `Pending` (having woken
//!    its task) if it is spent;
//! 3. if the binding changed since the last poll (the receiver's stream used in turns inside
//!    and outside selects, an arm future that goes on after its select committed it),
//!    withdraws the old waiter, to start again under the new rules;
//! 4. tries to complete now ([`State::send_now`], [`State::recv_now`]); a select arm that
//!    completes commits its token to its arm;
//! 5. otherwise queues (or keeps) its waiter with the current waker and returns `Pending`.
//!
//! Dropping the future withdraws its waiter; a recv waiter that had been handed a value puts
//! the value back ([`State::put_back`]).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::errors::{SendError, TryRecvError, TrySendError};
use super::state::{State, Wakeups};
use super::waiters::{Key, Owner, Waiter, WaiterList};
use super::{Chan, Receiver, Sender};
use crate::coop;
use crate::select;

/// How a channel operation commits; derived afresh at every poll.
#[derive(Clone)]
pub(crate) enum Binding {
    /// On its own: it completes under the channel lock, and while it waits its waiter may be
    /// taken by any counterpart.
    Plain,
    /// As arm `arm` of a select that is mid-pass: it may complete only by committing the
    /// select's token to `arm`, and its waiter may be taken only by a counterpart that wins
    /// that token. The token is the one of the select arm being polled on this thread (the
    /// binding is derived, and used, within one poll of that arm); `token` is its address,
    /// kept only to tell one select from another across polls. (`u32`: a select has at most
    /// `MAX_ARMS` arms, and the smaller `Op` keeps a parked task's future small.)
    Arm { token: usize, arm: u32 },
}

impl Binding {
    /// The binding for a poll happening now. `None` means the future belongs to an arm of a
    /// select that committed to another arm: it must do nothing (the select drops it soon).
    fn current() -> Option<Binding> {
        select::with_current_arm(|current| {
            let Some((token, arm)) = current else {
                return Some(Binding::Plain);
            };
            match token.claimed_arm() {
                // The select is mid-pass: take part in its commit.
                None => Some(Binding::Arm {
                    token: Arc::as_ptr(token) as usize,
                    arm: arm as u32,
                }),
                // Our arm already committed (by an earlier operation of the same arm future):
                // whatever the arm does next is ordinary code.
                Some(chosen) if chosen == arm => Some(Binding::Plain),
                Some(_) => None,
            }
        })
    }

    fn same(&self, other: &Binding) -> bool {
        match (self, other) {
            (Binding::Plain, Binding::Plain) => true,
            (Binding::Arm { token: a, arm: i }, Binding::Arm { token: b, arm: j }) => {
                a == b && i == j
            }
            _ => false,
        }
    }

    /// Who owns the waiter of an operation with this binding (`stream`: the receiver's own
    /// operation, behind its `Stream` impl). Called during the poll that derived the binding.
    fn owner(&self, stream: bool) -> Owner {
        match self {
            Binding::Plain if stream => Owner::Stream,
            Binding::Plain => Owner::Plain,
            Binding::Arm { arm, .. } => {
                let (token, current) =
                    select::current_arm().expect("a select arm's waiter queued outside its poll");
                debug_assert_eq!(current, *arm as usize);
                Owner::Arm { token, arm: *arm }
            }
        }
    }

    /// The operation completed (delivered, received, or found the channel closed): a select
    /// arm records that its select chose it. Called during the poll that derived the binding.
    fn commit(self) {
        if let Binding::Arm { arm, .. } = self {
            let won = select::with_current_arm(|current| {
                current.is_some_and(|(token, _)| token.commit(arm as usize))
            });
            debug_assert!(won, "a select arm completed after its select chose another");
        }
    }
}

/// One channel operation in progress: the state behind [`Send`], [`Recv`] and the stream.
pub(crate) struct Op {
    /// How the operation commits, as of its last poll.
    binding: Binding,
    /// The operation's entry in the channel's waiter list, while it has one.
    key: Option<Key>,
    /// Whether this is a receiver's `Stream` operation, which outlives the `next()` futures
    /// that poll it: see [`Owner::Stream`].
    stream: bool,
}

impl Op {
    /// The operation of a `send` or `recv` future.
    pub(crate) const fn new() -> Self {
        Op {
            binding: Binding::Plain,
            key: None,
            stream: false,
        }
    }

    /// The operation behind a receiver's `Stream` impl.
    pub(crate) const fn new_stream() -> Self {
        Op {
            binding: Binding::Plain,
            key: None,
            stream: true,
        }
    }

    /// Whether the operation has a waiter in the channel.
    pub(crate) fn is_queued(&self) -> bool {
        self.key.is_some()
    }

    /// Polls a send of `value` (taken from the caller, or from our waiter if queued).
    fn poll_send<T>(
        &mut self,
        chan: &Chan<T>,
        value: &mut Option<T>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError<T>>> {
        assert!(
            value.is_some() || self.key.is_some(),
            "`Send` polled after it completed"
        );
        let Some(binding) = Binding::current() else {
            return Poll::Pending;
        };
        chan.with(|state, wakeups| self.poll_send_locked(state, binding, value, cx, wakeups))
    }

    fn poll_send_locked<T>(
        &mut self,
        state: &mut State<T>,
        binding: Binding,
        value: &mut Option<T>,
        cx: &mut Context<'_>,
        wakeups: &mut Wakeups,
    ) -> Poll<Result<(), SendError<T>>> {
        if let Some(key) = self.key {
            if state.send_waiters.get(key).handed {
                state.send_waiters.remove(key);
                self.key = None;
                self.binding = Binding::Plain;
                return Poll::Ready(Ok(()));
            }
        }
        if !proceed(&binding, cx, wakeups) {
            return Poll::Pending;
        }
        if let Some(key) = self.key {
            let waiter = state.send_waiters.get_mut(key);
            *value = waiter.value.take();
            if !self.binding.same(&binding) {
                state.send_waiters.remove(key);
                self.key = None;
            }
        }
        self.binding = binding;
        // The value is ours, or was in our (not handed) waiter: checked before locking.
        let Some(v) = value.take() else {
            unreachable!("a send without its value");
        };
        let result = match state.send_now(v, wakeups) {
            Ok(()) => Ok(()),
            Err(TrySendError::Closed(v)) => Err(SendError(v)),
            Err(TrySendError::Full(v)) => {
                self.wait(&mut state.send_waiters, Some(v), cx);
                return Poll::Pending;
            }
        };
        // Committed: let go of the select's token, so that the select can reuse it.
        std::mem::replace(&mut self.binding, Binding::Plain).commit();
        if let Some(key) = self.key.take() {
            state.send_waiters.remove(key);
        }
        Poll::Ready(result)
    }

    /// Polls a receive.
    pub(crate) fn poll_recv<T>(&mut self, chan: &Chan<T>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let Some(binding) = Binding::current() else {
            return Poll::Pending;
        };
        chan.with(|state, wakeups| self.poll_recv_locked(state, binding, cx, wakeups))
    }

    fn poll_recv_locked<T>(
        &mut self,
        state: &mut State<T>,
        binding: Binding,
        cx: &mut Context<'_>,
        wakeups: &mut Wakeups,
    ) -> Poll<Option<T>> {
        if let Some(key) = self.key {
            if state.recv_waiters.get(key).handed {
                let value = state.recv_waiters.remove(key);
                self.key = None;
                if let Some(value) = value {
                    self.binding = Binding::Plain;
                    return Poll::Ready(Some(value));
                }
                // A stream's waiter is only told that a value went to the buffer: receive
                // below, as any receiver would.
            }
        }
        if !proceed(&binding, cx, wakeups) {
            return Poll::Pending;
        }
        if let Some(key) = self.key {
            if !self.binding.same(&binding) {
                state.recv_waiters.remove(key);
                self.key = None;
            }
        }
        self.binding = binding;
        let value = match state.recv_now(wakeups) {
            Ok(value) => Some(value),
            Err(TryRecvError::Closed) => None,
            Err(TryRecvError::Empty) => {
                self.wait(&mut state.recv_waiters, None, cx);
                return Poll::Pending;
            }
        };
        // Committed: let go of the select's token, so that the select can reuse it.
        std::mem::replace(&mut self.binding, Binding::Plain).commit();
        if let Some(key) = self.key.take() {
            state.recv_waiters.remove(key);
        }
        Poll::Ready(value)
    }

    /// Queues this operation (or refreshes its queued waiter) to be woken by `cx`.
    fn wait<T>(&mut self, list: &mut WaiterList<T>, value: Option<T>, cx: &mut Context<'_>) {
        match self.key {
            Some(key) if list.is_linked(key) => {
                let waiter = list.get_mut(key);
                waiter.set_waker(cx.waker());
                waiter.value = value;
            }
            _ => {
                // An unlinked entry (only close unlinks one that is not done, and nobody waits
                // after close) could never be found again: queue afresh rather than trust it.
                if let Some(key) = self.key.take() {
                    list.remove(key);
                }
                let waiter = Waiter::new(self.binding.owner(self.stream), cx.waker(), value);
                self.key = Some(list.push_back(waiter));
            }
        }
    }

    /// Withdraws a send that has not completed; returns its value if it was never taken
    /// (the caller drops it, unlocked).
    fn cancel_send<T>(&mut self, chan: &Chan<T>) -> Option<T> {
        let key = self.key.take()?;
        // The guard is a temporary: the lock is released before the caller drops the value.
        chan.lock().send_waiters.remove(key)
    }

    /// Withdraws a receive; a value it had already been handed goes back to the channel.
    pub(crate) fn cancel_recv<T>(&mut self, chan: &Chan<T>) {
        let Some(key) = self.key.take() else { return };
        chan.with(|state, wakeups| {
            if let Some(value) = state.recv_waiters.remove(key) {
                state.put_back(value, wakeups);
            }
        });
    }
}

/// Takes a unit of the task's budget for a plain operation about to do its work (a select pays
/// once for all its arms; collecting what a counterpart handed over costs nothing, so that a
/// spent budget never keeps an operation that already took effect from completing). `false`:
/// the budget is spent, the task is woken (once the lock is released), return `Pending`.
fn proceed(binding: &Binding, cx: &Context<'_>, wakeups: &mut Wakeups) -> bool {
    if matches!(binding, Binding::Plain) && !coop::try_proceed() {
        wakeups.push(Some(cx.waker().clone()));
        return false;
    }
    true
}

/// The future of [`Sender::send`]: resolves once the value is delivered (taken by a receiver
/// or queued in the buffer), or gives it back if the channel is closed.
///
/// ```
/// use goro::sync::chan;
///
/// let (tx, rx) = chan::bounded(1);
/// let send: chan::Send<'_, u32> = tx.send(1);
/// futures_lite::future::block_on(send).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
///
/// # Cancel safety
///
/// Dropping the future before it completes withdraws the send; a value not yet taken is
/// dropped with the future. A receiver may take the value of a waiting send at any moment
/// (Go's rendezvous), so a send dropped by code outside goro's commit protocol may have been
/// delivered just before; cancelled by `select!`, `timeout` or
/// [`cancel::until`](crate::cancel::until), it was not. See
/// [`Sender::send`](super::Sender::send).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Send<'a, T> {
    /// The sender the value goes through.
    sender: &'a Sender<T>,
    /// The value, until it is queued in our waiter or delivered.
    value: Option<T>,
    /// The operation's progress.
    op: Op,
}

impl<'a, T> Send<'a, T> {
    pub(super) fn new(sender: &'a Sender<T>, value: T) -> Self {
        Send {
            sender,
            value: Some(value),
            op: Op::new(),
        }
    }
}

// The value is never pinned: it only moves between the future and the channel.
impl<T> Unpin for Send<'_, T> {}

impl<T> Future for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.op.poll_send(&this.sender.chan, &mut this.value, cx)
    }
}

impl<T> Drop for Send<'_, T> {
    fn drop(&mut self) {
        drop(self.op.cancel_send(&self.sender.chan));
    }
}

impl<T> fmt::Debug for Send<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Send")
            .field("waiting", &self.op.key.is_some())
            .finish_non_exhaustive()
    }
}

/// The future of [`Receiver::recv`]: resolves to the next value, or `None` once the channel is
/// closed and drained.
///
/// ```
/// use goro::sync::chan;
///
/// let (tx, rx) = chan::bounded(1);
/// tx.try_send("hi").unwrap();
/// let recv: chan::Recv<'_, &str> = rx.recv();
/// assert_eq!(futures_lite::future::block_on(recv), Some("hi"));
/// ```
///
/// # Cancel safety
///
/// Dropping the future loses no value: if a sender had already handed it one, the value goes
/// back to the front of the channel, where the next receiver gets it.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Recv<'a, T> {
    /// The receiver the value comes through.
    receiver: &'a Receiver<T>,
    /// The operation's progress.
    op: Op,
}

impl<'a, T> Recv<'a, T> {
    pub(super) fn new(receiver: &'a Receiver<T>) -> Self {
        Recv {
            receiver,
            op: Op::new(),
        }
    }
}

// Values are never pinned: they only move between the channel and the caller.
impl<T> Unpin for Recv<'_, T> {}

impl<T> Future for Recv<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        this.op.poll_recv(&this.receiver.chan, cx)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        self.op.cancel_recv(&self.receiver.chan);
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv")
            .field("waiting", &self.op.key.is_some())
            .finish_non_exhaustive()
    }
}
