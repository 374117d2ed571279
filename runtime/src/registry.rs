//! The registry of a runtime's tasks: how many are alive, and each task that has parked.
//!
//! # Why it exists
//!
//! - **Shutdown.** A parked task can be referenced only by wakers held in places that other
//!   parked tasks own (a channel two tasks wait on): a cycle no queue holds. To drop every
//!   task at shutdown, the runtime must be able to wake each parked task one last time. So
//!   a task that returns `Pending` for the first time registers a clone of its waker here;
//!   shutdown wakes them all, and the schedule function, seeing the runtime shut down, drops
//!   each task.
//! - **Abort.** [`JoinHandle::abort`](crate::JoinHandle::abort) wakes a parked task through
//!   its registered waker.
//! - **Task dumps.** [`dump_tasks`](crate::dump_tasks) walks the entries and reads each
//!   task's metadata (`dump.rs`, which also says where the tasks that never parked are
//!   found). A blocking call registers when it starts, for the dumps: it may run long.
//!
//! Entries are removed only by their own task, when its future is dropped, so a slot is
//! never reused under a live task. An entry holds a waker of the task, which keeps the
//! task's allocation, and so its metadata, alive; and since the task removes its entry under
//! the shard's lock, a reader holding that lock may read the metadata of every entry.
//!
//! # Why it is cheap
//!
//! - A task that finishes in its first poll never touches it beyond two counter updates.
//! - It is sharded: one shard per worker (plus one for other threads). A task registers in
//!   the shard of the worker that polled it, and the live counters are updated by the thread
//!   that spawns or finishes a task on its own shard, so counters are not shared cache lines.
//! - A task registers at most once: async-task gives a task the same waker on every poll.

#![allow(unsafe_code)]

use std::collections::HashMap;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard};
use std::task::Waker;

use slab::Slab;

use crate::task::Meta;

/// One registered task.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The task's metadata, inside the task's allocation.
    meta: NonNull<Meta>,
    /// A waker of the task: wakes it at shutdown and on abort, and keeps the allocation (so
    /// `meta`) alive while the entry exists.
    waker: Waker,
}

// SAFETY: `meta` is only read as `&Meta`, which is `Sync`, and only while the entry exists
// (see the module docs); the waker is `Send + Sync`.
unsafe impl Send for Entry {}

/// One shard, on its own cache lines.
#[derive(Debug)]
#[repr(align(128))]
struct Shard {
    /// The tasks that first parked on this shard's worker (or, shard 0, blocking calls)
    /// and are still alive.
    tasks: Mutex<Slab<Entry>>,
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
                tasks: Mutex::new(Slab::new()),
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

    fn shard(&self, shard: usize) -> MutexGuard<'_, Slab<Entry>> {
        self.shards[shard]
            .tasks
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

    /// Records a task that parks for the first time (or a blocking call that starts), with a
    /// waker of it; returns its slot.
    pub(crate) fn register(&self, shard: usize, meta: &Meta, waker: Waker) -> u32 {
        let entry = Entry {
            meta: NonNull::from(meta),
            waker,
        };
        let slot = self.shard(shard).insert(entry);
        u32::try_from(slot).expect("more than 2^32 parked tasks on one worker")
    }

    /// Removes a task (its future is being dropped).
    pub(crate) fn deregister(&self, shard: usize, slot: u32) {
        let removed = self.shard(shard).try_remove(slot as usize);
        drop(removed); // outside the lock
    }

    /// The waker in `slot`, if any.
    pub(crate) fn waker(&self, shard: usize, slot: u32) -> Option<Waker> {
        self.shard(shard)
            .get(slot as usize)
            .map(|entry| entry.waker.clone())
    }

    /// Clones of every registered waker (shutdown wakes them all).
    pub(crate) fn parked_wakers(&self) -> Vec<Waker> {
        let mut all = Vec::new();
        for shard in 0..self.shards.len() {
            all.extend(self.shard(shard).iter().map(|(_, e)| e.waker.clone()));
        }
        all
    }

    /// Calls `f` with the metadata of every registered task, one shard at a time, under the
    /// shard's lock: `f` must be short and must not spawn, finish or wake a task.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Meta)) {
        for shard in 0..self.shards.len() {
            for (_, entry) in self.shard(shard).iter() {
                // SAFETY: the entry exists, so the task's future has not been dropped and
                // the entry's waker keeps the allocation that holds the metadata alive; the
                // entry cannot be removed while this lock is held (module docs).
                f(unsafe { entry.meta.as_ref() });
            }
        }
    }
}
