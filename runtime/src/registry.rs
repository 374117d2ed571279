//! The registry of a runtime's tasks: how many are alive, and a waker for each parked one.
//!
//! # Why it exists
//!
//! A parked task can be referenced only by wakers held in places that other parked tasks own
//! (a channel two tasks wait on): a cycle no queue holds. To drop every task at shutdown,
//! the runtime must be able to wake each parked task one last time. So a task that returns
//! `Pending` for the first time registers a clone of its waker here; shutdown wakes them all,
//! and the schedule function, seeing the runtime shut down, drops each task.
//!
//! # Why it is cheap
//!
//! - A task that finishes in its first poll never touches it beyond two counter updates.
//! - It is sharded: one shard per worker (plus one for other threads). A task registers in
//!   the shard of the worker that polled it, and the live counters are updated by the thread
//!   that spawns or finishes a task on its own shard, so counters are not shared cache lines.
//! - A task registers at most once: async-task gives a task the same waker on every poll.
//!
//! Entries are removed only by their own task when its future is dropped, so a slot is never
//! reused under a live task.

use std::collections::HashMap;
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard};
use std::task::Waker;

use slab::Slab;

/// One shard, on its own cache lines.
#[derive(Debug)]
#[repr(align(128))]
struct Shard {
    /// Wakers of the tasks that parked on this shard's worker.
    parked: Mutex<Slab<Waker>>,
    /// Tasks spawned minus tasks finished, as counted on this shard (may be negative).
    live: AtomicIsize,
}

/// Live tasks of one runtime.
#[derive(Debug)]
pub(crate) struct Registry {
    /// Shard 0 for threads that are not workers, shard `i + 1` for worker `i`.
    shards: Box<[Shard]>,
    /// Names of the live tasks that have one, by task id.
    names: Mutex<HashMap<u64, String>>,
}

impl Registry {
    pub(crate) fn new(num_shards: usize) -> Registry {
        let shards = (0..num_shards)
            .map(|_| Shard {
                parked: Mutex::new(Slab::new()),
                live: AtomicIsize::new(0),
            })
            .collect();
        Registry {
            shards,
            names: Mutex::new(HashMap::new()),
        }
    }

    fn names(&self) -> MutexGuard<'_, HashMap<u64, String>> {
        self.names.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the name of task `id`.
    pub(crate) fn name(&self, id: u64, name: String) {
        self.names().insert(id, name);
    }

    /// Forgets the name of task `id` (it finished).
    pub(crate) fn unname(&self, id: u64) {
        let name = self.names().remove(&id);
        drop(name);
    }

    /// The name of task `id`.
    pub(crate) fn name_of(&self, id: u64) -> Option<String> {
        self.names().get(&id).cloned()
    }

    fn parked(&self, shard: usize) -> MutexGuard<'_, Slab<Waker>> {
        self.shards[shard]
            .parked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a new task on `shard`.
    pub(crate) fn spawned(&self, shard: usize) {
        self.shards[shard].live.fetch_add(1, Relaxed);
    }

    /// Counts a finished (or dropped) task on `shard`.
    pub(crate) fn finished(&self, shard: usize) {
        self.shards[shard].live.fetch_sub(1, Relaxed);
    }

    /// The number of live tasks.
    pub(crate) fn live(&self) -> usize {
        let sum: isize = self.shards.iter().map(|s| s.live.load(Relaxed)).sum();
        sum.max(0) as usize
    }

    /// Records a parked task's waker; returns its slot.
    pub(crate) fn register(&self, shard: usize, waker: Waker) -> u32 {
        let slot = self.parked(shard).insert(waker);
        u32::try_from(slot).expect("more than 2^32 parked tasks on one worker")
    }

    /// Removes a task's waker (its future is being dropped).
    pub(crate) fn deregister(&self, shard: usize, slot: u32) {
        let removed = self.parked(shard).try_remove(slot as usize);
        drop(removed); // outside the lock
    }

    /// The waker in `slot`, if any.
    pub(crate) fn waker(&self, shard: usize, slot: u32) -> Option<Waker> {
        self.parked(shard).get(slot as usize).cloned()
    }

    /// Clones of every registered waker (shutdown wakes them all).
    pub(crate) fn parked_wakers(&self) -> Vec<Waker> {
        let mut all = Vec::new();
        for shard in 0..self.shards.len() {
            all.extend(self.parked(shard).iter().map(|(_, w)| w.clone()));
        }
        all
    }
}
