//! Helpers shared by the behaviour tests of WaitGroup, Mutex, RwLock, Semaphore, Once, Barrier,
//! Notify, watch and broadcast.

#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// Runs `f`, aborting the whole test process if it has not returned after `secs` seconds:
/// a hang fails the run in seconds instead of stalling CI.
pub fn watchdog<R>(secs: u64, f: impl FnOnce() -> R) -> R {
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    let name = std::thread::current().name().unwrap_or("?").to_string();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if flag.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("watchdog: test {name} still running after {secs} s: aborting");
        std::process::abort();
    });
    let out = f();
    done.store(true, Ordering::SeqCst);
    out
}

/// A goro runtime with two workers, as the tests of this crate use.
pub fn runtime() -> goro_runtime::Runtime {
    goro_runtime::Builder::new()
        .worker_threads(2)
        .build()
        .expect("runtime")
}

/// A waker that counts how often it was woken.
#[derive(Debug, Default)]
pub struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl CountingWaker {
    /// A new counter and a waker that bumps it.
    pub fn new() -> (Arc<CountingWaker>, Waker) {
        let count = Arc::new(CountingWaker::default());
        (count.clone(), Waker::from(count))
    }

    /// How often the waker was woken.
    pub fn wakes(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Polls `future` once with `waker`.
pub fn poll<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}

/// Compiles only if `T` can be sent to and shared with other threads.
pub fn assert_send_sync<T: Send + Sync>() {}
