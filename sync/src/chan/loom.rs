//! The mutex, atomic and thread-locals of the channel and select protocols, swapped for loom's
//! in this crate's own loom tests.
//!
//! `--cfg goro_loom` together with `cfg(test)` selects loom: loom is a dev-dependency, so only
//! the library's own test build may name it. The ordinary build of this crate (the one the
//! runtime links, also under `--cfg goro_loom`) keeps std's types. Only what the protocols
//! synchronise on is swapped: the channel state's mutex, the select token's atomic and the
//! thread-locals that say which select arm is being polled (loom runs its threads as
//! coroutines on one OS thread, so std thread-locals would be shared between them).

#[cfg(all(goro_loom, test))]
pub(crate) use ::loom::{
    sync::{atomic::AtomicUsize, Mutex, MutexGuard},
    thread_local,
};

#[cfg(not(all(goro_loom, test)))]
pub(crate) use std::{
    sync::{atomic::AtomicUsize, Mutex, MutexGuard},
    thread_local,
};
