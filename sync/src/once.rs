//! [`Once`] runs an async initialisation exactly once; [`OnceCell`] stores the value it makes.
//!
//! ```
//! let cell = goro::sync::OnceCell::new();
//! let value = futures_lite::future::block_on(cell.get_or_init(async { 42 }));
//! assert_eq!(*value, 42);
//! ```
//!
//! # The protocol
//!
//! A `Once` is in one of three states, kept with its queue of waiters under one internal std
//! mutex: *incomplete*, *running* (one caller is running its future), *complete*.
//!
//! - **Call.** The first caller to find the `Once` incomplete marks it running and polls its own
//!   future, with the lock released. A caller that finds it running queues and returns
//!   `Pending`; one that finds it complete returns at once (its own future is dropped unrun).
//! - **Finish.** When the running future completes, the runner marks the `Once` complete and
//!   releases every queued caller (taking them out of the queue and waking them).
//! - **Cancel.** If the runner is dropped before its future completes (its task was aborted, a
//!   `select!` took another arm), the turn passes to the oldest queued caller: it is handed the
//!   turn and woken, and runs *its* future. With nobody queued, the `Once` is incomplete again
//!   and the next caller runs. A caller that is dropped after being handed the turn, before it
//!   ran, passes the turn on in the same way.
//!
//! No wakeup is lost: callers check the state and queue under the lock the runner takes to
//! finish, so a caller either sees it complete or is in the queue when it completes. The turn to
//! run always has exactly one owner (the runner, or the waiter it was handed to) until the
//! `Once` completes, so it cannot be dropped on the floor.
//!
//! A `OnceCell` is a `std::sync::OnceLock` for the value plus a `Once` that decides who runs the
//! initialiser; callers that find the value set return it without touching the `Once`.

use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use crate::waiters::{lock, Key, StdMutex, Waiters};

/// Runs an async initialisation exactly once, like Go's `sync.Once`.
///
/// The first [`call_once`](Once::call_once) runs its future; callers arriving while it runs
/// wait until it has completed; later callers return at once.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use goro::sync::Once;
///
/// futures_lite::future::block_on(async {
///     let once = Once::new();
///     let runs = AtomicUsize::new(0);
///     for _ in 0..3 {
///         once.call_once(async { runs.fetch_add(1, Ordering::SeqCst); }).await;
///     }
///     assert_eq!(runs.load(Ordering::SeqCst), 1);
/// });
/// ```
///
/// For a global, put it in a `static` through `std::sync::LazyLock`.
pub struct Once {
    /// The state and the callers waiting for the running one.
    synced: StdMutex<Synced>,
}

/// Where a `Once` stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nobody has completed the call, and nobody is running it.
    Incomplete,
    /// One caller (or a waiter just handed the turn) is running its future.
    Running,
    /// A call completed: every later caller returns at once.
    Complete,
}

/// What a queued caller is handed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Turn {
    /// The runner was cancelled: run your own future now.
    Run,
    /// The call completed: return.
    Done,
}

/// The `Once`'s state, under the internal std mutex.
struct Synced {
    /// Where the call stands.
    state: State,
    /// Callers waiting while another runs.
    waiters: Waiters<(), Turn>,
}

impl Synced {
    /// The runner gave up: hands the turn to the oldest waiter, or makes the `Once` incomplete
    /// again. Returns the waker of the waiter handed the turn.
    fn abandon(&mut self) -> Option<Waker> {
        if self.state != State::Running {
            return None;
        }
        let waker = self.waiters.grant_front(Turn::Run);
        if waker.is_none() {
            self.state = State::Incomplete;
        }
        waker
    }
}

impl Once {
    /// Creates a `Once` whose call has not run yet.
    ///
    /// ```
    /// let once = goro::sync::Once::new();
    /// assert!(!once.is_completed());
    /// ```
    pub fn new() -> Once {
        Once {
            synced: StdMutex::new(Synced {
                state: State::Incomplete,
                waiters: Waiters::new(),
            }),
        }
    }

    /// Runs `init` if no call has completed yet, and waits until one has.
    ///
    /// If another caller's future is running, this one waits for it and drops `init` unrun.
    /// As in Go, a future that panics counts as completed: later callers return at once, and
    /// the panic goes on to the caller that ran it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe for the `Once`: a waiting [`CallOnce`] that is dropped simply leaves (if it
    /// had just been handed the turn to run, it passes the turn on). If the running one is
    /// dropped before its future completes, the oldest waiting caller runs its own future
    /// instead (or, with nobody waiting, the next caller does): the `Once` never completes
    /// on a cancelled call, and is never left with callers waiting for nobody.
    ///
    /// Not undone: whatever the cancelled `init` had already done. The next caller's `init`
    /// starts from the beginning, so an initialiser with side effects must be safe to run
    /// again after being stopped at any `.await`.
    ///
    /// ```
    /// use goro::sync::Once;
    ///
    /// futures_lite::future::block_on(async {
    ///     let once = Once::new();
    ///     let mut log = Vec::new();
    ///     once.call_once(async { log.push("init") }).await;
    ///     once.call_once(async { unreachable!() }).await;
    ///     assert_eq!(log, ["init"]);
    /// });
    /// ```
    pub fn call_once<F: Future<Output = ()>>(&self, init: F) -> CallOnce<'_, F> {
        CallOnce {
            once: self,
            init: Some(init),
            running: None,
            key: None,
        }
    }

    /// Whether a call has completed.
    ///
    /// ```
    /// let once = goro::sync::Once::new();
    /// futures_lite::future::block_on(once.call_once(async {}));
    /// assert!(once.is_completed());
    /// ```
    pub fn is_completed(&self) -> bool {
        lock(&self.synced).state == State::Complete
    }

    /// Ready with the caller's turn: `Run` (it must run its future) or `Done`.
    fn poll_turn(&self, key: &mut Option<Key>, cx: &mut Context<'_>) -> Poll<Turn> {
        let Some(waiting) = *key else {
            futures_lite::ready!(crate::coop::poll_proceed(cx));
            let mut synced = lock(&self.synced);
            return match synced.state {
                State::Complete => Poll::Ready(Turn::Done),
                State::Incomplete => {
                    synced.state = State::Running;
                    Poll::Ready(Turn::Run)
                }
                State::Running => {
                    *key = Some(synced.waiters.push_back((), cx.waker()));
                    Poll::Pending
                }
            };
        };
        let mut synced = lock(&self.synced);
        if let Some(turn) = synced.waiters.take_grant(waiting) {
            *key = None;
            return Poll::Ready(turn);
        }
        synced.waiters.register(waiting, cx.waker());
        Poll::Pending
    }

    /// The call completed: releases every waiter.
    fn finish(&self) {
        let wakers = {
            let mut synced = lock(&self.synced);
            synced.state = State::Complete;
            synced.waiters.grant_all(Turn::Done)
        };
        crate::waiters::wake_all(wakers);
    }

    /// The runner was dropped before its future completed.
    fn abandon(&self) {
        let waker = lock(&self.synced).abandon();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// A waiting caller was dropped: leaves the queue, passing the turn on if it had it.
    fn leave(&self, key: Key) {
        let waker = {
            let mut synced = lock(&self.synced);
            match synced.waiters.remove(key) {
                Some(Turn::Run) => synced.abandon(),
                _ => None,
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Default for Once {
    fn default() -> Self {
        Once::new()
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let synced = lock(&self.synced);
        f.debug_struct("Once")
            .field("state", &synced.state)
            .field("waiters", &synced.waiters.len())
            .finish()
    }
}

/// The future returned by [`Once::call_once`].
///
/// ```
/// let once = goro::sync::Once::new();
/// let fut: goro::sync::once::CallOnce<'_, _> = once.call_once(async {});
/// futures_lite::future::block_on(fut);
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct CallOnce<'a, F> {
    /// The `Once` being called.
    once: &'a Once,
    /// The caller's future, until it runs or is dropped unrun.
    init: Option<F>,
    /// The caller's future while it runs (boxed so that this type can be `Unpin`).
    running: Option<Pin<Box<F>>>,
    /// This caller's entry in the queue, while another runs.
    key: Option<Key>,
}

// `init` is never pinned in place: it is moved into a box before its first poll.
impl<F> Unpin for CallOnce<'_, F> {}

impl<F: Future<Output = ()>> Future for CallOnce<'_, F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        loop {
            if let Some(running) = this.running.as_mut() {
                let polled = panic::catch_unwind(AssertUnwindSafe(|| running.as_mut().poll(cx)));
                if polled.as_ref().is_ok_and(Poll::is_pending) {
                    return Poll::Pending;
                }
                this.running = None;
                this.once.finish();
                return match polled {
                    Err(panicked) => panic::resume_unwind(panicked),
                    Ok(_) => Poll::Ready(()),
                };
            }
            match futures_lite::ready!(this.once.poll_turn(&mut this.key, cx)) {
                Turn::Done => {
                    this.init = None;
                    return Poll::Ready(());
                }
                Turn::Run => match this.init.take() {
                    Some(init) => this.running = Some(Box::pin(init)),
                    // `init` is taken only on the single `Run` turn this caller gets.
                    None => unreachable!("goro-sync: Once handed the turn twice"),
                },
            }
        }
    }
}

impl<F> Drop for CallOnce<'_, F> {
    fn drop(&mut self) {
        if self.running.is_some() {
            // Cancelled mid-run: the next caller runs instead (our future is dropped after).
            self.once.abandon();
        } else if let Some(key) = self.key.take() {
            self.once.leave(key);
        }
    }
}

impl<F> fmt::Debug for CallOnce<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallOnce")
            .field("running", &self.running.is_some())
            .field("waiting", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

/// A value initialised at most once, by an async initialiser; like Go's `sync.OnceValue`.
///
/// ```
/// use goro::sync::OnceCell;
///
/// futures_lite::future::block_on(async {
///     let config: OnceCell<String> = OnceCell::new();
///     let value = config.get_or_init(async { "loaded".to_string() }).await;
///     assert_eq!(value, "loaded");
///     assert_eq!(config.get().map(String::as_str), Some("loaded"));
/// });
/// ```
pub struct OnceCell<T> {
    /// The value, once set.
    value: OnceLock<T>,
    /// Decides which `get_or_init` caller runs its initialiser.
    init: Once,
}

impl<T> OnceCell<T> {
    /// Creates an empty cell.
    ///
    /// ```
    /// let cell = goro::sync::OnceCell::<u8>::new();
    /// assert!(cell.get().is_none());
    /// ```
    pub fn new() -> OnceCell<T> {
        OnceCell {
            value: OnceLock::new(),
            init: Once::new(),
        }
    }

    /// The value, if it has been set.
    ///
    /// ```
    /// let cell = goro::sync::OnceCell::new();
    /// assert_eq!(cell.get(), None);
    /// cell.set(3).unwrap();
    /// assert_eq!(cell.get(), Some(&3));
    /// ```
    pub fn get(&self) -> Option<&T> {
        self.value.get()
    }

    /// Sets the value if it has not been set yet.
    ///
    /// Callers waiting in [`get_or_init`](OnceCell::get_or_init) return this value at once; an
    /// initialiser still running finishes, and its value is dropped.
    ///
    /// # Errors
    ///
    /// If the cell already holds a value, `value` is given back as `Err(value)`.
    ///
    /// ```
    /// let cell = goro::sync::OnceCell::new();
    /// assert_eq!(cell.set(1), Ok(()));
    /// assert_eq!(cell.set(2), Err(2));
    /// assert_eq!(cell.get(), Some(&1));
    /// ```
    pub fn set(&self, value: T) -> Result<(), T> {
        self.value.set(value)?;
        self.init.finish();
        Ok(())
    }

    /// The value, running `init` to make it if the cell is empty and no other caller is
    /// already making it; callers arriving meanwhile wait for that value.
    ///
    /// If the running initialiser is cancelled or panics, the cell stays empty and the next
    /// waiting caller runs its own `init`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe for the cell: a dropped [`GetOrInit`] that was waiting just leaves; one that
    /// was running its initialiser hands the job to the oldest waiting caller (or, with nobody
    /// waiting, to the next caller), and the cell stays empty until an initialiser completes.
    /// As for [`Once::call_once`], the cancelled initialiser's own side effects are not undone,
    /// and its partial work is not reused: the next caller's `init` starts afresh.
    ///
    /// ```
    /// futures_lite::future::block_on(async {
    ///     let cell = goro::sync::OnceCell::new();
    ///     assert_eq!(*cell.get_or_init(async { 1 }).await, 1);
    ///     assert_eq!(*cell.get_or_init(async { 2 }).await, 1); // already set
    /// });
    /// ```
    pub fn get_or_init<F: Future<Output = T>>(&self, init: F) -> GetOrInit<'_, T, F> {
        GetOrInit {
            cell: self,
            init: Some(init),
            running: None,
            key: None,
        }
    }

    /// Consumes the cell, returning its value if it was set.
    ///
    /// ```
    /// let cell = goro::sync::OnceCell::new();
    /// cell.set("x").unwrap();
    /// assert_eq!(cell.into_inner(), Some("x"));
    /// ```
    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        OnceCell::new()
    }
}

impl<T> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("initialized", &self.value.get().is_some())
            .finish_non_exhaustive()
    }
}

/// The future returned by [`OnceCell::get_or_init`].
///
/// ```
/// let cell = goro::sync::OnceCell::new();
/// let fut: goro::sync::once::GetOrInit<'_, u32, _> = cell.get_or_init(async { 9 });
/// assert_eq!(*futures_lite::future::block_on(fut), 9);
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct GetOrInit<'a, T, F> {
    /// The cell being read or initialised.
    cell: &'a OnceCell<T>,
    /// The caller's initialiser, until it runs or is dropped unrun.
    init: Option<F>,
    /// The initialiser while it runs (boxed so that this type can be `Unpin`).
    running: Option<Pin<Box<F>>>,
    /// This caller's entry in the queue, while another initialises.
    key: Option<Key>,
}

// `init` is never pinned in place: it is moved into a box before its first poll.
impl<T, F> Unpin for GetOrInit<'_, T, F> {}

impl<'a, T, F: Future<Output = T>> Future for GetOrInit<'a, T, F> {
    type Output = &'a T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'a T> {
        let this = &mut *self;
        let cell = this.cell;
        loop {
            if let Some(running) = this.running.as_mut() {
                let made = futures_lite::ready!(running.as_mut().poll(cx));
                this.running = None;
                let value = cell.value.get_or_init(|| made);
                cell.init.finish();
                return Poll::Ready(value);
            }
            if this.key.is_none() {
                if let Some(value) = cell.value.get() {
                    this.init = None;
                    return Poll::Ready(value);
                }
            }
            let turn = futures_lite::ready!(cell.init.poll_turn(&mut this.key, cx));
            match (cell.value.get(), this.init.take()) {
                (Some(value), _) => {
                    // Set by the runner or by `set`; if we were handed the turn, finish for
                    // the others too.
                    if turn == Turn::Run {
                        cell.init.finish();
                    }
                    return Poll::Ready(value);
                }
                (None, Some(init)) if turn == Turn::Run => this.running = Some(Box::pin(init)),
                // `Done` is only granted once the value is set; nothing else can get here.
                (None, _) => unreachable!("goro-sync: OnceCell released with no value"),
            }
        }
    }
}

impl<T, F> Drop for GetOrInit<'_, T, F> {
    fn drop(&mut self) {
        if self.running.is_some() {
            // Cancelled (or panicked) mid-initialisation: the next caller initialises.
            self.cell.init.abandon();
        } else if let Some(key) = self.key.take() {
            self.cell.init.leave(key);
        }
    }
}

impl<T, F> fmt::Debug for GetOrInit<'_, T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetOrInit")
            .field("running", &self.running.is_some())
            .field("waiting", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, goro_loom))]
mod loom_tests {
    use super::*;
    use crate::waiters::Arc;
    use loom::thread;

    /// One caller starts the call and is cancelled while another calls: the other one always
    /// completes, by running its own future if the turn passed to it.
    #[test]
    fn loom_cancelled_runner_vs_waiting_caller() {
        loom::model(|| {
            let once = Arc::new(Once::new());
            let caller = {
                let once = once.clone();
                thread::spawn(move || crate::waiters::block_on(once.call_once(async {})))
            };
            let mut first = Box::pin(once.call_once(futures_lite::future::pending()));
            let mut cx = Context::from_waker(Waker::noop());
            let _ = first.as_mut().poll(&mut cx);
            drop(first);
            caller.join().unwrap();
            assert!(once.is_completed());
        });
    }
}
