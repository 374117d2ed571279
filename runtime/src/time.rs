//! Timers: `sleep`, `sleep_until`, `timeout`, `interval`, `after`; the runtime's clock:
//! `now`, `advance`.
//!
//! Every timer lives in the current runtime's reactor, kept in buckets of one millisecond. A
//! timer costs nothing until its future is first polled, and dropping the
//! future cancels it.
//!
//! # Paused time
//!
//! A runtime built with [`Builder::start_paused`](crate::Builder::start_paused) (or a
//! `#[goro::test(start_paused)]`) has a clock that stands still. It moves when a test calls
//! [`advance`], and by itself when nothing of the runtime can run before a timer fires: it
//! jumps to that timer's deadline. Timers, [`timeout`], [`interval`], [`after`] and context
//! deadlines follow it, so a test of a 30-second timeout runs in milliseconds and sees
//! exactly 30 seconds pass on [`now`]. [`Instant`] is `std`'s, and `Instant::now()` keeps
//! reading the real clock: read the runtime's time with [`now`].
//!
//! ```
//! use std::time::Duration;
//!
//! #[goro::test(start_paused)]
//! async fn retries_back_off_to_a_minute() {
//!     let start = goro::time::now();
//!     let mut delay = Duration::from_secs(1);
//!     for _ in 0..6 {
//!         goro::time::sleep(delay).await;
//!         delay = (delay * 2).min(Duration::from_secs(60));
//!     }
//!     // 1 + 2 + 4 + 8 + 16 + 32 seconds, in no real time.
//!     assert_eq!(goro::time::now() - start, Duration::from_secs(63));
//! }
//! # fn main() {}
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

pub use std::time::Instant;

use crate::reactor::timer::TimerKey;
use crate::runtime::Handle;

/// Waits until `duration` has elapsed.
///
/// ```
/// use std::time::{Duration, Instant};
///
/// goro::block_on(async {
///     let start = Instant::now();
///     goro::time::sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// ```
///
/// # Cancel safety
///
/// Cancel safe: dropping the [`Sleep`] removes its timer, and nothing else happens. Note
/// what that means in a `select!` loop: an arm `sleep(d)` is a new sleep of `d` every round,
/// so it only fires if `d` passes without any other arm winning. For a deadline that holds
/// across rounds, pin one `Sleep` outside the loop and make `&mut sleep` the arm (or use
/// [`sleep_until`] with a fixed instant).
///
/// ```
/// use std::pin::pin;
/// use std::time::{Duration, Instant};
///
/// goro::block_on(async {
///     let (tx, rx) = goro::sync::chan::unbounded::<u32>();
///     (0..100).for_each(|i| tx.try_send(i).unwrap());
///     let start = Instant::now();
///     let mut deadline = pin!(goro::time::sleep(Duration::from_millis(5)));
///     loop {
///         goro::select! {
///             _ = &mut deadline => break, // the same 5 ms, however many rounds it loses
///             v = rx.recv() => drop(v),
///         }
///     }
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    let handle = crate::current::with_handle(|h| h.clone());
    let deadline = handle.reactor.clock().now().checked_add(duration);
    Sleep::with_handle(handle, deadline.unwrap_or_else(far_future), true)
}

/// Waits until `deadline`.
///
/// ```
/// use std::time::Duration;
/// use goro::time::{sleep_until, Instant};
///
/// goro::block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(5);
///     sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
///
/// # Cancel safety
///
/// Cancel safe: dropping the [`Sleep`] removes its timer. Recreated with the same `deadline`
/// in each round of a `select!` loop, it still fires at that instant.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline, true)
}

/// The current time of the current runtime's clock.
///
/// With the real clock (every runtime not built with
/// [`Builder::start_paused`](crate::Builder::start_paused)) this is `Instant::now()`. With a
/// paused clock it is the paused time, which moves only with [`advance`] or when the runtime
/// jumps to its next timer: read time through this function in code that paused-time tests
/// run, since [`Instant::now`] always reads the real clock. Outside any runtime (a plain
/// thread that entered none), it is `Instant::now()` and starts nothing.
///
/// ```
/// use std::time::Duration;
///
/// let rt = goro::Builder::new().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let start = goro::time::now();
///     goro::time::sleep(Duration::from_secs(60)).await; // at once: nothing else can run
///     assert_eq!(goro::time::now() - start, Duration::from_secs(60));
/// });
/// ```
pub fn now() -> Instant {
    crate::current::with_entered(|h| h.reactor.clock().now()).unwrap_or_else(Instant::now)
}

/// Moves the paused clock of the current runtime forward by `by`, and fires every timer
/// that it made due: Go's fake clocks and tokio's `time::advance`.
///
/// The tasks whose timers fired are woken; they run as soon as a worker takes them, so to
/// see what they did, wait for it (receive what they send, await their handles) rather than
/// look right after this returns. It returns after one yield, so a task that was ready runs
/// first on a one-worker runtime.
///
/// ```
/// use std::time::Duration;
///
/// #[goro::test(start_paused)]
/// async fn a_ticker_ticks_once_a_minute() {
///     let mut ticker = goro::time::interval(Duration::from_secs(60));
///     let start = goro::time::now();
///     goro::time::advance(Duration::from_secs(60)).await;
///     assert_eq!(ticker.tick().await - start, Duration::from_secs(60));
/// }
/// # fn main() {}
/// ```
///
/// # Panics
///
/// If the current runtime's clock is not paused (it was not built with
/// [`Builder::start_paused`](crate::Builder::start_paused)): moving the real clock is not
/// possible.
pub async fn advance(by: Duration) {
    let advanced = crate::current::with_handle(|h| h.reactor.advance(by));
    assert!(
        advanced,
        "goro: time::advance needs a paused clock: build the runtime with \
         Builder::start_paused(true), or use #[goro::test(start_paused)]"
    );
    crate::yield_now().await;
}

/// A deadline so far away that it never comes (for durations that overflow `Instant`).
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86400 * 365 * 30)
}

/// The future of [`sleep`] and [`sleep_until`].
///
/// With the feature `hyper` it is also hyper's `hyper::rt::Sleep`, and
/// `hyper_rt::Timer::reset` moves its deadline with [`Sleep::reset`].
///
/// Completing takes one unit of the task's cooperative budget ([`crate::coop`]), so a loop
/// over sleeps that are already due (a zero duration, a past deadline) still yields.
///
/// # Cancel safety
///
/// Dropping it cancels the timer.
pub struct Sleep {
    /// When the sleep ends.
    deadline: Instant,
    /// The reactor's timer bucket of `deadline`: once it has fired, the sleep is over.
    bucket: u64,
    /// Whether the deadline may already have passed when first polled (`sleep_until`, or a
    /// zero `sleep`): only then does the first poll read the clock.
    may_be_due: bool,
    /// The runtime whose reactor keeps the timer.
    handle: Arc<Handle>,
    /// The registered timer, once polled.
    timer: Option<TimerKey>,
}

impl Sleep {
    fn new(deadline: Instant, may_be_due: bool) -> Sleep {
        let handle = crate::current::with_handle(|h| h.clone());
        Sleep::with_handle(handle, deadline, may_be_due)
    }

    fn with_handle(handle: Arc<Handle>, deadline: Instant, may_be_due: bool) -> Sleep {
        Sleep {
            deadline,
            bucket: handle.reactor.timer_bucket(deadline),
            may_be_due,
            handle,
            timer: None,
        }
    }

    /// When this sleep ends.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        self.handle.reactor.clock().now() >= self.deadline
    }

    /// Moves the deadline, as if the sleep had been created with `deadline`.
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel();
        self.deadline = deadline;
        self.bucket = self.handle.reactor.timer_bucket(deadline);
        self.may_be_due = true;
    }

    fn cancel(&mut self) {
        if let Some(key) = self.timer.take() {
            self.handle.reactor.remove_timer(key);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Done, known without reading the clock or taking the reactor's lock; the timer's
        // entry (if any) has fired and is gone.
        let mut done = self.handle.reactor.has_fired(self.bucket);
        if !done {
            let registered = match self.timer {
                Some(key) => self.handle.reactor.update_timer(key, cx.waker()),
                None => false,
            };
            if registered {
                return Poll::Pending;
            }
            // Our timer fired, or the deadline passed before the driver ran.
            done = self.timer.is_some() || (self.may_be_due && self.is_elapsed());
            if !done {
                let key = insert_timer(&self.handle, self.deadline, cx.waker().clone());
                self.timer = Some(key);
                return Poll::Pending;
            }
        }
        // A completed sleep spends the task's cooperative budget, as a channel operation
        // does: a loop over sleeps that are already due (`sleep(ZERO)`, an interval that
        // runs behind) must still let its neighbours run. A spent budget leaves the state
        // as it is (the next poll finds the sleep done again) and has woken the task.
        std::task::ready!(goro_sync::coop::poll_proceed(cx));
        self.timer = None;
        Poll::Ready(())
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// The error of [`timeout`]: the deadline passed before the future completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(e: Elapsed) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, e)
    }
}

/// Runs `future` for at most `duration`.
///
/// ```
/// use std::time::Duration;
/// use goro::time::{sleep, timeout};
///
/// goro::block_on(async {
///     assert_eq!(timeout(Duration::from_secs(5), async { 7 }).await, Ok(7));
///     let slow = timeout(Duration::from_millis(5), sleep(Duration::from_secs(60))).await;
///     assert!(slow.is_err());
/// });
/// ```
///
/// It is exact for goro's channel operations, as a [`select!`](goro_sync::select!) between
/// `future` and the timer would be: `Elapsed` from `timeout(d, tx.send(v))` means `v` was not
/// sent (so sending it again cannot duplicate it), and from `timeout(d, rx.recv())` that no
/// value was consumed. If the send or receive took effect just as the deadline passed, the
/// result is `Ok`. (Built on [`goro::sync::cancel::until`](goro_sync::cancel::until), which says how; for a future made
/// of several channel operations, only the first is covered.)
///
/// ```
/// use std::time::Duration;
/// use goro::time::timeout;
///
/// goro::block_on(async {
///     let (tx, rx) = goro::sync::chan::bounded(0);
///     // Nobody receives in time: the value was not sent, and is not there to receive.
///     assert!(timeout(Duration::from_millis(5), tx.send(1)).await.is_err());
///     assert!(rx.try_recv().is_err());
/// });
/// ```
///
/// # Errors
///
/// [`Elapsed`] if the deadline passes first; the future is then dropped.
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        inner: goro_sync::cancel::until(future, sleep(duration)),
    }
}

pin_project_lite::pin_project! {
    /// The future of [`timeout`].
    ///
    /// # Cancel safety
    ///
    /// As cancel-safe as the future it wraps. When it completes with [`Elapsed`], a goro
    /// channel operation it wrapped did not take effect.
    #[derive(Debug)]
    pub struct Timeout<F> {
        #[pin]
        inner: goro_sync::cancel::Until<F, Sleep>,
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project()
            .inner
            .poll(cx)
            .map(|out| out.map_err(|()| Elapsed(())))
    }
}

/// Ticks every `period`, starting one period from now (as Go's `time.NewTicker`).
///
/// Deadlines are `start + k × period`, so ticks do not drift however late each is taken. If
/// the ticks are taken so late that whole periods were missed, the missed ticks are skipped
/// (Go's ticker drops them too) rather than delivered in a burst.
///
/// ```
/// use std::time::Duration;
///
/// goro::block_on(async {
///     let period = Duration::from_millis(2);
///     let mut ticker = goro::time::interval(period);
///     let first = ticker.tick().await;
///     let second = ticker.tick().await;
///     // One period later, or whole periods later if this thread was held up.
///     assert!(second - first >= period);
///     assert_eq!((second - first).as_nanos() % period.as_nanos(), 0);
/// });
/// ```
///
/// # Panics
///
/// If `period` is zero.
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    assert!(!period.is_zero(), "goro: interval period must be non-zero");
    Interval {
        period,
        sleep: sleep(period),
    }
}

/// A periodic timer; see [`interval`].
#[derive(Debug)]
pub struct Interval {
    /// Time between ticks.
    period: Duration,
    /// The sleep until the next tick.
    sleep: Sleep,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled instant.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the interval moves on to its next deadline only in the poll that returns
    /// a tick, so a `tick()` dropped before it completed consumed nothing: the next `tick()`
    /// returns the same scheduled instant (at once, if it is already due). As a losing
    /// `select!` arm in a loop it skips no tick.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// goro::block_on(async {
    ///     let mut ticker = goro::time::interval(Duration::from_millis(2));
    ///     let first = ticker.tick().await;
    ///     assert!(first <= goro::time::Instant::now());
    /// });
    /// ```
    pub fn tick(&mut self) -> Tick<'_> {
        Tick { interval: self }
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        std::task::ready!(Pin::new(&mut self.sleep).poll(cx));
        let tick = self.sleep.deadline();
        let mut next = tick + self.period;
        let now = self.sleep.handle.reactor.clock().now();
        if next <= now {
            let behind = now.duration_since(tick).as_nanos() / self.period.as_nanos();
            let skip = u32::try_from(behind).unwrap_or(u32::MAX);
            next = tick + self.period.saturating_mul(skip.saturating_add(1));
        }
        self.sleep.reset(next);
        Poll::Ready(tick)
    }

    /// The time between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }
}

/// The future of [`Interval::tick`].
#[derive(Debug)]
pub struct Tick<'a> {
    /// The interval being ticked.
    interval: &'a mut Interval,
}

impl Future for Tick<'_> {
    type Output = Instant;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Instant> {
        self.interval.poll_tick(cx)
    }
}

/// A channel that receives the current instant once `duration` has passed: Go's
/// `time.After`, usable as a `select!` arm.
///
/// ```
/// use std::time::Duration;
/// use goro::time::{after, Instant};
///
/// goro::block_on(async {
///     let start = Instant::now();
///     let (_tx, never) = goro::sync::chan::bounded::<()>(0);
///     let timeout = after(Duration::from_millis(10));
///     let timed_out = goro::select! {
///         _ = never.recv() => false,
///         at = timeout.recv() => at.unwrap() >= start + Duration::from_millis(10),
///     };
///     assert!(timed_out);
/// });
/// ```
///
/// No task runs per call: the timer itself sends on the channel (capacity 1, so the send never
/// waits). Dropping the receiver does not cancel the timer; it fires into a channel nobody
/// reads, as Go's did before 1.23. Prefer [`sleep`] or [`timeout`] in a loop.
pub fn after(duration: Duration) -> goro_sync::chan::Receiver<Instant> {
    let (tx, rx) = goro_sync::chan::bounded(1);
    crate::current::with_handle(|h| {
        let now = h.reactor.clock().now();
        if duration.is_zero() {
            let _ = tx.try_send(now);
            return;
        }
        let deadline = now.checked_add(duration).unwrap_or_else(far_future);
        let fire = SendOnFire(Mutex::new(Some(tx)), h.reactor.clone());
        insert_timer(h, deadline, Waker::from(Arc::new(fire)));
    });
    rx
}

/// Adds a timer to `handle`'s reactor, then makes sure a worker will fire it: if nobody
/// drives the reactor while a worker sleeps, that worker is told to (`executor/driver.rs`).
fn insert_timer(handle: &Handle, deadline: Instant, waker: Waker) -> TimerKey {
    let key = handle.reactor.insert_timer(deadline, waker);
    handle.executor.driver.registered(handle);
    key
}

/// The "waker" of an [`after`] timer: firing sends the instant, read from the reactor's clock.
struct SendOnFire(
    Mutex<Option<goro_sync::chan::Sender<Instant>>>,
    Arc<crate::reactor::Reactor>,
);

impl Wake for SendOnFire {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let tx = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(tx) = tx {
            let _ = tx.try_send(self.1.clock().now());
        }
    }
}
