//! Behaviour of `goro_sync::broadcast`: every value to every receiver, lag, close, cancel safety.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use futures_lite::future::block_on;
use goro_sync::broadcast::{self, RecvError, SendError, TryRecvError};

mod primitives;
use primitives::watchdog;

fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn every_receiver_gets_every_value_sent_after_it_subscribed() {
    let (tx, mut rx1) = broadcast::channel(8);
    tx.send(1).unwrap();
    let mut rx2 = tx.subscribe();
    assert_eq!(tx.send(2), Ok(2));
    assert_eq!(rx1.try_recv(), Ok(1));
    assert_eq!(rx1.try_recv(), Ok(2));
    assert_eq!(rx2.try_recv(), Ok(2));
    assert_eq!(rx1.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(rx2.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn a_lagging_receiver_is_told_how_many_it_missed_then_continues() {
    let (tx, mut rx) = broadcast::channel(3);
    for i in 0..10 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), 3);
    assert_eq!(block_on(rx.recv()), Err(RecvError::Lagged(7)));
    assert_eq!(block_on(rx.recv()), Ok(7));
    assert_eq!(rx.try_recv(), Ok(8));
    assert_eq!(rx.try_recv(), Ok(9));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(10).unwrap();
    tx.send(11).unwrap();
    tx.send(12).unwrap();
    tx.send(13).unwrap();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
    assert_eq!(rx.try_recv(), Ok(11));
}

#[test]
fn receivers_drain_what_they_have_not_seen_after_the_last_sender_drops() {
    let (tx, mut rx) = broadcast::channel(4);
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    drop(tx);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "a sender is left");
    tx2.send(2).unwrap();
    drop(tx2);
    assert_eq!(block_on(rx.recv()), Ok(2));
    assert_eq!(block_on(rx.recv()), Err(RecvError::Closed));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn last_sender_drop_wakes_a_pending_recv() {
    watchdog(10, || {
        let (tx, mut rx) = broadcast::channel::<u8>(1);
        let dropper = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            drop(tx);
        });
        assert_eq!(block_on(rx.recv()), Err(RecvError::Closed));
        dropper.join().unwrap();
    });
}

#[test]
fn send_without_receivers_fails_and_keeps_nothing() {
    let (tx, rx) = broadcast::channel(4);
    drop(rx);
    assert_eq!(tx.send(1), Err(SendError(1)));
    assert!(tx.is_empty());
    let mut rx = tx.subscribe();
    assert_eq!(tx.send(2), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
#[should_panic(expected = "capacity must be at least 1")]
fn zero_capacity_panics() {
    let _ = broadcast::channel::<u8>(0);
}

#[test]
fn dropped_ready_recv_skips_no_value() {
    let (tx, mut rx) = broadcast::channel(4);
    {
        let mut recv = pin!(rx.recv());
        assert!(poll_once(recv.as_mut()).is_pending());
        tx.send(1).unwrap();
        // Ready now, but dropped before it is polled again.
    }
    assert_eq!(rx.len(), 1);
    assert_eq!(rx.try_recv(), Ok(1));
}

#[test]
fn recv_losing_a_select_to_a_ready_arm_skips_no_value() {
    watchdog(10, || {
        block_on(async {
            let (tx, mut rx) = broadcast::channel(1024);
            let (ready_tx, ready_rx) = goro_sync::chan::unbounded::<()>();
            for i in 0..500u32 {
                tx.send(i).unwrap();
            }
            let (mut got, mut lost) = (Vec::new(), 0);
            while !rx.is_empty() {
                ready_tx.try_send(()).unwrap();
                goro_sync::select! {
                    _ = ready_rx.recv() => lost += 1,
                    v = rx.recv() => {
                        got.push(v.unwrap());
                        ready_rx.try_recv().unwrap();
                    }
                }
            }
            assert!(lost > 0, "the other arm never won: the test proves nothing");
            assert_eq!(got, (0..500).collect::<Vec<_>>());
        })
    });
}

#[test]
fn many_threads_four_receivers_one_lagging_counts_add_up() {
    watchdog(60, || {
        const VALUES: u64 = 100_000;
        const CAPACITY: usize = 64;
        let rt = goro_runtime::Builder::new()
            .worker_threads(2)
            .build()
            .unwrap();
        let (tx, rx) = broadcast::channel::<u64>(CAPACITY);
        let receivers: Vec<_> = (0..4).map(|_| tx.subscribe()).collect();
        drop(rx);
        let (pace_tx, pace_rx) = goro_sync::chan::bounded::<u64>(CAPACITY / 2);
        // Receiver 3 stops at its first value >= GATE until the sender has sent 2 * GATE
        // values: it must lag, whatever the scheduling.
        const GATE: u64 = 10_000;
        let (gate_tx, gate_rx) = goro_sync::chan::bounded::<()>(0);
        rt.block_on(async move {
            // Receiver 0 paces the sender (it never lags), 1 and 2 run free, 3 is held at a
            // gate and lags; every receiver's received + missed is VALUES.
            let tasks: Vec<_> = receivers
                .into_iter()
                .enumerate()
                .map(|(i, mut rx)| {
                    let pace_tx = pace_tx.clone();
                    let gate_rx = gate_rx.clone();
                    goro_runtime::spawn(async move {
                        let (mut received, mut missed, mut expected) = (0u64, 0u64, 0u64);
                        let mut gated = i != 3;
                        loop {
                            match rx.recv().await {
                                Ok(v) => {
                                    assert!(v >= expected, "receiver {i}: {v} before {expected}");
                                    missed += v - expected;
                                    expected = v + 1;
                                    received += 1;
                                    if i == 0 {
                                        let _ = pace_tx.send(v).await;
                                    }
                                    if !gated && v >= GATE {
                                        gated = true;
                                        assert_eq!(gate_rx.recv().await, None);
                                    }
                                }
                                Err(RecvError::Lagged(n)) => {
                                    assert!(i != 0, "the pacing receiver cannot lag");
                                    // The next value received is `expected + n`.
                                    missed += n;
                                    expected += n;
                                }
                                Err(RecvError::Closed) => return (received, missed),
                            }
                        }
                    })
                })
                .collect();
            drop((pace_tx, gate_rx));
            let sender = thread::spawn(move || {
                for v in 0..VALUES {
                    tx.send(v).unwrap();
                    if v == 2 * GATE {
                        gate_tx.close();
                    }
                    // Stay within CAPACITY of receiver 0 so it never lags.
                    if v >= (CAPACITY / 2) as u64 {
                        let _ = pace_rx.recv_blocking();
                    }
                }
            });
            let mut results = Vec::new();
            for task in tasks {
                results.push(task.await.unwrap());
            }
            sender.join().unwrap();
            for (i, (received, missed)) in results.iter().enumerate() {
                assert_eq!(received + missed, VALUES, "receiver {i}: {results:?}");
            }
            assert_eq!(results[0], (VALUES, 0));
            assert!(
                results[3].1 > 0,
                "the slow receiver never lagged: {results:?}"
            );
        });
    });
}
