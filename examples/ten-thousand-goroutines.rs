//! Ten thousand goroutines on a handful of threads.
//!
//! Spawns 10,000 tasks that each sleep 100 ms, waits for all of them, and prints how long
//! that took and how many OS threads the process used: the point of goroutines is that the
//! answer is "about 100 ms" and "a few", not "10,000 threads".
//!
//! Run it with `cargo run --release --example ten-thousand-goroutines`
//! (set `GORO_MAXPROCS=1` to see the same on one worker).

use std::time::{Duration, Instant};

/// How many tasks to spawn.
const TASKS: usize = 10_000;

/// How long each one sleeps.
const NAP: Duration = Duration::from_millis(100);

#[goro::main]
async fn main() {
    let start = Instant::now();
    let handles: Vec<_> = (0..TASKS)
        .map(|i| {
            goro::spawn(async move {
                goro::time::sleep(NAP).await;
                i
            })
        })
        .collect();
    println!("spawned {} tasks in {:?}", handles.len(), start.elapsed());
    println!("live tasks right after spawning: {}", goro::num_tasks());
    let mut sum = 0;
    for handle in handles {
        sum += handle.await.expect("a task failed");
    }
    assert_eq!(
        sum,
        TASKS * (TASKS - 1) / 2,
        "every task returned its index"
    );
    println!(
        "all {TASKS} tasks slept {NAP:?} and finished after {:?}",
        start.elapsed()
    );
    println!("OS threads in this process: {}", os_threads());
}

/// The number of threads of this process, from /proc (Linux).
fn os_threads() -> String {
    std::fs::read_dir("/proc/self/task")
        .map(|dir| dir.count().to_string())
        .unwrap_or_else(|_| "unknown (no /proc)".to_string())
}
