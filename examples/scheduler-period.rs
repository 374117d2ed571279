//! Concept 6, pool size against throughput: how many tasks should drain a queue of work?
//!
//! Go: 10,000 items sent into a channel and drained by a pool of `NumCPU` goroutines, then
//! by one goroutine per item; each item sleeps 1 µs. goro: the same with `chan::bounded`
//! and pools of 2, 8, 64, 512 tasks and one task per item, for two kinds of item: items
//! that wait (a sleep) and items of about 1 µs of CPU work.
//!
//! Run: `cargo run --release --example scheduler-period`
//!
//! What to look for: for CPU items, the sweep shows what each extra task costs, and the best
//! size is marked; for waiting items, more tasks overlap more waits, so bigger pools win. The
//! seed's own program shows the second (its one-goroutine-per-item run is faster), contrary
//! to its text, which says more goroutines lose; both halves are measured here.
//!
//! Timer resolution: goro's timers have millisecond resolution and a sleep never ends early,
//! so the seed's 1 µs sleep becomes a wait of up to about 1 ms here (measured below). Go's
//! timers are finer, but a 1 µs sleep still costs Go a trip through its scheduler.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use goro::sync::chan;

/// Items in the queue.
const ITEMS: usize = 10_000;
/// The seed's per-item sleep.
const ITEM_SLEEP: Duration = Duration::from_micros(1);

/// About a microsecond of arithmetic.
fn cpu_item(seed: u64) -> u64 {
    let mut x = seed;
    for _ in 0..300 {
        x = black_box(
            x.wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407),
        );
    }
    x
}

/// Drains ITEMS through a channel with `pool` tasks; returns the wall time.
async fn drain(pool: usize, waiting: bool) -> Duration {
    let (tx, rx) = chan::bounded::<u64>(ITEMS);
    let start = Instant::now();
    let workers: Vec<_> = (0..pool)
        .map(|_| {
            let rx = rx.clone();
            goro::spawn(async move {
                let mut acc = 0u64;
                while let Some(item) = rx.recv().await {
                    if waiting {
                        goro::time::sleep(ITEM_SLEEP).await;
                    } else {
                        acc ^= cpu_item(item);
                    }
                }
                acc
            })
        })
        .collect();
    for i in 0..ITEMS as u64 {
        tx.send(i).await.unwrap();
    }
    tx.close();
    for worker in workers {
        black_box(worker.await.unwrap());
    }
    start.elapsed()
}

fn sweep(waiting: bool, pools: &[usize]) -> Vec<Duration> {
    pools
        .iter()
        .map(|&pool| goro::block_on(drain(pool, waiting)))
        .collect()
}

fn print_sweep(title: &str, pools: &[usize], times: &[Duration]) {
    let best = times
        .iter()
        .enumerate()
        .min_by_key(|(_, t)| **t)
        .map(|(i, _)| i);
    let rows: Vec<Vec<String>> = pools
        .iter()
        .zip(times)
        .enumerate()
        .map(|(i, (pool, t))| {
            vec![
                if *pool == ITEMS {
                    format!("{pool} (one per item)")
                } else {
                    pool.to_string()
                },
                common::ms(*t),
                format!("{:.0} ns", common::ns_per(*t, ITEMS)),
                if Some(i) == best {
                    "<- best".into()
                } else {
                    String::new()
                },
            ]
        })
        .collect();
    println!("{title}");
    common::table(&["pool tasks", "wall", "per item", ""], &rows);
}

fn main() {
    let pools = [2, 8, 64, 512, ITEMS];
    println!(
        "scheduler-period: {ITEMS} items, workers: {}\n",
        common::default_workers()
    );
    let one_sleep = goro::block_on(async {
        let start = Instant::now();
        goro::time::sleep(ITEM_SLEEP).await;
        start.elapsed()
    });
    println!("a sleep of {ITEM_SLEEP:?} took {one_sleep:?} here (goro timers: 1 ms resolution)\n");

    let cpu = sweep(false, &pools);
    print_sweep("items of ~1 µs CPU work:", &pools, &cpu);
    println!();
    let waiting = sweep(true, &pools);
    print_sweep("items that sleep 1 µs:", &pools, &waiting);
    println!(
        "\nwaiting items: 2 tasks took {:.1}x as long as one task per item",
        waiting[0].as_secs_f64() / waiting[pools.len() - 1].as_secs_f64()
    );
}
