//! Concept 10, the logical processor (Go's P): a goro worker is a P, and blocking calls do
//! not use one up.
//!
//! Go: `runtime.GOMAXPROCS(0)`, `runtime.NumCPU()`, `runtime.NumGoroutine()`. goro:
//! `Runtime::worker_threads()` (set by `Builder::worker_threads` or `GORO_MAXPROCS`), the
//! hardware threads, `goro::num_tasks()`.
//!
//! Run: `cargo run --release --example logical-processor`
//! (and `GORO_MAXPROCS=3 cargo run --release --example logical-processor`)
//!
//! What to look for: the worker count of the default runtime (the hardware threads, or
//! `GORO_MAXPROCS`), the live task count, a runtime built with 2 workers. Go can change
//! `GOMAXPROCS` while running; a goro runtime's worker count is fixed when it is built.
//!
//! The gotcha, fewer Ps than blocking calls: 8 `spawn_blocking` sleeps on a 2-worker runtime
//! run on the blocking pool, not on the workers — the OS thread count grows by up to 8, and a
//! task on the workers still answers in about a millisecond.

mod common;

use std::time::{Duration, Instant};

/// Blocking calls in the gotcha.
const BLOCKING: usize = 8;
/// How long each blocks.
const BLOCK_FOR: Duration = Duration::from_millis(300);

fn main() {
    let maxprocs = std::env::var("GORO_MAXPROCS").ok();
    println!("logical-processor");
    println!(
        "  hardware threads:                {}",
        common::hardware_threads()
    );
    println!(
        "  GORO_MAXPROCS:                   {}",
        maxprocs.as_deref().unwrap_or("(unset)")
    );
    let default = goro::Runtime::new().expect("runtime");
    println!(
        "  workers of a default runtime:    {}",
        default.worker_threads()
    );
    let live = default.block_on(async {
        let idle: Vec<_> = (0..10)
            .map(|_| goro::spawn(goro::time::sleep(Duration::from_millis(50))))
            .collect();
        let live = goro::num_tasks();
        for task in idle {
            task.await.unwrap();
        }
        live
    });
    println!("  live tasks with 10 sleepers:     {live}");
    drop(default);

    let two = common::runtime(2);
    println!(
        "  workers of Builder::worker_threads(2): {}",
        two.worker_threads()
    );
    let threads_before = common::os_threads();
    let (latency, threads_during) = two.block_on(async {
        let sleepers: Vec<_> = (0..BLOCKING)
            .map(|_| goro::spawn_blocking(|| std::thread::sleep(BLOCK_FOR)))
            .collect();
        goro::time::sleep(Duration::from_millis(50)).await; // all of them are blocking now
        let asked = Instant::now();
        let latency = goro::spawn(async move { asked.elapsed() }).await.unwrap();
        let during = common::os_threads();
        for sleeper in sleepers {
            sleeper.await.unwrap();
        }
        (latency, during)
    });
    println!("\ngotcha: {BLOCKING} blocking calls of {BLOCK_FOR:?} on a 2-worker runtime");
    common::table(
        &["", "value"],
        &[
            vec!["OS threads before".into(), common::show(threads_before)],
            vec![
                "OS threads while they block".into(),
                common::show(threads_during),
            ],
            vec![
                "blocking-pool threads after".into(),
                two.blocking_threads().to_string(),
            ],
            vec![
                "a new task's start latency meanwhile".into(),
                format!("{latency:?}"),
            ],
        ],
    );
}
