//! Behaviour of `Once` and `OnceCell`: one run under concurrency, re-runs after cancellation.

#![cfg(not(goro_loom))]

mod primitives;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Waker;

use futures_lite::future::{block_on, pending};
use goro_sync::{Once, OnceCell};
use primitives::{poll, runtime, watchdog, CountingWaker};

#[test]
fn once_runs_once_under_100_concurrent_callers() {
    watchdog(60, || {
        let rt = runtime();
        let once = Arc::new(Once::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let initialised = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let (once, runs, initialised) = (once.clone(), runs.clone(), initialised.clone());
                rt.spawn(async move {
                    let init = async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        for _ in 0..10 {
                            goro_runtime::yield_now().await;
                        }
                        initialised.store(true, Ordering::SeqCst);
                    };
                    once.call_once(init).await;
                    // Every caller returns only after the call completed.
                    assert!(initialised.load(Ordering::SeqCst));
                })
            })
            .collect();
        rt.block_on(async {
            for task in tasks {
                task.await.unwrap();
            }
        });
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(once.is_completed());
    });
}

#[test]
fn once_reruns_after_a_cancelled_first_call() {
    let once = Once::new();
    let runs = AtomicUsize::new(0);
    let mut first = once.call_once(async {
        runs.fetch_add(1, Ordering::SeqCst);
        pending::<()>().await;
    });
    assert!(poll(&mut first, Waker::noop()).is_pending());
    drop(first);
    assert!(!once.is_completed());
    block_on(once.call_once(async {
        runs.fetch_add(1, Ordering::SeqCst);
    }));
    block_on(once.call_once(async { unreachable!("already completed") }));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn cancelled_run_hands_the_turn_to_a_waiting_caller() {
    let once = Once::new();
    let ran_second = AtomicBool::new(false);
    let mut first = once.call_once(pending::<()>());
    let mut second = once.call_once(async { ran_second.store(true, Ordering::SeqCst) });
    let (count, waker) = CountingWaker::new();
    assert!(poll(&mut first, Waker::noop()).is_pending());
    assert!(poll(&mut second, &waker).is_pending());
    drop(first);
    assert_eq!(count.wakes(), 1);
    assert!(poll(&mut second, &waker).is_ready());
    assert!(ran_second.load(Ordering::SeqCst));
    assert!(once.is_completed());
}

#[test]
fn waiter_handed_the_turn_and_cancelled_passes_it_on() {
    let once = Once::new();
    let ran_third = AtomicBool::new(false);
    let mut first = once.call_once(pending::<()>());
    let mut second = once.call_once(async { unreachable!("cancelled before it ran") });
    let mut third = once.call_once(async { ran_third.store(true, Ordering::SeqCst) });
    let (count, waker) = CountingWaker::new();
    assert!(poll(&mut first, Waker::noop()).is_pending());
    assert!(poll(&mut second, Waker::noop()).is_pending());
    assert!(poll(&mut third, &waker).is_pending());
    drop(first); // the turn goes to `second`
    drop(second); // which never runs: the turn must reach `third`
    assert_eq!(count.wakes(), 1);
    assert!(poll(&mut third, &waker).is_ready());
    assert!(ran_third.load(Ordering::SeqCst));
}

#[test]
fn panicking_call_counts_as_completed() {
    let once = Once::new();
    let caught = std::panic::catch_unwind(|| {
        block_on(once.call_once(async { panic!("init failed") }));
    });
    assert!(caught.is_err());
    assert!(once.is_completed());
    block_on(once.call_once(async { unreachable!("already completed") }));
}

#[test]
fn once_cell_runs_one_initialiser_under_concurrency() {
    watchdog(60, || {
        let rt = runtime();
        let cell = Arc::new(OnceCell::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let (cell, runs) = (cell.clone(), runs.clone());
                rt.spawn(async move {
                    let value = cell
                        .get_or_init(async {
                            runs.fetch_add(1, Ordering::SeqCst);
                            goro_runtime::yield_now().await;
                            i
                        })
                        .await;
                    *value
                })
            })
            .collect();
        let values: Vec<usize> = rt.block_on(async {
            let mut values = Vec::new();
            for task in tasks {
                values.push(task.await.unwrap());
            }
            values
        });
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(values.iter().all(|v| Some(v) == cell.get()));
    });
}

#[test]
fn once_cell_set_returns_the_value_when_already_set() {
    let cell = OnceCell::new();
    assert_eq!(cell.get(), None);
    assert_eq!(cell.set(String::from("a")), Ok(()));
    assert_eq!(cell.set(String::from("b")), Err(String::from("b")));
    assert_eq!(block_on(cell.get_or_init(async { unreachable!() })), "a");
    assert_eq!(cell.into_inner().as_deref(), Some("a"));
}

#[test]
fn once_cell_cancelled_initialiser_lets_the_next_caller_initialise() {
    let cell = OnceCell::new();
    let mut first = cell.get_or_init(pending::<u32>());
    let mut second = cell.get_or_init(async { 2 });
    let (count, waker) = CountingWaker::new();
    assert!(poll(&mut first, Waker::noop()).is_pending());
    assert!(poll(&mut second, &waker).is_pending());
    drop(first);
    assert_eq!(count.wakes(), 1);
    assert_eq!(
        poll(&mut second, &waker).map(|v| *v),
        std::task::Poll::Ready(2)
    );
}

#[test]
fn once_cell_set_while_initialising_releases_the_waiters() {
    let cell = OnceCell::new();
    let mut running = cell.get_or_init(pending::<u32>());
    let mut waiting = cell.get_or_init(async { unreachable!("someone is initialising") });
    let (count, waker) = CountingWaker::new();
    assert!(poll(&mut running, Waker::noop()).is_pending());
    assert!(poll(&mut waiting, &waker).is_pending());
    assert_eq!(cell.set(7), Ok(()));
    assert_eq!(count.wakes(), 1);
    assert_eq!(
        poll(&mut waiting, &waker).map(|v| *v),
        std::task::Poll::Ready(7)
    );
    drop(running);
    assert_eq!(cell.get(), Some(&7));
}

#[test]
fn once_cell_panicking_initialiser_leaves_it_empty() {
    let cell = OnceCell::new();
    let caught = std::panic::catch_unwind(|| {
        block_on(cell.get_or_init(async { panic!("init failed") }));
    });
    assert!(caught.is_err());
    assert_eq!(cell.get(), None);
    assert_eq!(*block_on(cell.get_or_init(async { 5 })), 5);
}

#[test]
fn debug_does_not_need_debug_values() {
    struct Opaque;
    let cell = OnceCell::new();
    let _ = cell.set(Opaque);
    assert_eq!(format!("{cell:?}"), "OnceCell { initialized: true, .. }");
}

#[test]
fn once_futures_are_send_and_sync() {
    type Init = std::future::Ready<()>;
    primitives::assert_send_sync::<Once>();
    primitives::assert_send_sync::<OnceCell<Vec<u8>>>();
    primitives::assert_send_sync::<goro_sync::once::CallOnce<'_, Init>>();
    primitives::assert_send_sync::<goro_sync::once::GetOrInit<'_, (), Init>>();
}
