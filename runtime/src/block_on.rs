//! Running a future to completion on the calling thread.
//!
//! The calling thread polls the future itself and sleeps on its own condition variable
//! between polls; the future's waker unparks it. Tasks the future spawns go to the runtime
//! it was entered on, and timers and sockets it waits on are driven by that runtime's workers.
//!
//! The thread is counted awake in its runtime from the moment its waker is called until it
//! sleeps again (`clock.rs`): a paused clock does not jump meanwhile, and the deadlock check
//! (`deadlock.rs`), which this thread runs while it waits, does not mistake a wake in
//! flight for a stuck program.

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::clock::Awake;
use crate::deadlock::{GoroThread, Watch, CHECK_PERIOD};
use crate::park::{Parker, Unparker};
use crate::runtime::Handle;

thread_local! {
    /// A parker, kept between calls so `block_on` allocates only its waker.
    static CACHE: RefCell<Option<Parker>> = const { RefCell::new(None) };
}

/// Runs `future` to completion on the current thread and returns its output.
///
/// Outside any runtime, tasks spawned by the future go to the global runtime, which starts
/// on first use. Inside [`Runtime::block_on`](crate::Runtime::block_on) they go to that
/// runtime.
///
/// ```
/// let answer = goro::block_on(async {
///     let task = goro::spawn(async { 40 + 2 });
///     task.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
///
/// # Panics
///
/// When called from inside a goro task (a worker thread): it would block the worker, and
/// could wait for work that only this worker would run. Use `.await` there, or move the
/// blocking part to [`spawn_blocking`](crate::spawn_blocking). A panic of `future` itself
/// propagates to the caller.
///
/// With a message starting `all tasks are asleep - deadlock!` when the future waits and
/// nothing in the process can ever wake it (Go's deadlock report; what counts is in
/// [`Builder::detect_deadlocks`](crate::Builder::detect_deadlocks)). It comes within a few
/// seconds of the program getting stuck.
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    run(&crate::current::handle(), future)
}

/// `block_on` on a given runtime.
#[track_caller]
pub(crate) fn run<F: Future>(handle: &Arc<Handle>, future: F) -> F::Output {
    assert!(
        !crate::executor::worker::is_worker_thread(),
        "goro: block_on was called inside a goro task; it would block a worker thread and \
         could deadlock the runtime. Use `.await` instead, or move blocking code into \
         goro::spawn_blocking"
    );
    let _enter = crate::current::enter(handle.clone());
    let _goro_thread = GoroThread::enter();
    let parker = CACHE
        .try_with(|c| c.borrow_mut().take())
        .ok()
        .flatten()
        .unwrap_or_else(|| Parker::new(None));
    let wake = Arc::new(BlockOnWake {
        woken: AtomicBool::new(false),
        awake: Awake::new(handle.reactor.clone()),
        unparker: parker.unparker(),
    });
    let waker = Waker::from(wake.clone());
    // Uncounted when this returns or unwinds, whoever still holds the waker.
    struct Finish<'a>(&'a Awake);
    impl Drop for Finish<'_> {
        fn drop(&mut self) {
            self.0.finish();
        }
    }
    let finish = Finish(&wake.awake);
    let mut future = pin!(future);
    let mut cx = Context::from_waker(&waker);
    let budget = goro_sync::coop::DEFAULT_BUDGET;
    let mut watch = handle.detect_deadlocks.then(Watch::default);
    loop {
        let polled = goro_sync::coop::with_budget(budget, || future.as_mut().poll(&mut cx));
        if let Poll::Ready(out) = polled {
            drop(finish);
            let _ = CACHE.try_with(|c| c.borrow_mut().replace(parker));
            return out;
        }
        if wake.woken.swap(false, SeqCst) {
            continue; // woken during the poll (a yield): not idle, not even for a moment
        }
        wake.awake.sleep();
        match &mut watch {
            None => parker.park(),
            Some(watch) => wait(handle, &parker, &wake.woken, watch),
        }
        wake.woken.store(false, SeqCst);
        wake.awake.wake();
    }
}

/// Parks until woken, checking every [`CHECK_PERIOD`] whether the program is deadlocked.
///
/// # Panics
///
/// With the deadlock report, when it is (at the caller of `block_on`).
#[track_caller]
fn wait(handle: &Arc<Handle>, parker: &Parker, woken: &AtomicBool, watch: &mut Watch) {
    loop {
        parker.park_timeout(Some(CHECK_PERIOD), false);
        if woken.load(SeqCst) {
            *watch = Watch::default();
            return;
        }
        if let Some(report) = watch.check(handle) {
            panic!("{report}");
        }
    }
}

/// The waker of a `block_on` thread.
struct BlockOnWake {
    /// Set by every wake: one during a poll means the thread must poll again at once, and
    /// one during a sleep ends it.
    woken: AtomicBool,
    /// Counts the thread awake in its runtime.
    awake: Awake,
    /// Wakes the thread.
    unparker: Unparker,
}

impl Wake for BlockOnWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.awake.wake();
        self.woken.store(true, SeqCst);
        self.unparker.unpark();
    }
}
