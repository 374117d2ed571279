//! Concept 14, work stealing: idle workers take tasks queued on a busy one.
//!
//! Go: 100 goroutines of uneven weight under `GOMAXPROCS(4)`; idle Ps steal. goro: 400 tasks
//! of uneven CPU work, all spawned by one task (so they all land in its worker's local
//! queue), on a runtime with a worker per hardware thread (at least 2); `goro::metrics()`
//! tells, per worker, how many tasks it ran and how many it stole.
//!
//! Run: `cargo run --release --example work-stealing`
//!
//! What to look for: every worker ran tasks although one spawned them all. The "stolen"
//! column counts the tasks a worker took from its peers' local queues; the others it ran came
//! through the shared injector, where a local queue that fills up (256 tasks) overflows. The seed prints one total and says "work stolen across
//! Ps" without observing a steal; this program counts them.
//!
//! The gotcha, a task assuming it stays on one worker: one task records `goro::worker_index()`
//! across several awaits while others keep the workers busy; the indexes it printed show it
//! resumed on different workers. Never key per-task state by the worker.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Tasks spawned from one worker.
const TASKS: u64 = 400;

/// Uneven CPU work: the first half is ten times heavier, as in the seed.
fn work(weight: u64) -> u64 {
    let mut sum = 0u64;
    for j in 0..weight * 1_000 {
        sum = sum.wrapping_add(black_box(j));
    }
    sum
}

fn main() {
    let workers = common::hardware_threads().max(2);
    let rt = common::runtime(workers);
    let before = rt.metrics();
    let start = Instant::now();
    let total = rt
        .block_on(rt.spawn(async {
            let spawner = goro::worker_index();
            let tasks: Vec<_> = (1..=TASKS)
                .map(|i| {
                    let weight = if i <= TASKS / 2 { i * 10 } else { i };
                    goro::spawn(async move { (work(weight), goro::worker_index()) })
                })
                .collect();
            let mut total = 0u64;
            let mut ran_on = vec![0usize; goro::metrics().workers.len()];
            for t in tasks {
                let (sum, index) = t.await.unwrap();
                total = total.wrapping_add(sum);
                if let Some(i) = index {
                    ran_on[i] += 1;
                }
            }
            (total, spawner, ran_on)
        }))
        .unwrap();
    let elapsed = start.elapsed();
    let after = rt.metrics();
    let (sum, spawner, ran_on) = total;
    println!("work-stealing: {TASKS} uneven tasks spawned by one task, on {workers} workers");
    println!(
        "the spawning task ran on worker {}; total {sum}, in {elapsed:?}\n",
        spawner.map_or("?".into(), |i| i.to_string())
    );
    let rows: Vec<Vec<String>> = after
        .workers
        .iter()
        .zip(&before.workers)
        .enumerate()
        .map(|(i, (a, b))| {
            vec![
                i.to_string(),
                ran_on[i].to_string(),
                (a.stolen - b.stolen).to_string(),
                (a.polled - b.polled).to_string(),
                (a.parked - b.parked).to_string(),
            ]
        })
        .collect();
    common::table(
        &[
            "worker",
            "of our tasks ran here",
            "tasks stolen",
            "polls",
            "sleeps",
        ],
        &rows,
    );

    // The gotcha: one task's worker across awaits, while busy neighbours keep stealing.
    let trail = rt
        .block_on(rt.spawn(async {
            let mut trail = Vec::new();
            for _ in 0..12 {
                let busy: Vec<_> = (0..8).map(|_| goro::spawn(async { work(200) })).collect();
                trail.push(goro::worker_index());
                goro::time::sleep(Duration::from_millis(2)).await;
                for b in busy {
                    black_box(b.await.unwrap());
                }
            }
            trail
        }))
        .unwrap();
    let trail: Vec<String> = trail
        .iter()
        .map(|i| i.map_or("?".into(), |i| i.to_string()))
        .collect();
    let distinct = {
        let mut t = trail.clone();
        t.sort();
        t.dedup();
        t.len()
    };
    println!(
        "\ngotcha: one task's worker index after each of 12 awaits: {}",
        trail.join(" ")
    );
    println!("it ran on {distinct} different worker(s)");
}
