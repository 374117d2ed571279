//! Concept 2, parallelism: two CPU loops run at the same instant on two workers, and one after
//! the other on one.
//!
//! Go: two goroutines summing 50M numbers under `GOMAXPROCS=n`. goro: two tasks on a runtime
//! built with `Builder::new().worker_threads(n)` (or `GORO_MAXPROCS=n`).
//!
//! Run: `cargo run --release --example parallelism`
//!
//! What to look for: each loop's time, the total, and the speedup of 2 workers over 1. The
//! seed's program claims its total is "less than 2x single-worker time" without measuring the
//! single worker; this one runs both. On a machine with one hardware thread the speedup
//! stays near 1: parallelism is a property of the hardware.
//!
//! The gotcha: with 1 worker the tasks are concurrent but not parallel — the total is the sum
//! of the two loops.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Additions per loop.
const ADDITIONS: u64 = 50_000_000;

/// Sums 0..ADDITIONS; `black_box` keeps the compiler from replacing the loop by a formula.
fn cpu_loop() -> (u64, Duration) {
    let start = Instant::now();
    let mut sum = 0u64;
    for i in 0..ADDITIONS {
        sum = black_box(sum.wrapping_add(black_box(i)));
    }
    (sum, start.elapsed())
}

/// Runs two loops as two tasks on a runtime with `workers` workers.
fn two_loops(workers: usize) -> (Vec<Duration>, Duration) {
    let rt = common::runtime(workers);
    let start = Instant::now();
    let loops = rt.block_on(async {
        let a = goro::spawn(async { cpu_loop() });
        let b = goro::spawn(async { cpu_loop() });
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        assert_eq!(a.0, b.0, "both loops compute the same sum");
        vec![a.1, b.1]
    });
    (loops, start.elapsed())
}

fn main() {
    println!("parallelism: two loops of {ADDITIONS} additions each");
    println!("hardware threads: {}\n", common::hardware_threads());
    let runs: Vec<(usize, Vec<Duration>, Duration)> = [2, 1]
        .into_iter()
        .map(|workers| {
            let (loops, total) = two_loops(workers);
            (workers, loops, total)
        })
        .collect();
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|(workers, loops, total)| {
            vec![
                workers.to_string(),
                common::ms(loops[0]),
                common::ms(loops[1]),
                common::ms(*total),
            ]
        })
        .collect();
    common::table(&["workers", "loop 1", "loop 2", "total"], &rows);
    let (two, one) = (&runs[0], &runs[1]);
    let speedup = one.2.as_secs_f64() / two.2.as_secs_f64();
    println!("\nspeedup of 2 workers over 1: {speedup:.2}x (2.00x = perfectly parallel)");
    let one_loop = (one.1[0] + one.1[1]).as_secs_f64() / 2.0;
    println!(
        "with 1 worker the total is {:.2}x one loop's time: the loops took turns",
        one.2.as_secs_f64() / one_loop
    );
}
