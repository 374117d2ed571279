//! Concept 5, CPU-bound against IO-bound work: more workers speed up the first, not the
//! second.
//!
//! Go: a CPU loop, then 100 goroutines in `time.Sleep(100ms)`. goro: the same two workloads,
//! each run on a 1-worker runtime and on one with a worker per hardware thread.
//!
//! Run: `cargo run --release --example cpu-vs-io`
//!
//! What to look for: the 2x2 table of wall times and the speedup column. CPU-bound work
//! speeds up with workers (up to the hardware threads); IO-bound work already overlaps on one
//! worker, so more workers change nothing. The seed times each workload once on the default
//! setting; the table varies the worker count, which is the point.
//!
//! The gotcha, a CPU-sized pool for IO-bound work, is the IO row: one worker is enough for
//! 100 waits; what limits them is how many are in flight, not how many workers run them.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Squares summed per CPU-bound job.
const CPU_ITERATIONS: u64 = 50_000_000;
/// IO-bound jobs (each one sleep).
const IO_JOBS: usize = 100;
/// How long each IO-bound job waits.
const IO_WAIT: Duration = Duration::from_millis(100);

fn cpu_job() -> u64 {
    let mut sum = 0u64;
    for i in 0..CPU_ITERATIONS {
        sum = sum.wrapping_add(black_box(i) * i);
    }
    sum
}

/// Runs `jobs` CPU jobs (one per task) on `workers` workers.
fn cpu_bound(workers: usize, jobs: usize) -> Duration {
    let rt = common::runtime(workers);
    let start = Instant::now();
    rt.block_on(async {
        let handles: Vec<_> = (0..jobs)
            .map(|_| goro::spawn(async { cpu_job() }))
            .collect();
        for handle in handles {
            black_box(handle.await.unwrap());
        }
    });
    start.elapsed()
}

/// Runs IO_JOBS sleeps (one per task) on `workers` workers.
fn io_bound(workers: usize) -> Duration {
    let rt = common::runtime(workers);
    let start = Instant::now();
    rt.block_on(async {
        let handles: Vec<_> = (0..IO_JOBS)
            .map(|_| goro::spawn(goro::time::sleep(IO_WAIT)))
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
    start.elapsed()
}

fn main() {
    let n = common::hardware_threads().max(2);
    // One CPU job per worker of the larger runtime: enough to keep all of them busy.
    let cpu_jobs = n;
    println!("cpu-vs-io: {cpu_jobs} CPU jobs of {CPU_ITERATIONS} squares; {IO_JOBS} IO jobs of {IO_WAIT:?}");
    println!("hardware threads: {}\n", common::hardware_threads());
    let cpu = [cpu_bound(1, cpu_jobs), cpu_bound(n, cpu_jobs)];
    let io = [io_bound(1), io_bound(n)];
    let row = |name: &str, t: [Duration; 2]| {
        vec![
            name.to_string(),
            common::ms(t[0]),
            common::ms(t[1]),
            format!("{:.2}x", t[0].as_secs_f64() / t[1].as_secs_f64()),
        ]
    };
    common::table(
        &["workload", "1 worker", &format!("{n} workers"), "speedup"],
        &[row("CPU-bound", cpu), row("IO-bound", io)],
    );
    println!(
        "\nIO-bound ideal: {IO_WAIT:?} on any worker count (sequential: {:?})",
        IO_WAIT * IO_JOBS as u32
    );
}
