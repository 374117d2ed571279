//! Running a future to completion on the calling thread.
//!
//! The calling thread polls the future itself and sleeps on its own condition variable
//! between polls; the future's waker unparks it. Tasks the future spawns go to the runtime
//! it was entered on, and timers and sockets it waits on are driven by that runtime's workers.

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::clock::Awake;
use crate::park::{Parker, Unparker};
use crate::runtime::Handle;

thread_local! {
    /// A parker and its waker, kept between calls so `block_on` does not allocate.
    static CACHE: RefCell<Option<(Parker, Waker)>> = const { RefCell::new(None) };
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
    if handle.reactor.clock().is_paused() {
        return run_paused(handle, future);
    }
    let (parker, waker) = CACHE
        .try_with(|c| c.borrow_mut().take())
        .ok()
        .flatten()
        .unwrap_or_else(|| {
            let parker = Parker::new(None);
            let waker = Waker::from(Arc::new(parker.unparker()));
            (parker, waker)
        });
    let mut future = pin!(future);
    let mut cx = Context::from_waker(&waker);
    let budget = goro_sync::coop::DEFAULT_BUDGET;
    loop {
        let polled = goro_sync::coop::with_budget(budget, || future.as_mut().poll(&mut cx));
        if let Poll::Ready(out) = polled {
            let _ = CACHE.try_with(|c| c.borrow_mut().replace((parker, waker)));
            return out;
        }
        parker.park();
    }
}

/// `block_on` on a runtime with a paused clock: as [`run`], and the thread is counted awake
/// from the moment its waker is called until it parks again, so that the clock does not
/// jump while its future could still run (`clock.rs`).
fn run_paused<F: Future>(handle: &Arc<Handle>, future: F) -> F::Output {
    let parker = Parker::new(None);
    let wake = Arc::new(PausedWake {
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
    let _finish = Finish(&wake.awake);
    let mut future = pin!(future);
    let mut cx = Context::from_waker(&waker);
    let budget = goro_sync::coop::DEFAULT_BUDGET;
    loop {
        let polled = goro_sync::coop::with_budget(budget, || future.as_mut().poll(&mut cx));
        if let Poll::Ready(out) = polled {
            return out;
        }
        if wake.woken.swap(false, SeqCst) {
            continue; // woken during the poll (a yield): not idle for a moment
        }
        wake.awake.sleep();
        parker.park();
        wake.woken.store(false, SeqCst);
        wake.awake.wake();
    }
}

/// The waker of a `block_on` thread under a paused clock.
struct PausedWake {
    /// Set by every wake: one during a poll means the thread must poll again at once, and
    /// is not idle even for a moment.
    woken: AtomicBool,
    /// Counts the thread awake in the clock.
    awake: Awake,
    /// Wakes the thread.
    unparker: Unparker,
}

impl Wake for PausedWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.awake.wake();
        self.woken.store(true, SeqCst);
        self.unparker.unpark();
    }
}
