//! The blocked-worker monitor (`executor/monitor.rs`): a task that blocks its worker is
//! reported once, a replacement worker keeps the runtime's capacity, replacements are
//! bounded and leave once the blocked worker is back, and an idle runtime keeps no monitor
//! thread. Its own test binary, so its own process: it counts threads and blocks workers.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{eventually, threads_named, watchdog};
use goro_runtime::{BlockedWorker, Builder, Runtime};

/// Short enough that the tests run quickly, long enough that no poll of theirs that does not
/// block comes near it.
const THRESHOLD: Duration = Duration::from_millis(20);

/// How long a blocked task waits for the release that only another task can give: far
/// beyond any delay of a loaded machine, so a timeout means the other task never ran.
const RELEASE_WAIT: Duration = Duration::from_secs(30);

/// A runtime whose threads are named `name-...`, its reports collected.
fn runtime(name: &str, workers: usize) -> (Runtime, Arc<Mutex<Vec<BlockedWorker>>>) {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = reports.clone();
    let rt = Builder::new()
        .worker_threads(workers)
        .thread_name(name)
        .blocked_worker_threshold(Some(THRESHOLD))
        .on_blocked_worker(move |r| sink.lock().unwrap().push(r.clone()))
        .build()
        .expect("runtime");
    (rt, reports)
}

/// The number of worker threads (own and replacements) of the runtime named `name`.
fn worker_threads(name: &str) -> usize {
    threads_named(&format!("{name}-worker")).len()
}

#[test]
fn a_replacement_runs_new_tasks_and_timers_while_the_only_worker_blocks() {
    watchdog(120, || {
        let (rt, _) = runtime("bwrepl", 1);
        let (release, released) = mpsc::channel::<()>();
        let (started_tx, started) = mpsc::channel::<()>();
        // Blocks the only worker until another task releases it.
        let blocker = rt.spawn(async move {
            started_tx.send(()).unwrap();
            released.recv_timeout(RELEASE_WAIT)
        });
        started.recv().unwrap();
        let helper = rt.spawn(async move {
            goro_runtime::time::sleep(Duration::from_millis(5)).await;
            release.send(()).unwrap();
        });
        rt.block_on(helper).unwrap();
        let out = rt.block_on(blocker).unwrap();
        assert_eq!(
            out,
            Ok(()),
            "the blocked worker was released by its replacement"
        );
        assert!(
            eventually(Duration::from_secs(10), || {
                rt.metrics().replacements_running == 0 && worker_threads("bwrepl") == 1
            }),
            "the replacement left once the worker was back: {:?}",
            threads_named("bwrepl")
        );
    });
}

#[test]
fn a_task_woken_into_the_blocked_workers_lifo_slot_runs() {
    watchdog(120, || {
        let (rt, _) = runtime("bwlifo", 1);
        let out = rt.block_on(rt.spawn(async {
            let (tx, rx) = goro_sync::chan::bounded::<()>(1);
            let (release, released) = mpsc::channel::<()>();
            let woken = goro_runtime::spawn(async move {
                rx.recv().await.unwrap();
                release.send(()).unwrap();
            });
            goro_runtime::yield_now().await; // `woken` parks on the channel
            tx.send(()).await.unwrap(); // wakes it into this worker's LIFO slot
            let out = released.recv_timeout(RELEASE_WAIT); // and blocks the worker
            woken.await.unwrap();
            out
        }));
        assert_eq!(out.unwrap(), Ok(()));
    });
}

#[test]
fn the_blocking_task_is_reported_once_with_its_name_and_location() {
    watchdog(120, || {
        let (rt, reports) = runtime("bwreport", 2);
        let line = line!() + 4; // the `.spawn(` below
        let id = rt.block_on(async {
            let task = goro_runtime::task::Builder::new()
                .name("resize")
                .spawn(async {
                    // Two long polls of the same task: one report.
                    std::thread::sleep(Duration::from_millis(150));
                    goro_runtime::yield_now().await;
                    std::thread::sleep(Duration::from_millis(150));
                });
            let id = task.id().expect("a task id");
            task.await.unwrap();
            id
        });
        let reports = reports.lock().unwrap().clone();
        assert_eq!(reports.len(), 1, "{reports:#?}");
        let r = &reports[0];
        assert_eq!(r.task().id(), id);
        assert_eq!(r.task().name(), Some("resize"));
        assert_eq!(r.task().location().file(), file!());
        assert_eq!(r.task().location().line(), line);
        assert!(r.blocked_for() >= THRESHOLD, "{r:?}");
        assert!(r.replaced(), "{r:?}");
        assert!(!r.on_cpu(), "a sleeping task is not computing: {r:?}");
        let text = r.to_string();
        assert!(text.contains("\"resize\" held worker"), "{text}");
        assert!(text.contains("spawn_blocking"), "{text}");
    });
}

#[test]
fn a_computing_task_is_reported_but_gets_no_replacement() {
    watchdog(120, || {
        let (rt, reports) = runtime("bwcpu", 1);
        let spinner = rt.spawn(async {
            // Computes for 300 ms without awaiting: on its CPU the whole time.
            let start = Instant::now();
            let mut x = 0u64;
            while start.elapsed() < Duration::from_millis(300) {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
            x
        });
        let end = Instant::now() + Duration::from_millis(250);
        while Instant::now() < end {
            // At most: a listing of /proc/self/task can miss a thread while others come and go.
            assert!(worker_threads("bwcpu") <= 1, "{:?}", threads_named("bwcpu"));
            assert_eq!(rt.metrics().replacements_running, 0);
            std::thread::sleep(Duration::from_millis(10));
        }
        rt.block_on(spinner).unwrap();
        let reports = reports.lock().unwrap().clone();
        assert_eq!(reports.len(), 1, "{reports:#?}");
        assert!(reports[0].on_cpu(), "{:?}", reports[0]);
        assert!(!reports[0].replaced(), "{:?}", reports[0]);
        assert!(
            reports[0].to_string().contains("computing"),
            "{}",
            reports[0]
        );
        assert_eq!(rt.metrics().replacements_running, 0);
    });
}

#[test]
fn replacements_are_bounded_and_all_leave() {
    watchdog(120, || {
        let name = "bwbound";
        let reports = Arc::new(AtomicUsize::new(0));
        let counted = reports.clone();
        let rt = Builder::new()
            .worker_threads(1)
            .thread_name(name)
            .blocked_worker_threshold(Some(THRESHOLD))
            .max_replacement_workers(2)
            .on_blocked_worker(move |_| {
                counted.fetch_add(1, SeqCst);
            })
            .build()
            .unwrap();
        let go = Arc::new(AtomicBool::new(false));
        let running = Arc::new(AtomicUsize::new(0));
        // Six tasks that each block their worker until told to stop: more than the one
        // worker and two replacements can hold.
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let (go, running) = (go.clone(), running.clone());
                rt.spawn(async move {
                    running.fetch_add(1, SeqCst);
                    let start = Instant::now();
                    while !go.load(SeqCst) && start.elapsed() < RELEASE_WAIT {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                })
            })
            .collect();
        assert!(
            eventually(Duration::from_secs(20), || running.load(SeqCst) == 3),
            "a replacement for the worker and for the first replacement: {} running",
            running.load(SeqCst)
        );
        // However long they block, no more threads.
        let end = Instant::now() + Duration::from_millis(300);
        while Instant::now() < end {
            assert!(worker_threads(name) <= 3, "{:?}", threads_named(name));
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(running.load(SeqCst), 3);
        assert_eq!(rt.metrics().replacements_running, 2);
        go.store(true, SeqCst);
        for task in tasks {
            rt.block_on(task).unwrap();
        }
        assert!(reports.load(SeqCst) >= 3);
        assert!(
            eventually(Duration::from_secs(10), || worker_threads(name) == 1),
            "replacements still running: {:?}",
            threads_named(name)
        );
        assert_eq!(rt.metrics().replacements_running, 0);
    });
}

#[test]
fn nothing_is_reported_when_no_poll_blocks() {
    watchdog(120, || {
        let (rt, reports) = runtime("bwquiet", 2);
        rt.block_on(async {
            let start = Instant::now();
            let tasks: Vec<_> = (0..8)
                .map(|_| {
                    goro_runtime::spawn(async move {
                        while start.elapsed() < Duration::from_millis(300) {
                            goro_runtime::yield_now().await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert!(reports.lock().unwrap().is_empty());
        assert_eq!(rt.metrics().replacements_running, 0);
    });
}

#[test]
fn an_idle_runtime_keeps_no_monitor_thread_and_a_busy_one_gets_it_back() {
    watchdog(120, || {
        let (rt, reports) = runtime("bwidle", 1);
        rt.block_on(async {});
        let monitor = || threads_named("bwidle-monitor").len();
        assert!(
            eventually(Duration::from_secs(10), || monitor() == 0),
            "the monitor stays while every worker sleeps"
        );
        // Work wakes the worker, which starts the monitor again: the block is still seen.
        let blocker = rt.spawn(async { std::thread::sleep(Duration::from_millis(200)) });
        assert!(eventually(Duration::from_secs(10), || monitor() == 1));
        rt.block_on(blocker).unwrap();
        assert!(eventually(Duration::from_secs(10), || {
            reports.lock().unwrap().len() == 1
        }));
        assert!(eventually(Duration::from_secs(10), || monitor() == 0));
    });
}

#[test]
fn with_the_monitor_off_no_thread_is_started() {
    watchdog(120, || {
        let rt = Builder::new()
            .worker_threads(1)
            .thread_name("bwoff")
            .blocked_worker_threshold(None)
            .build()
            .unwrap();
        rt.block_on(rt.spawn(async { std::thread::sleep(Duration::from_millis(100)) }))
            .unwrap();
        assert!(threads_named("bwoff-monitor").is_empty());
        assert_eq!(worker_threads("bwoff"), 1);
        assert!(rt.metrics().replacement_slots.is_empty());
    });
}
