//! Cancel safety of every waiting operation of goro-sync: a future that starts waiting, is
//! handed what it waited for (or not), and is then dropped instead of polled, loses nothing:
//! the lock, permit, notification, turn or value goes to whoever comes next.
//!
//! Each test drives the futures by hand with counting wakers, on one thread, so every step
//! happens in the order written.

#![cfg(not(goro_loom))]

mod primitives;

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use futures_lite::future::{self, block_on};
use goro_sync::mutex::STARVATION_THRESHOLD;
use goro_sync::{chan, Barrier, Mutex, Notify, Once, OnceCell, RwLock, Semaphore, WaitGroup};
use primitives::{poll, watchdog, CountingWaker};

/// Polls a fresh future once, by value, and asserts that it is waiting.
fn assert_pending<F: Future + Unpin>(future: &mut F, waker: &std::task::Waker) {
    assert!(
        poll(future, waker).is_pending(),
        "expected the future to wait"
    );
}

#[test]
fn mutex_lock_handed_the_lock_then_dropped_passes_it_on() {
    let m = Mutex::new(0);
    let guard = m.try_lock().unwrap();
    let (_, w1) = CountingWaker::new();
    let (woken2, w2) = CountingWaker::new();
    let mut first = Box::pin(m.lock());
    let mut second = Box::pin(m.lock());
    assert_pending(&mut first, &w1);
    assert_pending(&mut second, &w2);
    // Past the starvation threshold the unlock hands the mutex straight to `first`.
    std::thread::sleep(STARVATION_THRESHOLD * 5);
    drop(guard);
    assert!(
        m.try_lock().is_none(),
        "the lock was handed to the first waiter"
    );
    drop(first); // granted, never polled: must hand the lock on
    assert!(woken2.wakes() > 0, "the next waiter was not woken");
    let Poll::Ready(mut guard) = poll(&mut second, &w2) else {
        panic!("the lock was not passed on to the next waiter");
    };
    *guard += 1;
    drop(guard);
    assert_eq!(*m.try_lock().unwrap(), 1);
}

#[test]
fn mutex_lock_woken_for_a_free_lock_then_dropped_wakes_the_next_waiter() {
    let m = Mutex::new(());
    let guard = m.try_lock().unwrap();
    let (woken1, w1) = CountingWaker::new();
    let (woken2, w2) = CountingWaker::new();
    let mut first = Box::pin(m.lock());
    let mut second = Box::pin(m.lock());
    assert_pending(&mut first, &w1);
    assert_pending(&mut second, &w2);
    drop(guard); // frees the mutex (or, if this thread was slow, hands it to `first`)
    assert!(woken1.wakes() > 0);
    drop(first);
    assert!(
        woken2.wakes() > 0,
        "the next waiter was not woken in the first one's place"
    );
    assert!(poll(&mut second, &w2).is_ready());
}

#[test]
fn rwlock_write_handed_the_lock_then_dropped_lets_the_queued_reader_in() {
    let lock = RwLock::new(5);
    let guard = lock.try_write().unwrap();
    let (_, ww) = CountingWaker::new();
    let (woken_r, wr) = CountingWaker::new();
    let mut writer = Box::pin(lock.write());
    let mut reader = Box::pin(lock.read());
    assert_pending(&mut writer, &ww);
    assert_pending(&mut reader, &wr); // queued behind the writer
    drop(guard); // the queued writer is handed the lock
    assert!(lock.try_read().is_none());
    drop(writer);
    assert!(woken_r.wakes() > 0);
    let Poll::Ready(value) = poll(&mut reader, &wr) else {
        panic!("the reader was not let in after the writer's cancellation");
    };
    assert_eq!(*value, 5);
}

#[test]
fn rwlock_read_handed_a_share_then_dropped_lets_the_queued_writer_in() {
    let lock = RwLock::new(5);
    let guard = lock.try_write().unwrap();
    let (_, wr) = CountingWaker::new();
    let (woken_w, ww) = CountingWaker::new();
    let mut reader = Box::pin(lock.read());
    let mut writer = Box::pin(lock.write());
    assert_pending(&mut reader, &wr);
    assert_pending(&mut writer, &ww);
    drop(guard); // the reader gets a share; the writer waits for it to leave
    assert!(poll(&mut writer, &ww).is_pending());
    drop(reader);
    assert!(woken_w.wakes() > 0);
    let Poll::Ready(mut value) = poll(&mut writer, &ww) else {
        panic!("the writer was not let in after the reader's cancellation");
    };
    *value += 1;
}

#[test]
fn semaphore_acquire_handed_a_permit_then_dropped_passes_it_on() {
    let sem = Semaphore::new(1);
    let permit = sem.try_acquire().unwrap();
    let (_, w1) = CountingWaker::new();
    let (woken2, w2) = CountingWaker::new();
    let mut first = Box::pin(sem.acquire());
    let mut second = Box::pin(sem.acquire());
    assert_pending(&mut first, &w1);
    assert_pending(&mut second, &w2);
    drop(permit); // handed to `first`
    assert_eq!(sem.available_permits(), 0);
    drop(first);
    assert!(woken2.wakes() > 0);
    let Poll::Ready(permit) = poll(&mut second, &w2) else {
        panic!("the permit was not passed on");
    };
    drop(permit);
    assert_eq!(sem.available_permits(), 1, "a permit was lost");
}

#[test]
fn semaphore_acquire_arm_that_loses_after_its_grant_passes_the_permit_on() {
    watchdog(30, || {
        let sem = std::sync::Arc::new(Semaphore::new(1));
        let mut lost_races = 0;
        for _ in 0..500 {
            sem.try_acquire().unwrap().forget(); // held, released below by another thread
            let (wake_tx, wake) = chan::bounded::<()>(1);
            let releaser = {
                let sem = sem.clone();
                std::thread::spawn(move || {
                    sem.add_permits(1); // handed to the waiting acquire arm, if it waits yet
                    wake_tx.try_send(()).unwrap(); // then the other arm is ready too
                })
            };
            block_on(async {
                goro_sync::select! {
                    permit = sem.acquire() => drop(permit),
                    _ = wake.recv() => lost_races += 1,
                }
            });
            releaser.join().unwrap();
            assert_eq!(
                sem.available_permits(),
                1,
                "a losing acquire arm kept the permit"
            );
        }
        eprintln!("the acquire arm lost {lost_races} of 500 races");
    });
}

#[test]
fn notified_handed_notify_one_then_dropped_passes_it_on() {
    let notify = Notify::new();
    let (_, w1) = CountingWaker::new();
    let (woken2, w2) = CountingWaker::new();
    let mut first = Box::pin(notify.notified());
    let mut second = Box::pin(notify.notified());
    assert_pending(&mut first, &w1);
    assert_pending(&mut second, &w2);
    notify.notify_one(); // handed to `first`
    drop(first);
    assert!(woken2.wakes() > 0);
    assert!(
        poll(&mut second, &w2).is_ready(),
        "the notification was swallowed"
    );
}

#[test]
fn notified_dropped_before_its_first_poll_leaves_the_permit() {
    let notify = Notify::new();
    notify.notify_one(); // nobody waits: a permit
    drop(notify.notified()); // never polled
    let mut next = Box::pin(notify.notified());
    let (_, w) = CountingWaker::new();
    assert!(
        poll(&mut next, &w).is_ready(),
        "an unpolled Notified took the permit"
    );
}

#[test]
fn waitgroup_wait_dropped_takes_nothing_from_the_other_waiters() {
    let wg = WaitGroup::new();
    wg.add(1);
    let (_, w1) = CountingWaker::new();
    let (woken2, w2) = CountingWaker::new();
    let mut first = Box::pin(wg.wait());
    let mut second = Box::pin(wg.wait());
    assert_pending(&mut first, &w1);
    assert_pending(&mut second, &w2);
    drop(first);
    wg.done();
    assert!(woken2.wakes() > 0);
    assert!(poll(&mut second, &w2).is_ready());
    assert!(block_on(future::poll_once(wg.wait())).is_some());
}

#[test]
fn barrier_wait_dropped_before_the_trip_withdraws_its_arrival() {
    let barrier = Barrier::new(2);
    let (_, w) = CountingWaker::new();
    let mut dropped = Box::pin(barrier.wait());
    assert_pending(&mut dropped, &w); // arrived: one of two
    drop(dropped); // withdrawn: the barrier waits for two again
    let mut a = Box::pin(barrier.wait());
    assert_pending(&mut a, &w); // had the arrival been kept, this would trip the barrier
    let mut b = Box::pin(barrier.wait());
    let Poll::Ready(result) = poll(&mut b, &w) else {
        panic!("the second live arrival did not trip the barrier");
    };
    assert!(result.is_leader());
    assert!(matches!(poll(&mut a, &w), Poll::Ready(r) if !r.is_leader()));
}

#[test]
fn barrier_wait_dropped_after_the_trip_does_not_hold_back_the_others() {
    let barrier = Barrier::new(3);
    let (_, w) = CountingWaker::new();
    let mut a = Box::pin(barrier.wait());
    let mut b = Box::pin(barrier.wait());
    assert_pending(&mut a, &w);
    assert_pending(&mut b, &w);
    let mut c = Box::pin(barrier.wait());
    assert!(poll(&mut c, &w).is_ready()); // trips: `a` and `b` are released
    drop(a); // released, never polled
    assert!(poll(&mut b, &w).is_ready());
    // The next generation needs three fresh arrivals: the dropped `a` left no trace.
    let mut next: Vec<_> = (0..2).map(|_| Box::pin(barrier.wait())).collect();
    for f in &mut next {
        assert_pending(f, &w);
    }
}

#[test]
fn once_call_cancelled_mid_run_hands_the_turn_to_a_waiter_handed_on_again() {
    let once = Once::new();
    let (gate_tx, gate) = chan::bounded::<()>(0);
    let (_, w) = CountingWaker::new();
    let mut runner = Box::pin(once.call_once(async {
        let _ = gate.recv().await; // never completes: the gate stays shut
        unreachable!("the first initialiser is cancelled before it finishes");
    }));
    assert_pending(&mut runner, &w);
    let mut second = Box::pin(once.call_once(async { unreachable!("the turn was passed on") }));
    assert_pending(&mut second, &w);
    let ran_third = std::cell::Cell::new(false);
    let mut third = Box::pin(once.call_once(async { ran_third.set(true) }));
    assert_pending(&mut third, &w);
    drop(runner); // the turn goes to `second`...
    drop(second); // ...which drops it unrun: it goes to `third`
    assert!(poll(&mut third, &w).is_ready());
    assert!(ran_third.get());
    assert!(once.is_completed());
    drop(gate_tx);
}

#[test]
fn once_cell_initialiser_cancelled_lets_a_waiting_caller_initialise() {
    let cell = OnceCell::new();
    let (_, w) = CountingWaker::new();
    let mut first = Box::pin(cell.get_or_init(future::pending::<u32>()));
    assert_pending(&mut first, &w);
    let mut second = Box::pin(cell.get_or_init(async { 2 }));
    assert_pending(&mut second, &w);
    drop(first);
    assert!(matches!(poll(&mut second, &w), Poll::Ready(&2)));
    assert_eq!(cell.get(), Some(&2));
}

#[test]
fn recv_handed_a_value_then_dropped_puts_it_back_first() {
    for capacity in [0, 4] {
        let (tx, rx) = chan::bounded::<u32>(capacity);
        let (_, w) = CountingWaker::new();
        let mut recv = Box::pin(rx.recv());
        assert_pending(&mut recv, &w);
        tx.try_send(1).unwrap(); // handed straight to the waiting receiver
        if capacity > 0 {
            tx.try_send(2).unwrap(); // queued behind it
        }
        drop(recv);
        assert_eq!(
            rx.try_recv(),
            Ok(1),
            "capacity {capacity}: the handed value was lost"
        );
        if capacity > 0 {
            assert_eq!(rx.try_recv(), Ok(2));
        }
    }
}

#[test]
fn recv_arms_that_lose_lose_no_value_and_keep_the_order() {
    watchdog(30, || {
        let (tx_a, rx_a) = chan::bounded::<u32>(16);
        let (tx_b, rx_b) = chan::bounded::<u32>(16);
        const N: u32 = 2000;
        let feeder = std::thread::spawn(move || {
            for i in 0..N {
                tx_a.send_blocking(i).unwrap();
                tx_b.send_blocking(i).unwrap();
            }
        });
        let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
        block_on(async {
            while got_a.len() < N as usize || got_b.len() < N as usize {
                goro_sync::select! {
                    // `None` once a channel is closed and drained.
                    v = rx_a.recv() => got_a.extend(v),
                    v = rx_b.recv() => got_b.extend(v),
                    // A ready arm racing them: receives that lose to it must lose nothing.
                    _ = future::ready(()) => {}
                }
            }
        });
        feeder.join().unwrap();
        let expected: Vec<u32> = (0..N).collect();
        assert_eq!(got_a, expected);
        assert_eq!(got_b, expected);
    });
}

#[test]
fn lock_arm_that_loses_to_a_timeout_leaves_the_mutex_usable() {
    watchdog(30, || {
        let rt = primitives::runtime();
        let m = std::sync::Arc::new(Mutex::new(0u32));
        rt.block_on(async {
            for _ in 0..200 {
                let guard = m.lock().await;
                let m2 = m.clone();
                let waiter = goro_runtime::spawn(async move {
                    goro_sync::select! {
                        _ = m2.lock() => false,
                        _ = goro_runtime::time::sleep(Duration::from_micros(50)) => true,
                    }
                });
                goro_runtime::time::sleep(Duration::from_micros(100)).await;
                drop(guard); // may race the waiter's timeout: either way the lock comes back
                waiter.await.unwrap();
                *m.lock().await += 1;
            }
        });
        assert_eq!(*block_on(m.lock()), 200);
    });
}
