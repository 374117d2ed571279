//! `metrics()` and `worker_index()`: what the counters say matches what the runtime did.

mod common;

use std::time::{Duration, Instant};

use common::{runtime, watchdog};

/// Busy work that keeps a worker occupied without awaiting.
fn spin(d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

#[test]
fn polls_are_counted_per_worker() {
    watchdog(30, || {
        let rt = runtime(2);
        let before: u64 = rt.metrics().workers.iter().map(|w| w.polled).sum();
        rt.block_on(async {
            let tasks: Vec<_> = (0..500)
                .map(|i| goro_runtime::spawn(async move { i }))
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        let m = rt.metrics();
        assert_eq!(m.workers.len(), 2);
        let polled: u64 = m.workers.iter().map(|w| w.polled).sum();
        assert!(
            polled - before >= 500,
            "500 tasks, {} polls",
            polled - before
        );
    });
}

#[test]
fn an_idle_worker_steals_from_a_busy_one() {
    watchdog(60, || {
        let rt = runtime(2);
        // Batches of busy tasks spawned from one task land in its worker's queue; the other
        // worker, woken to help, must steal some. Repeat until it has (it may be slow to get
        // a CPU on a loaded machine), within the watchdog.
        let mut batches = 0;
        while rt.metrics().workers.iter().map(|w| w.stolen).sum::<u64>() == 0 {
            batches += 1;
            assert!(batches <= 200, "nothing stolen after {batches} batches");
            rt.block_on(rt.spawn(async {
                let tasks: Vec<_> = (0..20)
                    .map(|_| goro_runtime::spawn(async { spin(Duration::from_millis(1)) }))
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            }))
            .unwrap();
        }
    });
}

#[test]
fn idle_workers_are_counted_as_parked() {
    watchdog(30, || {
        let rt = runtime(2);
        let deadline = Instant::now() + Duration::from_secs(20);
        while rt.metrics().workers.iter().any(|w| w.parked == 0) {
            assert!(Instant::now() < deadline, "a worker never went to sleep");
            std::thread::sleep(Duration::from_millis(5));
        }
        let m = rt.metrics();
        assert_eq!(m.injector_len, 0);
        assert!(m.workers.iter().all(|w| w.queue_len == 0));
    });
}

#[test]
fn live_tasks_and_blocking_threads_are_reported() {
    watchdog(30, || {
        let rt = runtime(1);
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let blocking = rt.spawn_blocking(move || rx.recv().ok());
        let sleepers: Vec<_> = (0..10)
            .map(|_| rt.spawn(goro_runtime::time::sleep(Duration::from_secs(60))))
            .collect();
        let m = rt.metrics();
        assert!(m.live_tasks >= 11, "{} live tasks", m.live_tasks);
        assert!(m.blocking_threads >= 1);
        for s in &sleepers {
            s.abort();
        }
        tx.send(()).unwrap();
        rt.block_on(blocking).unwrap();
    });
}

#[test]
fn worker_index_is_some_on_a_worker_and_none_elsewhere() {
    watchdog(30, || {
        let rt = runtime(3);
        let indexes = rt.block_on(async {
            assert_eq!(goro_runtime::worker_index(), None);
            let tasks: Vec<_> = (0..50)
                .map(|_| goro_runtime::spawn(async { goro_runtime::worker_index() }))
                .collect();
            let mut seen = Vec::new();
            for t in tasks {
                seen.push(t.await.unwrap());
            }
            seen
        });
        assert!(
            indexes.iter().all(|i| matches!(i, Some(i) if *i < 3)),
            "{indexes:?}"
        );
        let on_pool = rt
            .block_on(rt.spawn_blocking(goro_runtime::worker_index))
            .unwrap();
        assert_eq!(on_pool, None);
    });
}
