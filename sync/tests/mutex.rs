//! Behaviour of `Mutex`: exclusion under contention, fairness, cancellation.

#![cfg(not(goro_loom))]

mod primitives;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use futures_lite::future::block_on;
use goro_sync::mutex::STARVATION_THRESHOLD;
use goro_sync::Mutex;
use primitives::{poll, runtime, watchdog, CountingWaker};

#[test]
fn counts_exactly_under_contention() {
    watchdog(60, || {
        let rt = runtime();
        let counter = Arc::new(Mutex::new(0u64));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let counter = counter.clone();
                rt.spawn(async move {
                    for i in 0..10_000 {
                        let mut guard = counter.lock().await;
                        let seen = *guard;
                        if i % 64 == 0 {
                            // Hold the lock across a suspension so that others must queue.
                            goro_runtime::yield_now().await;
                        }
                        *guard = seen + 1;
                    }
                })
            })
            .collect();
        rt.block_on(async {
            for task in tasks {
                task.await.unwrap();
            }
        });
        assert_eq!(*block_on(counter.lock()), 80_000);
    });
}

#[test]
fn counts_exactly_with_plain_threads() {
    watchdog(60, || {
        let counter = Arc::new(Mutex::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counter = counter.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        *block_on(counter.lock()) += 1;
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(*block_on(counter.lock()), 40_000);
    });
}

#[test]
fn no_waiter_starves_while_others_hammer_the_lock() {
    watchdog(60, || {
        let rt = runtime();
        let mutex = Arc::new(Mutex::new(()));
        let stop = Arc::new(AtomicBool::new(false));
        let running = Arc::new(AtomicUsize::new(0));
        // Each hammer unlocks and locks again in the same poll, before any woken waiter can
        // run: without handoff it barges in every time and the waiter below never gets in.
        let hammers: Vec<_> = (0..2)
            .map(|_| {
                let (mutex, stop, running) = (mutex.clone(), stop.clone(), running.clone());
                rt.spawn(async move {
                    running.fetch_add(1, Ordering::SeqCst);
                    while !stop.load(Ordering::Relaxed) {
                        let guard = mutex.lock().await;
                        busy(Duration::from_micros(50));
                        goro_runtime::yield_now().await;
                        drop(guard);
                    }
                })
            })
            .collect();
        while running.load(Ordering::SeqCst) < 2 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut worst = Duration::ZERO;
        for _ in 0..50 {
            std::thread::sleep(Duration::from_micros(200));
            let started = Instant::now();
            let locked = rt.block_on(goro_runtime::time::timeout(
                Duration::from_secs(5),
                mutex.lock(),
            ));
            assert!(locked.is_ok(), "a waiter starved for 5 s");
            drop(locked);
            worst = worst.max(started.elapsed());
        }
        stop.store(true, Ordering::Relaxed);
        rt.block_on(async {
            for hammer in hammers {
                hammer.await.unwrap();
            }
        });
        // Ideal: about one starvation threshold (1 ms); allow 500x that on a loaded machine.
        assert!(
            worst < STARVATION_THRESHOLD * 500,
            "a waiter waited {worst:?}"
        );
    });
}

/// Keeps the thread busy for `duration`.
fn busy(duration: Duration) {
    let until = Instant::now() + duration;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

#[test]
fn try_lock_fails_while_locked() {
    let mutex = Mutex::new(1);
    let guard = mutex.try_lock().unwrap();
    assert!(mutex.try_lock().is_none());
    let mut lock = mutex.lock();
    assert!(poll(&mut lock, Waker::noop()).is_pending());
    drop(guard);
    let guard = match poll(&mut lock, Waker::noop()) {
        std::task::Poll::Ready(guard) => guard,
        std::task::Poll::Pending => panic!("the woken waiter did not get the free lock"),
    };
    assert!(mutex.try_lock().is_none());
    drop(guard);
    assert!(mutex.try_lock().is_some());
}

#[test]
fn unlock_wakes_the_oldest_waiter() {
    let mutex = Mutex::new(());
    let guard = mutex.try_lock().unwrap();
    let (first_count, first_waker) = CountingWaker::new();
    let (second_count, second_waker) = CountingWaker::new();
    let mut first = mutex.lock();
    let mut second = mutex.lock();
    assert!(poll(&mut first, &first_waker).is_pending());
    assert!(poll(&mut second, &second_waker).is_pending());
    drop(guard);
    assert_eq!((first_count.wakes(), second_count.wakes()), (1, 0));
    assert!(poll(&mut first, &first_waker).is_ready());
}

#[test]
fn a_starving_waiter_is_handed_the_lock() {
    let mutex = Mutex::new(());
    let guard = mutex.try_lock().unwrap();
    let mut waiter = mutex.lock();
    assert!(poll(&mut waiter, Waker::noop()).is_pending());
    std::thread::sleep(STARVATION_THRESHOLD * 3);
    drop(guard);
    // Handed over, not freed: a barging try_lock cannot take it.
    assert!(mutex.try_lock().is_none());
    assert!(poll(&mut waiter, Waker::noop()).is_ready());
}

#[test]
fn cancelled_waiter_that_was_handed_the_lock_passes_it_on() {
    let mutex = Mutex::new(());
    let guard = mutex.try_lock().unwrap();
    let mut first = mutex.lock();
    let mut second = mutex.lock();
    let (count, waker) = CountingWaker::new();
    assert!(poll(&mut first, Waker::noop()).is_pending());
    assert!(poll(&mut second, &waker).is_pending());
    std::thread::sleep(STARVATION_THRESHOLD * 3);
    drop(guard); // hands the lock to `first`
    drop(first); // which never runs: the lock must go on to `second`
    assert_eq!(count.wakes(), 1);
    assert!(poll(&mut second, &waker).is_ready());
}

#[test]
fn cancelled_waiter_that_was_woken_wakes_the_next() {
    let mutex = Mutex::new(());
    let guard = mutex.try_lock().unwrap();
    let mut first = mutex.lock();
    let mut second = mutex.lock();
    let (count, waker) = CountingWaker::new();
    assert!(poll(&mut first, Waker::noop()).is_pending());
    assert!(poll(&mut second, &waker).is_pending());
    drop(guard); // frees the lock and wakes `first`
    drop(first); // which never runs: `second` must be woken in its place
    assert_eq!(count.wakes(), 1);
    assert!(poll(&mut second, &waker).is_ready());
}

#[test]
fn guard_can_be_held_across_await_in_a_spawned_task() {
    watchdog(30, || {
        let rt = runtime();
        let mutex = Arc::new(Mutex::new(Vec::new()));
        let m = mutex.clone();
        let task = rt.spawn(async move {
            let mut guard = m.lock().await;
            goro_runtime::yield_now().await;
            guard.push(1);
        });
        rt.block_on(task).unwrap();
        assert_eq!(*block_on(mutex.lock()), [1]);
    });
}

#[test]
fn debug_does_not_need_debug_values() {
    struct Opaque;
    let mutex = Mutex::new(Opaque);
    let guard = mutex.try_lock();
    assert_eq!(
        format!("{mutex:?}"),
        "Mutex { locked: true, waiters: 0, .. }"
    );
    drop(guard);
}

#[test]
fn mutex_futures_and_guards_are_send_and_sync() {
    primitives::assert_send_sync::<Mutex<Vec<u8>>>();
    primitives::assert_send_sync::<goro_sync::mutex::Lock<'_, Vec<u8>>>();
    primitives::assert_send_sync::<goro_sync::MutexGuard<'_, Vec<u8>>>();
}
