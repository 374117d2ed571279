//! Concept 8, CPU-bound work: a matrix product spread over the workers.
//!
//! Go: a 100x100 product, one goroutine per row behind a semaphore of `NumCPU`. goro: a
//! 512x512 `f64` product as one task per row, as one task per worker (a chunk of rows each),
//! and as 8 tasks per worker, each checked against the sequential result.
//!
//! Run: `cargo run --release --example cpu-bound`
//!
//! What to look for: the sequential time, each parallel layout's time and speedup. The seed
//! prints one timing and `result[0][0]`, which is always 0 for its inputs (row 0 of `b` is
//! all zeros); this program checks every cell against the sequential product.
//!
//! The gotcha, more tasks than CPUs for CPU-bound work: compare the one-chunk-per-worker row
//! with the 8x row and the per-row one. Extra tasks add scheduling work without adding cores.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

/// Matrix side.
const N: usize = 512;

type Matrix = Vec<f64>; // row-major N x N

fn inputs() -> (Matrix, Matrix) {
    let a = (0..N * N).map(|i| ((i / N + i % N) % 7) as f64).collect();
    let b = (0..N * N).map(|i| ((i / N * (i % N)) % 5) as f64).collect();
    (a, b)
}

/// Rows `rows` of a x b.
fn rows_of_product(a: &[f64], b: &[f64], rows: std::ops::Range<usize>) -> Vec<f64> {
    let mut out = vec![0.0; rows.len() * N];
    for (r, row) in rows.enumerate() {
        let out_row = &mut out[r * N..(r + 1) * N];
        for k in 0..N {
            let a_rk = a[row * N + k];
            let b_row = &b[k * N..(k + 1) * N];
            for (o, bv) in out_row.iter_mut().zip(b_row) {
                *o += a_rk * bv;
            }
        }
    }
    out
}

/// The product with the rows split into `tasks` tasks on a runtime with `workers` workers.
fn parallel(a: &Arc<Matrix>, b: &Arc<Matrix>, workers: usize, tasks: usize) -> (Matrix, Duration) {
    let rt = common::runtime(workers);
    let start = Instant::now();
    let product = rt.block_on(async {
        let chunk = N.div_ceil(tasks);
        let handles: Vec<_> = (0..N)
            .step_by(chunk)
            .map(|first| {
                let (a, b) = (a.clone(), b.clone());
                goro::spawn(async move { rows_of_product(&a, &b, first..(first + chunk).min(N)) })
            })
            .collect();
        let mut product = Vec::with_capacity(N * N);
        for handle in handles {
            product.extend(handle.await.unwrap());
        }
        product
    });
    (product, start.elapsed())
}

fn main() {
    let workers = common::hardware_threads();
    println!("cpu-bound: {N}x{N} f64 matrix product, {workers} workers\n");
    let (a, b) = inputs();
    let start = Instant::now();
    let expected = rows_of_product(&a, &b, 0..N);
    let sequential = start.elapsed();
    let (a, b) = (Arc::new(a), Arc::new(b));
    let mut rows = vec![vec![
        "sequential (1 thread)".to_string(),
        "-".into(),
        common::ms(sequential),
        "1.00x".into(),
        "reference".into(),
    ]];
    for (label, tasks) in [
        ("one task per row", N),
        ("one task per worker", workers),
        ("8 tasks per worker", 8 * workers),
    ] {
        let (product, time) = parallel(&a, &b, workers, tasks);
        let correct = product == expected;
        rows.push(vec![
            label.to_string(),
            tasks.to_string(),
            common::ms(time),
            format!("{:.2}x", sequential.as_secs_f64() / time.as_secs_f64()),
            if correct {
                "matches".into()
            } else {
                "WRONG".into()
            },
        ]);
        assert!(
            correct,
            "{label}: the product differs from the sequential one"
        );
    }
    common::table(&["layout", "tasks", "time", "speedup", "check"], &rows);
    println!(
        "\nchecksum of the product: {}",
        expected.iter().sum::<f64>()
    );
}
