//! Concept 18, orchestration: a pipeline of tasks joined by channels, each stage closing its
//! output when its input ends.
//!
//! Go: `generate → square → (fan-in) → range`, each stage a goroutine with `defer
//! close(out)`. goro: the same stages as tasks over `chan::bounded(0)`; a stage "closes" its
//! output by dropping its `Sender` (or calling `close()`), and `while let Some(v) =
//! rx.recv().await` is Go's `for v := range ch`.
//!
//! Run: `cargo run --release --example orchestration`
//!
//! What to look for: the squares as they arrive, the sum checked against the formula, and a
//! fan-in of two squarers. The seed defines a `fanIn` it never calls; here it runs.
//!
//! The gotcha, a stage that forgets to close its output: the consumer's `recv` waits for ever.
//! Go stops such a program with "all goroutines are asleep - deadlock!"; so does goro:
//! `block_on` panics with "all tasks are asleep - deadlock!" once nothing in the process can
//! wake its future. The example runs the stuck consumer twice: guarded by
//! `goro::time::timeout` (it prints how many values arrived before the pipeline went
//! silent), then unguarded, catching goro's report and printing its first line.

use std::time::Duration;

use goro::sync::chan::{self, Receiver};

const N: u64 = 100;

fn generate(limit: u64) -> Receiver<u64> {
    let (tx, rx) = chan::bounded(0);
    goro::spawn(async move {
        for n in 1..=limit {
            tx.send(n).await.unwrap();
        }
        // `tx` is dropped here: the channel closes, as Go's `defer close(out)`.
    });
    rx
}

fn square(input: Receiver<u64>, close_when_done: bool) -> Receiver<u64> {
    let (tx, rx) = chan::bounded(0);
    goro::spawn(async move {
        while let Some(n) = input.recv().await {
            tx.send(n * n).await.unwrap();
        }
        if !close_when_done {
            // The bug: keep the sender alive (as a Go stage without `close(out)` would).
            std::mem::forget(tx);
        }
    });
    rx
}

/// Merges several inputs into one output, closed when every input has closed.
fn fan_in(inputs: Vec<Receiver<u64>>) -> Receiver<u64> {
    let (tx, rx) = chan::bounded(0);
    for input in inputs {
        let tx = tx.clone();
        goro::spawn(async move {
            while let Some(v) = input.recv().await {
                tx.send(v).await.unwrap();
            }
        });
    }
    rx // the last clone of `tx` drops when the last merger ends
}

fn main() {
    goro::block_on(pipelines());

    // The same stuck consumer without a timeout: nothing can ever wake it, and goro says so
    // (the panic message is also printed by Rust's panic hook, above our own line).
    let stuck = square(generate(N), false);
    let started = std::time::Instant::now();
    let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        goro::block_on(async {
            let mut got = 0;
            while stuck.recv().await.is_some() {
                got += 1;
            }
            got
        })
    }));
    match report {
        Ok(got) => println!("the unclosed pipeline closed after all (unexpected): {got} values"),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("");
            println!(
                "without the timeout, goro reported after {:.1?}: {}",
                started.elapsed(),
                message.lines().next().unwrap_or("")
            );
        }
    }
}

async fn pipelines() {
    let expected: u64 = N * (N + 1) * (2 * N + 1) / 6;

    let squares = square(generate(5), true);
    let mut first = Vec::new();
    while let Some(v) = squares.recv().await {
        first.push(v);
    }
    println!("orchestration: generate(1..=5) -> square: {first:?}");

    // Two squarers share the generator's output (fan-out), then merge (fan-in).
    let numbers = generate(N);
    let merged = fan_in(vec![square(numbers.clone(), true), square(numbers, true)]);
    let (mut sum, mut count) = (0, 0);
    while let Some(v) = merged.recv().await {
        sum += v;
        count += 1;
    }
    println!(
        "generate(1..={N}) -> 2 squarers -> fan-in: {count} values, sum {sum}, expected {expected}"
    );
    assert_eq!(sum, expected);

    // The gotcha: the squarer never closes its output.
    let stuck = square(generate(N), false);
    let (mut got, mut stuck_sum) = (0, 0);
    let silence = Duration::from_millis(500);
    loop {
        match goro::time::timeout(silence, stuck.recv()).await {
            Ok(Some(v)) => {
                got += 1;
                stuck_sum += v;
            }
            Ok(None) => {
                println!("\nthe unclosed pipeline closed after all (unexpected)");
                break;
            }
            Err(_) => {
                println!(
                    "\ngotcha: a squarer that never closes its output: {got} of {N} values (sum \
                     {stuck_sum}) arrived, then recv got nothing for {silence:?}; the channel \
                     is still open (is_closed() = {}), so a recv without a timeout waits for ever",
                    stuck.is_closed()
                );
                break;
            }
        }
    }
}
