//! Behaviour of `goro_sync::watch`: latest value, change notification, close, cancel safety.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use futures_lite::future::block_on;
use goro_sync::watch::{self, RecvError, SendError};

mod primitives;
use primitives::watchdog;

fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn initial_value_counts_as_seen() {
    let (tx, mut rx) = watch::channel(1);
    assert_eq!(*rx.borrow(), 1);
    assert_eq!(rx.has_changed(), Ok(false));
    assert!(poll_once(pin!(rx.changed())).is_pending());
    drop(tx);
}

#[test]
fn changed_sees_only_the_latest_value() {
    let (tx, mut rx) = watch::channel(0);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    block_on(rx.changed()).unwrap();
    assert_eq!(*rx.borrow(), 2);
    assert_eq!(rx.has_changed(), Ok(false));
    assert!(poll_once(pin!(rx.changed())).is_pending());
}

#[test]
fn pending_changed_is_woken_by_send() {
    watchdog(10, || {
        let (tx, mut rx) = watch::channel(0);
        let sender = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            tx.send(5).unwrap();
            tx
        });
        block_on(rx.changed()).unwrap();
        assert_eq!(*rx.borrow_and_update(), 5);
        drop(sender.join().unwrap());
    });
}

#[test]
fn close_lets_receivers_see_the_last_value_then_errors() {
    let (tx, mut rx) = watch::channel(0);
    let mut rx2 = rx.clone();
    tx.send(9).unwrap();
    tx.close();
    assert_eq!(block_on(rx.changed()), Ok(()));
    assert_eq!(*rx.borrow(), 9);
    assert_eq!(block_on(rx.changed()), Err(RecvError));
    assert_eq!(rx2.has_changed(), Ok(true));
    assert_eq!(*rx2.borrow_and_update(), 9);
    assert_eq!(rx2.has_changed(), Err(RecvError));
}

#[test]
fn drop_of_sender_wakes_a_pending_changed() {
    watchdog(10, || {
        let (tx, mut rx) = watch::channel(0);
        let dropper = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            drop(tx);
        });
        assert_eq!(block_on(rx.changed()), Err(RecvError));
        dropper.join().unwrap();
    });
}

#[test]
fn send_fails_only_when_every_receiver_is_gone() {
    let (tx, rx) = watch::channel(0);
    let rx2 = rx.clone();
    assert_eq!(tx.receiver_count(), 2);
    drop(rx);
    assert_eq!(tx.send(1), Ok(()));
    drop(rx2);
    assert_eq!(tx.receiver_count(), 0);
    assert_eq!(tx.send(2), Err(SendError(2)));
    assert_eq!(*tx.borrow(), 1, "a failed send stores nothing");
    let rx3 = tx.subscribe();
    assert_eq!(rx3.has_changed(), Ok(false));
    tx.send_modify(|v| *v += 10);
    assert_eq!(*rx3.borrow(), 11);
    assert_eq!(rx3.has_changed(), Ok(true));
}

#[test]
fn dropped_changed_marks_nothing_seen() {
    let (tx, mut rx) = watch::channel(0);
    {
        let mut changed = pin!(rx.changed());
        assert!(poll_once(changed.as_mut()).is_pending());
        tx.send(1).unwrap();
        // Ready now, but dropped before it is polled again.
    }
    assert_eq!(rx.has_changed(), Ok(true));
    assert_eq!(block_on(rx.changed()), Ok(()));
    assert_eq!(rx.has_changed(), Ok(false));
}

#[test]
fn changed_as_a_losing_select_arm_marks_nothing_seen() {
    watchdog(10, || {
        block_on(async {
            let (tx, mut rx) = watch::channel(0);
            let (ready_tx, ready_rx) = goro_sync::chan::unbounded::<()>();
            tx.send(1).unwrap();
            let mut wins = (0, 0);
            for _ in 0..200 {
                ready_tx.try_send(()).unwrap();
                goro_sync::select! {
                    _ = ready_rx.recv() => wins.0 += 1,
                    r = rx.changed() => {
                        r.unwrap();
                        wins.1 += 1;
                        tx.send(1).unwrap();
                        ready_rx.try_recv().unwrap();
                    }
                }
                // Whichever arm won, the unseen version is still unseen.
                assert_eq!(rx.has_changed(), Ok(true));
            }
            assert_eq!(wins.0 + wins.1, 200);
        })
    });
}

#[test]
fn many_receivers_under_the_runtime_reach_the_last_value() {
    watchdog(30, || {
        let rt = goro_runtime::Builder::new()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(async {
            const LAST: u64 = 100_000;
            let (tx, rx) = watch::channel(0u64);
            let readers: Vec<_> = (0..4)
                .map(|_| {
                    let mut rx = rx.clone();
                    goro_runtime::spawn(async move {
                        let mut last = 0;
                        while rx.changed().await.is_ok() {
                            let v = *rx.borrow_and_update();
                            assert!(v >= last, "values went backwards: {v} after {last}");
                            last = v;
                        }
                        last
                    })
                })
                .collect();
            drop(rx);
            let sender = thread::spawn(move || {
                for i in 1..=LAST {
                    tx.send(i).unwrap();
                }
            });
            for reader in readers {
                assert_eq!(reader.await.unwrap(), LAST);
            }
            sender.join().unwrap();
        });
    });
}
