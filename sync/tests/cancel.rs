//! `cancel::until`: a future raced against a stop, committing exactly one of them for goro's
//! channel operations.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use futures_lite::future::{block_on, pending};
use goro_sync::cancel::until;
use goro_sync::chan::{self, TryRecvError, TrySendError};

/// Polls `fut` once with a no-op waker.
fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn the_future_wins_when_both_are_ready() {
    let (stop_tx, stop) = chan::bounded::<()>(1);
    stop_tx.try_send(()).unwrap();
    assert_eq!(block_on(until(async { 1 }, stop.recv())), Ok(1));
    // The stop's receive did not take effect either.
    assert_eq!(stop.try_recv(), Ok(()));
}

#[test]
fn a_send_taken_while_waiting_completes_even_if_the_stop_is_then_ready() {
    let (tx, rx) = chan::bounded::<u32>(0);
    let (stop_tx, stop) = chan::bounded::<()>(1);
    let mut race = Box::pin(until(tx.send(1), stop.recv()));
    assert!(poll_once(&mut race).is_pending());
    assert_eq!(rx.try_recv(), Ok(1));
    // The stop's waiter lost with the send: its value stays in its channel.
    assert_eq!(stop_tx.try_send(()), Ok(()));
    assert_eq!(poll_once(&mut race), Poll::Ready(Ok(Ok(()))));
    assert_eq!(stop.try_recv(), Ok(()));
}

#[test]
fn once_the_stop_commits_the_send_cannot_be_taken() {
    let (tx, rx) = chan::bounded::<u32>(0);
    let (stop_tx, stop) = chan::bounded::<()>(0);
    let mut race = Box::pin(until(tx.send(1), stop.recv()));
    assert!(poll_once(&mut race).is_pending());
    // The stop's receive is taken first: the waiting send may no longer be.
    assert_eq!(stop_tx.try_send(()), Ok(()));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(poll_once(&mut race), Poll::Ready(Err(Some(()))));
    // The send's future was dropped at once: nothing is left in the channel.
    assert_eq!(tx.waiter_count(), 0);
}

#[test]
fn a_stop_after_the_first_operation_still_ends_a_longer_future() {
    let (tx, rx) = chan::bounded::<u32>(0);
    let (stop_tx, stop) = chan::bounded::<()>(1);
    let mut race = Box::pin(until(
        async {
            tx.send(1).await.unwrap();
            pending::<()>().await;
        },
        stop.recv(),
    ));
    assert!(poll_once(&mut race).is_pending());
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(poll_once(&mut race).is_pending());
    stop_tx.try_send(()).unwrap();
    assert_eq!(poll_once(&mut race), Poll::Ready(Err(Some(()))));
}

#[test]
fn inside_a_select_arm_it_commits_with_the_select() {
    let (tx, rx) = chan::bounded::<u32>(0);
    let (other_tx, other) = chan::bounded::<u32>(0);
    let mut select = Box::pin(async {
        goro_sync::select! {
            r = until(tx.send(1), pending::<()>()) => r.is_ok(),
            v = other.recv() => v.is_none(),
        }
    });
    assert!(poll_once(&mut select).is_pending());
    // Taking the send commits the whole select to its arm...
    assert_eq!(rx.try_recv(), Ok(1));
    // ...so the other arm can no longer take effect.
    assert_eq!(other_tx.try_send(2), Err(TrySendError::Full(2)));
    assert_eq!(poll_once(&mut select), Poll::Ready(true));
}

#[test]
fn a_select_arm_that_stopped_sent_nothing() {
    let (tx, rx) = chan::bounded::<u32>(0);
    let (_other_tx, other) = chan::bounded::<u32>(0);
    let got = block_on(async {
        goro_sync::select! {
            r = until(tx.send(1), async {}) => r.is_err(),
            _ = other.recv() => false,
        }
    });
    assert!(got, "the stop was ready at once");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
#[should_panic(expected = "polled after it completed")]
fn polling_after_completion_is_a_clear_panic() {
    let mut race = Box::pin(until(async { 1 }, pending::<()>()));
    assert_eq!(poll_once(&mut race), Poll::Ready(Ok(1)));
    let _ = poll_once(&mut race);
}
