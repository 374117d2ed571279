//! Concept 12, the goroutine (Go's G): a parked task costs a few hundred bytes, not a stack.
//!
//! Go: 10,000 goroutines and `runtime.NumGoroutine()`. goro: 10,000 and then 1,000,000
//! tasks parked on a channel, the process's resident memory (RSS) measured before and while
//! they wait, and the peak of `goro::num_tasks()`.
//!
//! Run: `cargo run --release --example goroutine`
//!
//! What to look for: bytes per parked task (RSS growth / tasks) at both sizes, beside the
//! stack an OS thread reserves (Rust's default for spawned threads is 2 MiB; the main
//! thread's is usually 8 MiB). The seed claims "~20-40 MB" for 10,000 goroutines without
//! measuring; this program measures. A goro task holds only its future's state: nothing grows
//! on demand, so its size is fixed when it is spawned.
//!
//! The gotcha, treating tasks as free: memory grows linearly with live tasks. A
//! `TaskGroup::with_limit(n)` keeps at most n running and queues the rest, bounding the peak
//! of live tasks; the last rows show the peak and the memory with a limit.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use goro::sync::chan;
use goro::TaskGroup;

/// The group's limit in the gotcha.
const LIMIT: usize = 1_000;
/// Rust's default stack size for a spawned thread (std::thread::Builder's default).
const THREAD_STACK: usize = 2 * 1024 * 1024;

/// Parks `n` tasks on one channel; returns (RSS growth in KiB, peak live tasks).
async fn parked(n: usize) -> (Option<usize>, usize) {
    let before = common::rss_kib();
    let (tx, rx) = chan::bounded::<()>(0);
    let waiting = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (rx, waiting) = (rx.clone(), waiting.clone());
            goro::spawn(async move {
                waiting.fetch_add(1, Ordering::Relaxed);
                let _ = rx.recv().await;
            })
        })
        .collect();
    // Wait until every task has been polled and parked in its recv.
    while waiting.load(Ordering::Relaxed) < n {
        goro::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let peak = goro::num_tasks();
    let grown = common::rss_kib()
        .zip(before)
        .map(|(a, b)| a.saturating_sub(b));
    tx.close();
    for task in tasks {
        task.await.unwrap();
    }
    (grown, peak)
}

/// The same `n` tasks, spawned through a group that runs at most `limit` at once.
async fn limited(n: usize, limit: usize) -> (Option<usize>, usize) {
    let before = common::rss_kib();
    let group = TaskGroup::<()>::with_limit(limit);
    let peak = Arc::new(AtomicUsize::new(0));
    for _ in 0..n {
        let peak = peak.clone();
        group.spawn(async move {
            peak.fetch_max(goro::num_tasks(), Ordering::Relaxed);
            goro::yield_now().await;
            Ok(())
        });
    }
    let grown = common::rss_kib()
        .zip(before)
        .map(|(a, b)| a.saturating_sub(b));
    group.wait().await.unwrap();
    (grown, peak.load(Ordering::Relaxed))
}

fn mib(kib: Option<usize>) -> String {
    kib.map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

/// Runs one measurement in a fresh process (`goroutine <kind> <n>`), so memory freed by one
/// run cannot be reused by the next and hide its growth; returns (RSS growth KiB, peak).
fn measure_in_child(kind: &str, n: usize) -> (Option<usize>, usize) {
    let exe = std::env::current_exe().expect("own executable");
    let out = std::process::Command::new(exe)
        .args([kind, &n.to_string()])
        .output()
        .expect("could not run a measurement child");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut fields = text.split_whitespace();
    let grown = fields.next().and_then(|f| f.parse().ok());
    let peak = fields.next().and_then(|f| f.parse().ok()).unwrap_or(0);
    (grown, peak)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [kind, n] = args.as_slice() {
        // A measurement child: print "<rss growth KiB or ?> <peak live tasks>".
        let n: usize = n.parse().expect("a task count");
        let (grown, peak) = match kind.as_str() {
            "parked" => goro::block_on(parked(n)),
            _ => goro::block_on(limited(n, LIMIT)),
        };
        println!("{} {peak}", common::show(grown));
        return;
    }
    println!("goroutine: memory of live tasks (RSS growth while they wait; one process each)\n");
    let big = 1_000_000;
    let mut rows = Vec::new();
    let mut per_task_bytes = None;
    for n in [10_000, big] {
        let (grown, peak) = measure_in_child("parked", n);
        let per_task = grown.map(|k| k as f64 * 1024.0 / n as f64);
        rows.push(vec![
            n.to_string(),
            "none".into(),
            peak.to_string(),
            mib(grown),
            per_task.map_or("?".into(), |b| format!("{b:.0} B")),
        ]);
        per_task_bytes = per_task;
    }
    let (limited_kib, limited_peak) = measure_in_child("limited", big);
    rows.push(vec![
        big.to_string(),
        format!("TaskGroup::with_limit({LIMIT})"),
        limited_peak.to_string(),
        mib(limited_kib),
        "-".into(),
    ]);
    common::table(
        &[
            "tasks",
            "limit",
            "peak live tasks",
            "RSS growth",
            "per task",
        ],
        &rows,
    );
    if let Some(bytes) = per_task_bytes.filter(|b| *b > 0.0) {
        println!(
            "\nan OS thread reserves a {} MiB stack by default (Rust's spawned threads): {:.0}x \
             a parked task's footprint",
            THREAD_STACK / 1024 / 1024,
            THREAD_STACK as f64 / bytes
        );
    }
    println!(
        "with a limit, the group holds the waiting futures (boxed) but starts only {LIMIT} tasks"
    );
}
