//! Putting a thread to sleep until it is given work: on a condition variable, or inside the
//! reactor's poller.
//!
//! # The protocol
//!
//! A [`Parker`] has one atomic state: `EMPTY`, `PARKED_CONDVAR`, `PARKED_DRIVER` or
//! `NOTIFIED`. Unparking swaps in `NOTIFIED` and looks at what it replaced:
//!
//! - `EMPTY` or `NOTIFIED`: the thread is awake; it will see `NOTIFIED` before it sleeps,
//!   and return at once. The notification is never lost, only merged with an earlier one.
//! - `PARKED_CONDVAR`: take the mutex (so the sleeper is really inside `wait`, not between
//!   its state change and `wait`), release it, signal the condition variable.
//! - `PARKED_DRIVER`: the thread sleeps in `Poller::wait`; [`Reactor::notify`] wakes it.
//!
//! A worker that holds the reactor's *driver role* (`executor/driver.rs` decides who does)
//! sleeps in the poller, with the next timer as its timeout, so sockets and timers are served
//! with no thread dedicated to them. The others sleep on their condition variable. A waker
//! reaches either: the state says which.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::task::Wake;
use std::time::Duration;

use crate::reactor::Reactor;

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

/// The sleeping side, owned by one thread.
#[derive(Debug, Clone)]
pub(crate) struct Parker {
    /// State shared with the unparkers.
    inner: Arc<Inner>,
}

/// The waking side: cheap to clone, usable from any thread.
#[derive(Debug, Clone)]
pub(crate) struct Unparker {
    /// State shared with the parker.
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// `EMPTY`, `PARKED_CONDVAR`, `PARKED_DRIVER` or `NOTIFIED`.
    state: AtomicUsize,
    /// Held by a condvar sleeper between announcing it sleeps and sleeping.
    lock: Mutex<()>,
    /// Where a condvar sleeper waits.
    cvar: Condvar,
    /// The reactor to wake when this thread sleeps in it; `None` for `block_on` threads.
    reactor: Option<Arc<Reactor>>,
}

impl Parker {
    /// A parker that may drive `reactor` while it sleeps (workers), or only uses its
    /// condition variable (`block_on` threads) when `reactor` is `None`.
    pub(crate) fn new(reactor: Option<Arc<Reactor>>) -> Parker {
        Parker {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(EMPTY),
                lock: Mutex::new(()),
                cvar: Condvar::new(),
                reactor,
            }),
        }
    }

    /// The waking side of this parker.
    pub(crate) fn unparker(&self) -> Unparker {
        Unparker {
            inner: self.inner.clone(),
        }
    }

    /// Sleeps on the condition variable until unparked.
    pub(crate) fn park(&self) {
        self.park_timeout(None, false);
    }

    /// Sleeps until unparked or `timeout`. With `drive` (the caller holds the driver role,
    /// and this parker was made with the reactor) it sleeps in the reactor's poller, and
    /// also returns on an event or a timer, having fired the timers and dispatched the
    /// events.
    pub(crate) fn park_timeout(&self, timeout: Option<Duration>, drive: bool) {
        let inner = &self.inner;
        if inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        match &inner.reactor {
            Some(reactor) if drive => {
                let mut driver = reactor.lock_driver();
                if inner
                    .state
                    .compare_exchange(EMPTY, PARKED_DRIVER, SeqCst, SeqCst)
                    .is_err()
                {
                    inner.state.store(EMPTY, SeqCst); // it was NOTIFIED: consume it
                    return;
                }
                reactor.drive(&mut driver, timeout);
                inner.state.store(EMPTY, SeqCst);
            }
            _ => self.park_condvar(timeout),
        }
    }

    fn park_condvar(&self, timeout: Option<Duration>) {
        let inner = &self.inner;
        let mut guard = inner.lock.lock().unwrap_or_else(|e| e.into_inner());
        if inner
            .state
            .compare_exchange(EMPTY, PARKED_CONDVAR, SeqCst, SeqCst)
            .is_err()
        {
            inner.state.store(EMPTY, SeqCst); // it was NOTIFIED: consume it
            return;
        }
        loop {
            guard = match timeout {
                None => inner.cvar.wait(guard).unwrap_or_else(|e| e.into_inner()),
                Some(t) => {
                    let (g, res) = inner
                        .cvar
                        .wait_timeout(guard, t)
                        .unwrap_or_else(|e| e.into_inner());
                    if res.timed_out() {
                        inner.state.store(EMPTY, SeqCst);
                        return;
                    }
                    g
                }
            };
            if inner
                .state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                return;
            }
        }
    }
}

impl Unparker {
    /// Wakes the parked thread, or makes its next `park` return at once.
    pub(crate) fn unpark(&self) {
        let inner = &self.inner;
        match inner.state.swap(NOTIFIED, SeqCst) {
            PARKED_CONDVAR => {
                drop(inner.lock.lock().unwrap_or_else(|e| e.into_inner()));
                inner.cvar.notify_one();
            }
            PARKED_DRIVER => {
                if let Some(reactor) = &inner.reactor {
                    reactor.notify();
                }
            }
            _ => {}
        }
    }
}

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.unpark();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn unpark_before_park_is_not_lost() {
        let parker = Parker::new(None);
        parker.unparker().unpark();
        let start = Instant::now();
        parker.park();
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn unpark_from_another_thread_wakes_the_sleeper() {
        let parker = Parker::new(None);
        let unparker = parker.unparker();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            unparker.unpark();
        });
        parker.park();
        t.join().unwrap();
    }

    #[test]
    fn park_timeout_returns_without_a_wake() {
        let parker = Parker::new(None);
        parker.park_timeout(Some(Duration::from_millis(10)), false);
    }
}
