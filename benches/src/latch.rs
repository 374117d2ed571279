//! A countdown latch any executor can await: the harness's stand-in for a WaitGroup.
//!
//! # Protocol
//!
//! [`Latch::count_down`] decrements the counter, and the call that takes it to zero then
//! takes the stored waker under the lock and wakes it. [`Wait::poll`] stores its waker under
//! the same lock and only then re-reads the counter. Either the last decrement comes first
//! in the lock's order, and then it happens before the waiter's re-read, which sees zero; or
//! the waiter's store comes first, and then the last decrement finds the waker. No wakeup is
//! lost. One waiter at a time is supported (a second `wait` replaces the first's waker),
//! which is all the harness needs.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

/// Counts down from `n`; [`Latch::wait`] completes when it reaches zero.
///
/// ```
/// use std::sync::Arc;
/// use goro_benches::Latch;
///
/// goro::block_on(async {
///     let latch = Arc::new(Latch::new(10));
///     for _ in 0..10 {
///         let latch = latch.clone();
///         goro::spawn(async move { latch.count_down() });
///     }
///     latch.wait().await;
///     assert_eq!(latch.remaining(), 0);
/// });
/// ```
pub struct Latch {
    /// How many `count_down` calls are still expected.
    remaining: AtomicUsize,
    /// The waker of the task awaiting [`Latch::wait`], if it is parked.
    waiter: Mutex<Option<Waker>>,
}

impl Latch {
    /// A latch that opens after `count` calls of [`Latch::count_down`].
    pub fn new(count: usize) -> Latch {
        Latch {
            remaining: AtomicUsize::new(count),
            waiter: Mutex::new(None),
        }
    }

    /// Records one completion; the last one wakes the waiter.
    ///
    /// # Panics
    ///
    /// When called more often than the count given to [`Latch::new`]: the workload ran
    /// something twice or miscounted, and its measurement would be wrong.
    #[track_caller]
    pub fn count_down(&self) {
        let before = self.remaining.fetch_sub(1, Ordering::AcqRel);
        assert!(before > 0, "latch counted down more times than its count");
        if before == 1 {
            let waker = self.lock().take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    /// How many completions are still missing.
    pub fn remaining(&self) -> usize {
        self.remaining.load(Ordering::Acquire)
    }

    /// Waits until the count reaches zero.
    pub fn wait(&self) -> Wait<'_> {
        Wait { latch: self }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Waker>> {
        self.waiter.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for Latch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Latch")
            .field("remaining", &self.remaining())
            .finish()
    }
}

/// The future of [`Latch::wait`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<'a> {
    /// The latch waited on.
    latch: &'a Latch,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.latch.remaining() == 0 {
            return Poll::Ready(());
        }
        {
            let mut waiter = self.latch.lock();
            match waiter.as_ref() {
                Some(stored) if stored.will_wake(cx.waker()) => {}
                _ => *waiter = Some(cx.waker().clone()),
            }
        }
        if self.latch.remaining() == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::Wake;

    /// A waker that counts its wakes.
    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn last_count_down_wakes_the_waiter() {
        let latch = Latch::new(2);
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        let mut wait = latch.wait();
        assert!(Pin::new(&mut wait).poll(&mut cx).is_pending());
        latch.count_down();
        assert_eq!(counter.0.load(Ordering::SeqCst), 0);
        latch.count_down();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert!(Pin::new(&mut wait).poll(&mut cx).is_ready());
    }

    #[test]
    #[should_panic(expected = "more times than its count")]
    fn counting_down_past_zero_panics() {
        let latch = Latch::new(1);
        latch.count_down();
        latch.count_down();
    }
}
