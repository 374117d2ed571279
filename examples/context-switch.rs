//! Concept 7, the cost of a hand-off: a channel used as a lock against a mutex.
//!
//! Go: a goroutine and main handing a token back and forth over two unbuffered channels,
//! 1M times, under `GOMAXPROCS(1)`. goro: 1M critical sections on a 1-worker runtime, guarded
//! once by `goro::sync::Mutex` and once by an unbuffered channel used as a lock.
//!
//! Run: `cargo run --release --example context-switch`
//!
//! What to look for: nanoseconds per critical section for each, and their ratio. The seed's
//! program measures nothing (it prints "done" and points at a benchmark that does not
//! exist); this one times both. What it calls an OS context switch is a switch between tasks
//! on one OS thread.
//!
//! The gotcha, an unbuffered channel as a mutex: a lock held by a "lock server" task costs
//! two hand-offs per critical section (take the token from the server, give it back), where
//! an uncontended `Mutex` costs two atomic operations and no switch at all.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::sync::{chan, Mutex};

/// Critical sections in all.
const SECTIONS: usize = 1_000_000;
/// Tasks sharing the lock.
const TASKS: usize = 4;

async fn with_mutex() -> (Duration, u64) {
    let counter = Arc::new(Mutex::new(0u64));
    let start = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let counter = counter.clone();
            goro::spawn(async move {
                for _ in 0..SECTIONS / TASKS {
                    *counter.lock().await += 1;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = start.elapsed();
    let total = *counter.lock().await;
    (elapsed, total)
}

/// The lock is a server task: `acquire` receives the token from it, `release` sends it back.
async fn with_channel_lock() -> (Duration, u64) {
    let (acquire_tx, acquire_rx) = chan::bounded::<u64>(0);
    let (release_tx, release_rx) = chan::bounded::<u64>(0);
    // The guarded value travels with the token: whoever holds it may change it.
    let server = goro::spawn(async move {
        let mut value = 0u64;
        while acquire_tx.send(value).await.is_ok() {
            match release_rx.recv().await {
                Some(v) => value = v,
                None => break,
            }
        }
        value
    });
    let start = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let (acquire_rx, release_tx) = (acquire_rx.clone(), release_tx.clone());
            goro::spawn(async move {
                for _ in 0..SECTIONS / TASKS {
                    let value = acquire_rx.recv().await.unwrap();
                    release_tx.send(value + 1).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = start.elapsed();
    drop((acquire_rx, release_tx));
    (elapsed, server.await.unwrap())
}

fn main() {
    println!("context-switch: {SECTIONS} critical sections by {TASKS} tasks on 1 worker\n");
    let rt = common::runtime(1);
    let (mutex, mutex_total) = rt.block_on(with_mutex());
    let (channel, channel_total) = rt.block_on(with_channel_lock());
    assert_eq!(mutex_total, SECTIONS as u64, "the mutex lost an update");
    assert_eq!(
        channel_total, SECTIONS as u64,
        "the channel lock lost an update"
    );
    common::table(
        &["guarded by", "total", "per section", "counter"],
        &[
            vec![
                "goro::sync::Mutex".into(),
                common::ms(mutex),
                format!("{:.0} ns", common::ns_per(mutex, SECTIONS)),
                mutex_total.to_string(),
            ],
            vec![
                "unbuffered channel (lock server)".into(),
                common::ms(channel),
                format!("{:.0} ns", common::ns_per(channel, SECTIONS)),
                channel_total.to_string(),
            ],
        ],
    );
    println!(
        "\nthe channel used as a lock cost {:.1}x the mutex per critical section",
        channel.as_secs_f64() / mutex.as_secs_f64()
    );
}
