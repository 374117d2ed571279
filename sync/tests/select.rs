//! Behaviour of `goro_sync::select!`: Go's choice rules, arm bodies as ordinary code, and no
//! waiter left behind.

use std::future::{ready, Future};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use futures_lite::future::block_on;
use goro_sync::chan::{self, Receiver};
use goro_sync::select;

/// Runs `f`, aborting the whole test process if it has not returned after `secs` seconds.
fn watchdog<R>(secs: u64, f: impl FnOnce() -> R) -> R {
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    let name = thread::current().name().unwrap_or("?").to_string();
    thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if flag.load(Ordering::SeqCst) {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        eprintln!("watchdog: test {name} still running after {secs} s: aborting");
        std::process::abort();
    });
    let out = f();
    done.store(true, Ordering::SeqCst);
    out
}

fn runtime() -> goro_runtime::Runtime {
    goro_runtime::Builder::new()
        .worker_threads(2)
        .build()
        .expect("runtime")
}

fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn select_takes_the_ready_arm() {
    block_on(async {
        let (tx1, rx1) = chan::bounded::<u32>(1);
        let (_tx2, rx2) = chan::bounded::<u32>(1);
        tx1.try_send(5).unwrap();
        let got = select! {
            v = rx1.recv() => v,
            v = rx2.recv() => v.map(|v| v + 100),
        };
        assert_eq!(got, Some(5));
    });
}

#[test]
fn two_always_ready_arms_each_win_about_half_the_time() {
    block_on(async {
        let (tx1, rx1) = chan::bounded(1);
        let (tx2, rx2) = chan::bounded(1);
        let mut wins = [0u32; 2];
        for _ in 0..10_000 {
            let _ = tx1.try_send(());
            let _ = tx2.try_send(());
            select! {
                _ = rx1.recv() => wins[0] += 1,
                _ = rx2.recv() => wins[1] += 1,
            }
        }
        for w in wins {
            assert!((4_000..=6_000).contains(&w), "{wins:?}");
        }
    });
}

#[test]
fn three_ready_arms_are_chosen_uniformly() {
    block_on(async {
        let mut wins = [0u32; 3];
        for _ in 0..15_000 {
            select! {
                _ = ready(()) => wins[0] += 1,
                _ = ready(()) => wins[1] += 1,
                _ = ready(()) => wins[2] += 1,
            }
        }
        for w in wins {
            assert!((4_000..=6_000).contains(&w), "{wins:?}");
        }
    });
}

#[test]
fn default_is_taken_only_when_nothing_is_ready() {
    block_on(async {
        let (tx, rx) = chan::bounded(4);
        let took_default = select! {
            _ = rx.recv() => false,
            default => true,
        };
        assert!(took_default);
        tx.try_send(1).unwrap();
        for _ in 0..100 {
            let _ = tx.try_send(1);
            let took_default = select! {
                _ = rx.recv() => false,
                default => true,
            };
            assert!(!took_default);
        }
    });
}

#[test]
fn a_spent_budget_does_not_send_a_select_to_its_default() {
    let (tx, rx) = chan::unbounded();
    for i in 0..1_000 {
        tx.try_send(i).unwrap();
    }
    // A loop that drains with `default => break` must see every value, budget or not.
    let mut fut = std::pin::pin!(async {
        let mut n = 0;
        loop {
            select! {
                _ = rx.recv() => n += 1,
                default => break,
            }
        }
        n
    });
    let mut polls = 0;
    let drained = loop {
        polls += 1;
        // Each poll gets a small budget, as an executor would grant.
        if let Poll::Ready(n) = goro_sync::coop::with_budget(16, || poll_once(fut.as_mut())) {
            break n;
        }
        assert!(polls < 1_000, "the loop never finished");
    };
    assert!(polls > 1, "the budget never ran out");
    assert_eq!(drained, 1_000);
}

#[test]
fn a_closed_channel_counts_as_ready() {
    block_on(async {
        let (tx, rx) = chan::bounded::<u32>(0);
        let (_other_tx, other_rx) = chan::bounded::<u32>(0);
        tx.close();
        let got = select! {
            v = rx.recv() => format!("recv {v:?}"),
            v = other_rx.recv() => format!("other {v:?}"),
        };
        assert_eq!(got, "recv None");
        let r = select! {
            r = tx.send(1) => r,
            default => Ok(()),
        };
        assert_eq!(r.unwrap_err().0, 1);
    });
}

#[test]
fn an_arm_not_chosen_sends_nothing_on_an_unbuffered_channel() {
    watchdog(10, || {
        let (tx, rx) = chan::bounded::<u32>(0);
        let (ready_tx, ready_rx) = chan::bounded::<u32>(1);
        // A receiver waits on the unbuffered channel, so the send arm is ready too.
        let receiver = thread::spawn(move || rx.recv_blocking());
        thread::sleep(Duration::from_millis(20));
        let mut sent = 0;
        let mut other = 0;
        block_on(async {
            while sent == 0 {
                ready_tx.try_send(1).unwrap();
                select! {
                    r = tx.send(7) => { r.unwrap(); sent += 1 }
                    _ = ready_rx.recv() => other += 1,
                }
                let _ = ready_rx.try_recv();
            }
        });
        drop(tx);
        assert_eq!(receiver.join().unwrap(), Some(7));
        assert_eq!(sent, 1);
        // The other arm won some rounds (the choice is random) without sending anything.
        let _ = other;
    });
}

async fn first_even(rx: &Receiver<u32>, limit: u32) -> Result<u32, String> {
    let mut odd_seen = 0;
    loop {
        select! {
            v = rx.recv() => {
                let v = v.ok_or("closed")?;
                if v % 2 == 1 {
                    odd_seen += 1;
                    if odd_seen == limit {
                        break;
                    }
                    continue;
                }
                return Ok(v);
            }
        }
    }
    Ok(1_000 + odd_seen)
}

#[test]
fn arm_bodies_can_use_question_mark_return_break_continue_and_locals() {
    block_on(async {
        let (tx, rx) = chan::unbounded();
        for v in [1, 3, 4] {
            tx.try_send(v).unwrap();
        }
        assert_eq!(first_even(&rx, 10).await, Ok(4)); // continue, continue, return
        for v in [5, 7] {
            tx.try_send(v).unwrap();
        }
        assert_eq!(first_even(&rx, 2).await, Ok(1_002)); // break after mutating a local
        drop(tx);
        assert_eq!(first_even(&rx, 2).await, Err("closed".to_string())); // ?
    });
}

#[test]
fn labelled_break_and_value_of_the_select() {
    block_on(async {
        let (tx, rx) = chan::unbounded();
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        let mut total = 0;
        'outer: for _ in 0..10 {
            for _ in 0..10 {
                let v: u32 = select! {
                    v = rx.recv() => v.unwrap(),
                    default => break 'outer,
                };
                total += v;
            }
        }
        assert_eq!(total, 3);
    });
}

#[test]
fn any_future_can_be_an_arm() {
    watchdog(10, || {
        let rt = runtime();
        rt.block_on(async {
            let (_tx, rx) = chan::bounded::<()>(0);
            let start = Instant::now();
            let which = select! {
                _ = rx.recv() => "recv",
                _ = goro_runtime::time::sleep(Duration::from_millis(20)) => "timer",
            };
            assert_eq!(which, "timer");
            assert!(start.elapsed() >= Duration::from_millis(20));
            let task = goro_runtime::spawn(async { 7 });
            let v = select! {
                r = task => r.unwrap(),
                _ = rx.recv() => 0,
            };
            assert_eq!(v, 7);
            let (tx2, rx2) = chan::bounded(0);
            let producer = goro_runtime::spawn(async move { tx2.send(3).await });
            let v = select! {
                v = async { rx2.recv().await.unwrap() * 2 } => v,
                _ = rx.recv() => 0,
            };
            assert_eq!(v, 6);
            producer.await.unwrap().unwrap();
        });
    });
}

#[test]
fn a_select_waits_for_a_sender_on_another_thread() {
    watchdog(10, || {
        let (tx1, rx1) = chan::bounded::<u32>(0);
        let (tx2, rx2) = chan::bounded::<u32>(0);
        let sender = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            tx2.send_blocking(2).unwrap();
            drop(tx1);
        });
        let got = block_on(async {
            select! {
                v = rx1.recv() => (1, v),
                v = rx2.recv() => (2, v),
            }
        });
        assert_eq!(got, (2, Some(2)));
        sender.join().unwrap();
    });
}

#[test]
fn a_select_send_waits_for_a_receiver_on_another_thread() {
    watchdog(10, || {
        let (tx, rx) = chan::bounded::<u32>(0);
        let (_never_tx, never) = chan::bounded::<u32>(0);
        let receiver = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            rx.recv_blocking()
        });
        block_on(async {
            select! {
                r = tx.send(9) => r.unwrap(),
                _ = never.recv() => unreachable!(),
            }
        });
        assert_eq!(receiver.join().unwrap(), Some(9));
    });
}

#[test]
fn a_never_ready_arm_leaves_no_waiters_behind() {
    block_on(async {
        let (never_tx, never_rx) = chan::bounded::<u64>(0);
        let (tx, rx) = chan::bounded(1);
        for i in 0..100_000u64 {
            tx.try_send(i).unwrap();
            let got = select! {
                v = rx.recv() => v.unwrap(),
                _ = never_rx.recv() => unreachable!(),
                _ = never_tx.send(i) => unreachable!(),
            };
            assert_eq!(got, i);
        }
        assert_eq!(never_rx.waiter_count(), 0);
        assert_eq!(rx.waiter_count(), 0);
    });
}

#[test]
fn waiting_selects_leave_no_waiters_behind() {
    watchdog(30, || {
        let (never_tx, never_rx) = chan::bounded::<u64>(0);
        let (tx, rx) = chan::bounded(0);
        let sender = thread::spawn(move || {
            for i in 0..20_000u64 {
                tx.send_blocking(i).unwrap();
            }
        });
        block_on(async {
            for i in 0..20_000u64 {
                // The select often waits here, with a waiter in all three queues.
                let got = select! {
                    v = rx.recv() => v.unwrap(),
                    _ = never_rx.recv() => unreachable!(),
                    _ = never_tx.send(i) => unreachable!(),
                };
                assert_eq!(got, i);
                assert_eq!(never_rx.waiter_count(), 0);
            }
        });
        sender.join().unwrap();
        assert_eq!(never_tx.waiter_count(), 0);
    });
}

#[test]
fn a_select_dropped_while_waiting_loses_no_value() {
    let (tx, rx) = chan::bounded::<u32>(0);
    let (_tx2, rx2) = chan::bounded::<u32>(0);
    {
        let mut select = std::pin::pin!(async {
            select! {
                v = rx.recv() => v,
                v = rx2.recv() => v,
            }
        });
        assert!(poll_once(select.as_mut()).is_pending());
        // The waiting select is handed the value, then dropped before it is polled.
        tx.try_send(11).unwrap();
    }
    assert_eq!(rx.try_recv(), Ok(11));
    assert_eq!(rx.waiter_count() + rx2.waiter_count(), 0);
}

#[test]
fn an_empty_select_waits_for_ever_and_a_lone_default_just_runs() {
    block_on(async {
        let mut forever = std::pin::pin!(async {
            select! {}
        });
        for _ in 0..3 {
            assert!(poll_once(forever.as_mut()).is_pending());
        }
        let v = select! { default => 5 };
        assert_eq!(v, 5);
    });
}

#[test]
fn nested_selects_each_commit_once() {
    block_on(async {
        let (tx1, rx1) = chan::bounded(1);
        let (tx2, rx2) = chan::bounded(1);
        tx1.try_send(1).unwrap();
        tx2.try_send(2).unwrap();
        let got = select! {
            v = async {
                select! {
                    v = rx1.recv() => v,
                    v = rx2.recv() => v,
                }
            } => v,
            _ = std::future::pending::<()>() => None,
        };
        let left = rx1.try_recv().ok().or(rx2.try_recv().ok());
        let mut both = [got.unwrap(), left.unwrap()];
        both.sort_unstable();
        assert_eq!(both, [1, 2]);
    });
}

#[test]
fn a_select_over_a_send_and_a_recv_of_the_same_channel_does_not_meet_itself() {
    watchdog(10, || {
        let (tx, rx) = chan::bounded::<u32>(0);
        let mut fut = std::pin::pin!(async {
            select! {
                r = tx.send(1) => format!("sent {r:?}"),
                v = rx.recv() => format!("received {v:?}"),
            }
        });
        for _ in 0..3 {
            assert!(poll_once(fut.as_mut()).is_pending());
        }
        // Another thread's receive completes the send arm.
        let rx2 = rx.clone();
        let other = thread::spawn(move || rx2.recv_blocking());
        assert_eq!(other.join().unwrap(), Some(1));
        assert_eq!(
            poll_once(fut.as_mut()),
            Poll::Ready("sent Ok(())".to_string())
        );
    });
}

#[test]
fn an_arm_doing_two_channel_operations_completes_both() {
    block_on(async {
        let (tx1, rx1) = chan::bounded(1);
        let (tx2, rx2) = chan::bounded(1);
        let (_never_tx, never) = chan::bounded::<u32>(0);
        tx1.try_send(1).unwrap();
        let filler = async {
            tx2.send(2).await.unwrap();
        };
        let (sum, ()) = futures_lite::future::zip(
            async {
                select! {
                    v = async { rx1.recv().await.unwrap() + rx2.recv().await.unwrap() } => v,
                    _ = never.recv() => 0,
                }
            },
            filler,
        )
        .await;
        assert_eq!(sum, 3);
    });
}

/// A `select!` nested in an arm of another is, to the outer one, an ordinary future (see the
/// macro docs): the two may even pair with each other, as two futures joined in one task can.
/// Either way the value is delivered exactly once and no waiter is left behind.
#[test]
fn a_select_nested_in_another_is_an_ordinary_future() {
    watchdog(10, || {
        for _ in 0..100 {
            let (tx, rx) = chan::bounded::<u32>(0);
            let (_never_tx, never) = chan::bounded::<u32>(0);
            let mut fut = std::pin::pin!(async {
                select! {
                    v = rx.recv() => format!("outer received {v:?}"),
                    s = async {
                        select! {
                            r = tx.send(1) => format!("inner sent {r:?}"),
                            _ = never.recv() => unreachable!(),
                        }
                    } => s,
                }
            });
            let got = match poll_once(fut.as_mut()) {
                Poll::Ready(got) => got,
                Poll::Pending => {
                    let rx2 = rx.clone();
                    let other = thread::spawn(move || rx2.recv_blocking());
                    assert_eq!(other.join().unwrap(), Some(1));
                    match poll_once(fut.as_mut()) {
                        Poll::Ready(got) => got,
                        Poll::Pending => panic!("the inner send completed but the select did not"),
                    }
                }
            };
            assert!(
                got == "outer received Some(1)" || got == "inner sent Ok(())",
                "{got}"
            );
            assert_eq!(rx.try_recv(), Err(chan::TryRecvError::Empty));
            assert_eq!(rx.waiter_count() + never.waiter_count(), 0);
        }
    });
}

#[test]
fn the_receiver_stream_can_be_an_arm_and_is_usable_afterwards() {
    use futures_lite::StreamExt;
    block_on(async {
        let (tx, mut rx) = chan::bounded::<u32>(0);
        let (other_tx, other_rx) = chan::bounded::<u32>(1);
        other_tx.try_send(1).unwrap();
        // The stream arm waits (nothing sent yet) and loses to the other arm.
        let got = select! {
            v = rx.next() => v,
            v = other_rx.recv() => v.map(|v| v + 100),
        };
        assert_eq!(got, Some(101));
        // The stream's receive, left over from the select, starts afresh outside it.
        let sender = thread::spawn(move || tx.send_blocking(2));
        assert_eq!(rx.next().await, Some(2));
        sender.join().unwrap().unwrap();
        assert_eq!(rx.next().await, None);
    });
}

#[test]
fn a_panicking_arm_leaves_the_channels_usable() {
    let (tx, rx) = chan::bounded::<u32>(0);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        block_on(async {
            select! {
                v = rx.recv() => v,
                _ = async { panic!("arm panics") } => None,
            }
        })
    }));
    assert!(caught.is_err());
    assert_eq!(rx.waiter_count(), 0);
    let mut recv = std::pin::pin!(rx.recv());
    assert!(poll_once(recv.as_mut()).is_pending());
    tx.try_send(4).unwrap();
    assert_eq!(poll_once(recv.as_mut()), Poll::Ready(Some(4)));
    let v = block_on(async {
        tx.try_send(5).unwrap_err();
        select! {
            _ = rx.recv() => 0,
            default => 1,
        }
    });
    assert_eq!(v, 1);
}
