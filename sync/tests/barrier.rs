//! Behaviour of `Barrier`: generations, leaders, cancellation.

#![cfg(not(goro_loom))]

mod primitives;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Poll, Waker};

use futures_lite::future::block_on;
use goro_sync::Barrier;
use primitives::{poll, runtime, watchdog};

const TASKS: usize = 4;
const GENERATIONS: usize = 100;

#[test]
fn each_generation_has_exactly_one_leader_across_tasks() {
    watchdog(60, || {
        let rt = runtime();
        let barrier = Arc::new(Barrier::new(TASKS));
        let arrived: Arc<Vec<AtomicUsize>> =
            Arc::new((0..GENERATIONS).map(|_| AtomicUsize::new(0)).collect());
        let leaders: Arc<Vec<AtomicUsize>> =
            Arc::new((0..GENERATIONS).map(|_| AtomicUsize::new(0)).collect());
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let (barrier, arrived, leaders) =
                    (barrier.clone(), arrived.clone(), leaders.clone());
                rt.spawn(async move {
                    for generation in 0..GENERATIONS {
                        arrived[generation].fetch_add(1, Ordering::SeqCst);
                        let result = barrier.wait().await;
                        // Nobody leaves a generation before everyone has arrived.
                        assert_eq!(arrived[generation].load(Ordering::SeqCst), TASKS);
                        if result.is_leader() {
                            leaders[generation].fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        rt.block_on(async {
            for task in tasks {
                task.await.unwrap();
            }
        });
        for (generation, leaders) in leaders.iter().enumerate() {
            assert_eq!(leaders.load(Ordering::SeqCst), 1, "generation {generation}");
        }
    });
}

#[test]
fn each_generation_has_exactly_one_leader_across_threads() {
    watchdog(60, || {
        let barrier = Arc::new(Barrier::new(3));
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    (0..50)
                        .map(|_| block_on(barrier.wait()).is_leader() as usize)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let per_thread: Vec<Vec<usize>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        for generation in 0..50 {
            let leaders: usize = per_thread.iter().map(|led| led[generation]).sum();
            assert_eq!(leaders, 1, "generation {generation}");
        }
    });
}

#[test]
fn cancelled_waiter_withdraws_its_arrival() {
    let barrier = Barrier::new(2);
    let mut cancelled = barrier.wait();
    assert!(poll(&mut cancelled, Waker::noop()).is_pending());
    drop(cancelled);
    // Had the dropped arrival counted, this wait would trip the barrier on its own.
    let mut first = barrier.wait();
    assert!(poll(&mut first, Waker::noop()).is_pending());
    let mut second = barrier.wait();
    assert!(matches!(poll(&mut second, Waker::noop()), Poll::Ready(r) if r.is_leader()));
    assert!(matches!(poll(&mut first, Waker::noop()), Poll::Ready(r) if !r.is_leader()));
}

#[test]
fn released_waiter_is_not_held_back_by_the_next_generation() {
    let barrier = Barrier::new(2);
    let mut slow = barrier.wait();
    assert!(poll(&mut slow, Waker::noop()).is_pending());
    assert!(poll(&mut barrier.wait(), Waker::noop()).is_ready());
    // The next generation starts filling before `slow` has run.
    let mut next = barrier.wait();
    assert!(poll(&mut next, Waker::noop()).is_pending());
    assert!(poll(&mut slow, Waker::noop()).is_ready());
    assert!(poll(&mut next, Waker::noop()).is_pending());
}

#[test]
fn barrier_of_zero_lets_everyone_through_as_leader() {
    let barrier = Barrier::new(0);
    assert!(block_on(barrier.wait()).is_leader());
    assert!(block_on(barrier.wait()).is_leader());
}

#[test]
fn barrier_futures_are_send_and_sync() {
    primitives::assert_send_sync::<Barrier>();
    primitives::assert_send_sync::<goro_sync::barrier::Wait<'_>>();
}
