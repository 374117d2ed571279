//! The blocking pool: threads on demand, a bound, panics reported, idle threads exit.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{eventually, threads_named, watchdog};

#[test]
fn a_panicking_blocking_call_is_reported_through_its_handle() {
    watchdog(30, || {
        let rt = common::runtime(1);
        let err = rt
            .block_on(rt.spawn_blocking(|| -> u32 { panic!("disk on fire") }))
            .unwrap_err();
        assert!(err.is_panic());
        assert_eq!(rt.block_on(rt.spawn_blocking(|| 7)).unwrap(), 7);
    });
}

#[test]
fn blocking_threads_never_exceed_the_bound() {
    watchdog(60, || {
        let rt = goro_runtime::Builder::new()
            .worker_threads(1)
            .max_blocking_threads(4)
            .thread_name("bound")
            .build()
            .unwrap();
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..32)
            .map(|_| {
                let (running, peak) = (running.clone(), peak.clone());
                rt.spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(10));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        rt.block_on(async {
            for h in handles {
                h.await.unwrap();
            }
        });
        assert!(peak.load(Ordering::SeqCst) <= 4);
        assert!(rt.blocking_threads() <= 4);
        assert!(threads_named("bound-blocking-").len() <= 4);
    });
}

#[test]
fn idle_blocking_threads_exit_after_the_keep_alive() {
    watchdog(60, || {
        // The default keep-alive is 10 s, as documented.
        assert_eq!(goro_runtime::KEEP_ALIVE, Duration::from_secs(10));
        let rt = goro_runtime::Builder::new()
            .worker_threads(1)
            .thread_name("idle")
            .build()
            .unwrap();
        let handles: Vec<_> = (0..4)
            .map(|_| rt.spawn_blocking(|| std::thread::sleep(Duration::from_millis(50))))
            .collect();
        rt.block_on(async {
            for h in handles {
                h.await.unwrap();
            }
        });
        let started = Instant::now();
        assert!(rt.blocking_threads() >= 1);
        assert!(!threads_named("idle-blocking-").is_empty());
        // Still there well before the keep-alive...
        std::thread::sleep(Duration::from_secs(5));
        assert!(
            rt.blocking_threads() >= 1,
            "threads exited before the keep-alive"
        );
        // ...gone soon after it.
        assert!(
            eventually(Duration::from_secs(20), || rt.blocking_threads() == 0
                && threads_named("idle-blocking-").is_empty()),
            "idle blocking threads still alive {:?} after their last job",
            started.elapsed()
        );
    });
}

#[test]
fn a_short_keep_alive_is_honoured() {
    watchdog(30, || {
        let rt = goro_runtime::Builder::new()
            .worker_threads(1)
            .thread_keep_alive(Duration::from_millis(100))
            .build()
            .unwrap();
        rt.block_on(rt.spawn_blocking(|| ())).unwrap();
        assert!(eventually(Duration::from_secs(10), || rt
            .blocking_threads()
            == 0));
    });
}

#[test]
fn blocking_calls_run_off_the_workers() {
    watchdog(30, || {
        let rt = common::runtime(1);
        let name = rt
            .block_on(rt.spawn_blocking(|| std::thread::current().name().map(str::to_string)))
            .unwrap();
        assert_eq!(name.as_deref(), Some("goro-blocking-0"));
    });
}

#[test]
fn a_burst_of_long_calls_runs_them_all_at_once() {
    watchdog(60, || {
        let rt = common::runtime(2);
        let start = Instant::now();
        let handles: Vec<_> = (0..64)
            .map(|_| rt.spawn_blocking(|| std::thread::sleep(Duration::from_millis(500))))
            .collect();
        rt.block_on(async {
            for h in handles {
                h.await.unwrap();
            }
        });
        // One after another they would take 32 s; the pool grows one thread per call.
        let elapsed = start.elapsed();
        assert!(
            elapsed < Duration::from_secs(5),
            "64 sleeps of 500 ms took {elapsed:?}"
        );
        assert!(
            rt.blocking_threads() >= 16,
            "{} threads",
            rt.blocking_threads()
        );
    });
}

/// A runtime whose blocking pool cannot start threads while `refuse` is set: the hook
/// stands for the OS failing `pthread_create` with EAGAIN (the thread limit).
fn runtime_refusing_threads(refuse: &Arc<AtomicBool>) -> goro_runtime::Runtime {
    let refuse = refuse.clone();
    goro_runtime::Builder::new()
        .worker_threads(1)
        .blocking_spawn_hook(move || match refuse.load(Ordering::SeqCst) {
            true => Err(std::io::Error::from_raw_os_error(EAGAIN)),
            false => Ok(()),
        })
        .build()
        .unwrap()
}

/// Linux's EAGAIN, what `pthread_create` returns at the thread limit.
const EAGAIN: i32 = 11;

#[test]
fn a_blocking_call_no_thread_can_run_reports_the_os_error_and_the_pool_recovers() {
    common::in_own_process(
        "a_blocking_call_no_thread_can_run_reports_the_os_error_and_the_pool_recovers",
        60,
        || {
            let refuse = Arc::new(AtomicBool::new(true));
            let rt = runtime_refusing_threads(&refuse);
            let ran = Arc::new(AtomicUsize::new(0));
            let handles: Vec<_> = (0..3)
                .map(|_| {
                    let ran = ran.clone();
                    rt.spawn_blocking(move || ran.fetch_add(1, Ordering::SeqCst))
                })
                .collect();
            for h in handles {
                let err = rt.block_on(h).unwrap_err();
                let os = err.spawn_error().expect("the OS error is reported");
                assert_eq!(os.raw_os_error(), Some(EAGAIN));
                assert!(err.is_cancelled() && !err.is_panic());
                assert!(
                    err.to_string().contains("refused to start a thread"),
                    "{err}"
                );
            }
            assert_eq!(ran.load(Ordering::SeqCst), 0);
            assert_eq!(rt.blocking_threads(), 0);
            assert_eq!(rt.num_tasks(), 0, "the failed calls are gone");
            // Threads can start again: the next call starts one.
            refuse.store(false, Ordering::SeqCst);
            assert_eq!(rt.block_on(rt.spawn_blocking(|| 7)).unwrap(), 7);
        },
    );
}

#[test]
fn a_refused_thread_leaves_the_job_to_a_thread_that_exists() {
    common::in_own_process(
        "a_refused_thread_leaves_the_job_to_a_thread_that_exists",
        60,
        || {
            let refuse = Arc::new(AtomicBool::new(false));
            let rt = runtime_refusing_threads(&refuse);
            let (started_tx, started_rx) = std::sync::mpsc::channel();
            let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
            let first = rt.spawn_blocking(move || {
                started_tx.send(()).unwrap();
                release_rx.recv().unwrap();
            });
            started_rx.recv().unwrap();
            // One thread is alive (busy): a refused second thread is no reason to fail.
            refuse.store(true, Ordering::SeqCst);
            let second = rt.spawn_blocking(|| 2);
            release_tx.send(()).unwrap();
            rt.block_on(first).unwrap();
            assert_eq!(rt.block_on(second).unwrap(), 2);
        },
    );
}
