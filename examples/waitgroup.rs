//! Concept 19, WaitGroup: wait for a set of tasks — with `add` before each spawn.
//!
//! Go: `wg.Add(1)` before `go worker(...)`, `defer wg.Done()` in it, `wg.Wait()`. goro:
//! `goro::sync::WaitGroup` with the same `add`, `done` and `wait().await`; a clone shares the
//! counter.
//!
//! Run: `cargo run --release --example waitgroup`
//!
//! What to look for: the workers' results collected after `wait`, all present.
//!
//! The gotcha, `add` inside the task: `wait` can run before any task has called `add`, see a
//! zero counter and return at once. Over 1,000 trials this program counts how often `wait`
//! returned before every task had run, for both placements of `add`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use goro::sync::{chan, WaitGroup};

/// Workers per trial.
const WORKERS: usize = 5;
/// Trials of each placement.
const TRIALS: usize = 1_000;

/// One trial: spawns WORKERS tasks, waits, and reports whether all had run by then.
async fn trial(add_inside: bool) -> bool {
    let wg = WaitGroup::new();
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..WORKERS {
        if !add_inside {
            wg.add(1);
        }
        let (wg, ran) = (wg.clone(), ran.clone());
        goro::spawn(async move {
            if add_inside {
                wg.add(1); // too late if `wait` already saw zero
            }
            goro::yield_now().await; // some work
            ran.fetch_add(1, Ordering::SeqCst);
            wg.done();
        });
    }
    wg.wait().await;
    ran.load(Ordering::SeqCst) == WORKERS
}

#[goro::main]
async fn main() {
    // Go's program: workers send squares into a buffered channel; a task closes it after wait.
    let (tx, rx) = chan::bounded(WORKERS);
    let wg = WaitGroup::new();
    for id in 1..=WORKERS as u64 {
        wg.add(1); // before the spawn
        let (tx, wg) = (tx.clone(), wg.clone());
        goro::spawn(async move {
            tx.send(id * id).await.unwrap();
            wg.done();
        });
    }
    // Go's `go func() { wg.Wait(); close(results) }()`.
    goro::spawn(async move {
        wg.wait().await;
        tx.close();
    });
    let mut results = Vec::new();
    while let Some(r) = rx.recv().await {
        results.push(r);
    }
    results.sort_unstable();
    println!("waitgroup: {WORKERS} workers' results: {results:?}");
    assert_eq!(results, [1, 4, 9, 16, 25]);

    println!("\ngotcha: where `add` is called, over {TRIALS} trials of {WORKERS} workers");
    println!("  add(1) called                 wait returned early");
    println!("  ----------------------------  -------------------");
    for (label, inside) in [
        ("before spawn (correct)", false),
        ("inside the task (the bug)", true),
    ] {
        let mut early = 0;
        for _ in 0..TRIALS {
            if !trial(inside).await {
                early += 1;
            }
        }
        println!("  {label:<28}  {early} of {TRIALS}");
    }
}
