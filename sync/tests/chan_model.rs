//! A property test of `goro_sync::chan` against a simple model, with fixed seeds: random
//! `try_send`, `try_recv`, `send` and `recv` futures polled by hand (left pending, polled
//! again, dropped while waiting or after being handed a value) and `close`, on unbuffered,
//! buffered and unbounded channels. After every step the channel must agree with the model
//! on each result and on its length: no value lost, duplicated or reordered, every waiting
//! future treated as the docs of `chan` say.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use goro_sync::chan::{self, Recv, Send, SendError, TryRecvError, TrySendError};

/// A small xorshift generator: a failure is reproduced from its seed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Where the model has a waiting future.
#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    /// In its waiter queue.
    Queued,
    /// A send whose value a receiver took: it completes with `Ok`.
    Taken,
    /// A recv handed this value: it completes with it.
    Handed(u64),
    /// Unlinked by `close`: the next poll looks at the channel again.
    Closed,
}

/// What the channel should be: the buffer, the waiter queues, the closed flag.
struct Model {
    cap: Option<usize>,
    buffer: VecDeque<u64>,
    closed: bool,
    /// Waiting sends, oldest first, with their values.
    senders: VecDeque<(u32, u64)>,
    /// Waiting receives, oldest first.
    receivers: VecDeque<u32>,
    states: HashMap<u32, State>,
}

impl Model {
    fn has_space(&self) -> bool {
        self.cap.is_none_or(|cap| self.buffer.len() < cap)
    }

    fn give_to_receiver(&mut self, value: u64) -> Result<(), u64> {
        match self.receivers.pop_front() {
            Some(id) => {
                self.states.insert(id, State::Handed(value));
                Ok(())
            }
            None => Err(value),
        }
    }

    fn take_from_sender(&mut self) -> Option<u64> {
        let (id, value) = self.senders.pop_front()?;
        self.states.insert(id, State::Taken);
        Some(value)
    }

    fn send_now(&mut self, value: u64) -> Result<(), TrySendError<u64>> {
        if self.closed {
            return Err(TrySendError::Closed(value));
        }
        // Directly to a waiting receiver only when no older value is buffered.
        let value = if self.buffer.is_empty() {
            match self.give_to_receiver(value) {
                Ok(()) => return Ok(()),
                Err(value) => value,
            }
        } else {
            value
        };
        if self.has_space() {
            self.buffer.push_back(value);
            return Ok(());
        }
        Err(TrySendError::Full(value))
    }

    fn recv_now(&mut self) -> Result<u64, TryRecvError> {
        if let Some(value) = self.buffer.pop_front() {
            // The first waiting sender moves into the space: senders drain in order.
            if !self.closed && self.has_space() {
                if let Some(v) = self.take_from_sender() {
                    self.buffer.push_back(v);
                }
            }
            return Ok(value);
        }
        if self.closed {
            return Err(TryRecvError::Closed);
        }
        self.take_from_sender().ok_or(TryRecvError::Empty)
    }

    fn close(&mut self) {
        self.closed = true;
        for (id, _) in self.senders.drain(..) {
            self.states.insert(id, State::Closed);
        }
        for id in self.receivers.drain(..) {
            self.states.insert(id, State::Closed);
        }
    }
}

/// Where a run is, for failure messages (formatted only when an assertion fails).
#[derive(Clone, Copy)]
struct Ctx {
    seed: u64,
    cap: Option<usize>,
    step: usize,
}

impl std::fmt::Display for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seed {:#x}, capacity {:?}, step {}",
            self.seed, self.cap, self.step
        )
    }
}

/// A future the test holds between polls.
enum Pending<'a> {
    Send {
        id: u32,
        value: u64,
        fut: Pin<Box<Send<'a, u64>>>,
    },
    Recv {
        id: u32,
        fut: Pin<Box<Recv<'a, u64>>>,
    },
}

impl Pending<'_> {
    fn id(&self) -> u32 {
        match self {
            Pending::Send { id, .. } | Pending::Recv { id, .. } => *id,
        }
    }
}

/// Polls a send future (new or waiting) and checks the result against the model. Returns
/// whether it is still pending.
fn poll_send(
    model: &mut Model,
    id: u32,
    value: u64,
    fut: Pin<&mut Send<'_, u64>>,
    ctx: Ctx,
) -> bool {
    let got = fut.poll(&mut Context::from_waker(Waker::noop()));
    let expected = match model.states.get(&id).copied() {
        // A new send.
        None => match model.send_now(value) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(TrySendError::Closed(v)) => Poll::Ready(Err(SendError(v))),
            Err(TrySendError::Full(_)) => {
                model.senders.push_back((id, value));
                model.states.insert(id, State::Queued);
                Poll::Pending
            }
        },
        Some(State::Queued) => Poll::Pending,
        Some(State::Taken) => Poll::Ready(Ok(())),
        Some(State::Closed) => Poll::Ready(Err(SendError(value))),
        Some(State::Handed(_)) => unreachable!("a send is never handed a value"),
    };
    assert_eq!(got, expected, "send #{id} of {value}: {ctx}");
    if got.is_ready() {
        model.states.remove(&id);
    }
    got.is_pending()
}

/// Polls a recv future (new or waiting) and checks the result against the model.
fn poll_recv(model: &mut Model, id: u32, fut: Pin<&mut Recv<'_, u64>>, ctx: Ctx) -> bool {
    let got = fut.poll(&mut Context::from_waker(Waker::noop()));
    let expected = match model.states.get(&id).copied() {
        None | Some(State::Closed) => match model.recv_now() {
            Ok(v) => Poll::Ready(Some(v)),
            Err(TryRecvError::Closed) => Poll::Ready(None),
            Err(TryRecvError::Empty) => {
                model.receivers.push_back(id);
                model.states.insert(id, State::Queued);
                Poll::Pending
            }
        },
        Some(State::Queued) => Poll::Pending,
        Some(State::Handed(v)) => Poll::Ready(Some(v)),
        Some(State::Taken) => unreachable!("a recv is never taken"),
    };
    assert_eq!(got, expected, "recv #{id}: {ctx}");
    if got.is_ready() {
        model.states.remove(&id);
    }
    got.is_pending()
}

/// Drops a waiting future and updates the model: a waiting send withdraws its value (it is
/// never delivered), a recv that was handed a value puts it back for the next receiver.
fn drop_pending(model: &mut Model, pending: Pending<'_>) {
    let id = pending.id();
    drop(pending);
    match model.states.remove(&id) {
        Some(State::Queued) => {
            model.senders.retain(|&(s, _)| s != id);
            model.receivers.retain(|&r| r != id);
        }
        Some(State::Handed(value)) => {
            if let Err(value) = model.give_to_receiver(value) {
                model.buffer.push_front(value);
            }
        }
        Some(State::Taken | State::Closed) | None => {}
    }
}

fn run(seed: u64, cap: Option<usize>, steps: usize) {
    let mut rng = XorShift(seed);
    let (tx, rx) = match cap {
        Some(cap) => chan::bounded(cap),
        None => chan::unbounded(),
    };
    let mut model = Model {
        cap,
        buffer: VecDeque::new(),
        closed: false,
        senders: VecDeque::new(),
        receivers: VecDeque::new(),
        states: HashMap::new(),
    };
    let mut pending: Vec<Pending<'_>> = Vec::new();
    let mut next_value = 0u64;
    let mut next_id = 0u32;
    // Close once, somewhere in the second half of the run.
    let close_at = steps / 2 + rng.below(steps / 2);
    let mut counts = [0usize; 4]; // sends completed, receives completed, withdrawn, put back
    for step in 0..steps {
        let ctx = Ctx { seed, cap, step };
        if step == close_at {
            tx.close();
            model.close();
        }
        // Sends never wait on an unbounded channel: there, receive more than send, so that
        // receives wait, are handed values and are dropped with them.
        let op = match rng.below(12) {
            2 if cap.is_none() => 3,
            6 if cap.is_none() => 7,
            op => op,
        };
        match op {
            0..=2 => {
                let value = next_value;
                next_value += 1;
                let got = tx.try_send(value);
                assert_eq!(got, model.send_now(value), "try_send of {value}: {ctx}");
            }
            3..=4 => {
                assert_eq!(rx.try_recv(), model.recv_now(), "try_recv: {ctx}");
            }
            5..=6 if pending.len() < 8 => {
                let (id, value) = (next_id, next_value);
                next_id += 1;
                next_value += 1;
                let mut fut = Box::pin(tx.send(value));
                if poll_send(&mut model, id, value, fut.as_mut(), ctx) {
                    pending.push(Pending::Send { id, value, fut });
                } else {
                    counts[0] += 1;
                }
            }
            7..=8 if pending.len() < 8 => {
                let id = next_id;
                next_id += 1;
                let mut fut = Box::pin(rx.recv());
                if poll_recv(&mut model, id, fut.as_mut(), ctx) {
                    pending.push(Pending::Recv { id, fut });
                } else {
                    counts[1] += 1;
                }
            }
            9..=10 if !pending.is_empty() => {
                let i = rng.below(pending.len());
                let still = match &mut pending[i] {
                    Pending::Send { id, value, fut } => {
                        poll_send(&mut model, *id, *value, fut.as_mut(), ctx)
                    }
                    Pending::Recv { id, fut } => poll_recv(&mut model, *id, fut.as_mut(), ctx),
                };
                if !still {
                    let done = pending.swap_remove(i);
                    counts[usize::from(matches!(done, Pending::Recv { .. }))] += 1;
                }
            }
            11 if !pending.is_empty() => {
                let i = rng.below(pending.len());
                let p = pending.swap_remove(i);
                let state = model.states.get(&p.id()).copied();
                match state {
                    Some(State::Queued) => counts[2] += 1,
                    Some(State::Handed(_)) => counts[3] += 1,
                    _ => {}
                }
                drop_pending(&mut model, p);
            }
            _ => {}
        }
        assert_eq!(rx.len(), model.buffer.len(), "len: {ctx}");
        assert_eq!(tx.is_closed(), model.closed, "closed: {ctx}");
    }
    // Every kind of step happened (sends wait only on a bounded channel): the run was long
    // enough to mean something.
    if cap.is_none() {
        counts[2] = usize::MAX;
    }
    assert!(
        counts.iter().all(|&n| n > 0),
        "seed {seed:#x}, capacity {cap:?}: too short a run: {counts:?}"
    );
    for p in pending.drain(..) {
        drop_pending(&mut model, p);
    }
    // Drained: the channel holds exactly what the model holds, in order.
    let rest: Vec<u64> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    assert_eq!(rest, Vec::from(std::mem::take(&mut model.buffer)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(rx.waiter_count(), 0);
}

const SEEDS: [u64; 4] = [1, 0x9e37_79b9_7f4a_7c15, 42, 0xdead_beef];

/// Steps per run (fewer under Miri, which is some thousand times slower).
const STEPS: usize = if cfg!(miri) { 400 } else { 30_000 };

#[test]
fn unbuffered_channel_matches_the_model() {
    for seed in SEEDS {
        run(seed, Some(0), STEPS);
    }
}

#[test]
fn buffered_channels_match_the_model() {
    for seed in SEEDS {
        run(seed, Some(1), STEPS);
        run(seed, Some(3), STEPS);
    }
}

#[test]
fn unbounded_channel_matches_the_model() {
    for seed in SEEDS {
        run(seed, None, STEPS);
    }
}
