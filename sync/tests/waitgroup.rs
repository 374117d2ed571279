//! Behaviour of `WaitGroup`: counting, waking, reuse, misuse.

#![cfg(not(goro_loom))]

mod primitives;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Waker;

use futures_lite::future::block_on;
use goro_sync::WaitGroup;
use primitives::{poll, runtime, watchdog, CountingWaker};

#[test]
#[should_panic(expected = "WaitGroup::done called more times than add counted")]
fn done_below_zero_panics() {
    let wg = WaitGroup::new();
    wg.add(1);
    wg.done();
    wg.done();
}

#[test]
fn done_below_zero_message_says_how_to_fix_it() {
    let wg = WaitGroup::new();
    let panic = std::panic::catch_unwind(|| wg.done()).unwrap_err();
    let message = match panic.downcast_ref::<String>() {
        Some(message) => message.as_str(),
        None => panic.downcast_ref::<&str>().expect("a text message"),
    };
    assert!(message.contains("call add(n)"), "{message}");
    assert!(message.contains("done() exactly once"), "{message}");
    // The group stays usable after the caller's bug was reported.
    wg.add(1);
    wg.done();
    block_on(wg.wait());
}

#[test]
fn wait_on_zero_returns_at_once() {
    let wg = WaitGroup::new();
    let mut wait = wg.wait();
    assert!(poll(&mut wait, Waker::noop()).is_ready());
}

#[test]
fn wait_waits_for_10k_tasks() {
    watchdog(30, || {
        let rt = runtime();
        let wg = WaitGroup::new();
        let finished = Arc::new(AtomicUsize::new(0));
        wg.add(10_000);
        for _ in 0..10_000 {
            let (wg, finished) = (wg.clone(), finished.clone());
            rt.spawn(async move {
                goro_runtime::yield_now().await;
                finished.fetch_add(1, Ordering::SeqCst);
                wg.done();
            });
        }
        rt.block_on(wg.wait());
        assert_eq!(finished.load(Ordering::SeqCst), 10_000);
    });
}

#[test]
fn wait_waits_for_plain_threads() {
    watchdog(30, || {
        let wg = WaitGroup::new();
        let finished = Arc::new(AtomicUsize::new(0));
        for _ in 0..8 {
            wg.add(1);
            let (wg, finished) = (wg.clone(), finished.clone());
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(5));
                finished.fetch_add(1, Ordering::SeqCst);
                wg.done();
            });
        }
        block_on(wg.wait());
        assert_eq!(finished.load(Ordering::SeqCst), 8);
    });
}

#[test]
fn last_done_wakes_every_waiter() {
    let wg = WaitGroup::new();
    wg.add(1);
    let (count, waker) = CountingWaker::new();
    let mut waits: Vec<_> = (0..5).map(|_| wg.wait()).collect();
    for wait in &mut waits {
        assert!(poll(wait, &waker).is_pending());
    }
    wg.done();
    assert_eq!(count.wakes(), 5);
    for wait in &mut waits {
        assert!(poll(wait, &waker).is_ready());
    }
}

#[test]
fn released_wait_completes_even_if_the_group_is_reused_first() {
    let wg = WaitGroup::new();
    wg.add(1);
    let mut wait = wg.wait();
    assert!(poll(&mut wait, Waker::noop()).is_pending());
    wg.done();
    wg.add(1); // reused before the released wait ran
    assert!(poll(&mut wait, Waker::noop()).is_ready());
    let mut next = wg.wait();
    assert!(poll(&mut next, Waker::noop()).is_pending());
    wg.done();
    assert!(poll(&mut next, Waker::noop()).is_ready());
}

#[test]
fn cancelled_wait_leaves_the_counter_alone() {
    let wg = WaitGroup::new();
    wg.add(1);
    let mut wait = wg.wait();
    assert!(poll(&mut wait, Waker::noop()).is_pending());
    drop(wait);
    assert_eq!(format!("{wg:?}"), "WaitGroup { count: 1, waiters: 0 }");
    wg.done();
}

#[test]
fn waitgroup_futures_are_send_and_sync() {
    primitives::assert_send_sync::<WaitGroup>();
    primitives::assert_send_sync::<goro_sync::waitgroup::Wait<'_>>();
}
