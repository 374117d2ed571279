//! The worker's local run queue: a fixed-size ring that its owner pushes and pops, and that
//! idle workers steal half of.
//!
//! # The protocol
//!
//! The ring holds [`CAPACITY`] slots. Three counters, all wrapping `u32`s, describe it:
//!
//! - `tail`: the next slot the owner writes. Only the owner changes it.
//! - `real`: the next slot the owner pops (packed with `steal` into one `AtomicU64` `head`).
//! - `steal`: the first slot a stealer is still copying out. When no steal is in progress,
//!   `steal == real`.
//!
//! Slots in `[steal, tail)` are owned by the queue; slots outside it are free for the owner to
//! write. Every transition is one compare-and-swap on the packed `head`, so the owner and any
//! number of stealers agree on who owns which slot:
//!
//! 1. **Push** (owner): write slot `tail`, then publish it with a `Release` store of `tail + 1`.
//!    The owner checks `tail - steal < CAPACITY` first, using `steal` rather than `real`, so a
//!    slot a stealer is still copying is never overwritten.
//! 2. **Pop** (owner): CAS `real` to `real + 1` (and `steal` with it when they were equal),
//!    then read the slot it claimed. Pop never waits for a stealer.
//! 3. **Steal** (another worker): when `steal == real` (no other steal in progress), CAS `real`
//!    forward by half of the queued tasks, leaving `steal` behind. The stolen slots now belong
//!    to the stealer alone: the owner's pops start after them and its pushes stop before them.
//!    Copy them into the stealer's own queue, then CAS `steal` up to the current `real`,
//!    handing the slots back. A second stealer that sees `steal != real` gives up at once
//!    instead of waiting.
//! 4. **Overflow** (owner, queue full): CAS `real` and `steal` forward by half in one step
//!    (only when no steal is in progress), and hand those tasks, plus the new one, to the
//!    shared injector. Moving half at once keeps the next pushes local.
//!
//! A task is never lost or run twice: each slot changes hands only through a successful CAS
//! of `head` or the owner's `Release` store of `tail`, and the acquire side of those
//! operations orders the slot's write before its read. `loom` checks this in the tests below.

#![allow(unsafe_code)]

use std::mem::MaybeUninit;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

use crate::loom::{Arc, AtomicU32, AtomicU64, UnsafeCell};

/// Slots per local queue. 256 runnables (2 KiB) bound the work one worker hoards; beyond that,
/// half goes to the injector where every worker can see it. Tiny under loom, so that the
/// model explores overflow and wrap-around.
pub(crate) const CAPACITY: usize = if cfg!(all(test, goro_loom)) { 4 } else { 256 };

const MASK: usize = CAPACITY - 1;

/// The state shared by a queue's owner and its stealers.
struct Inner<T> {
    /// `steal` in the high 32 bits, `real` in the low 32 bits: see the module docs.
    head: AtomicU64,
    /// The next slot the owner writes; only the owner stores to it.
    tail: AtomicU32,
    /// The ring. A slot holds an initialised `T` exactly when it lies in `[steal, tail)`.
    buffer: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

// SAFETY: the protocol above hands each slot to exactly one thread at a time, so sharing the
// ring between threads is sound whenever moving a `T` between threads is.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above; `&Inner` only gives access through the CAS protocol.
unsafe impl<T: Send> Sync for Inner<T> {}

/// The owner's end of a queue: push, pop. Not `Clone`: there is one owner.
pub(crate) struct Local<T> {
    /// The ring shared with the stealers.
    inner: Arc<Inner<T>>,
}

/// A stealer's end of a queue.
pub(crate) struct Steal<T> {
    /// The ring shared with the owner.
    inner: Arc<Inner<T>>,
}

impl<T> Clone for Steal<T> {
    fn clone(&self) -> Self {
        Steal {
            inner: self.inner.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Local<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Local").field("len", &self.len()).finish()
    }
}

impl<T> std::fmt::Debug for Steal<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Steal")
            .field("is_empty", &self.is_empty())
            .finish()
    }
}

/// Creates an empty queue: the owner's end and a stealer's end.
pub(crate) fn new<T>() -> (Local<T>, Steal<T>) {
    let buffer = (0..CAPACITY)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect();
    let inner = Arc::new(Inner {
        head: AtomicU64::new(0),
        tail: AtomicU32::new(0),
        buffer,
    });
    (
        Local {
            inner: inner.clone(),
        },
        Steal { inner },
    )
}

fn pack(steal: u32, real: u32) -> u64 {
    (u64::from(steal) << 32) | u64::from(real)
}

fn unpack(head: u64) -> (u32, u32) {
    ((head >> 32) as u32, head as u32)
}

impl<T> Inner<T> {
    /// Moves the task out of slot `pos`.
    ///
    /// # Safety
    ///
    /// The caller must own slot `pos` under the protocol (it claimed it by a CAS of `head`, or
    /// it is the owner and the slot lies in `[real, tail)` with no stealer able to take it),
    /// and the slot must hold an initialised task that nobody else will read.
    unsafe fn take(&self, pos: u32) -> T {
        // SAFETY: the caller owns the slot and it is initialised (see above).
        self.buffer[pos as usize & MASK].with(|p| unsafe { (*p).assume_init_read() })
    }

    /// Writes a task into slot `pos`.
    ///
    /// # Safety
    ///
    /// The caller must be the queue's owner and the slot must be free (outside `[steal, tail)`).
    unsafe fn put(&self, pos: u32, task: T) {
        // SAFETY: only the owner writes, and nobody reads a free slot.
        self.buffer[pos as usize & MASK].with_mut(|p| unsafe { (*p).write(task) });
    }

    fn len(&self) -> usize {
        let (_, real) = unpack(self.head.load(Acquire));
        self.tail.load(Acquire).wrapping_sub(real) as usize
    }
}

impl<T> Local<T> {
    /// The number of queued tasks.
    pub(crate) fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether the queue holds no task.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pushes a task at the back. When the queue is full, half of it and `task` go to
    /// `overflow` (the shared injector) instead.
    pub(crate) fn push_back(&mut self, mut task: T, overflow: &mut impl FnMut(T)) {
        loop {
            let (steal, real) = unpack(self.inner.head.load(Acquire));
            let tail = self.inner.tail.load(Relaxed);
            if tail.wrapping_sub(steal) < CAPACITY as u32 {
                // SAFETY: we are the owner and `tail` lies outside `[steal, tail)`.
                unsafe { self.inner.put(tail, task) };
                self.inner.tail.store(tail.wrapping_add(1), Release);
                return;
            }
            if steal != real {
                // A stealer is emptying slots right now; rather than wait for it, send this
                // one task to the injector.
                overflow(task);
                return;
            }
            match self.push_overflow(task, real, overflow) {
                Ok(()) => return,
                Err(back) => task = back,
            }
        }
    }

    /// Moves the older half of a full queue, then `task`, to `overflow`. Fails (giving `task`
    /// back) when a stealer moved `head` first; the caller retries.
    fn push_overflow(&mut self, task: T, real: u32, overflow: &mut impl FnMut(T)) -> Result<(), T> {
        let half = CAPACITY as u32 / 2;
        let claimed = real.wrapping_add(half);
        let cas = self.inner.head.compare_exchange(
            pack(real, real),
            pack(claimed, claimed),
            AcqRel,
            Acquire,
        );
        if cas.is_err() {
            return Err(task);
        }
        for i in 0..half {
            // SAFETY: the CAS above took slots `[real, real + half)` out of the queue for us.
            overflow(unsafe { self.inner.take(real.wrapping_add(i)) });
        }
        overflow(task);
        Ok(())
    }

    /// Pops the task at the front, if any.
    pub(crate) fn pop(&mut self) -> Option<T> {
        let mut head = self.inner.head.load(Acquire);
        loop {
            let (steal, real) = unpack(head);
            if real == self.inner.tail.load(Relaxed) {
                return None;
            }
            let next_real = real.wrapping_add(1);
            let next = if steal == real {
                pack(next_real, next_real)
            } else {
                pack(steal, next_real)
            };
            match self
                .inner
                .head
                .compare_exchange(head, next, AcqRel, Acquire)
            {
                // SAFETY: the CAS moved `real` past this slot, so it is ours alone.
                Ok(_) => return Some(unsafe { self.inner.take(real) }),
                Err(actual) => head = actual,
            }
        }
    }
}

impl<T> Steal<T> {
    /// The number of queued tasks right now.
    pub(crate) fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether the queue looks empty right now.
    pub(crate) fn is_empty(&self) -> bool {
        self.inner.len() == 0
    }

    /// Steals half of this queue's tasks into `dst` (the stealer's own, empty-ish queue) and
    /// returns one of them to run at once.
    pub(crate) fn steal_into(&self, dst: &mut Local<T>) -> Option<T> {
        let dst_tail = dst.inner.tail.load(Relaxed);
        let (dst_steal, _) = unpack(dst.inner.head.load(Acquire));
        if dst_tail.wrapping_sub(dst_steal) > CAPACITY as u32 / 2 {
            // Not enough room for half a queue: the stealer has work of its own anyway.
            return None;
        }
        let n = self.claim_and_copy(dst, dst_tail);
        if n == 0 {
            return None;
        }
        let last = dst_tail.wrapping_add(n - 1);
        // SAFETY: we are `dst`'s owner and just wrote slot `last`, which is not yet published.
        let task = unsafe { dst.inner.take(last) };
        if n > 1 {
            dst.inner.tail.store(last, Release);
        }
        Some(task)
    }

    /// Claims half of the queued tasks, copies them to `dst` from `dst_tail` on, and releases
    /// the claim. Returns how many were copied (not yet published in `dst`).
    fn claim_and_copy(&self, dst: &mut Local<T>, dst_tail: u32) -> u32 {
        let mut head = self.inner.head.load(Acquire);
        let (first, n) = loop {
            let (steal, real) = unpack(head);
            if steal != real {
                return 0; // another stealer is at work: look elsewhere
            }
            let available = self.inner.tail.load(Acquire).wrapping_sub(real);
            let n = available - available / 2;
            if n == 0 {
                return 0;
            }
            let next = pack(steal, real.wrapping_add(n));
            match self
                .inner
                .head
                .compare_exchange(head, next, AcqRel, Acquire)
            {
                Ok(_) => break (real, n),
                Err(actual) => head = actual,
            }
        };
        for i in 0..n {
            // SAFETY: the CAS claimed `[first, first + n)` for us; `dst` is ours and those of
            // its slots are free (checked by the caller).
            unsafe {
                let task = self.inner.take(first.wrapping_add(i));
                dst.inner.put(dst_tail.wrapping_add(i), task);
            }
        }
        let mut head = pack(first, first.wrapping_add(n));
        loop {
            let (_, real) = unpack(head);
            match self
                .inner
                .head
                .compare_exchange(head, pack(real, real), AcqRel, Acquire)
            {
                Ok(_) => return n,
                Err(actual) => head = actual,
            }
        }
    }
}

impl<T> Drop for Inner<T> {
    fn drop(&mut self) {
        let (steal, _) = unpack(self.head.load(Relaxed));
        let tail = self.tail.load(Relaxed);
        let mut pos = steal;
        while pos != tail {
            // SAFETY: we are the last owner of the ring, and `[steal, tail)` holds tasks.
            drop(unsafe { self.take(pos) });
            pos = pos.wrapping_add(1);
        }
    }
}

#[cfg(all(test, not(goro_loom)))]
mod tests {
    use super::*;

    #[test]
    fn pops_in_fifo_order() {
        let (mut local, _steal) = new();
        let mut overflow = |_: u32| panic!("no overflow expected");
        for i in 0..10 {
            local.push_back(i, &mut overflow);
        }
        let popped: Vec<u32> = std::iter::from_fn(|| local.pop()).collect();
        assert_eq!(popped, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn full_queue_moves_half_to_overflow() {
        let (mut local, _steal) = new();
        let mut spilled = Vec::new();
        for i in 0..=CAPACITY as u32 {
            local.push_back(i, &mut |t| spilled.push(t));
        }
        assert_eq!(spilled.len(), CAPACITY / 2 + 1);
        assert_eq!(local.len(), CAPACITY / 2);
        assert_eq!(spilled[0], 0);
    }

    #[test]
    fn steal_takes_half_and_returns_one() {
        let (mut a, steal_a) = new();
        let (mut b, _steal_b) = new::<u32>();
        for i in 0..10 {
            a.push_back(i, &mut |_| unreachable!());
        }
        let first = steal_a.steal_into(&mut b).expect("something to steal");
        assert_eq!(first, 4);
        assert_eq!(b.len(), 4);
        assert_eq!(a.len(), 5);
        let mut all: Vec<u32> = std::iter::from_fn(|| a.pop()).collect();
        all.extend(std::iter::from_fn(|| b.pop()));
        all.push(first);
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn dropping_the_queue_drops_queued_tasks() {
        let counter = std::sync::Arc::new(());
        {
            let (mut local, _steal) = new();
            for _ in 0..5 {
                local.push_back(counter.clone(), &mut |_| unreachable!());
            }
        }
        assert_eq!(std::sync::Arc::strong_count(&counter), 1);
    }

    /// A small xorshift generator: the property tests below are reproducible from their seed.
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

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// A queue and its model: what the ring must hold, front first.
    struct Modelled {
        local: Local<u64>,
        steal: Steal<u64>,
        model: std::collections::VecDeque<u64>,
    }

    impl Modelled {
        /// An empty queue whose counters start at `start`, so that a run crosses the `u32`
        /// wrap-around when `start` is near `u32::MAX`.
        fn new(start: u32) -> Modelled {
            let (local, steal) = new();
            local.inner.head.store(pack(start, start), Relaxed);
            local.inner.tail.store(start, Relaxed);
            Modelled {
                local,
                steal,
                model: std::collections::VecDeque::new(),
            }
        }
    }

    /// Pushes, pops, overflows and steals between two queues in a random order, one thread,
    /// and checks every result against two `VecDeque`s and an injector list: nothing lost,
    /// nothing duplicated, FIFO order kept, overflow and steal moving exactly the halves the
    /// docs say.
    fn run_against_the_model(seed: u64, ops: usize, start: u32) {
        let mut rng = XorShift(seed);
        let mut queues = [Modelled::new(start), Modelled::new(start.wrapping_add(7))];
        let mut injector = Vec::new();
        let mut model_injector = Vec::new();
        let mut next_value = 0u64;
        let mut steals = 0;
        // Every value that came out of a queue to run: pops and the task a steal returns.
        let mut ran = Vec::new();
        let half = CAPACITY / 2;
        for step in 0..ops {
            let q = rng.below(2) as usize;
            // Phases of 1024 steps: filling (mostly pushes: the queues overflow within the
            // phase), then draining (mostly pops: they run empty).
            let filling = (step / 1024) % 2 == 0;
            let r = rng.below(10);
            let op = match (filling, r) {
                (true, 0..=7) | (false, 0) => 0,
                (true, 8) | (false, 1..=7) => 1,
                _ => 2,
            };
            match op {
                0 => {
                    let value = next_value;
                    next_value += 1;
                    let m = &mut queues[q];
                    m.local.push_back(value, &mut |t| injector.push(t));
                    if m.model.len() < CAPACITY {
                        m.model.push_back(value);
                    } else {
                        model_injector.extend(m.model.drain(..half));
                        model_injector.push(value);
                    }
                }
                1 => {
                    let m = &mut queues[q];
                    let got = m.local.pop();
                    assert_eq!(got, m.model.pop_front(), "pop, seed {seed} step {step}");
                    ran.extend(got);
                }
                _ => {
                    let [a, b] = &mut queues;
                    let (src, dst) = if q == 0 { (a, b) } else { (b, a) };
                    let got = src.steal.steal_into(&mut dst.local);
                    let expected = if dst.model.len() > half {
                        None
                    } else {
                        let n = src.model.len() - src.model.len() / 2;
                        let mut taken: Vec<u64> = src.model.drain(..n).collect();
                        let last = taken.pop();
                        dst.model.extend(taken);
                        last
                    };
                    assert_eq!(got, expected, "steal, seed {seed} step {step}");
                    steals += usize::from(got.is_some());
                    ran.extend(got);
                }
            }
            assert_eq!(
                injector, model_injector,
                "overflow, seed {seed} step {step}"
            );
            for m in &queues {
                assert_eq!(m.local.len(), m.model.len(), "len, seed {seed} step {step}");
                assert_eq!(m.steal.len(), m.model.len());
                assert_eq!(m.local.is_empty(), m.model.is_empty());
            }
        }
        // The run went through every path: overflows and steals happened.
        assert!(
            !injector.is_empty() && steals > 0,
            "seed {seed}: too short a run"
        );
        // Drained, every value pushed comes out exactly once.
        let mut all = injector;
        all.extend(ran);
        for m in &mut queues {
            let drained: Vec<u64> = std::iter::from_fn(|| m.local.pop()).collect();
            assert_eq!(drained, Vec::from(std::mem::take(&mut m.model)));
            all.extend(drained);
        }
        all.sort_unstable();
        assert!(
            all.iter().copied().eq(0..next_value),
            "seed {seed}: a value was lost or came out twice"
        );
    }

    #[test]
    fn random_operations_match_a_vecdeque_model() {
        // Fewer runs under Miri, which is some thousand times slower (each run still fills
        // the queues to overflow).
        let seeds: &[u64] = if cfg!(miri) {
            &[1]
        } else {
            &[1, 0x9e37_79b9_7f4a_7c15, 42, 0xdead_beef]
        };
        for &seed in seeds {
            run_against_the_model(seed, if cfg!(miri) { 2_500 } else { 50_000 }, 0);
        }
    }

    #[test]
    fn random_operations_across_the_counter_wrap_around_match_the_model() {
        let ops = if cfg!(miri) { 2_500 } else { 50_000 };
        // The counters start a few hundred steps before `u32::MAX` and wrap during the run.
        run_against_the_model(7, ops, u32::MAX - 300);
    }
}

#[cfg(all(test, goro_loom))]
mod loom_tests {
    use super::*;
    use loom::thread;

    /// The owner pushes and pops while another worker steals: every task is taken exactly
    /// once, by someone.
    #[test]
    fn push_pop_against_concurrent_steal() {
        loom::model(|| {
            let (mut owner, steal) = new::<u32>();
            let (mut thief, _) = new::<u32>();
            let stealer = thread::spawn(move || {
                let mut got = Vec::new();
                if let Some(t) = steal.steal_into(&mut thief) {
                    got.push(t);
                    got.extend(std::iter::from_fn(|| thief.pop()));
                }
                got
            });
            let mut got = Vec::new();
            let mut spilled = Vec::new();
            for i in 0..3 {
                owner.push_back(i, &mut |t| spilled.push(t));
            }
            got.extend(owner.pop());
            for i in 3..6 {
                owner.push_back(i, &mut |t| spilled.push(t));
            }
            got.extend(std::iter::from_fn(|| owner.pop()));
            got.extend(stealer.join().unwrap());
            got.extend(spilled);
            got.sort();
            assert_eq!(got, (0..6).collect::<Vec<_>>());
        });
    }

    /// Two stealers race for the same queue while the owner pops.
    #[test]
    fn two_stealers_and_the_owner() {
        loom::model(|| {
            let (mut owner, steal) = new::<u32>();
            for i in 0..3 {
                owner.push_back(i, &mut |_| unreachable!());
            }
            let thieves: Vec<_> = (0..2)
                .map(|_| {
                    let steal = steal.clone();
                    thread::spawn(move || {
                        let (mut mine, _) = new::<u32>();
                        let mut got: Vec<u32> = steal.steal_into(&mut mine).into_iter().collect();
                        got.extend(std::iter::from_fn(|| mine.pop()));
                        got
                    })
                })
                .collect();
            let mut got: Vec<u32> = owner.pop().into_iter().collect();
            for t in thieves {
                got.extend(t.join().unwrap());
            }
            got.extend(std::iter::from_fn(|| owner.pop()));
            got.sort();
            assert_eq!(got, (0..3).collect::<Vec<_>>());
        });
    }
}
