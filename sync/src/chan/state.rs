//! A channel's state under its lock, and the moves that hand values from one side to the other.
//!
//! Every function here runs with the channel's mutex held. None of them wakes a waker or drops
//! a value of `T`: wakers are collected in [`Wakeups`] and values to drop are returned, and both
//! are dealt with by the caller once the lock is released, so no user code (a waker, a `Drop`)
//! ever runs under the lock.
//!
//! The interesting part is [`verdict`], which decides whether a waiter found in a queue may
//! be taken. Its rules, and why skipping a waiter never loses a wakeup, are written out in the
//! [module docs](super#the-commit-protocol).

use std::collections::VecDeque;
use std::mem;
use std::task::Waker;

use super::errors::{TryRecvError, TrySendError};
use super::waiters::{Key, Owner, Waiter, WaiterList};
use crate::select::{self, Claim};

/// The most values a bounded channel's buffer allocates room for at its first value; past
/// that it grows as it fills, so `bounded(1 << 40)` costs nothing until used.
const FIRST_BUFFER: usize = 1024;

/// Counts one more handle in `count` (a state's `senders` or `receivers`).
///
/// # Panics
///
/// If that makes more than `u32::MAX` handles to one channel.
pub(crate) fn add_handle(count: &mut u32) {
    *count = count
        .checked_add(1)
        .expect("more than u32::MAX handles to one channel");
}

/// Wakers collected under the lock, woken after it is released.
#[derive(Default)]
pub(crate) struct Wakeups {
    /// The usual case: one counterpart to wake, without allocating.
    first: Option<Waker>,
    /// Everyone else (a close wakes every waiter).
    rest: Vec<Waker>,
}

impl Wakeups {
    /// Adds a waker to wake later, if there is one.
    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        let Some(waker) = waker else { return };
        match self.first {
            None => self.first = Some(waker),
            Some(_) => self.rest.push(waker),
        }
    }

    /// Wakes everything collected. Call with no lock held.
    pub(crate) fn wake(self) {
        if let Some(first) = self.first {
            first.wake();
        }
        if !self.rest.is_empty() {
            self.rest.into_iter().for_each(Waker::wake);
        }
    }
}

/// What [`verdict`] decided about one waiter found in a queue.
enum Verdict {
    /// Ours: hand over to it.
    Take,
    /// A stream's receive: tell it a value is in the buffer, and look further.
    Notify,
    /// Not now: its select is mid-pass on another thread (and was marked `DIRTY`, so it
    /// looks again), or it is a select this thread is polling from inside.
    Skip,
    /// Its select committed to another arm: unlink it and look further.
    Stale,
}

/// Decides whether `waiter` may be taken, claiming its select's token if so.
fn verdict<T>(waiter: &Waiter<T>) -> Verdict {
    let (token, arm) = match &waiter.owner {
        Owner::Plain => return Verdict::Take,
        Owner::Stream => return Verdict::Notify,
        Owner::Arm { token, arm } => (token, arm),
    };
    // A select mid-pass on this very thread is one we are polling from inside (our own
    // select, or one enclosing it): the same goroutine cannot rendezvous with itself, and
    // marking it DIRTY would only make it re-run for nothing.
    if select::is_polling_here(token) {
        return Verdict::Skip;
    }
    match token.claim_waiting(*arm as usize) {
        Claim::Won => Verdict::Take,
        Claim::Busy => Verdict::Skip,
        Claim::Lost => Verdict::Stale,
    }
}

/// Everything a channel knows, behind its one mutex.
pub(crate) struct State<T> {
    /// Values sent and not yet received, oldest first. Holds more than `cap` only after a
    /// dropped recv future put back a value it had been handed, or a sender left a value for
    /// a waiting stream.
    buffer: VecDeque<T>,
    /// How many values the buffer holds before senders wait: `None` unbounded, `Some(0)` for
    /// an unbuffered channel (every send waits for a receiver).
    cap: Option<usize>,
    /// Set by `close` or when the last sender or receiver goes away; never cleared.
    closed: bool,
    /// Live `Sender` handles; the last one to go closes the channel. (`u32`, as the other
    /// small fields, to keep a channel small: see [`add_handle`].)
    pub(crate) senders: u32,
    /// Live `Receiver` handles; the last one to go closes the channel and drops the buffer.
    pub(crate) receivers: u32,
    /// Futures waiting to send, each holding its value.
    pub(crate) send_waiters: WaiterList<T>,
    /// Futures waiting to receive, each with an empty slot.
    pub(crate) recv_waiters: WaiterList<T>,
}

impl<T> State<T> {
    /// An open channel with one sender and one receiver.
    pub(crate) fn new(cap: Option<usize>) -> Self {
        State {
            // Allocated by the first value buffered: a channel that only ever hands values
            // over (or a task parked on its own channel) never needs one.
            buffer: VecDeque::new(),
            cap,
            closed: false,
            senders: 1,
            receivers: 1,
            send_waiters: WaiterList::new(),
            recv_waiters: WaiterList::new(),
        }
    }

    /// Values queued in the buffer.
    pub(crate) fn len(&self) -> usize {
        self.buffer.len()
    }

    /// The buffer's capacity, `None` when unbounded.
    pub(crate) fn capacity(&self) -> Option<usize> {
        self.cap
    }

    /// Whether the channel is closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    /// Entries held by waiting (or finished but not yet collected) futures, both sides.
    pub(crate) fn waiter_count(&self) -> usize {
        self.send_waiters.len() + self.recv_waiters.len()
    }

    fn has_space(&self) -> bool {
        self.cap.is_none_or(|cap| self.buffer.len() < cap)
    }

    /// Sends `value` if that needs no waiting: to a waiting receiver, into the buffer, or (on
    /// a closed channel) back to the caller. `Full` means the caller must wait.
    pub(crate) fn send_now(
        &mut self,
        value: T,
        wakeups: &mut Wakeups,
    ) -> Result<(), TrySendError<T>> {
        if self.closed {
            return Err(TrySendError::Closed(value));
        }
        // Hand over directly only when nothing is queued ahead of this value: a receiver
        // taking it would otherwise overtake the buffer's older values.
        let value = if self.buffer.is_empty() {
            match self.give_to_receiver(value, wakeups) {
                Ok(()) => return Ok(()),
                Err(value) => value,
            }
        } else {
            value
        };
        if self.has_space() {
            self.buffer_push(value);
            return Ok(());
        }
        Err(TrySendError::Full(value))
    }

    /// Appends to the buffer, which has room; its first allocation is sized for the capacity
    /// (up to a limit: a huge capacity grows as it fills), not the four values `VecDeque`
    /// starts with.
    fn buffer_push(&mut self, value: T) {
        if self.buffer.capacity() == 0 {
            let first = self.cap.map_or(0, |cap| cap.min(FIRST_BUFFER));
            self.buffer.reserve_exact(first);
        }
        self.buffer.push_back(value);
    }

    /// Receives a value if that needs no waiting: the oldest buffered value, a waiting
    /// sender's value, or `Closed` once closed and drained. `Empty` means the caller must wait.
    pub(crate) fn recv_now(&mut self, wakeups: &mut Wakeups) -> Result<T, TryRecvError> {
        if let Some(value) = self.buffer.pop_front() {
            self.refill(wakeups);
            return Ok(value);
        }
        if self.closed {
            return Err(TryRecvError::Closed);
        }
        self.take_from_sender(wakeups).ok_or(TryRecvError::Empty)
    }

    /// A value was taken from the buffer: let the first waiting sender move into the space,
    /// so that waiting senders drain in order.
    fn refill(&mut self, wakeups: &mut Wakeups) {
        if self.closed || !self.has_space() {
            return;
        }
        if let Some(value) = self.take_from_sender(wakeups) {
            self.buffer_push(value);
        }
    }

    /// Puts back a value that a dropped recv future had been handed, so the next receiver
    /// gets it: to a waiting receiver if one can take it, otherwise at the front of the buffer
    /// (it is older than everything there).
    pub(crate) fn put_back(&mut self, value: T, wakeups: &mut Wakeups) {
        if let Err(value) = self.give_to_receiver(value, wakeups) {
            self.buffer.push_front(value);
        }
    }

    /// Closes the channel: every waiter leaves its queue and is woken, to find the channel
    /// closed. Returns false if it was already closed.
    pub(crate) fn close(&mut self, wakeups: &mut Wakeups) -> bool {
        if mem::replace(&mut self.closed, true) {
            return false;
        }
        self.send_waiters
            .unlink_all(|w| wakeups.push(w.waker.take()));
        self.recv_waiters
            .unlink_all(|w| wakeups.push(w.waker.take()));
        true
    }

    /// The last receiver is gone: close, and give the caller the buffer to drop (unlocked).
    pub(crate) fn close_for_good(&mut self, wakeups: &mut Wakeups) -> VecDeque<T> {
        self.close(wakeups);
        mem::take(&mut self.buffer)
    }

    /// Moves `value` into the first waiting receiver that can be claimed. Waiting streams
    /// passed on the way are woken instead; if no receiver takes the value, it goes to the
    /// front of the buffer for them (whatever the capacity: it is older than anything there).
    fn give_to_receiver(&mut self, value: T, wakeups: &mut Wakeups) -> Result<(), T> {
        let mut notified = false;
        let Some(key) = Self::claim_first(&mut self.recv_waiters, wakeups, &mut notified) else {
            if notified {
                self.buffer.push_front(value);
                return Ok(());
            }
            return Err(value);
        };
        let waiter = self.recv_waiters.get_mut(key);
        waiter.value = Some(value);
        waiter.handed = true;
        wakeups.push(waiter.waker.take());
        Ok(())
    }

    /// Takes the value of the first waiting sender that can be claimed.
    fn take_from_sender(&mut self, wakeups: &mut Wakeups) -> Option<T> {
        let key = Self::claim_first(&mut self.send_waiters, wakeups, &mut false)?;
        let waiter = self.send_waiters.get_mut(key);
        waiter.handed = true;
        wakeups.push(waiter.waker.take());
        waiter.value.take()
    }

    /// Walks `list` oldest first and claims the first waiter [`verdict`] allows, unlinking it
    /// and every stale waiter passed on the way. Streams passed on the way (receivers only)
    /// are unlinked, marked handed and woken, and `notified` is set.
    fn claim_first(
        list: &mut WaiterList<T>,
        wakeups: &mut Wakeups,
        notified: &mut bool,
    ) -> Option<Key> {
        let mut cursor = list.first();
        while let Some(key) = cursor {
            cursor = list.next(key);
            match verdict(list.get(key)) {
                Verdict::Take => {
                    list.unlink(key);
                    return Some(key);
                }
                Verdict::Notify => {
                    let waiter = list.get_mut(key);
                    waiter.handed = true;
                    wakeups.push(waiter.waker.take());
                    list.unlink(key);
                    *notified = true;
                }
                Verdict::Skip => {}
                Verdict::Stale => list.unlink(key),
            }
        }
        None
    }
}
