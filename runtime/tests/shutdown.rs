//! Dropping a runtime: every task is dropped exactly once, nothing hangs.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use common::{runtime, watchdog, DropCounter, DropToken};

#[test]
fn dropping_a_runtime_drops_all_its_tasks() {
    watchdog(60, || {
        let drops = DropCounter::default();
        let rt = runtime(2);
        for _ in 0..1000 {
            let token = drops.token();
            rt.spawn(async move {
                let _token = token;
                std::future::pending::<()>().await;
            });
        }
        // Tasks parked on each other (a cycle only shutdown can break).
        let (tx, rx) = mpsc::channel::<std::task::Waker>();
        let token = drops.token();
        rt.spawn(async move {
            let _token = token;
            std::future::poll_fn(|cx| {
                tx.send(cx.waker().clone()).unwrap();
                std::task::Poll::<()>::Pending
            })
            .await;
        });
        let held = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        drop(rt);
        assert_eq!(drops.count(), 1001);
        // A waker kept past the runtime's death can still be used: nothing happens.
        held.wake();
    });
}

#[test]
fn tasks_spawned_by_destructors_during_shutdown_are_dropped_too() {
    watchdog(60, || {
        struct SpawnOnDrop(DropCounter, #[allow(dead_code)] DropToken);
        impl Drop for SpawnOnDrop {
            fn drop(&mut self) {
                let token = self.0.token();
                let handle = goro_runtime::spawn(async move {
                    let _token = token;
                    std::future::pending::<()>().await;
                });
                // Spawning into a runtime that is shutting down drops the future at once.
                drop(handle);
            }
        }
        let drops = DropCounter::default();
        let rt = runtime(2);
        for _ in 0..100 {
            let guard = SpawnOnDrop(drops.clone(), drops.token());
            rt.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
        }
        drop(rt);
        assert_eq!(drops.count(), 200);
    });
}

#[test]
fn a_panicking_destructor_does_not_stop_shutdown() {
    watchdog(60, || {
        struct PanicOnDrop;
        impl Drop for PanicOnDrop {
            fn drop(&mut self) {
                panic!("destructor panicked");
            }
        }
        let drops = DropCounter::default();
        let rt = runtime(2);
        rt.spawn(async move {
            let _p = PanicOnDrop;
            std::future::pending::<()>().await;
        });
        let token = drops.token();
        rt.spawn(async move {
            let _t = token;
            std::future::pending::<()>().await;
        });
        std::thread::sleep(Duration::from_millis(20));
        drop(rt);
        assert_eq!(drops.count(), 1);
    });
}

#[test]
fn a_task_whose_destructor_locks_a_held_mutex_does_not_deadlock_shutdown() {
    watchdog(60, || {
        struct LockOnDrop(Arc<Mutex<u32>>);
        impl Drop for LockOnDrop {
            fn drop(&mut self) {
                *self.0.lock().unwrap() += 1;
            }
        }
        let shared = Arc::new(Mutex::new(0));
        let rt = runtime(2);
        for _ in 0..10 {
            let guard = LockOnDrop(shared.clone());
            rt.spawn(async move {
                let _g = guard;
                std::future::pending::<()>().await;
            });
        }
        drop(rt);
        assert_eq!(*shared.lock().unwrap(), 10);
    });
}

#[test]
fn dropping_a_runtime_from_inside_its_own_task_does_not_hang() {
    watchdog(60, || {
        let rt = Arc::new(Mutex::new(Some(runtime(2))));
        let (tx, rx) = mpsc::channel();
        let inner = rt.clone();
        let guard = rt.lock().unwrap();
        guard.as_ref().unwrap().spawn(async move {
            let taken = inner.lock().unwrap().take();
            drop(taken); // the runtime is dropped on one of its own workers
            tx.send(()).unwrap();
        });
        drop(guard);
        assert!(rx.recv_timeout(Duration::from_secs(20)).is_ok());
    });
}

#[test]
fn a_foreign_thread_waking_a_task_after_shutdown_is_harmless() {
    watchdog(60, || {
        let rt = runtime(2);
        let (tx, rx) = mpsc::channel::<std::task::Waker>();
        let polls = Arc::new(AtomicUsize::new(0));
        let p = polls.clone();
        rt.spawn(std::future::poll_fn(move |cx| {
            p.fetch_add(1, Ordering::SeqCst);
            tx.send(cx.waker().clone()).ok();
            std::task::Poll::<()>::Pending
        }));
        let waker = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            for _ in 0..100 {
                waker.wake_by_ref();
            }
            drop(waker);
        });
        drop(rt);
        thread.join().unwrap();
        assert_eq!(polls.load(Ordering::SeqCst), 1, "a task ran after shutdown");
    });
}

#[test]
fn many_runtimes_can_be_built_and_dropped() {
    watchdog(120, || {
        let drops = DropCounter::default();
        for _ in 0..200 {
            let rt = runtime(2);
            let token = drops.token();
            rt.spawn(async move {
                let _t = token;
                goro_runtime::time::sleep(Duration::from_secs(3600)).await;
            });
            rt.block_on(async { goro_runtime::yield_now().await });
        }
        assert_eq!(drops.count(), 200);
    });
}
