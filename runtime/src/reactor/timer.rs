//! The timer queue: deadlines and the wakers to call when they pass.
//!
//! # Why a heap
//!
//! A timer is inserted once, is usually cancelled before it fires (a `timeout` whose future
//! finished first) or fires once, and the driver asks for the earliest deadline on every turn.
//! We considered a hierarchical wheel (tokio) and an ordered map (async-io) and chose a binary
//! min-heap of `(deadline, sequence, slot)` over a `slab` of live timers:
//!
//! - insert is a slab insert plus a heap push: O(log n) with a small constant, no allocation
//!   once the vectors have grown, and no tree nodes (the ordered map allocates per entry);
//! - cancel is O(1): remove the slab entry and leave its heap entry behind, stale. A heap entry
//!   is live only while the slab slot holds the same sequence number, so a reused slot is
//!   never mistaken for the old timer;
//! - firing pops the heap in deadline order, skipping stale entries;
//! - stale entries cannot pile up: when they outnumber the live timers, the heap is rebuilt
//!   from the slab.
//!
//! A wheel gives O(1) insert too, but rounds deadlines to its tick and needs intrusive lists
//! (unsafe) to cancel in O(1). The `sleepers` row of BENCHMARKS.md (100k concurrent sleeps)
//! measures this choice.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::task::Waker;
use std::time::Instant;

use slab::Slab;

/// Identifies one inserted timer, for updating its waker or cancelling it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerKey {
    /// The slab slot of the timer.
    slot: usize,
    /// The timer's sequence number: tells this timer from a later one in the same slot.
    seq: u64,
}

#[derive(Debug)]
struct Entry {
    /// The timer's sequence number.
    seq: u64,
    /// Called when the deadline passes.
    waker: Waker,
}

/// Every pending timer of one reactor.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    /// The live timers.
    entries: Slab<Entry>,
    /// Deadlines in order; an element is stale when its slot no longer holds its sequence.
    heap: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    /// The next sequence number to hand out.
    next_seq: u64,
}

/// Rebuild the heap when it holds more than this many stale entries per live timer.
const STALE_RATIO: usize = 2;
/// ...and at least this many in all, so small queues are never rebuilt.
const MIN_REBUILD: usize = 1024;

impl Timers {
    /// Adds a timer; `waker` is woken once `deadline` has passed.
    pub(crate) fn insert(&mut self, deadline: Instant, waker: Waker) -> TimerKey {
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = self.entries.insert(Entry { seq, waker });
        self.heap.push(Reverse((deadline, seq, slot)));
        self.maybe_rebuild();
        TimerKey { slot, seq }
    }

    /// Replaces the waker of a pending timer. Returns false if the timer already fired.
    pub(crate) fn update(&mut self, key: TimerKey, waker: &Waker) -> bool {
        match self.entries.get_mut(key.slot) {
            Some(entry) if entry.seq == key.seq => {
                if !entry.waker.will_wake(waker) {
                    entry.waker = waker.clone();
                }
                true
            }
            _ => false,
        }
    }

    /// Cancels a timer if it has not fired yet.
    pub(crate) fn remove(&mut self, key: TimerKey) {
        if self.entries.get(key.slot).is_some_and(|e| e.seq == key.seq) {
            self.entries.remove(key.slot);
        }
    }

    /// Removes every timer whose deadline is at or before `now`, collecting their wakers.
    pub(crate) fn fire(&mut self, now: Instant, wakers: &mut Vec<Waker>) {
        while let Some(&Reverse((deadline, seq, slot))) = self.heap.peek() {
            if deadline > now {
                break;
            }
            self.heap.pop();
            if self.entries.get(slot).is_some_and(|e| e.seq == seq) {
                wakers.push(self.entries.remove(slot).waker);
            }
        }
    }

    /// The earliest pending deadline.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(&Reverse((deadline, seq, slot))) = self.heap.peek() {
            if self.entries.get(slot).is_some_and(|e| e.seq == seq) {
                return Some(deadline);
            }
            self.heap.pop();
        }
        None
    }

    /// The number of pending timers.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Drops every timer (and so every waker): used at shutdown.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.heap.clear();
    }

    fn maybe_rebuild(&mut self) {
        let stale = self.heap.len() - self.entries.len();
        if stale < MIN_REBUILD || stale < STALE_RATIO * self.entries.len() {
            return;
        }
        let entries = &self.entries;
        self.heap
            .retain(|Reverse((_, seq, slot))| entries.get(*slot).is_some_and(|e| e.seq == *seq));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn fires_in_deadline_order_and_skips_cancelled() {
        let mut timers = Timers::default();
        let now = Instant::now();
        let waker = Waker::noop().clone();
        let late = timers.insert(now + Duration::from_secs(2), waker.clone());
        let cancelled = timers.insert(now + Duration::from_secs(1), waker.clone());
        timers.insert(now, waker.clone());
        timers.remove(cancelled);
        assert_eq!(timers.next_deadline(), Some(now));
        let mut fired = Vec::new();
        timers.fire(now + Duration::from_millis(1500), &mut fired);
        assert_eq!(fired.len(), 1);
        assert_eq!(timers.next_deadline(), Some(now + Duration::from_secs(2)));
        assert!(timers.update(late, &waker));
        timers.fire(now + Duration::from_secs(3), &mut fired);
        assert_eq!(fired.len(), 2);
        assert!(!timers.update(late, &waker));
    }

    #[test]
    fn a_reused_slot_is_not_mistaken_for_the_old_timer() {
        let mut timers = Timers::default();
        let now = Instant::now();
        let old = timers.insert(now, Waker::noop().clone());
        timers.remove(old);
        let new = timers.insert(now + Duration::from_secs(5), Waker::noop().clone());
        assert_eq!(old.slot, new.slot);
        let mut fired = Vec::new();
        timers.fire(now + Duration::from_secs(1), &mut fired);
        assert!(fired.is_empty());
        timers.remove(old);
        assert_eq!(timers.len(), 1);
    }

    #[test]
    fn cancelled_timers_do_not_pile_up_in_the_heap() {
        let mut timers = Timers::default();
        let far = Instant::now() + Duration::from_secs(3600);
        for _ in 0..100_000 {
            let key = timers.insert(far, Waker::noop().clone());
            timers.remove(key);
        }
        assert!(timers.heap.len() <= MIN_REBUILD + 1);
    }
}
