//! Behaviour of the executor: spawning, joining, aborting, panics, stealing, yielding.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use common::{eventually, in_own_process, runtime, watchdog, DropCounter};

#[test]
fn detached_task_keeps_running() {
    watchdog(30, || {
        let rt = runtime(2);
        let (tx, rx) = mpsc::channel();
        let handle = rt.spawn(async move {
            goro_runtime::time::sleep(Duration::from_millis(20)).await;
            tx.send("ran").unwrap();
        });
        drop(handle);
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok("ran"));
    });
}

#[test]
fn abort_drops_the_future_and_reports_cancellation() {
    watchdog(30, || {
        let rt = runtime(2);
        let drops = DropCounter::default();
        let token = drops.token();
        let handle = rt.spawn(async move {
            let _token = token;
            std::future::pending::<()>().await;
        });
        std::thread::sleep(Duration::from_millis(20));
        handle.abort();
        let err = rt.block_on(handle).unwrap_err();
        assert!(err.is_cancelled());
        assert!(!err.is_panic());
        assert_eq!(drops.count(), 1);
    });
}

#[test]
fn abort_after_completion_keeps_the_output() {
    watchdog(30, || {
        let rt = runtime(1);
        let handle = rt.spawn(async { 5 });
        assert!(eventually(Duration::from_secs(10), || handle.is_finished()));
        handle.abort();
        assert_eq!(rt.block_on(handle).unwrap(), 5);
    });
}

#[test]
fn panic_is_reported_and_every_worker_survives() {
    watchdog(30, || {
        let rt = runtime(2);
        rt.block_on(async {
            let panics: Vec<_> = (0..8)
                .map(|i| goro_runtime::spawn(async move { panic!("task {i} failed") }))
                .collect();
            for (i, h) in panics.into_iter().enumerate() {
                let err = h.await.unwrap_err();
                assert!(err.is_panic());
                assert_eq!(err.to_string(), format!("task panicked: task {i} failed"));
                let payload = err.into_panic();
                assert_eq!(
                    payload.downcast_ref::<String>().unwrap(),
                    &format!("task {i} failed")
                );
            }
        });
        // Both workers still run tasks: two tasks that each wait for the other to start can
        // only finish if they run at the same time on two threads.
        let started = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let started = started.clone();
                rt.spawn(async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    let deadline = Instant::now() + Duration::from_secs(10);
                    while started.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
                        std::hint::spin_loop();
                    }
                    started.load(Ordering::SeqCst)
                })
            })
            .collect();
        for h in handles {
            assert_eq!(rt.block_on(h).unwrap(), 2);
        }
    });
}

#[test]
fn a_blocked_worker_does_not_stall_the_tasks_queued_behind_it() {
    watchdog(60, || {
        let rt = runtime(2);
        let start = Instant::now();
        let done = rt.block_on(async {
            goro_runtime::spawn(async {
                // Spawned from a task: the blocker and the quick tasks share a worker queue.
                let blocker = goro_runtime::spawn(async {
                    std::thread::sleep(Duration::from_secs(3));
                });
                let quick: Vec<_> = (0..20)
                    .map(|i| goro_runtime::spawn(async move { i }))
                    .collect();
                let mut sum = 0;
                for q in quick {
                    sum += q.await.unwrap();
                }
                (sum, blocker)
            })
            .await
            .unwrap()
        });
        assert_eq!(done.0, 190);
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "quick tasks waited {:?} behind a blocked worker",
            start.elapsed()
        );
        rt.block_on(done.1).unwrap();
    });
}

#[test]
fn tasks_spawned_from_a_plain_thread_all_run() {
    watchdog(60, || {
        let rt = runtime(2);
        let count = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..10_000)
            .map(|_| {
                let count = count.clone();
                rt.spawn(async move {
                    count.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        rt.block_on(async {
            for h in handles {
                h.await.unwrap();
            }
        });
        assert_eq!(count.load(Ordering::SeqCst), 10_000);
    });
}

#[test]
fn many_cross_thread_wakes_are_never_lost() {
    watchdog(120, || {
        let rt = runtime(2);
        const ROUNDS: usize = 100_000;
        // A plain thread wakes a task 100k times, one wake per round trip: any lost wakeup
        // hangs the test (and the watchdog fails it).
        let (to_task, from_thread) = mpsc::channel::<std::task::Waker>();
        let turn = Arc::new(AtomicUsize::new(0));
        let t = turn.clone();
        let waker_thread = std::thread::spawn(move || {
            for round in 0..ROUNDS {
                let waker = from_thread.recv().unwrap();
                t.store(round + 1, Ordering::SeqCst);
                waker.wake();
            }
        });
        let task = rt.spawn(async move {
            for round in 0..ROUNDS {
                let mut sent = false;
                std::future::poll_fn(|cx| {
                    if turn.load(Ordering::SeqCst) > round {
                        return std::task::Poll::Ready(());
                    }
                    if !sent {
                        to_task.send(cx.waker().clone()).unwrap();
                        sent = true;
                    }
                    std::task::Poll::Pending
                })
                .await;
            }
        });
        rt.block_on(task).unwrap();
        waker_thread.join().unwrap();
    });
}

#[test]
fn yielding_tasks_interleave_on_one_worker() {
    watchdog(30, || {
        let rt = runtime(1);
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        // Both tasks are spawned by a task running on the only worker, so both are queued
        // before either runs: spawned from this thread instead, the worker could run "a" to
        // its end before "b" exists, and the order would depend on when the worker starts.
        let spawner = {
            let log = log.clone();
            rt.spawn(async move {
                let tasks: Vec<_> = ["a", "b"]
                    .into_iter()
                    .map(|name| {
                        let log = log.clone();
                        goro_runtime::spawn(async move {
                            for _ in 0..3 {
                                log.lock().unwrap().push(name);
                                goro_runtime::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            })
        };
        rt.block_on(spawner).unwrap();
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 6);
        for pair in log.windows(2) {
            assert_ne!(pair[0], pair[1], "tasks did not interleave: {log:?}");
        }
    });
}

#[test]
fn spawn_inside_a_runtime_goes_to_that_runtime() {
    watchdog(30, || {
        let rt = goro_runtime::Builder::new()
            .worker_threads(1)
            .thread_name("mine")
            .build()
            .unwrap();
        let name = rt.block_on(async {
            goro_runtime::spawn(async { std::thread::current().name().map(str::to_string) })
                .await
                .unwrap()
        });
        assert_eq!(name.as_deref(), Some("mine-worker-0"));
    });
}

#[test]
fn num_tasks_counts_live_tasks() {
    watchdog(30, || {
        let rt = runtime(2);
        assert_eq!(rt.num_tasks(), 0);
        let handles: Vec<_> = (0..5)
            .map(|_| rt.spawn(std::future::pending::<()>()))
            .collect();
        assert_eq!(rt.num_tasks(), 5);
        for h in &handles {
            h.abort();
        }
        assert!(eventually(Duration::from_secs(10), || rt.num_tasks() == 0));
        assert_eq!(rt.block_on(async { goro_runtime::num_tasks() }), 0);
    });
}

#[test]
fn block_on_inside_a_task_panics_with_a_clear_message() {
    watchdog(30, || {
        let rt = runtime(2);
        let err = rt
            .block_on(rt.spawn(async { goro_runtime::block_on(async { 1 }) }))
            .unwrap_err();
        let msg = err.into_panic();
        let msg = msg.downcast_ref::<&str>().copied().unwrap_or_default();
        assert!(
            msg.contains("block_on was called inside a goro task"),
            "{msg}"
        );
        // The runtime is still usable.
        assert_eq!(rt.block_on(rt.spawn(async { 2 })).unwrap(), 2);
    });
}

#[test]
fn task_names_and_ids_are_recorded() {
    watchdog(30, || {
        let rt = runtime(1);
        rt.block_on(async {
            let a = goro_runtime::task::Builder::new()
                .name("alpha")
                .spawn(std::future::pending::<()>());
            let b = goro_runtime::spawn(std::future::pending::<()>());
            assert_eq!(a.name().as_deref(), Some("alpha"));
            assert_eq!(b.name(), None);
            assert_ne!(a.id(), b.id());
            a.abort();
            b.abort();
            assert!(a.await.unwrap_err().is_cancelled());
            assert!(b.await.unwrap_err().is_cancelled());
        });
    });
}

#[test]
fn a_task_woken_just_before_its_waker_blocks_the_worker_still_runs() {
    watchdog(60, || {
        let rt = runtime(2);
        let waited = rt
            .block_on(rt.spawn(async {
                let (tx, rx) = mpsc::channel();
                // Spawned from a task: it sits in this worker's LIFO slot...
                let _y = goro_runtime::spawn(async move { tx.send(Instant::now()).unwrap() });
                let start = Instant::now();
                // ...while this task blocks the worker.
                std::thread::sleep(Duration::from_secs(2));
                let ran = rx
                    .recv_timeout(Duration::from_secs(10))
                    .expect("the woken task never ran");
                ran.duration_since(start)
            }))
            .unwrap();
        assert!(
            waited < Duration::from_secs(1),
            "the woken task waited {waited:?} behind a blocked worker"
        );
    });
}

/// A task output whose destructor counts, then panics.
struct PanicOnDrop(Arc<AtomicUsize>);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("a task output's destructor panicked");
    }
}

#[test]
fn a_panic_in_a_detached_task_outputs_destructor_does_not_abort() {
    in_own_process(
        "a_panic_in_a_detached_task_outputs_destructor_does_not_abort",
        60,
        || {
            let rt = runtime(2);
            let drops = Arc::new(AtomicUsize::new(0));
            // Detached before it ends: the output is dropped as soon as the task completes.
            let (tx, rx) = goro_sync::chan::bounded::<()>(1);
            let d = drops.clone();
            drop(rt.spawn(async move {
                rx.recv().await;
                PanicOnDrop(d)
            }));
            tx.try_send(()).unwrap();
            // The same for a blocking call.
            let d = drops.clone();
            drop(rt.spawn_blocking(move || PanicOnDrop(d)));
            assert!(eventually(Duration::from_secs(10), || drops
                .load(Ordering::SeqCst)
                == 2));
            // The runtime keeps running tasks, on every worker.
            for i in 0..100 {
                assert_eq!(rt.block_on(rt.spawn(async move { i })).unwrap(), i);
            }
        },
    );
}

#[test]
fn dropping_a_join_handle_whose_output_panics_on_drop_does_not_unwind() {
    in_own_process(
        "dropping_a_join_handle_whose_output_panics_on_drop_does_not_unwind",
        60,
        || {
            let rt = runtime(2);
            let drops = Arc::new(AtomicUsize::new(0));
            let d = drops.clone();
            let handle = rt.spawn(async move { PanicOnDrop(d) });
            assert!(eventually(Duration::from_secs(10), || handle.is_finished()));
            drop(handle); // the output is dropped here, on this thread
            assert_eq!(drops.load(Ordering::SeqCst), 1);
            assert_eq!(rt.block_on(rt.spawn(async { 7 })).unwrap(), 7);
        },
    );
}

/// How many times the workers of `rt` have gone to sleep, all told.
fn times_asleep(rt: &goro_runtime::Runtime) -> u64 {
    rt.metrics().workers.iter().map(|w| w.parked).sum()
}

#[test]
fn a_lone_yielding_task_wakes_no_other_worker() {
    // A task that yields with nothing else runnable on its worker goes to the back of that
    // worker's (empty) queue and runs again next. Waking the other worker for it would only
    // let that worker steal the same task, once per yield, and go back to sleep. Counted: how
    // often a worker went to sleep (about one per yield when each yield woke a peer).
    const YIELDS: usize = 20_000;
    watchdog(60, || {
        let rt = runtime(2);
        rt.block_on(async {
            // Both workers have been up and found nothing to do: the other one sleeps.
            goro_runtime::time::sleep(Duration::from_millis(20)).await;
        });
        let before = times_asleep(&rt);
        let yielded = rt.block_on(async {
            goro_runtime::spawn(async {
                let mut yielded = 0;
                for _ in 0..YIELDS {
                    goro_runtime::yield_now().await;
                    yielded += 1;
                }
                yielded
            })
            .await
            .unwrap()
        });
        assert_eq!(yielded, YIELDS);
        let sleeps = times_asleep(&rt) - before;
        assert!(
            sleeps < (YIELDS / 100) as u64,
            "workers went to sleep {sleeps} times while one task yielded {YIELDS} times"
        );
    });
}

#[test]
fn a_ping_pong_pair_stays_on_one_worker() {
    // Two tasks that keep waking each other run from one worker's LIFO slot; every few polls
    // the next one goes to the back of that worker's queue, so that the rest of the queue
    // gets a turn. That push must not wake the other worker, which would steal the task and
    // split the pair across two cores. Counted: how often a worker went to sleep, which is
    // how often one was woken for nothing (about 4000 times here when the push woke a peer;
    // a handful without).
    const ROUNDS: usize = 20_000;
    watchdog(60, || {
        let rt = runtime(2);
        let before = times_asleep(&rt);
        rt.block_on(async {
            let (to_b, from_a) = goro_sync::chan::bounded::<usize>(0);
            let (to_a, from_b) = goro_sync::chan::bounded::<usize>(0);
            let b = goro_runtime::spawn(async move {
                while let Some(v) = from_a.recv().await {
                    if to_a.send(v + 1).await.is_err() {
                        break;
                    }
                }
            });
            let a = goro_runtime::spawn(async move {
                for i in 0..ROUNDS {
                    to_b.send(i).await.unwrap();
                    assert_eq!(from_b.recv().await, Some(i + 1));
                }
            });
            a.await.unwrap();
            b.await.unwrap();
        });
        let sleeps = times_asleep(&rt) - before;
        assert!(
            sleeps < (ROUNDS / 100) as u64,
            "workers went to sleep {sleeps} times in {ROUNDS} round trips of one pair"
        );
    });
}
