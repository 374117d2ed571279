//! JoinSet: every member's result, in completion order; drop and abort_all stop members; no
//! lost wake-ups while join_next is parked.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{eventually, runtime, watchdog, DropCounter};
use goro_runtime::JoinSet;
use goro_sync::chan;

/// A set, and the future of `join_next`, can move to another task's thread.
const _: fn() = || {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let mut set = JoinSet::<u32>::new();
    send_sync(&set);
    send(&set.join_next());
};

#[test]
fn results_come_in_completion_order() {
    watchdog(30, || {
        let rt = runtime(2);
        rt.block_on(async {
            let mut set = JoinSet::new();
            let mut gates = Vec::new();
            for i in 0..3 {
                let (release, gate) = chan::bounded::<()>(0);
                gates.push(release);
                set.spawn(async move {
                    gate.recv().await;
                    i
                });
            }
            for i in [2, 0, 1] {
                gates[i].close();
                assert_eq!(set.join_next().await.unwrap().unwrap(), i);
                assert_eq!(
                    set.len(),
                    2 - [2, 0, 1].iter().position(|&x| x == i).unwrap()
                );
            }
            assert!(set.join_next().await.is_none());
            assert!(set.is_empty());
        });
    });
}

#[test]
fn join_next_after_every_member_finished() {
    watchdog(30, || {
        let rt = runtime(2);
        rt.block_on(async {
            let mut set = JoinSet::new();
            let done = Arc::new(AtomicUsize::new(0));
            for i in 0..50_usize {
                let done = done.clone();
                set.spawn(async move {
                    done.fetch_add(1, Ordering::SeqCst);
                    i
                });
            }
            while done.load(Ordering::SeqCst) < 50 {
                goro_runtime::time::sleep(Duration::from_millis(1)).await;
            }
            let mut got = Vec::new();
            // Half without waiting, half with join_next.
            while got.len() < 25 {
                if let Some(r) = set.try_join_next() {
                    got.push(r.unwrap());
                } else {
                    goro_runtime::yield_now().await; // the last member may not have ended yet
                }
            }
            while let Some(r) = set.join_next().await {
                got.push(r.unwrap());
            }
            got.sort_unstable();
            assert_eq!(got, (0..50).collect::<Vec<_>>());
            assert!(set.try_join_next().is_none());
        });
    });
}

#[test]
fn dropping_the_set_aborts_every_member() {
    watchdog(30, || {
        let rt = runtime(2);
        let drops = DropCounter::default();
        rt.block_on(async {
            let mut set = JoinSet::<()>::new();
            for _ in 0..100 {
                let token = drops.token();
                set.spawn(async move {
                    let _token = token;
                    std::future::pending::<()>().await;
                });
            }
            goro_runtime::yield_now().await;
            drop(set);
        });
        assert!(eventually(Duration::from_secs(10), || drops.count() == 100));
    });
}

#[test]
fn abort_all_gives_cancelled_errors() {
    watchdog(30, || {
        let rt = runtime(2);
        let drops = DropCounter::default();
        rt.block_on(async {
            let mut set = JoinSet::<()>::new();
            for _ in 0..20 {
                let token = drops.token();
                set.spawn(async move {
                    let _token = token;
                    std::future::pending::<()>().await;
                });
            }
            set.abort_all();
            assert_eq!(set.len(), 20);
            let mut cancelled = 0;
            while let Some(r) = set.join_next().await {
                assert!(r.unwrap_err().is_cancelled());
                cancelled += 1;
            }
            assert_eq!(cancelled, 20);
        });
        assert_eq!(drops.count(), 20);
    });
}

#[test]
fn a_panicking_member_gives_a_panic_error_and_the_others_finish() {
    watchdog(30, || {
        let rt = runtime(2);
        rt.block_on(async {
            let mut set = JoinSet::new();
            set.spawn(async { panic!("member failed") });
            for i in 0..5 {
                set.spawn(async move { i });
            }
            let (mut ok, mut panics) = (0, 0);
            while let Some(r) = set.join_next().await {
                match r {
                    Ok(_) => ok += 1,
                    Err(e) => {
                        assert!(e.is_panic());
                        assert_eq!(e.to_string(), "task panicked: member failed");
                        panics += 1;
                    }
                }
            }
            assert_eq!((ok, panics), (5, 1));
        });
    });
}

#[test]
fn ten_thousand_members() {
    watchdog(60, || {
        let rt = runtime(2);
        rt.block_on(async {
            let mut set = JoinSet::new();
            for i in 0..10_000_u64 {
                set.spawn(async move {
                    if i % 3 == 0 {
                        goro_runtime::yield_now().await;
                    }
                    i
                });
            }
            assert_eq!(set.len(), 10_000);
            let mut sum = 0;
            let mut count = 0;
            while let Some(r) = set.join_next().await {
                sum += r.unwrap();
                count += 1;
            }
            assert_eq!(count, 10_000);
            assert_eq!(sum, 10_000 * 9_999 / 2);
        });
    });
}

/// Members finish on other workers while `join_next` is parked, many times over: a lost
/// wake-up would hang here until the watchdog fires.
#[test]
fn members_ending_on_other_workers_wake_join_next() {
    watchdog(60, || {
        let rt = runtime(2);
        rt.block_on(async {
            let mut set = JoinSet::new();
            for round in 0..2_000_u32 {
                let (release, gate) = chan::bounded::<()>(0);
                set.spawn(async move {
                    gate.recv().await;
                    round
                });
                // Released from a blocking thread, racing with join_next parking.
                goro_runtime::spawn_blocking(move || release.close());
                assert_eq!(set.join_next().await.unwrap().unwrap(), round);
            }
        });
    });
}

#[test]
fn join_next_is_cancel_safe() {
    watchdog(30, || {
        let rt = runtime(2);
        rt.block_on(async {
            let mut set = JoinSet::new();
            let (release, gate) = chan::bounded::<()>(0);
            set.spawn(async move {
                gate.recv().await;
                "late"
            });
            for _ in 0..3 {
                let early =
                    goro_runtime::time::timeout(Duration::from_millis(2), set.join_next()).await;
                assert!(early.is_err());
            }
            assert_eq!(set.len(), 1);
            release.close();
            // The member ends while no join_next is waiting; nothing is lost.
            let mut tries = 0;
            let got = loop {
                let attempt =
                    goro_runtime::time::timeout(Duration::from_millis(1), set.join_next()).await;
                match attempt {
                    Ok(got) => break got,
                    Err(_) => tries += 1,
                }
                assert!(tries < 10_000);
            };
            assert_eq!(got.unwrap().unwrap(), "late");
            assert!(set.is_empty());
        });
    });
}

#[test]
fn blocking_members_shutdown_and_detach_all() {
    watchdog(30, || {
        let rt = runtime(2);
        let drops = DropCounter::default();
        rt.block_on(async {
            let mut set = JoinSet::new();
            for i in 0..4 {
                set.spawn_blocking(move || i * 10);
            }
            let mut got = Vec::new();
            while let Some(r) = set.join_next().await {
                got.push(r.unwrap());
            }
            got.sort_unstable();
            assert_eq!(got, [0, 10, 20, 30]);

            for _ in 0..5 {
                let token = drops.token();
                set.spawn(async move {
                    let _token = token;
                    std::future::pending::<i32>().await
                });
            }
            set.shutdown().await;
            assert!(set.is_empty());
            assert_eq!(drops.count(), 5);

            let (tx, rx) = chan::bounded(0);
            set.spawn(async move {
                tx.send(1).await.unwrap();
                2
            });
            set.detach_all();
            assert!(set.is_empty());
            drop(set);
            assert_eq!(rx.recv().await, Some(1)); // the detached member ran on
        });
    });
}

#[test]
fn spawn_on_a_runtime_from_outside() {
    watchdog(30, || {
        let rt = runtime(2);
        let mut set = JoinSet::new();
        for i in 0..10 {
            set.spawn_on(async move { i }, &rt);
        }
        let sum: i32 = rt.block_on(async {
            let mut sum = 0;
            while let Some(r) = set.join_next().await {
                sum += r.unwrap();
            }
            sum
        });
        assert_eq!(sum, 45);
    });
}
