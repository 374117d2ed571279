//! goro: a Go-style async runtime for Rust. Goroutines are tasks.
//!
//! ```
//! use std::time::Duration;
//!
//! goro::block_on(async {
//!     let task = goro::spawn(async {
//!         goro::time::sleep(Duration::from_millis(1)).await;
//!         21 * 2
//!     });
//!     assert_eq!(task.await.unwrap(), 42);
//! });
//! ```
//!
//! This crate only re-exports: the runtime is `goro_runtime`, the sockets `goro_net`, the
//! coordination primitives `goro_sync`, the attributes `goro_macros` (the packages
//! `goro-rt-runtime`, `goro-rt-net`, `goro-rt-sync`, `goro-rt-macros`). See the README for the
//! Go → goro table.
//!
//! The package is named `goro-rt` (the name `goro` on crates.io is taken by an unrelated
//! crate) and its library `goro`, so a dependency written
//! `goro = { package = "goro-rt", ... }` or `goro-rt = { ... }` is used as `goro::`.

pub use goro_macros::{main, test};
pub use goro_runtime::{
    block_on, coop, num_tasks, reactor, spawn, spawn_blocking, task, time, yield_now, Builder,
    JoinError, JoinHandle, Runtime, TaskGroup, MAXPROCS_ENV,
};
pub use goro_sync::select;

/// Sockets on goro's reactor.
pub mod net {
    pub use goro_net::*;
}

/// Go's coordination vocabulary: channels, WaitGroup, Mutex, RwLock, Once, Context, ...
pub mod sync {
    pub use goro_runtime::context::{self, CancelFn, Context, ContextError};
    pub use goro_sync::*;
}
