//! The timer queue: deadlines and the wakers to call when they pass.
//!
//! # Why buckets of a millisecond
//!
//! A timer is inserted once, is usually cancelled before it fires (a `timeout` whose future
//! finished first) or fires once, and the driver asks for the earliest deadline on every
//! turn. Timers come in crowds: a server's 10k connections all set the same 30 s timeout
//! within a few milliseconds. We measured a binary heap of deadlines first: at 100k timers
//! `BinaryHeap::pop` alone took a tenth of the `sleepers` benchmark, every pop a walk down
//! a 2 MiB heap. What goro uses instead:
//!
//! - deadlines are rounded *up* to the millisecond and timers with the same millisecond share
//!   a bucket (a `Vec`) in an ordered map keyed by that millisecond. A timer never fires
//!   early, at most one millisecond late (tokio's wheel has the same resolution);
//! - insert is one ordered-map lookup among the few distinct milliseconds pending, plus a
//!   `Vec` push: cheap however many timers share the bucket;
//! - firing pops whole buckets: one map operation per millisecond of timers, however many
//!   timers it holds;
//! - cancel is O(1): the timer's slab entry is removed and its bucket entry left behind,
//!   stale. A bucket entry is live only while the slab slot holds the same sequence number,
//!   so a reused slot is never mistaken for the old timer. When stale entries outnumber the
//!   live timers, the buckets are compacted, so cancelled timeouts cannot pile up.
//!
//! A hashed wheel gives O(1) insert too, but needs intrusive lists (unsafe) for O(1) cancel
//! and a cascade for long timers; the ordered map of buckets gets the same batching from
//! `std` alone.

use std::collections::BTreeMap;
use std::task::Waker;
use std::time::{Duration, Instant};

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
#[derive(Debug)]
pub(crate) struct Timers {
    /// The live timers.
    entries: Slab<Entry>,
    /// Milliseconds since `origin` (deadlines rounded up) → the timers due then, some stale.
    buckets: BTreeMap<u64, Vec<TimerKey>>,
    /// The instant bucket numbers count from.
    origin: Instant,
    /// Entries in all buckets, live or stale.
    queued: usize,
    /// The next sequence number to hand out.
    next_seq: u64,
}

impl Default for Timers {
    fn default() -> Self {
        Timers::new(Instant::now())
    }
}

/// Compact the buckets when they hold more than this many stale entries per live timer...
const STALE_RATIO: usize = 2;
/// ...and at least this many in all, so small queues are never compacted.
const MIN_COMPACT: usize = 1024;

const NANOS_PER_MS: u128 = 1_000_000;

/// The bucket of `deadline` counted from `origin`: whole milliseconds, rounded up.
pub(crate) fn bucket_of(origin: Instant, deadline: Instant) -> u64 {
    let nanos = deadline.saturating_duration_since(origin).as_nanos();
    u64::try_from(nanos.div_ceil(NANOS_PER_MS)).unwrap_or(u64::MAX)
}

impl Timers {
    /// No timers; bucket numbers count from `origin`, which must not be later than any
    /// instant the clock will read.
    pub(crate) fn new(origin: Instant) -> Timers {
        Timers {
            entries: Slab::new(),
            buckets: BTreeMap::new(),
            origin,
            queued: 0,
            next_seq: 0,
        }
    }

    /// The instant bucket numbers count from.
    pub(crate) fn origin(&self) -> Instant {
        self.origin
    }

    /// The bucket of `deadline`: whole milliseconds since `origin`, rounded up.
    pub(crate) fn bucket_of(&self, deadline: Instant) -> u64 {
        bucket_of(self.origin, deadline)
    }

    /// The instant bucket `ms` comes due.
    fn instant_of(&self, ms: u64) -> Instant {
        self.origin
            .checked_add(Duration::from_millis(ms))
            .unwrap_or_else(|| self.origin + Duration::from_secs(86400 * 365 * 30))
    }

    /// Adds a timer; `waker` is woken once `deadline` has passed.
    pub(crate) fn insert(&mut self, deadline: Instant, waker: Waker) -> TimerKey {
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = self.entries.insert(Entry { seq, waker });
        let key = TimerKey { slot, seq };
        let bucket = self.bucket_of(deadline);
        self.buckets.entry(bucket).or_default().push(key);
        self.queued += 1;
        self.maybe_compact();
        key
    }

    fn is_live(&self, key: TimerKey) -> bool {
        self.entries.get(key.slot).is_some_and(|e| e.seq == key.seq)
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
        if self.is_live(key) {
            self.entries.remove(key.slot);
        }
    }

    /// Removes every timer whose deadline is at or before `now`, collecting their wakers.
    /// Returns the last bucket fired: every timer of a bucket up to it is due.
    pub(crate) fn fire(&mut self, now: Instant, wakers: &mut Vec<Waker>) -> u64 {
        let now_ms = now.saturating_duration_since(self.origin).as_nanos() / NANOS_PER_MS;
        let now_ms = u64::try_from(now_ms).unwrap_or(u64::MAX);
        while let Some(entry) = self.buckets.first_entry() {
            if *entry.key() > now_ms {
                break;
            }
            let due = entry.remove();
            self.queued -= due.len();
            for key in due {
                if self.is_live(key) {
                    wakers.push(self.entries.remove(key.slot).waker);
                }
            }
        }
        now_ms
    }

    /// The earliest instant at which a pending timer may be due (its bucket may turn out to
    /// hold only cancelled timers: the driver then wakes once for nothing and drops it).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let (&ms, _) = self.buckets.first_key_value()?;
        Some(self.instant_of(ms))
    }

    /// The number of pending timers.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Drops every timer (and so every waker): used at shutdown.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.buckets.clear();
        self.queued = 0;
    }

    fn maybe_compact(&mut self) {
        let stale = self.queued - self.entries.len();
        if stale < MIN_COMPACT || stale < STALE_RATIO * self.entries.len() {
            return;
        }
        let entries = &self.entries;
        self.buckets.retain(|_, keys| {
            keys.retain(|k| entries.get(k.slot).is_some_and(|e| e.seq == k.seq));
            !keys.is_empty()
        });
        self.queued = self.entries.len();
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
        let first = timers.next_deadline().unwrap();
        assert!(first >= now && first <= now + Duration::from_millis(1));
        let mut fired = Vec::new();
        timers.fire(now + Duration::from_millis(1500), &mut fired);
        assert_eq!(fired.len(), 1);
        let next = timers.next_deadline().unwrap();
        assert!(next >= now + Duration::from_secs(2));
        assert!(next <= now + Duration::from_secs(2) + Duration::from_millis(1));
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
        assert!(timers.queued <= MIN_COMPACT + 1);
    }
}
