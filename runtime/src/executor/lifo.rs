//! The LIFO slot: where a worker keeps the task that its running task just woke.
//!
//! Message passing wakes a task that will want the data the current task just wrote, so
//! running it next, on the same worker, finds that data in cache. The slot holds one task; a
//! newer wake pushes the older one to the back of the local queue.
//!
//! The slot is one `AtomicPtr` so that another worker can take the task too: searching
//! workers leave it alone (it is about to run, hot in its worker's cache), but if the running
//! task then blocks its worker (a long loop, `std::thread::sleep`), an idle peer that sees
//! the worker's tick stand still takes it (`worker.rs`, `STUCK_PEER_CHECK`), so the task is
//! not stranded. Ownership moves only by `swap`, so exactly one thread ever gets a given
//! pointer back.

#![allow(unsafe_code)]

use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, Ordering::AcqRel};

use crate::task::Runnable;

/// A one-task slot that the owner fills and anyone may empty.
pub(crate) struct LifoSlot {
    /// A pointer from `Runnable::into_raw`, or null. Whoever swaps a pointer out owns it.
    task: AtomicPtr<()>,
}

impl LifoSlot {
    pub(crate) fn new() -> Self {
        LifoSlot {
            task: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Puts `task` in the slot and returns the task it displaced.
    pub(crate) fn replace(&self, task: Runnable) -> Option<Runnable> {
        let raw = task.into_raw().as_ptr();
        Self::from_raw(self.task.swap(raw, AcqRel))
    }

    /// Empties the slot.
    pub(crate) fn take(&self) -> Option<Runnable> {
        if self
            .task
            .load(std::sync::atomic::Ordering::Relaxed)
            .is_null()
        {
            return None;
        }
        Self::from_raw(self.task.swap(ptr::null_mut(), AcqRel))
    }

    /// Whether the slot holds a task right now.
    pub(crate) fn is_some(&self) -> bool {
        !self
            .task
            .load(std::sync::atomic::Ordering::Acquire)
            .is_null()
    }

    fn from_raw(raw: *mut ()) -> Option<Runnable> {
        let raw = NonNull::new(raw)?;
        // SAFETY: every non-null pointer in the slot came from `Runnable::into_raw` in
        // `replace`, and the `swap` that returned it to us removed it from the slot, so this
        // is the one conversion back for that pointer.
        Some(unsafe { Runnable::from_raw(raw) })
    }
}

impl Drop for LifoSlot {
    fn drop(&mut self) {
        drop(self.take());
    }
}

impl std::fmt::Debug for LifoSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LifoSlot")
            .field("is_some", &self.is_some())
            .finish()
    }
}
