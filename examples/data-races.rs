//! Concept 20, data races: Rust rejects the unsynchronised map at compile time; the race it
//! cannot reject is a check-then-act split across two critical sections.
//!
//! Go: 100 goroutines writing one `map` (a data race, a likely crash), fixed with `sync.Map`.
//! goro: the unsynchronised version does not compile — a `HashMap` shared between tasks
//! cannot be mutated without a lock (`Arc<HashMap>` gives only `&HashMap`; `&mut` cannot be
//! shared across tasks). The fixes are timed: one `Mutex<HashMap>`, and a sharded map (16
//! `Mutex<HashMap>`s picked by key hash), which lets writers on different shards proceed at
//! once.
//!
//! Run: `cargo run --release --example data-races`
//!
//! What to look for: both maps hold every key; the time each took with 100 writer tasks.
//!
//! The gotcha, a race Rust does not prevent: "if the balance is enough, withdraw" where the
//! check and the update take the lock separately, with an `await` between them (a 1 ms
//! sleep, standing in for a call to another service). Every step is
//! memory-safe, yet two tasks both see enough money and both withdraw: the program counts the
//! withdrawals that should have been refused, then shows the fix (check and act under one
//! guard).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::sync::Mutex;

/// Writer tasks.
const WRITERS: usize = 100;
/// Keys each writer inserts.
const KEYS_PER_WRITER: usize = 1_000;
/// Shards of the sharded map.
const SHARDS: usize = 16;

async fn one_mutex() -> (usize, Duration) {
    let map = Arc::new(Mutex::new(HashMap::new()));
    let start = Instant::now();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let map = map.clone();
            goro::spawn(async move {
                for k in 0..KEYS_PER_WRITER {
                    map.lock().await.insert(format!("key{w}-{k}"), 1);
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let elapsed = start.elapsed();
    let len = map.lock().await.len();
    (len, elapsed)
}

async fn sharded() -> (usize, Duration) {
    let shards: Arc<Vec<Mutex<HashMap<String, u32>>>> =
        Arc::new((0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect());
    let hasher = RandomState::new();
    let start = Instant::now();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (shards, hasher) = (shards.clone(), hasher.clone());
            goro::spawn(async move {
                for k in 0..KEYS_PER_WRITER {
                    let key = format!("key{w}-{k}");
                    let shard = hasher.hash_one(&key) as usize % SHARDS;
                    shards[shard].lock().await.insert(key, 1);
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let elapsed = start.elapsed();
    let mut len = 0;
    for shard in shards.iter() {
        len += shard.lock().await.len();
    }
    (len, elapsed)
}

/// 100 tasks each try to withdraw 10 from a balance of 500: at most 50 may succeed.
async fn withdrawals(split: bool) -> (u32, i64) {
    let balance = Arc::new(Mutex::new(500i64));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let balance = balance.clone();
            goro::spawn(async move {
                if split {
                    let enough = *balance.lock().await >= 10; // check, lock released...
                    goro::time::sleep(Duration::from_millis(1)).await; // ...others run here...
                    if enough {
                        *balance.lock().await -= 10; // ...act on a stale check
                        return 1;
                    }
                    0
                } else {
                    let mut guard = balance.lock().await; // check and act under one guard
                    goro::time::sleep(Duration::from_millis(1)).await;
                    if *guard >= 10 {
                        *guard -= 10;
                        return 1;
                    }
                    0
                }
            })
        })
        .collect();
    let mut done = 0;
    for t in tasks {
        done += t.await.unwrap();
    }
    let left = *balance.lock().await;
    (done, left)
}

#[goro::main]
async fn main() {
    let keys = WRITERS * KEYS_PER_WRITER;
    println!("data-races: {WRITERS} tasks write {keys} keys into one shared map\n");
    let (a_len, a_time) = one_mutex().await;
    let (b_len, b_time) = sharded().await;
    println!("  map                           keys      time");
    println!("  ----------------------------  --------  ---------");
    println!("  Mutex<HashMap>                {a_len:<8}  {a_time:?}");
    println!("  {SHARDS} shards of Mutex<HashMap>    {b_len:<8}  {b_time:?}");
    assert_eq!((a_len, b_len), (keys, keys), "a map lost keys");

    println!("\ngotcha: 100 withdrawals of 10 from a balance of 500 (at most 50 can succeed)");
    println!("  check and act                         withdrawals  balance left");
    println!("  ------------------------------------  -----------  ------------");
    for (label, split) in [
        ("under two separate locks (the race)", true),
        ("under one guard (the fix)", false),
    ] {
        let (done, left) = withdrawals(split).await;
        println!("  {label:<36}  {done:<11}  {left}");
    }
}
