//! Concept 11, the machine (Go's M): OS threads come and go with blocking calls.
//!
//! Go: blocking calls make the runtime start more Ms; `LockOSThread` pins a goroutine to
//! one. goro: `spawn_blocking` runs blocking calls on a pool that grows on demand and
//! shrinks after its keep-alive (`Builder::thread_keep_alive`, 10 s by default; 500 ms here).
//!
//! Run: `cargo run --release --example machine`
//!
//! What to look for: the process's OS threads before, during and after 2 x N blocking calls:
//! the pool grows to one thread per call, then shrinks back once idle threads pass their
//! keep-alive. The seed's program locks each goroutine to its thread and prints GC stats
//! and a goroutine count; it never shows a thread being added; this one counts them.
//!
//! The gotcha: goro has no `LockOSThread`. Its analogue is a task that blocks the worker it
//! runs on: measure the stall this causes to a task queued on that worker. With a second
//! worker, an idle peer takes it over within milliseconds; on one worker, the monitor starts a
//! replacement worker once the block passes its threshold (10 ms), as Go starts a new M for
//! a P whose M blocks in a system call (the sleeping thread waits in the OS), and reports
//! the blocking task; with the
//! monitor off, the task waits the whole call. Then the same blocking call in
//! `spawn_blocking`, which stalls nobody.

mod common;

use std::time::{Duration, Instant};

/// How long each blocking call takes.
const BLOCK_FOR: Duration = Duration::from_millis(200);
/// How long an idle blocking thread lives.
const KEEP_ALIVE: Duration = Duration::from_millis(500);

/// A task spawned behind a blocking call on a runtime with `workers` workers: how long until
/// it starts.
fn stall(workers: usize, monitor: bool, use_spawn_blocking: bool) -> Duration {
    let threshold = monitor.then_some(goro::BLOCKED_WORKER_THRESHOLD);
    let rt = goro::Builder::new()
        .worker_threads(workers)
        .blocked_worker_threshold(threshold)
        .on_blocked_worker(|report| println!("the monitor reported:\ngoro: {report}\n"))
        .build()
        .expect("runtime");
    rt.block_on(rt.spawn(async move {
        let blocker = if use_spawn_blocking {
            goro::spawn_blocking(|| std::thread::sleep(BLOCK_FOR))
        } else {
            goro::spawn_blocking(|| ()) // nothing; the block happens right here, on the worker
        };
        let asked = Instant::now();
        let probe = goro::spawn(async move { asked.elapsed() });
        if !use_spawn_blocking {
            std::thread::sleep(BLOCK_FOR); // the worker itself blocks
        }
        let latency = probe.await.unwrap();
        blocker.await.unwrap();
        latency
    }))
    .unwrap()
}

fn main() {
    let n = common::hardware_threads();
    let calls = 2 * n;
    let rt = goro::Builder::new()
        .worker_threads(n)
        .thread_keep_alive(KEEP_ALIVE)
        .build()
        .expect("runtime");
    println!("machine: {calls} blocking calls of {BLOCK_FOR:?}, {n} workers, keep-alive {KEEP_ALIVE:?}\n");
    let mut rows = vec![vec![
        "before".to_string(),
        common::show(common::os_threads()),
        rt.blocking_threads().to_string(),
    ]];
    let during = rt.block_on(async {
        let calls: Vec<_> = (0..calls)
            .map(|_| goro::spawn_blocking(|| std::thread::sleep(BLOCK_FOR)))
            .collect();
        goro::time::sleep(BLOCK_FOR / 2).await;
        let during = (common::os_threads(), goro::num_tasks());
        for call in calls {
            call.await.unwrap();
        }
        during
    });
    rows.push(vec![
        "during".into(),
        common::show(during.0),
        rt.blocking_threads().to_string(),
    ]);
    rows.push(vec![
        "right after".into(),
        common::show(common::os_threads()),
        rt.blocking_threads().to_string(),
    ]);
    std::thread::sleep(KEEP_ALIVE * 3);
    rows.push(vec![
        format!("{:?} later", KEEP_ALIVE * 3),
        common::show(common::os_threads()),
        rt.blocking_threads().to_string(),
    ]);
    common::table(&["when", "OS threads", "blocking-pool threads"], &rows);

    println!("\ngotcha: a task spawned just before a {BLOCK_FOR:?} blocking call");
    let rows: Vec<Vec<String>> = [
        (
            "on the worker (std::thread::sleep in the task)",
            1,
            false,
            false,
        ),
        (
            "on the worker (std::thread::sleep in the task)",
            1,
            true,
            false,
        ),
        (
            "on the worker (std::thread::sleep in the task)",
            2,
            true,
            false,
        ),
        ("in spawn_blocking", 1, true, true),
    ]
    .into_iter()
    .map(|(how, workers, monitor, offload)| {
        vec![
            how.to_string(),
            workers.to_string(),
            if monitor { "on" } else { "off" }.to_string(),
            format!("{:?}", stall(workers, monitor, offload)),
        ]
    })
    .collect();
    common::table(
        &[
            "the blocking call runs",
            "workers",
            "monitor",
            "the spawned task waited",
        ],
        &rows,
    );
    println!(
        "\n(with a second worker, an idle peer takes a task stuck behind a blocked worker after\n\
         about 2 ms; on one worker, the monitor's replacement worker runs it once the block\n\
         passes 10 ms, and the monitor reports the blocking task above; with the monitor off,\n\
         nothing can)"
    );
}
