//! TaskGroup: first error wins and aborts the rest; the limit queues extra members.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use common::{in_own_process, runtime, watchdog, DropCounter};
use goro_runtime::TaskGroup;

#[test]
fn all_members_succeed() {
    watchdog(30, || {
        let rt = runtime(2);
        let count = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let group = TaskGroup::<String>::new();
            for _ in 0..100 {
                let count = count.clone();
                group.spawn(async move {
                    count.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                });
            }
            assert_eq!(group.wait().await, Ok(()));
            assert!(group.is_empty());
        });
        assert_eq!(count.load(Ordering::SeqCst), 100);
    });
}

#[test]
fn first_error_wins_and_aborts_the_rest() {
    watchdog(30, || {
        let rt = runtime(2);
        let drops = DropCounter::default();
        let start = Instant::now();
        let result = rt.block_on(async {
            let group = TaskGroup::new();
            for _ in 0..10 {
                let token = drops.token();
                group.spawn(async move {
                    let _t = token;
                    goro_runtime::time::sleep(Duration::from_secs(3600)).await;
                    Ok(())
                });
            }
            group.spawn(async {
                goro_runtime::time::sleep(Duration::from_millis(20)).await;
                Err("first")
            });
            group.spawn(async {
                goro_runtime::time::sleep(Duration::from_millis(200)).await;
                Err("second")
            });
            group.wait().await
        });
        assert_eq!(result, Err("first"));
        assert_eq!(drops.count(), 10, "sleeping members were not aborted");
        assert!(start.elapsed() < Duration::from_secs(30));
    });
}

#[test]
fn the_limit_bounds_concurrency_and_spawn_never_waits() {
    watchdog(30, || {
        let rt = runtime(2);
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let group = TaskGroup::<()>::with_limit(3);
            let spawn_start = Instant::now();
            for _ in 0..30 {
                let (running, peak, done) = (running.clone(), peak.clone(), done.clone());
                group.spawn(async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    goro_runtime::time::sleep(Duration::from_millis(200)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    done.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                });
            }
            // 30 members × 200 ms at 3 at a time take 2 s; spawning them must not wait (the
            // first member alone would take 200 ms).
            let spawning = spawn_start.elapsed();
            assert!(
                spawning < Duration::from_millis(1000),
                "spawn waited {spawning:?}"
            );
            // Members still running or queued. A member counts itself done just before it
            // leaves the group, so read the length first: every member that had left by then
            // had also counted itself done.
            let len = group.len();
            let finished = done.load(Ordering::SeqCst);
            assert!(
                len <= 30 && len + finished >= 30,
                "len {len} with {finished} done"
            );
            group.wait().await.unwrap();
        });
        assert_eq!(done.load(Ordering::SeqCst), 30);
        assert_eq!(peak.load(Ordering::SeqCst), 3);
    });
}

#[test]
fn an_error_drops_the_queued_members_unstarted() {
    watchdog(30, || {
        let rt = runtime(2);
        let started = Arc::new(AtomicUsize::new(0));
        let result = rt.block_on(async {
            let group = TaskGroup::with_limit(1);
            group.spawn(async { Err(1) });
            for _ in 0..5 {
                let started = started.clone();
                group.spawn(async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                });
            }
            group.wait().await
        });
        assert_eq!(result, Err(1));
        assert_eq!(started.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn dropping_the_group_aborts_its_members() {
    watchdog(30, || {
        let rt = runtime(2);
        let drops = DropCounter::default();
        rt.block_on(async {
            let group = TaskGroup::<()>::with_limit(2);
            for _ in 0..4 {
                let token = drops.token();
                group.spawn(async move {
                    let _t = token;
                    std::future::pending::<()>().await;
                    Ok(())
                });
            }
            goro_runtime::yield_now().await;
            drop(group);
        });
        assert!(common::eventually(Duration::from_secs(10), || drops
            .count()
            == 4));
    });
}

#[test]
fn a_member_panic_is_raised_by_wait() {
    watchdog(30, || {
        let rt = runtime(2);
        let caught = rt.block_on(async {
            let group = TaskGroup::<()>::new();
            group.spawn(async { panic!("member exploded") });
            let wait = std::panic::AssertUnwindSafe(group.wait());
            futures_lite::FutureExt::catch_unwind(wait).await
        });
        let payload = caught.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"member exploded"));
    });
}

#[test]
fn dropping_a_runtime_whose_task_owns_a_group_with_a_running_member_does_not_hang() {
    in_own_process(
        "dropping_a_runtime_whose_task_owns_a_group_with_a_running_member_does_not_hang",
        30,
        || {
            let drops = DropCounter::default();
            let rt = runtime(1);
            let (go_tx, go_rx) = goro_sync::chan::bounded::<()>(1);
            let (started_tx, started_rx) = mpsc::channel();
            let token = drops.token();
            // The owner parks first, so shutdown drops it (and its group) before the member.
            rt.spawn(async move {
                go_rx.recv().await;
                let group = TaskGroup::<()>::new();
                group.spawn(async move {
                    let _t = token;
                    started_tx.send(()).unwrap();
                    std::future::pending::<()>().await;
                    Ok(())
                });
                std::future::pending::<()>().await;
                drop(group);
            });
            std::thread::sleep(Duration::from_millis(50));
            go_tx.try_send(()).unwrap();
            started_rx.recv_timeout(Duration::from_secs(10)).unwrap();
            std::thread::sleep(Duration::from_millis(50)); // let the member park
            drop(rt);
            assert_eq!(drops.count(), 1);
        },
    );
}

#[test]
fn dropping_a_runtime_with_queued_group_members_does_not_hang() {
    in_own_process(
        "dropping_a_runtime_with_queued_group_members_does_not_hang",
        30,
        || {
            let drops = DropCounter::default();
            let rt = runtime(2);
            let group = TaskGroup::<()>::with_limit(1);
            let (started_tx, started_rx) = mpsc::channel();
            rt.block_on(async {
                for _ in 0..5 {
                    let token = drops.token();
                    let started_tx = started_tx.clone();
                    group.spawn(async move {
                        let _t = token;
                        started_tx.send(()).unwrap();
                        std::future::pending::<()>().await;
                        Ok(())
                    });
                }
            });
            started_rx.recv_timeout(Duration::from_secs(10)).unwrap();
            drop(rt);
            assert_eq!(drops.count(), 5, "a member was leaked");
            assert!(group.is_empty());
            assert!(
                started_rx.try_recv().is_err(),
                "a queued member ran after shutdown"
            );
        },
    );
}

#[test]
fn spawning_into_a_group_after_the_runtime_shut_down_does_not_hang() {
    in_own_process(
        "spawning_into_a_group_after_the_runtime_shut_down_does_not_hang",
        30,
        || {
            let rt = runtime(1);
            let (go_tx, go_rx) = mpsc::channel::<()>();
            let (started_tx, started_rx) = mpsc::channel::<()>();
            let (done_tx, done_rx) = mpsc::channel();
            let drops = DropCounter::default();
            let token = drops.token();
            // A blocking job that outlives its runtime.
            drop(rt.spawn_blocking(move || {
                started_tx.send(()).unwrap();
                go_rx.recv().unwrap();
                let group = TaskGroup::<()>::new();
                group.spawn(async move {
                    let _t = token;
                    Ok(())
                });
                done_tx.send(group.len()).unwrap();
            }));
            started_rx.recv_timeout(Duration::from_secs(10)).unwrap();
            drop(rt);
            go_tx.send(()).unwrap();
            let len = done_rx.recv_timeout(Duration::from_secs(10));
            assert_eq!(len, Ok(0), "TaskGroup::spawn hung or kept a dead member");
            assert_eq!(drops.count(), 1);
        },
    );
}

/// A waker that counts its wakes.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn poll_once<F: Future + Unpin>(fut: &mut F, waker: &Arc<CountingWaker>) -> Poll<F::Output> {
    let waker = Waker::from(waker.clone());
    Pin::new(fut).poll(&mut Context::from_waker(&waker))
}

#[test]
fn every_waiter_is_woken() {
    watchdog(30, || {
        let rt = runtime(2);
        let group = TaskGroup::<()>::new();
        let (tx, rx) = goro_sync::chan::bounded::<()>(1);
        rt.block_on(async {
            group.spawn(async move {
                rx.recv().await;
                Ok(())
            })
        });
        let (first, second) = (Arc::default(), Arc::default());
        let mut wait_a = group.wait();
        let mut wait_b = group.wait();
        assert!(poll_once(&mut wait_a, &first).is_pending());
        assert!(poll_once(&mut wait_b, &second).is_pending());
        tx.try_send(()).unwrap();
        assert!(
            common::eventually(Duration::from_secs(10), || {
                first.0.load(Ordering::SeqCst) > 0 && second.0.load(Ordering::SeqCst) > 0
            }),
            "a waiter was never woken (first: {}, second: {})",
            first.0.load(Ordering::SeqCst),
            second.0.load(Ordering::SeqCst)
        );
        assert_eq!(poll_once(&mut wait_a, &first), Poll::Ready(Ok(())));
        assert_eq!(poll_once(&mut wait_b, &second), Poll::Ready(Ok(())));
    });
}

#[test]
fn two_tasks_waiting_on_one_group_both_finish() {
    in_own_process("two_tasks_waiting_on_one_group_both_finish", 30, || {
        let rt = runtime(2);
        let group = Arc::new(TaskGroup::<String>::new());
        let (tx, rx) = goro_sync::chan::bounded::<()>(1);
        let results = rt.block_on(async {
            group.spawn(async move {
                rx.recv().await;
                Err("boom".to_string())
            });
            let waiters: Vec<_> = (0..2)
                .map(|_| {
                    let group = group.clone();
                    goro_runtime::spawn(async move { group.wait_cloned().await })
                })
                .collect();
            goro_runtime::time::sleep(Duration::from_millis(20)).await;
            tx.send(()).await.unwrap();
            let mut results = Vec::new();
            for w in waiters {
                results.push(w.await.unwrap());
            }
            results
        });
        assert_eq!(results, vec![Err("boom".to_string()); 2]);
    });
}

#[test]
fn wait_cloned_returns_the_first_error_every_time() {
    watchdog(30, || {
        let rt = runtime(2);
        rt.block_on(async {
            let group = TaskGroup::new();
            group.spawn(async { Err(7) });
            assert_eq!(group.wait_cloned().await, Err(7));
            assert_eq!(group.wait_cloned().await, Err(7));
            assert_eq!(group.wait().await, Err(7));
        });
    });
}

#[test]
fn a_second_wait_after_the_error_was_returned_panics_instead_of_reporting_success() {
    watchdog(30, || {
        let rt = runtime(2);
        let second = rt.block_on(async {
            let group = TaskGroup::new();
            group.spawn(async { Err(std::io::Error::other("disk on fire")) });
            let first = group.wait().await;
            assert_eq!(first.unwrap_err().to_string(), "disk on fire");
            let wait = std::panic::AssertUnwindSafe(group.wait());
            futures_lite::FutureExt::catch_unwind(wait).await
        });
        let payload = second.expect_err("a second wait after a failure reported a result");
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        assert!(msg.contains("already returned"), "unclear panic: {msg}");
    });
}

#[test]
fn a_second_wait_after_a_member_panic_panics_again() {
    watchdog(30, || {
        let rt = runtime(2);
        rt.block_on(async {
            let group = TaskGroup::<()>::new();
            group.spawn(async { panic!("member exploded") });
            for _ in 0..2 {
                let wait = std::panic::AssertUnwindSafe(group.wait());
                let caught = futures_lite::FutureExt::catch_unwind(wait).await;
                assert!(
                    caught.is_err(),
                    "a wait after a member panic reported a result"
                );
            }
        });
    });
}
