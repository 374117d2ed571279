//! hyper's runtime traits on goro (feature `hyper`): [`Executor`] spawns hyper's background
//! futures as goro tasks, [`Timer`] gives hyper goro's timers.
//!
//! goro's [`Sleep`] implements `hyper::rt::Sleep` itself, so a timer hyper asks for is a goro
//! timer with no wrapper or extra box around it, and `Timer::reset` moves that timer's
//! deadline in place (hyper resets its keep-alive and header-read timers on every request)
//! instead of dropping it and registering a new one.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::time::Sleep;

impl hyper::rt::Sleep for Sleep {}

/// hyper's executor on goro: every future hyper hands it (an HTTP/2 stream, a client
/// connection's background task) becomes a goro task on the current runtime.
///
/// ```
/// use hyper::rt::Executor as _;
///
/// goro::block_on(async {
///     let (tx, rx) = goro::sync::chan::bounded(1);
///     goro::hyper::Executor::new().execute(async move {
///         tx.send(7).await.unwrap();
///     });
///     assert_eq!(rx.recv().await, Some(7));
/// });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Executor;

impl Executor {
    /// An executor that spawns on the current runtime (the global one outside any).
    pub fn new() -> Executor {
        Executor
    }
}

impl<F> hyper::rt::Executor<F> for Executor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        // Detached, as hyper expects: the task runs to its end on its own.
        drop(crate::spawn(future));
    }
}

/// hyper's timer on goro: its sleeps are goro's [`Sleep`], kept by the current runtime's
/// reactor (so they have goro's millisecond resolution).
///
/// ```
/// use std::time::{Duration, Instant};
/// use hyper::rt::Timer as _;
///
/// goro::block_on(async {
///     let timer = goro::hyper::Timer::new();
///     let start = Instant::now();
///     let mut sleep = timer.sleep(Duration::from_secs(60));
///     // hyper moves a timer by resetting it: the same goro timer, a new deadline.
///     timer.reset(&mut sleep, start + Duration::from_millis(5));
///     sleep.await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Timer;

impl Timer {
    /// A timer on the current runtime (the global one outside any).
    pub fn new() -> Timer {
        Timer
    }
}

impl hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(crate::time::sleep(duration))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(crate::time::sleep_until(deadline))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<Sleep>() {
            // `Sleep` is `Unpin`: its timer lives in the reactor, not in the future.
            Some(ours) => ours.get_mut().reset(new_deadline),
            // A sleep from another timer: replace it.
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::rt::Timer as _;

    #[test]
    fn reset_keeps_the_goro_sleep_and_moves_its_deadline() {
        crate::block_on(async {
            let timer = Timer::new();
            let mut sleep = timer.sleep(Duration::from_secs(3600));
            let before: *const dyn hyper::rt::Sleep = &*sleep;
            let deadline = Instant::now() + Duration::from_millis(2);
            timer.reset(&mut sleep, deadline);
            let after: *const dyn hyper::rt::Sleep = &*sleep;
            assert!(std::ptr::addr_eq(before, after), "reset replaced the sleep");
            let ours = sleep.as_mut().downcast_mut_pin::<Sleep>().unwrap();
            assert_eq!(ours.deadline(), deadline);
            sleep.await;
            assert!(Instant::now() >= deadline);
        });
    }
}
