//! Concept 3, the OS scheduler and goro's: 10,000 tasks wait on a handful of OS threads.
//!
//! Go: 10,000 goroutines in `time.Sleep(100ms)`. goro: 10,000 `goro::spawn`ed tasks in
//! `goro::time::sleep`. Beside them, 1,000 OS threads (`std::thread::spawn`) doing the same.
//!
//! Run: `cargo run --release --example os-scheduler`
//!
//! What to look for: the wall time (about 100 ms for both: waiting overlaps), the OS thread
//! count of the process while they wait (goro: its workers; threads: one per sleeper), and
//! how much resident memory each approach added. The seed prints `GOMAXPROCS` and calls it
//! "OS threads"; this program reads the real thread count from `/proc/self/status`.
//!
//! The gotcha, one OS thread per request, is in the thread column: 10x fewer sleepers than
//! the task run, 100x more threads.

mod common;

use std::time::{Duration, Instant};

/// Tasks that sleep.
const TASKS: usize = 10_000;
/// OS threads that sleep, for comparison (fewer: each reserves a stack).
const THREADS: usize = 1_000;
/// How long each sleeps.
const NAP: Duration = Duration::from_millis(100);

/// One row of the table: wall time, threads while waiting, RSS added.
struct Observed {
    wall: Duration,
    threads: Option<usize>,
    rss_added_kib: Option<usize>,
}

fn with_tasks() -> Observed {
    let rss_before = common::rss_kib();
    let start = Instant::now();
    let threads = goro::block_on(async {
        let handles: Vec<_> = (0..TASKS)
            .map(|_| goro::spawn(goro::time::sleep(NAP)))
            .collect();
        // Every task is asleep now: count the threads while they wait.
        let threads = common::os_threads();
        for handle in handles {
            handle.await.unwrap();
        }
        threads
    });
    Observed {
        wall: start.elapsed(),
        threads,
        rss_added_kib: common::rss_kib()
            .zip(rss_before)
            .map(|(a, b)| a.saturating_sub(b)),
    }
}

fn with_threads() -> Observed {
    let rss_before = common::rss_kib();
    let start = Instant::now();
    let handles: Vec<_> = (0..THREADS)
        .map(|_| std::thread::spawn(|| std::thread::sleep(NAP)))
        .collect();
    let threads = common::os_threads();
    let rss_during = common::rss_kib();
    for handle in handles {
        handle.join().unwrap();
    }
    Observed {
        wall: start.elapsed(),
        threads,
        rss_added_kib: rss_during.zip(rss_before).map(|(a, b)| a.saturating_sub(b)),
    }
}

fn main() {
    println!("os-scheduler: sleepers of {NAP:?} each, as goro tasks and as OS threads\n");
    let tasks = with_tasks();
    let threads = with_threads();
    let row = |what: String, o: &Observed| {
        vec![
            what,
            common::ms(o.wall),
            common::show(o.threads),
            o.rss_added_kib
                .map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
        ]
    };
    common::table(
        &["sleepers", "wall", "OS threads while waiting", "RSS added"],
        &[
            row(format!("{TASKS} goro tasks"), &tasks),
            row(format!("{THREADS} OS threads"), &threads),
        ],
    );
    println!(
        "\nideal wall time: {NAP:?} for both (the sleeps overlap); sequential would be {:?}",
        NAP * TASKS as u32
    );
}
