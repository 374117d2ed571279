//! The cooperative budget: how a task that always finds work still lets its neighbours run.
//!
//! A future that is always ready (a channel that always has a value, a socket that always has
//! bytes) never returns `Pending`, so without help the task polling it would hold its worker
//! for ever, starving the other tasks, the timers and the sockets behind it. Go solves this
//! with preemption; a stackless runtime cannot preempt, so goro uses a budget, as tokio does.
//!
//! # The protocol
//!
//! 1. An executor calls [`with_budget`] around every poll of a task. The budget is a small
//!    number of operations ([`DEFAULT_BUDGET`] for goro's workers) held in a thread-local.
//! 2. Every operation that could complete without waiting (a channel send or receive, a socket
//!    read or write, a timer that is already due) first calls [`poll_proceed`]. While budget
//!    remains it takes one unit and returns `Ready`; the operation then goes ahead.
//! 3. Once the budget is spent, [`poll_proceed`] wakes the task's own waker and returns
//!    `Pending`. The operation returns `Pending` as if it had to wait, the task returns to the
//!    executor, and because it woke itself it is queued again behind the tasks that were
//!    waiting. No wakeup can be lost: the task is woken before `Pending` is returned.
//! 4. When no budget is installed (a plain thread, another executor), [`poll_proceed`] is always
//!    `Ready`: the hook costs one thread-local read and changes nothing.
//!
//! The hook lives in `goro_sync` because this is the crate at the bottom of goro's dependency
//! graph: the runtime installs the budget, the channels here and the sockets in `goro_net`
//! draw on it, and none of them has to know about the others.

use std::cell::Cell;
use std::task::{Context, Poll};

/// The number of budgeted operations a goro worker grants a task per poll.
///
/// 128 is large enough that a task moving values through a channel runs in long, cache-hot
/// bursts, and small enough (a few microseconds of work) that timers and sockets are not kept
/// waiting noticeably behind it. tokio settled on the same figure.
pub const DEFAULT_BUDGET: u32 = 128;

thread_local! {
    /// The budget of the task being polled on this thread, or `None` when no executor set one.
    static BUDGET: Cell<Option<u32>> = const { Cell::new(None) };
}

/// Runs `f` (one poll of a task) with a budget of `budget` operations, restoring the previous
/// budget afterwards, also if `f` panics.
///
/// Executors call this around every poll; nesting is allowed (the inner budget applies inside).
///
/// ```
/// use goro_sync::coop;
///
/// let left = coop::with_budget(2, || {
///     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
///     assert!(coop::poll_proceed(&mut cx).is_ready());
///     coop::remaining()
/// });
/// assert_eq!(left, Some(1));
/// assert_eq!(coop::remaining(), None);
/// ```
pub fn with_budget<R>(budget: u32, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<u32>);
    impl Drop for Restore {
        fn drop(&mut self) {
            BUDGET.with(|b| b.set(self.0));
        }
    }
    let _restore = Restore(BUDGET.with(|b| b.replace(Some(budget))));
    f()
}

/// Takes one unit of the current task's budget.
///
/// Returns `Ready` when the operation may go ahead. Returns `Pending` once the budget is spent,
/// after waking `cx`'s waker so that the task is polled again after its neighbours.
///
/// ```
/// use goro_sync::coop;
///
/// coop::with_budget(1, || {
///     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
///     assert!(coop::poll_proceed(&mut cx).is_ready());
///     assert!(coop::poll_proceed(&mut cx).is_pending());
/// });
/// ```
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    BUDGET.with(|b| match b.get() {
        None => Poll::Ready(()),
        Some(0) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Some(n) => {
            b.set(Some(n - 1));
            Poll::Ready(())
        }
    })
}

/// Takes one unit of the current task's budget if any is left, without waking anybody: for a
/// caller that holds a lock and wakes the task itself, once unlocked, when this says `false`.
pub(crate) fn try_proceed() -> bool {
    BUDGET.with(|b| match b.get() {
        None => true,
        Some(0) => false,
        Some(n) => {
            b.set(Some(n - 1));
            true
        }
    })
}

/// The budget left to the task being polled on this thread, `None` when none is installed.
///
/// ```
/// assert_eq!(goro_sync::coop::remaining(), None);
/// ```
pub fn remaining() -> Option<u32> {
    BUDGET.with(|b| b.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_is_restored_after_a_panic() {
        let caught = std::panic::catch_unwind(|| with_budget(5, || panic!("boom")));
        assert!(caught.is_err());
        assert_eq!(remaining(), None);
    }

    #[test]
    fn spent_budget_wakes_the_task() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        use std::task::Wake;
        struct Count(AtomicUsize);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = std::task::Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        with_budget(0, || assert!(poll_proceed(&mut cx).is_pending()));
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }
}
