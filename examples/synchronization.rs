//! Concept 17, synchronization: an atomic read-modify-write is exact; a load and a store
//! are not.
//!
//! Go: 1,000 goroutines doing `counter++` (a data race), then `atomic.AddInt64`. goro: Rust
//! refuses the unsynchronised `counter += 1` on shared memory at compile time, so the racy
//! version is written the way a race survives in Rust: a `load` then a `store` on an atomic,
//! with an `await` between them (the read-modify-write is not one indivisible step). Beside it,
//! `fetch_add`, which is.
//!
//! Run: `cargo run --release --example synchronization`
//!
//! What to look for: how many of the 1,000 increments the racy counter lost, over several
//! rounds, against the exact `fetch_add` count. The seed's racy count may or may not come out
//! wrong; here the count of lost updates is printed every round.
//!
//! The gotcha, an atomic for the counter but a plain map for the results: a map needs a
//! lock. `Mutex<HashMap>` collects every result; each task's entry is checked.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use goro::sync::Mutex;

/// Tasks per round.
const TASKS: u64 = 1_000;
/// Rounds.
const ROUNDS: usize = 5;

/// Load, give other tasks a turn, store: the window in which increments are lost.
async fn racy_increment(counter: &AtomicU64) {
    let seen = counter.load(Ordering::Relaxed);
    goro::yield_now().await;
    counter.store(seen + 1, Ordering::Relaxed);
}

async fn round() -> (u64, u64) {
    let racy = Arc::new(AtomicU64::new(0));
    let exact = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let (racy, exact) = (racy.clone(), exact.clone());
            goro::spawn(async move {
                racy_increment(&racy).await;
                exact.fetch_add(1, Ordering::Relaxed);
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    (racy.load(Ordering::Relaxed), exact.load(Ordering::Relaxed))
}

#[goro::main]
async fn main() {
    println!("synchronization: {TASKS} tasks increment two counters, {ROUNDS} rounds\n");
    println!("  round  load+store (racy)  lost  fetch_add (exact)");
    println!("  -----  -----------------  ----  -----------------");
    for r in 1..=ROUNDS {
        let (racy, exact) = round().await;
        println!("  {r:<5}  {racy:<17}  {:<4}  {exact}", TASKS - racy);
        assert_eq!(exact, TASKS, "fetch_add lost an update");
    }

    // The gotcha: the results go into a map behind a lock.
    let results = Arc::new(Mutex::new(HashMap::new()));
    let tasks: Vec<_> = (0..TASKS)
        .map(|i| {
            let results = results.clone();
            goro::spawn(async move {
                results.lock().await.insert(i, i * i);
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let results = results.lock().await;
    let complete = (0..TASKS).all(|i| results.get(&i) == Some(&(i * i)));
    println!(
        "\nMutex<HashMap>: {} of {TASKS} results stored, every value right: {complete}",
        results.len()
    );
}
