//! Behaviour of `Semaphore`: bounding concurrency, FIFO hand-over, cancellation.

#![cfg(not(goro_loom))]

mod primitives;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Waker;

use futures_lite::future::block_on;
use goro_sync::Semaphore;
use primitives::{poll, runtime, watchdog, CountingWaker};

/// Records the highest value `inside` reaches while `f` runs with `inside` raised by one.
fn enter(inside: &AtomicUsize, peak: &AtomicUsize) {
    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
    peak.fetch_max(now, Ordering::SeqCst);
}

#[test]
fn bounds_concurrency_of_tasks() {
    watchdog(60, || {
        let rt = runtime();
        let semaphore = Arc::new(Semaphore::new(3));
        let inside = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (semaphore, inside, peak) = (semaphore.clone(), inside.clone(), peak.clone());
                rt.spawn(async move {
                    for _ in 0..20 {
                        let _permit = semaphore.acquire().await;
                        enter(&inside, &peak);
                        goro_runtime::yield_now().await;
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        rt.block_on(async {
            for task in tasks {
                task.await.unwrap();
            }
        });
        let peak = peak.load(Ordering::SeqCst);
        assert!(
            (1..=3).contains(&peak),
            "{peak} tasks held a permit at once"
        );
        assert_eq!(semaphore.available_permits(), 3);
    });
}

#[test]
fn bounds_concurrency_of_threads() {
    watchdog(60, || {
        let semaphore = Arc::new(Semaphore::new(2));
        let inside = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let (semaphore, inside, peak) = (semaphore.clone(), inside.clone(), peak.clone());
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        let _permit = block_on(semaphore.acquire());
                        enter(&inside, &peak);
                        std::thread::yield_now();
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert!(peak.load(Ordering::SeqCst) <= 2);
        assert_eq!(semaphore.available_permits(), 2);
    });
}

#[test]
fn released_permits_go_to_waiters_in_arrival_order() {
    let semaphore = Semaphore::new(1);
    let permit = semaphore.try_acquire().unwrap();
    let (first_count, first_waker) = CountingWaker::new();
    let (second_count, second_waker) = CountingWaker::new();
    let mut first = semaphore.acquire();
    let mut second = semaphore.acquire();
    assert!(poll(&mut first, &first_waker).is_pending());
    assert!(poll(&mut second, &second_waker).is_pending());
    drop(permit);
    assert_eq!((first_count.wakes(), second_count.wakes()), (1, 0));
    // The permit is already the first waiter's: a newcomer cannot take it.
    assert!(semaphore.try_acquire().is_none());
    assert!(poll(&mut first, &first_waker).is_ready());
}

#[test]
fn add_permits_wakes_waiters() {
    let semaphore = Semaphore::new(0);
    let (count, waker) = CountingWaker::new();
    let mut waiters: Vec<_> = (0..3).map(|_| semaphore.acquire()).collect();
    for waiter in &mut waiters {
        assert!(poll(waiter, &waker).is_pending());
    }
    semaphore.add_permits(2);
    assert_eq!(count.wakes(), 2);
    assert_eq!(semaphore.available_permits(), 0);
    let first = poll(&mut waiters[0], &waker);
    let second = poll(&mut waiters[1], &waker);
    assert!(first.is_ready() && second.is_ready());
    assert!(poll(&mut waiters[2], &waker).is_pending());
    drop(first);
    assert!(poll(&mut waiters[2], &waker).is_ready());
}

#[test]
fn cancelled_acquire_that_was_handed_a_permit_passes_it_on() {
    let semaphore = Semaphore::new(1);
    let permit = semaphore.try_acquire().unwrap();
    let mut first = semaphore.acquire();
    let mut second = semaphore.acquire();
    let (count, waker) = CountingWaker::new();
    assert!(poll(&mut first, Waker::noop()).is_pending());
    assert!(poll(&mut second, &waker).is_pending());
    drop(permit); // hands the permit to `first`
    drop(first); // which never runs: the permit must reach `second`
    assert_eq!(count.wakes(), 1);
    assert!(poll(&mut second, &waker).is_ready());
}

#[test]
fn cancelled_acquire_with_nobody_behind_returns_the_permit() {
    let semaphore = Semaphore::new(1);
    let permit = semaphore.try_acquire().unwrap();
    let mut waiter = semaphore.acquire();
    assert!(poll(&mut waiter, Waker::noop()).is_pending());
    drop(permit);
    drop(waiter);
    assert_eq!(semaphore.available_permits(), 1);
}

#[test]
fn forgotten_permit_is_gone_for_good() {
    let semaphore = Semaphore::new(2);
    semaphore.try_acquire().unwrap().forget();
    assert_eq!(semaphore.available_permits(), 1);
    assert_eq!(
        format!("{semaphore:?}"),
        "Semaphore { permits: 1, waiters: 0 }"
    );
}

#[test]
#[should_panic(expected = "overflows the permit count")]
fn add_permits_overflow_panics() {
    Semaphore::new(1).add_permits(usize::MAX);
}

#[test]
fn semaphore_futures_and_permits_are_send_and_sync() {
    primitives::assert_send_sync::<Semaphore>();
    primitives::assert_send_sync::<goro_sync::semaphore::Acquire<'_>>();
    primitives::assert_send_sync::<goro_sync::SemaphorePermit<'_>>();
}
