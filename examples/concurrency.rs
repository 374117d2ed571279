//! Concept 1, concurrency: two tasks make progress interleaved, in an order nobody chose.
//!
//! Go: `go task(1); go task(2)` with a `sync.WaitGroup`. goro: `goro::spawn` twice and
//! awaiting both handles; `goro::yield_now()` between steps is Go's `runtime.Gosched()`.
//!
//! Run: `cargo run --release --example concurrency`
//!
//! What to look for: one run's log of steps, then, over 200 runs, how many different
//! interleavings appeared and how often task 2 ran its first step before task 1 did. The
//! seed's program prints one order and says it "was non-deterministic"; this one counts the
//! orders it saw. On one worker (`GORO_MAXPROCS=1`) the order is the same every time: the
//! scheduler's choice is deterministic there, yet still not the launch order you might expect
//! once tasks yield.
//!
//! The gotcha, launch order is not run order, is in the counts: a program whose correctness
//! depends on task 1 going first fails in some of these runs.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Steps each task takes.
const STEPS: usize = 3;
/// How many times the pair of tasks is launched.
const RUNS: usize = 200;

/// Launches task 1 then task 2 and returns the order their steps ran in.
async fn one_run() -> Vec<(u8, usize)> {
    let log = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = [1u8, 2]
        .into_iter()
        .map(|id| {
            let log = log.clone();
            goro::spawn(async move {
                for step in 0..STEPS {
                    log.lock().unwrap().push((id, step));
                    goro::yield_now().await; // let the scheduler pick who goes next
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a task panicked");
    }
    let log = log.lock().unwrap().clone();
    log
}

fn describe(order: &[(u8, usize)]) -> String {
    order
        .iter()
        .map(|(id, step)| format!("{id}.{step}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[goro::main]
async fn main() {
    let workers = common::default_workers();
    println!("concurrency: two tasks of {STEPS} steps, launched as task 1 then task 2");
    println!("workers available to this runtime: {workers} (GORO_MAXPROCS overrides)\n");

    let first = one_run().await;
    println!(
        "one run, steps as they ran (task.step): {}\n",
        describe(&first)
    );

    let mut seen: HashMap<Vec<(u8, usize)>, usize> = HashMap::new();
    let mut task2_first = 0;
    for _ in 0..RUNS {
        let order = one_run().await;
        if order.first().map(|(id, _)| *id) == Some(2) {
            task2_first += 1;
        }
        *seen.entry(order).or_default() += 1;
    }
    let mut counts: Vec<_> = seen.into_iter().collect();
    counts.sort_by_key(|(_, runs)| std::cmp::Reverse(*runs));
    println!("over {RUNS} runs: {} distinct interleavings", counts.len());
    println!("task 2 took its first step before task 1 in {task2_first} of {RUNS} runs\n");
    let rows: Vec<Vec<String>> = counts
        .iter()
        .take(8)
        .map(|(order, n)| vec![n.to_string(), describe(order)])
        .collect();
    common::table(&["runs", "order (task.step)"], &rows);
    if counts.len() > 8 {
        println!("  ... and {} more orders", counts.len() - 8);
    }
}
