//! Exact cancellation: run a future until another one completes, committing exactly one of
//! them the way [`select!`](crate::select!) does.
//!
//! This is the building block for combinators that cancel a future when something else
//! happens, in runtimes and libraries built on goro's channels: goro-runtime's
//! `time::timeout` is [`until`] with a timer as the stop. Code that simply races two futures
//! (and drops the loser) cannot tell whether a channel operation inside the loser took effect
//! just before it was dropped: a receiver may take a waiting send's value at any moment, Go's
//! rendezvous. [`until`] can: the operations of `future` and of `stop` commit through one
//! shared token, as the arms of a `select!` do, so when `stop` wins, the channel operation
//! `future` was waiting in did not take effect, and when `future`'s operation took effect, it
//! completes.
//!
//! # How it commits
//!
//! [`Until`] is a select with two arms polled in a fixed order, `future` (arm 0) before `stop`
//! (arm 1), over the same commit token and the same passes as `select!` (the protocol is
//! written out in the [channel docs](crate::chan#the-commit-protocol)). It differs in two
//! ways:
//!
//! - Once `future`'s first channel operation committed the token (it took effect, and
//!   `future` has more to do), `stop` still applies: it is polled on its own after `future`,
//!   and if it completes first `future` is dropped. A `future` made of several operations is
//!   exact for the first one only (a `select!` arm is no different).
//! - Polled inside an arm of a `select!` that is mid-pass, it makes no commit of its own: the
//!   operations of `future` commit through that select's token, so that an outer `select!`
//!   stays exact for a `until(tx.send(v), stop)` arm. `Err` then ends that arm, and the
//!   select commits it (or the arm goes on, having dropped `future` already). The operations
//!   of `stop` share that arm, so one of them may be taken and `future` still complete: a
//!   receive in `stop` then puts its value back when dropped (nothing is lost), but a send in
//!   `stop` would have been delivered. Stop with receives, timers or flags.
//!
//! Either way, when `stop` wins, `future` is dropped before `Err` is returned, so its waiters
//! leave their channels at once.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::coop;
use crate::select::{self, Begin, End, Token, MAX_PASSES};

/// The arm of `future` on the token.
const FUTURE: usize = 0;
/// The arm of `stop` on the token.
const STOP: usize = 1;

/// Runs `future` until `stop` completes: `Ok` with `future`'s output if it completes first,
/// `Err` with `stop`'s output otherwise. When both are ready, `future` wins.
///
/// Unlike a plain race, it is exact for goro's channel operations (see the
/// [module docs](self)): `Err` means the send or receive that `future` was waiting in did not
/// take effect (no value was sent, none consumed).
///
/// ```
/// use futures_lite::future;
/// use goro::sync::{cancel::until, chan};
///
/// future::block_on(async {
///     let (tx, rx) = chan::bounded::<u32>(0);
///     let (stop_tx, stop) = chan::bounded::<()>(1);
///     stop_tx.try_send(()).unwrap();
///     // Nobody receives: the stop wins, and the value was not sent.
///     let sent = until(tx.send(1), stop.recv()).await;
///     assert_eq!(sent, Err(Some(())));
///     assert!(rx.try_recv().is_err());
/// });
/// ```
pub fn until<F: Future, S: Future>(future: F, stop: S) -> Until<F, S> {
    Until {
        future: Some(future),
        stop,
        token: Token::new(),
        done: false,
        nested: false,
    }
}

pin_project_lite::pin_project! {
    /// The future of [`until`].
    ///
    /// ```
    /// use futures_lite::future;
    /// use goro::sync::cancel::{until, Until};
    ///
    /// let race: Until<_, _> = until(async { 1 }, future::pending::<()>());
    /// assert_eq!(future::block_on(race), Ok(1));
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Dropping it drops both futures, with their own cancel safety (goro's channel futures
    /// lose no value: see [`Sender::send`](crate::chan::Sender::send)).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Until<F, S> {
        // `None` once `stop` won: dropped at once, so that its waiters leave their channels.
        #[pin]
        future: Option<F>,
        #[pin]
        stop: S,
        // The commit token of the two arms.
        token: Arc<Token>,
        // Whether the output was returned.
        done: bool,
        // Whether it was polled inside an arm of a select mid-pass, binding the operations of
        // both futures to that select's token: they are then never moved to our own.
        nested: bool,
    }

    impl<F, S> PinnedDrop for Until<F, S> {
        fn drop(this: Pin<&mut Self>) {
            #[cfg(not(all(test, goro_loom)))]
            Token::recycle_ref(this.project().token);
            #[cfg(all(test, goro_loom))]
            let _ = this;
        }
    }
}

impl<F: Future, S: Future> Future for Until<F, S> {
    type Output = Result<F::Output, S::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        assert!(!*this.done, "`Until` polled after it completed");
        if select::with_current_arm(|c| c.is_some_and(|(t, _)| t.claimed_arm().is_none())) {
            *this.nested = true;
        }
        let poll = if *this.nested {
            // In a select mid-pass, or after it chose our arm (through our `Ready`, or a
            // counterpart that took one of our operations): its token decided, ours would
            // let an operation taken under the other start afresh.
            poll_in_order(this.future.as_mut(), this.stop.as_mut(), cx)
        } else {
            poll_committing(this.future.as_mut(), this.stop.as_mut(), this.token, cx)
        };
        if let Poll::Ready(out) = &poll {
            *this.done = true;
            if out.is_err() {
                this.future.set(None);
            }
        }
        poll
    }
}

/// Polls `future`, then `stop`, with no commit of our own (inside a select mid-pass, or once
/// our token is committed).
fn poll_in_order<F: Future, S: Future>(
    future: Pin<&mut Option<F>>,
    stop: Pin<&mut S>,
    cx: &mut Context<'_>,
) -> Poll<Result<F::Output, S::Output>> {
    if let Some(future) = future.as_pin_mut() {
        if let Poll::Ready(out) = future.poll(cx) {
            return Poll::Ready(Ok(out));
        }
    }
    stop.poll(cx).map(Err)
}

/// One poll over our own token: the passes of a two-arm select, `future` first.
fn poll_committing<F: Future, S: Future>(
    mut future: Pin<&mut Option<F>>,
    mut stop: Pin<&mut S>,
    token: &Arc<Token>,
    cx: &mut Context<'_>,
) -> Poll<Result<F::Output, S::Output>> {
    // One unit of the budget for both arms, as a select takes: their channel operations,
    // bound to the token, take none.
    if coop::poll_proceed(cx).is_pending() {
        return Poll::Pending;
    }
    if let Begin::Claimed(arm) = token.begin_pass() {
        return poll_committed(arm, future, stop, cx);
    }
    let mut passes = 0;
    loop {
        passes += 1;
        if let Some(f) = future.as_mut().as_pin_mut() {
            let _entered = select::enter(token, FUTURE);
            if let Poll::Ready(out) = f.poll(cx) {
                let won = token.commit(FUTURE);
                debug_assert!(won, "`until`'s stop committed before its future completed");
                return Poll::Ready(Ok(out));
            }
        }
        if token.claimed_arm() == Some(FUTURE) {
            // `future`'s operation took effect and it has more to do: only `stop` can still
            // end it, as an ordinary future.
            return stop.poll(cx).map(Err);
        }
        {
            let _entered = select::enter(token, STOP);
            if let Poll::Ready(out) = stop.as_mut().poll(cx) {
                let won = token.commit(STOP);
                debug_assert!(won, "`until`'s future committed before its stop completed");
                return Poll::Ready(Err(out));
            }
        }
        if token.claimed_arm() == Some(STOP) {
            // `stop`'s operation took effect and it has more to do: `future` has lost.
            future.set(None);
            return Poll::Pending;
        }
        if token.end_pass() == End::Idle {
            return Poll::Pending;
        }
        if passes == MAX_PASSES {
            token.abandon_pass();
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
    }
}

/// A poll after `arm` committed the token while we waited (a counterpart claimed it) or in an
/// earlier poll: that arm's future completes what took effect; `stop` still applies to a
/// `future` with more to do.
fn poll_committed<F: Future, S: Future>(
    arm: usize,
    mut future: Pin<&mut Option<F>>,
    stop: Pin<&mut S>,
    cx: &mut Context<'_>,
) -> Poll<Result<F::Output, S::Output>> {
    if arm == STOP {
        future.set(None);
    }
    // Polled outside the token's arms: with the token committed, their channel operations
    // are ordinary ones (the committed arm's first one collects what it was handed).
    poll_in_order(future, stop, cx)
}

impl<F, S> fmt::Debug for Until<F, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Until")
            .field("stopped", &self.future.is_none())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}
