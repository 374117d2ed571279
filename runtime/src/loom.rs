//! The atomics and cells of the lock-free run queue, swapped for loom's under `cfg(goro_loom)`.
//!
//! `--cfg goro_loom` selects loom in this crate's own unit tests (not `--cfg loom`: that name would also switch
//! concurrent-queue to loom's types, which then fail outside a model). Only
//! `executor/queue.rs` (the lock-free run queue), `executor/idle.rs` (the sleep/search
//! bookkeeping behind "wake at most one worker"), `executor/driver.rs` (the hand-off of
//! the reactor's driver role), `join_set.rs` (the ready list that wakes `join_next`),
//! `executor/monitor.rs` (the gate a waking worker reaches the monitor through),
//! `signal.rs` (signal counters and listeners' wakers) and `dump.rs` (the slot a worker
//! shows its task's first poll in) use this module: their interleavings are model-checked.
//! Everything else uses `std` directly.

#[cfg(all(test, goro_loom))]
pub(crate) use loom::sync::atomic::{fence, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize};
#[cfg(all(test, goro_loom))]
pub(crate) use loom::sync::{Arc, Condvar, Mutex, MutexGuard};

#[cfg(not(all(test, goro_loom)))]
pub(crate) use std::sync::atomic::{fence, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize};
#[cfg(not(all(test, goro_loom)))]
pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// An `UnsafeCell` with loom's closure-based access API, so the queue reads the same either way.
#[cfg(all(test, goro_loom))]
pub(crate) use loom::cell::UnsafeCell;

/// An `UnsafeCell` with loom's closure-based access API, so the queue reads the same either way.
#[cfg(not(all(test, goro_loom)))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(all(test, goro_loom)))]
impl<T> UnsafeCell<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(std::cell::UnsafeCell::new(value))
    }

    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
