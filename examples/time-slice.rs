//! Concept 4, time slices and switch cost: what a hand-off between two tasks costs, next to
//! one between two OS threads.
//!
//! Go: two goroutines ping-ponging over an unbuffered channel under `GOMAXPROCS(1)`. goro:
//! two tasks over `chan::bounded(0)` on a 1-worker runtime; beside them two OS threads over
//! `std::sync::mpsc::sync_channel(0)`, where every hand-off is a real OS context switch.
//!
//! Run: `cargo run --release --example time-slice`
//!
//! What to look for: the average cost per switch for tasks and for OS threads. The seed
//! calls a goroutine hand-off an OS context switch; it is not one — the OS thread stays, the
//! task changes — and the two rows show the difference.
//!
//! The gotcha, more tasks than work: 1M trivial tasks spawned and awaited, against the same
//! additions in a plain loop: what each task costs when it does almost nothing.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use goro::sync::chan;

/// Round trips (each is two switches).
const ROUND_TRIPS: usize = 100_000;
/// Trivial tasks for the gotcha.
const TRIVIAL: usize = 1_000_000;

fn tasks_ping_pong() -> Duration {
    let rt = common::runtime(1);
    rt.block_on(async {
        let (ping_tx, ping_rx) = chan::bounded::<()>(0);
        let (pong_tx, pong_rx) = chan::bounded::<()>(0);
        let ponger = goro::spawn(async move {
            while ping_rx.recv().await.is_some() {
                pong_tx.send(()).await.unwrap();
            }
        });
        // The pinger is a task too, so both sides run on the one worker.
        let pinger = goro::spawn(async move {
            let start = Instant::now();
            for _ in 0..ROUND_TRIPS {
                ping_tx.send(()).await.unwrap();
                pong_rx.recv().await.unwrap();
            }
            start.elapsed()
        });
        let elapsed = pinger.await.unwrap();
        ponger.await.unwrap();
        elapsed
    })
}

fn threads_ping_pong() -> Duration {
    let (ping_tx, ping_rx) = std::sync::mpsc::sync_channel::<()>(0);
    let (pong_tx, pong_rx) = std::sync::mpsc::sync_channel::<()>(0);
    let ponger = std::thread::spawn(move || {
        while ping_rx.recv().is_ok() {
            pong_tx.send(()).unwrap();
        }
    });
    let start = Instant::now();
    for _ in 0..ROUND_TRIPS {
        ping_tx.send(()).unwrap();
        pong_rx.recv().unwrap();
    }
    let elapsed = start.elapsed();
    drop(ping_tx);
    ponger.join().unwrap();
    elapsed
}

fn trivial_tasks() -> (Duration, Duration) {
    let rt = common::runtime(1);
    let spawned = rt.block_on(async {
        let start = Instant::now();
        let handles: Vec<_> = (0..TRIVIAL)
            .map(|i| goro::spawn(async move { black_box(i as u64 + 1) }))
            .collect();
        let mut sum = 0u64;
        for handle in handles {
            sum += handle.await.unwrap();
        }
        black_box(sum);
        start.elapsed()
    });
    let start = Instant::now();
    let mut sum = 0u64;
    for i in 0..TRIVIAL {
        sum += black_box(i as u64 + 1);
    }
    black_box(sum);
    (spawned, start.elapsed())
}

fn main() {
    println!("time-slice: {ROUND_TRIPS} round trips, 2 switches each\n");
    let tasks = tasks_ping_pong();
    let threads = threads_ping_pong();
    let switches = ROUND_TRIPS * 2;
    common::table(
        &["hand-off between", "total", "per switch"],
        &[
            vec![
                "2 goro tasks, 1 worker, bounded(0)".into(),
                common::ms(tasks),
                format!("{:.0} ns", common::ns_per(tasks, switches)),
            ],
            vec![
                "2 OS threads, sync_channel(0)".into(),
                common::ms(threads),
                format!("{:.0} ns", common::ns_per(threads, switches)),
            ],
        ],
    );
    println!(
        "\nan OS-thread hand-off cost {:.1}x a task hand-off here",
        threads.as_secs_f64() / tasks.as_secs_f64()
    );

    let (spawned, looped) = trivial_tasks();
    println!("\ngotcha: {TRIVIAL} trivial units of work (one addition each)");
    common::table(
        &["as", "total", "per unit"],
        &[
            vec![
                "one spawned task each".into(),
                common::ms(spawned),
                format!("{:.1} ns", common::ns_per(spawned, TRIVIAL)),
            ],
            vec![
                "a plain loop".into(),
                common::ms(looped),
                format!("{:.1} ns", common::ns_per(looped, TRIVIAL)),
            ],
        ],
    );
    println!(
        "\na task per addition cost {:.0}x the addition itself",
        spawned.as_secs_f64() / looped.as_secs_f64().max(1e-9)
    );
}
