//! loom models of the channel hand-over and the select commit.
//!
//! Run with
//! `RUSTFLAGS="--cfg goro_loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom
//! cargo test -p goro-rt-sync --release --lib loom`.
//! (That needs every crate in the build to compile under `--cfg goro_loom`, the runtime, a
//! dev-dependency, included: a crate may name loom only under `all(goro_loom, test)`.)
//! A lost wakeup shows up as a deadlock (every thread blocked in `block_on`), which loom
//! reports; a lost or duplicated value fails an assertion.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use ::loom::thread;

use super::{bounded, SendError};

/// Wakes a parked loom thread.
struct Unpark(thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Drives `future` on the current loom thread, parking between polls. (loom's own `block_on`
/// needs its `futures` feature, which the crate's dev-dependency does not enable.)
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

/// A send on an unbuffered channel meets a receive: the value arrives, both complete.
#[test]
fn loom_unbuffered_send_meets_recv() {
    ::loom::model(|| {
        let (tx, rx) = bounded::<u32>(0);
        let sender = thread::spawn(move || block_on(tx.send(1)));
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}

/// A send races a close: either the value is delivered (and received), or it comes back.
#[test]
fn loom_send_races_close() {
    ::loom::model(|| {
        let (tx, rx) = bounded::<u32>(1);
        let tx2 = tx.clone();
        let sender = thread::spawn(move || block_on(tx2.send(1)));
        tx.close();
        let sent = sender.join().unwrap();
        match sent {
            Ok(()) => assert_eq!(block_on(rx.recv()), Some(1)),
            Err(SendError(v)) => assert_eq!(v, 1),
        }
        assert_eq!(block_on(rx.recv()), None);
    });
}

/// An unbuffered send, a receive and a close race: the value is either handed over (both
/// succeed) or not at all (the send gets it back, the receive sees the close).
#[test]
fn loom_unbuffered_send_recv_and_close_race() {
    ::loom::model(|| {
        let (tx, rx) = bounded::<u32>(0);
        let closer = tx.clone();
        let sender = thread::spawn(move || block_on(tx.send(1)));
        let receiver = thread::spawn(move || block_on(rx.recv()));
        closer.close();
        let sent = sender.join().unwrap();
        let received = receiver.join().unwrap();
        match sent {
            Ok(()) => assert_eq!(received, Some(1)),
            Err(SendError(1)) => assert_eq!(received, None),
            Err(_) => unreachable!(),
        }
    });
}

/// A waiting send races the drop of the last receiver: the send fails with its value.
#[test]
fn loom_send_races_drop_of_last_receiver() {
    ::loom::model(|| {
        let (tx, rx) = bounded::<u32>(0);
        let sender = thread::spawn(move || block_on(tx.send(1)));
        drop(rx);
        assert_eq!(sender.join().unwrap(), Err(SendError(1)));
    });
}

/// The last sender sends, then goes away, while the receiver waits: it gets the value, then
/// `None`, and is never left waiting.
#[test]
fn loom_recv_races_drop_of_last_sender() {
    ::loom::model(|| {
        let (tx, rx) = bounded::<u32>(1);
        let sender = thread::spawn(move || {
            tx.try_send(1).unwrap();
            drop(tx);
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), None);
        sender.join().unwrap();
    });
}

/// A receive that was handed a value and is dropped before collecting it passes the value on.
#[test]
fn loom_a_dropped_recv_future_loses_no_value() {
    ::loom::model(|| {
        let (tx, rx) = bounded::<u32>(0);
        let sender = thread::spawn(move || block_on(tx.send(7)));
        let first = {
            let mut recv = pin!(rx.recv());
            match recv.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                Poll::Ready(v) => v,
                Poll::Pending => None, // dropped here, maybe after being handed the value
            }
        };
        let got = first.or_else(|| block_on(rx.recv()));
        assert_eq!(got, Some(7));
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}

/// One select over two unbuffered channels against a sender on each: exactly one of them is
/// taken by the select, and the other value is still there for a plain receive.
#[test]
fn loom_select_over_two_channels_commits_exactly_one() {
    ::loom::model(|| {
        let (a_tx, a_rx) = bounded::<u32>(0);
        let (b_tx, b_rx) = bounded::<u32>(0);
        let a = thread::spawn(move || block_on(a_tx.send(1)));
        let b = thread::spawn(move || block_on(b_tx.send(2)));
        let chosen = block_on(async {
            crate::select! {
                v = a_rx.recv() => v,
                v = b_rx.recv() => v,
            }
        });
        let other = match chosen {
            Some(1) => block_on(b_rx.recv()),
            Some(2) => block_on(a_rx.recv()),
            v => panic!("select got {v:?}"),
        };
        assert_eq!(chosen.unwrap() + other.unwrap(), 3);
        assert_eq!(a.join().unwrap(), Ok(()));
        assert_eq!(b.join().unwrap(), Ok(()));
    });
}

/// A select that may send to A or receive from B, against a receiver on A and a sender on B:
/// exactly one arm takes effect; the counterpart of the other is then served by hand.
#[test]
fn loom_select_send_or_recv_commits_exactly_one() {
    ::loom::model(|| {
        let (a_tx, a_rx) = bounded::<u32>(0);
        let (b_tx, b_rx) = bounded::<u32>(0);
        let a = thread::spawn(move || block_on(a_rx.recv()));
        let b = thread::spawn(move || block_on(b_tx.send(2)));
        let sent = block_on(async {
            crate::select! {
                r = a_tx.send(1) => { r.unwrap(); true }
                v = b_rx.recv() => { assert_eq!(v, Some(2)); false }
            }
        });
        if sent {
            assert_eq!(block_on(b_rx.recv()), Some(2));
            drop(a_tx);
            assert_eq!(a.join().unwrap(), Some(1));
        } else {
            drop(a_tx); // the receiver on A gets `None`: nothing was sent there
            assert_eq!(a.join().unwrap(), None);
        }
        assert_eq!(b.join().unwrap(), Ok(()));
    });
}

/// A select waits with a send arm and a receive arm; a close of the receive arm's channel
/// wakes it (without claiming it) while a receiver claims the send arm: exactly one arm takes
/// effect. A select re-polled while its waiters are queued shares its token, so its pass must
/// begin with a compare-and-swap: begun with a plain store (the fast path of a select whose
/// token nobody else holds), the receiver's claim could be overwritten and the value taken
/// by the receiver reported as not sent.
#[test]
fn loom_a_select_woken_by_a_close_races_a_claim() {
    ::loom::model(|| {
        let (a_tx, a_rx) = bounded::<u32>(0);
        let (b_tx, b_rx) = bounded::<u32>(0);
        let a = thread::spawn(move || block_on(a_rx.recv()));
        let closer = thread::spawn(move || drop(b_tx));
        let sent = block_on(async {
            crate::select! {
                r = a_tx.send(1) => { r.unwrap(); true }
                v = b_rx.recv() => { assert_eq!(v, None); false }
            }
        });
        drop(a_tx);
        assert_eq!(a.join().unwrap(), sent.then_some(1));
        closer.join().unwrap();
    });
}

/// Two selects meet on one unbuffered channel, each with a second arm that never becomes
/// ready: the value is handed over exactly once and neither select is left waiting.
#[test]
fn loom_two_selects_meet() {
    ::loom::model(|| {
        let (tx, rx) = bounded::<u32>(0);
        let (_never_tx1, never_rx1) = bounded::<u32>(0);
        let (_never_tx2, never_rx2) = bounded::<u32>(0);
        let sender = thread::spawn(move || {
            block_on(async {
                crate::select! {
                    r = tx.send(5) => r.is_ok(),
                    _ = never_rx1.recv() => false,
                }
            })
        });
        let got = block_on(async {
            crate::select! {
                v = rx.recv() => v,
                _ = never_rx2.recv() => None,
            }
        });
        assert_eq!(got, Some(5));
        assert!(sender.join().unwrap());
    });
}

/// Two selects that are each other's counterparts on two channels (one sends on A or receives
/// on B, the other receives on A or sends on B): they pair on exactly one channel, and agree on
/// which.
#[test]
fn loom_two_selects_pair_on_exactly_one_channel() {
    ::loom::model(|| {
        let (a_tx, a_rx) = bounded::<u32>(0);
        let (b_tx, b_rx) = bounded::<u32>(0);
        let other = thread::spawn(move || {
            block_on(async {
                crate::select! {
                    v = a_rx.recv() => ('A', v),
                    r = b_tx.send(2) => ('B', r.ok().map(|()| 2)),
                }
            })
        });
        let mine = block_on(async {
            crate::select! {
                r = a_tx.send(1) => ('A', r.ok().map(|()| 1)),
                v = b_rx.recv() => ('B', v),
            }
        });
        let theirs = other.join().unwrap();
        assert_eq!(mine, theirs);
        assert!(mine == ('A', Some(1)) || mine == ('B', Some(2)), "{mine:?}");
    });
}

/// A stream's `next()` polled once and dropped while a sender completes into it: the value is
/// there for the next receive, and the sender is not left waiting.
#[test]
fn loom_an_abandoned_stream_next_loses_no_value() {
    use futures_lite::StreamExt;
    ::loom::model(|| {
        let (tx, mut rx) = bounded::<u32>(0);
        let sender = thread::spawn(move || block_on(tx.send(7)));
        let first = {
            let mut next = rx.next();
            match Pin::new(&mut next).poll(&mut Context::from_waker(Waker::noop())) {
                Poll::Ready(v) => v,
                Poll::Pending => None, // dropped here, maybe after a send completed into it
            }
        };
        let got = first.or_else(|| block_on(rx.recv()));
        assert_eq!(got, Some(7));
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}

/// A flag that a thread sets once, waking whoever waits for it: a stand-in for a timer.
struct Flag(::loom::sync::Mutex<(bool, Option<Waker>)>);

impl Flag {
    fn set(&self) {
        let waker = {
            let mut state = self.0.lock().unwrap();
            state.0 = true;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    async fn wait(&self) {
        std::future::poll_fn(|cx| {
            let mut state = self.0.lock().unwrap();
            if state.0 {
                return Poll::Ready(());
            }
            state.1 = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
    }
}

/// `until(send, timer)` against a receiver and the timer firing (what `time::timeout` does):
/// the send is reported done exactly when its value was received.
#[test]
fn loom_until_send_races_a_receiver_and_a_timer() {
    ::loom::model(|| {
        let (tx, rx) = bounded::<u32>(0);
        let timer = Arc::new(Flag(::loom::sync::Mutex::new((false, None))));
        let receiver = thread::spawn(move || block_on(rx.recv()));
        let fire = timer.clone();
        let firer = thread::spawn(move || fire.set());
        // On a thread of its own: the timer may wake it after it is done, and loom takes a
        // wake-up that reaches a thread blocked in `join` for a bug.
        let racer = thread::spawn(move || {
            let sent = block_on(crate::cancel::until(tx.send(1), timer.wait()));
            drop(tx); // a receiver still waiting gets `None`: nothing more is sent
            sent
        });
        let sent = racer.join().unwrap();
        let received = receiver.join().unwrap();
        firer.join().unwrap();
        match sent {
            Ok(r) => {
                assert_eq!(r, Ok(()));
                assert_eq!(received, Some(1));
            }
            Err(()) => assert_eq!(received, None, "timed out, yet the value was received"),
        }
    });
}

/// `until(send, recv)` against a receiver and a sender to the stop's channel: exactly one of
/// the two operations takes effect.
#[test]
fn loom_until_commits_exactly_one_of_its_operations() {
    ::loom::model(|| {
        let (tx, rx) = bounded::<u32>(0);
        let (stop_tx, stop_rx) = bounded::<()>(0);
        let receiver = thread::spawn(move || block_on(rx.recv()));
        let stopper = thread::spawn(move || block_on(stop_tx.send(())).is_ok());
        let sent = block_on(crate::cancel::until(tx.send(1), stop_rx.recv()));
        // Whichever operation did not take effect now fails: its channel closes.
        drop((tx, stop_rx));
        let received = receiver.join().unwrap();
        let stopped = stopper.join().unwrap();
        match sent {
            Ok(r) => {
                assert_eq!(r, Ok(()));
                assert_eq!(received, Some(1));
                assert!(!stopped, "both operations took effect");
            }
            Err(v) => {
                assert_eq!(v, Some(()));
                assert!(stopped);
                assert_eq!(received, None, "both operations took effect");
            }
        }
    });
}
