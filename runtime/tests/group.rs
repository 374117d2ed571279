//! TaskGroup: first error wins and aborts the rest; the limit queues extra members.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{runtime, watchdog, DropCounter};
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
            assert_eq!(group.len(), 30 - done.load(Ordering::SeqCst));
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
