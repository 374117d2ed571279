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
//! This crate only re-exports: the runtime is `goro-runtime`, the sockets `goro-net`, the
//! coordination primitives `goro-sync`, the attributes `goro-macros`. See the README for the
//! Go → goro table.

pub use goro_macros::{main, test};
pub use goro_runtime::{
    block_on, coop, num_tasks, reactor, spawn, spawn_blocking, task, time, yield_now, Builder,
    JoinError, JoinHandle, Runtime, TaskGroup, MAXPROCS_ENV, MAX_WORKERS,
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
