//! Behaviour of `Notify`: permits, one and all, cancellation.

#![cfg(not(goro_loom))]

mod primitives;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Waker;

use futures_lite::future::block_on;
use goro_sync::Notify;
use primitives::{poll, runtime, watchdog, CountingWaker};

#[test]
fn notify_one_before_waiting_stores_a_permit() {
    let notify = Notify::new();
    notify.notify_one();
    let mut notified = notify.notified();
    assert!(poll(&mut notified, Waker::noop()).is_ready());
}

#[test]
fn permits_do_not_add_up() {
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_one();
    assert!(poll(&mut notify.notified(), Waker::noop()).is_ready());
    assert!(poll(&mut notify.notified(), Waker::noop()).is_pending());
}

#[test]
fn notify_one_wakes_exactly_one_waiter() {
    let notify = Notify::new();
    let (count, waker) = CountingWaker::new();
    let mut waiters: Vec<_> = (0..3).map(|_| notify.notified()).collect();
    for waiter in &mut waiters {
        assert!(poll(waiter, &waker).is_pending());
    }
    notify.notify_one();
    assert_eq!(count.wakes(), 1);
    let ready = waiters
        .iter_mut()
        .map(|w| poll(w, &waker))
        .filter(|p| p.is_ready())
        .count();
    assert_eq!(ready, 1);
}

#[test]
fn notify_all_wakes_every_waiter_and_stores_no_permit() {
    let notify = Notify::new();
    let (count, waker) = CountingWaker::new();
    let mut waiters: Vec<_> = (0..3).map(|_| notify.notified()).collect();
    for waiter in &mut waiters {
        assert!(poll(waiter, &waker).is_pending());
    }
    notify.notify_all();
    assert_eq!(count.wakes(), 3);
    for waiter in &mut waiters {
        assert!(poll(waiter, &waker).is_ready());
    }
    assert!(poll(&mut notify.notified(), Waker::noop()).is_pending());
}

#[test]
fn notified_created_before_notify_all_completes_without_having_been_polled() {
    let notify = Notify::new();
    let mut early = notify.notified();
    notify.notify_all();
    let mut late = notify.notified();
    assert!(poll(&mut early, Waker::noop()).is_ready());
    assert!(poll(&mut late, Waker::noop()).is_pending());
}

#[test]
fn cancelled_waiter_that_was_notified_passes_it_on() {
    let notify = Notify::new();
    let mut first = notify.notified();
    let mut second = notify.notified();
    let (count, waker) = CountingWaker::new();
    assert!(poll(&mut first, Waker::noop()).is_pending());
    assert!(poll(&mut second, &waker).is_pending());
    notify.notify_one(); // handed to `first`
    drop(first); // which never runs: `second` must get it
    assert_eq!(count.wakes(), 1);
    assert!(poll(&mut second, &waker).is_ready());
}

#[test]
fn cancelled_notified_waiter_with_nobody_behind_leaves_the_permit() {
    let notify = Notify::new();
    let mut waiter = notify.notified();
    assert!(poll(&mut waiter, Waker::noop()).is_pending());
    notify.notify_one();
    drop(waiter);
    assert!(poll(&mut notify.notified(), Waker::noop()).is_ready());
}

#[test]
fn ping_pong_between_tasks_loses_no_notification() {
    watchdog(60, || {
        let rt = runtime();
        let ping = Arc::new(Notify::new());
        let pong = Arc::new(Notify::new());
        let rounds = Arc::new(AtomicUsize::new(0));
        let task = {
            let (ping, pong, rounds) = (ping.clone(), pong.clone(), rounds.clone());
            rt.spawn(async move {
                for _ in 0..10_000 {
                    ping.notified().await;
                    rounds.fetch_add(1, Ordering::SeqCst);
                    pong.notify_one();
                }
            })
        };
        rt.block_on(async {
            for _ in 0..10_000 {
                ping.notify_one();
                pong.notified().await;
            }
        });
        rt.block_on(task).unwrap();
        assert_eq!(rounds.load(Ordering::SeqCst), 10_000);
    });
}

#[test]
fn notify_one_from_a_plain_thread_wakes_a_blocked_waiter() {
    watchdog(30, || {
        let notify = Arc::new(Notify::new());
        let signaller = {
            let notify = notify.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(10));
                notify.notify_one();
            })
        };
        block_on(notify.notified());
        signaller.join().unwrap();
    });
}

#[test]
fn notify_futures_are_send_and_sync() {
    primitives::assert_send_sync::<Notify>();
    primitives::assert_send_sync::<goro_sync::notify::Notified<'_>>();
}
