//! Shared pieces of goro's comparison harness: the plan, the child processes, the statistics,
//! the machine facts and the report.
//!
//! The harness runs the same workloads on goro, tokio (multi-thread) and smol
//! (`async-executor` on N threads), and those Go can express also in Go where `go` is
//! installed, each measurement in a fresh child process, and writes `BENCHMARKS.md` at the
//! workspace root. One command regenerates it:
//!
//! ```text
//! cargo bench -p goro-rt-benches --bench compare
//! ```
//!
//! ```
//! use goro_benches::{median, Contender, Workload};
//!
//! assert_eq!(Workload::parse("spawn_many"), Some(Workload::SpawnMany));
//! assert_eq!(Contender::Goro.name(), "goro");
//! assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
//! ```
//!
//! # Implementation
//!
//! tokio and smol are dev-dependencies, so the code that drives them lives in the bench
//! targets (`benches/compare.rs`, `benches/compare_mimalloc.rs`, both including
//! `benches/shared/`). A global allocator is fixed at compile time, so the workloads are
//! built twice: `compare` on the system allocator and `compare_mimalloc` on mimalloc.
//! `compare` is also the parent: it builds both with one cargo call ([`artifacts`]), runs
//! `rep × workload × runtime × allocator` children interleaved ([`child`]), takes medians
//! ([`stats`]) and renders the markdown ([`report`]) with the facts of the machine
//! ([`machine`]). This library holds everything that does not depend on which runtime is
//! measured, so it can be unit-tested without tokio or smol.
//!
//! # Modules
//!
//! - [`plan`]: the workloads, their sizes, units and goro's targets; runtimes; allocators.
//! - [`latch`]: a countdown future that any executor can await, so the spawn workloads
//!   measure spawning alike on every runtime (the `waitgroup` row measures each one's idiom).
//! - [`child`]: running one measurement in a child process, with a time limit.
//! - [`artifacts`]: building the two bench binaries and finding their paths.
//! - [`go`]: building the Go program of the workloads, where `go` is installed.
//! - [`machine`]: CPU, kernel, rustc, RSS, load average.
//! - [`stats`]: median and per-item times.
//! - [`report`]: the tables and `BENCHMARKS.md`.

pub mod artifacts;
pub mod child;
pub mod go;
pub mod latch;
pub mod machine;
pub mod plan;
pub mod report;
pub mod stats;

pub use latch::Latch;
pub use plan::{Allocator, Contender, Mode, Target, Workload};
pub use stats::{median, ns_per};
