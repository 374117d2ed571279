//! Who drives the reactor, and whom to wake so that somebody always does.
//!
//! There is no reactor thread: the *driver role* passes between the workers. Its holder
//! sleeps in the poller (`park.rs`) with the next timer deadline as its timeout, fires the
//! due timers and dispatches socket events. This module holds the whole rule of who takes
//! the role, when it is given up, and who is woken to take it over.
//!
//! # The invariant
//!
//! While any timer or source is registered and any worker sleeps, a thread holds the driver
//! role or a sleeping worker has been told to take it.
//!
//! So a timer fires within a few milliseconds of its deadline whenever any worker is idle,
//! however long another worker blocks (a task in `std::thread::sleep`, a long loop): a
//! worker never holds the role while it runs user code, and when it gives the role up a
//! sleeper takes it over. With every worker busy nobody sleeps, and the busy workers poll
//! the reactor every `REACTOR_INTERVAL` ticks instead (`worker.rs`).
//!
//! # The role's states
//!
//! One atomic word: `VACANT`, `HELD`, or `TOLD + i` (worker `i`, asleep, has been woken to
//! take the role).
//!
//! - **Take** ([`DriverRole::try_take`]): a worker about to sleep, already on the sleepers
//!   list (`idle.rs`), takes the role unless it is `HELD`, and keeps it across its spurious
//!   wake-ups for as long as it stays asleep. A busy worker's maintenance takes it only when
//!   `VACANT` ([`DriverRole::try_take_vacant`]), so it never undoes a hand-off in flight.
//! - **Give up** ([`DriverRole::release`]): a worker that stops driving, to run tasks or
//!   after maintenance, swaps in `VACANT`, *then* looks: if a timer or source is registered and
//!   a worker sleeps, it hands the role off.
//! - **Register** ([`DriverRole::registered`]): after adding a timer or a source, if the role
//!   is `VACANT` and a worker sleeps, hand it off. (If it is `HELD`, the holder sees the new
//!   timer: the reactor's own rule, in `reactor/mod.rs`, wakes the poller for an earlier
//!   deadline. If it is `TOLD`, the told worker is on its way.)
//! - **Hand off**: under the sleepers lock, pick the most recent sleeper `i`, move the role
//!   `VACANT` → `TOLD + i`, then wake `i`. Its park loop tries to take the role again at once.
//! - **Leave sleep** ([`DriverRole::leave_sleep`]): a told worker may instead be taken off
//!   the sleepers list to run new work (`Idle::worker_to_notify`) before it takes the role.
//!   Every worker leaving its sleep checks for `TOLD + itself`, and if so puts the role back
//!   to `VACANT` and hands it off again, as a releasing holder does.
//!
//! # Why no wake-up is lost
//!
//! Each hazard is a pair of threads that each write, then read what the other wrote; every
//! such pair is ordered by `SeqCst` operations or a shared lock, so at least one of the two
//! sees the other:
//!
//! - *A holder gives up the role while a timer is registered.* The holder swaps in `VACANT`
//!   and then reads the timers under their lock; the registering thread inserts under that
//!   lock and then reads the role. Whichever takes the lock second sees the other's write:
//!   the holder sees the timer, or the registering thread sees `VACANT`. Either hands off.
//! - *A holder gives up the role while a worker goes to sleep.* The sleeper counts itself
//!   asleep (an RMW in `Idle::transition_to_parked`), then reads the role; the holder swaps
//!   in `VACANT`, then reads the count. Both reads are RMWs too (`fetch_add(0)`): an RMW
//!   reads the latest value of its word, and a plain load after a store may not (a store
//!   buffer delays the store past the load; tokio lost wakeups to that). So the two RMWs on
//!   each word are ordered, and either the sleeper sees `VACANT` and takes the role itself,
//!   or the holder sees the sleeper and tells it.
//! - *A timer is registered while a worker goes to sleep.* The registering thread reads the
//!   role, then the count, after its insert. A sleeper it does not count announced its
//!   sleep later, so its own RMW read of the role comes later too: it finds the role free
//!   and takes it (and, as the new holder, reads the timers after the insert), or held by a
//!   holder whose release is one of the two cases above.
//! - *A told worker is given other work.* The hand-off writes `TOLD + i` under the sleepers
//!   lock while `i` is on the list; `i` is taken off the list under that lock too, and reads
//!   the role after. So `i` either sees `TOLD + i` and hands off again, or was already off
//!   the list and was never picked.
//! - *The told worker's wake-up itself*: a wake before it sleeps is kept by its parker
//!   (`park.rs`), so its park loop returns and tries to take the role.
//!
//! The loom models below check these interleavings: a sleeping worker must end up firing the
//! timer, or the model deadlocks.

use std::sync::atomic::Ordering::SeqCst;

use super::idle::Idle;
use crate::loom::AtomicUsize;
use crate::runtime::Handle;

/// Nobody holds the role and nobody has been told to take it.
const VACANT: usize = 0;
/// A thread holds the role: it drives the reactor, or will before it sleeps.
const HELD: usize = 1;
/// `TOLD + i`: sleeping worker `i` has been woken to take the role.
const TOLD: usize = 2;

/// What the role needs of the runtime around it: the sleepers, whether the reactor has
/// anything registered, and a way to wake a worker. A trait so that the loom models can
/// stand in for a runtime.
pub(crate) trait Workers {
    /// The sleep bookkeeping of the workers.
    fn idle(&self) -> &Idle;
    /// Whether a timer or a source is registered.
    fn has_pending(&self) -> bool;
    /// Wakes worker `index` (in its condition variable or in the poller).
    fn unpark(&self, index: usize);
}

impl Workers for Handle {
    fn idle(&self) -> &Idle {
        &self.executor.idle
    }

    fn has_pending(&self) -> bool {
        self.reactor.has_pending()
    }

    fn unpark(&self, index: usize) {
        self.executor.remotes[index].unparker.unpark();
    }
}

/// The reactor's driver role of one runtime (see the module docs).
#[derive(Debug)]
pub(crate) struct DriverRole {
    /// `VACANT`, `HELD` or `TOLD + i`.
    state: AtomicUsize,
}

impl DriverRole {
    pub(crate) fn new() -> DriverRole {
        DriverRole {
            state: AtomicUsize::new(VACANT),
        }
    }

    /// A worker on the sleepers list takes the role, unless somebody holds it. A worker told
    /// to take it may find it taken by another sleeper: the role is held, which is all that
    /// worker was woken for.
    #[must_use]
    pub(crate) fn try_take(&self) -> bool {
        loop {
            // An RMW, not a load: it must see a release that raced this worker's announcing
            // its sleep (see "Why no wake-up is lost").
            let current = self.state.fetch_add(0, SeqCst);
            if current == HELD {
                return false;
            }
            if self
                .state
                .compare_exchange(current, HELD, SeqCst, SeqCst)
                .is_ok()
            {
                return true;
            }
        }
    }

    /// A busy worker takes the role for a moment of maintenance, only if nobody holds it or
    /// is on the way to.
    #[must_use]
    pub(crate) fn try_take_vacant(&self) -> bool {
        self.state.load(SeqCst) == VACANT
            && self
                .state
                .compare_exchange(VACANT, HELD, SeqCst, SeqCst)
                .is_ok()
    }

    /// The holder gives the role up (to run tasks, or after maintenance), and hands it to a
    /// sleeper if the reactor has anything registered.
    pub(crate) fn release(&self, workers: &impl Workers) {
        self.state.swap(VACANT, SeqCst);
        self.hand_off_if_needed(workers);
    }

    /// Worker `index`, which does not hold the role, leaves its sleep to run tasks: if it had
    /// been told to take the role, it tells somebody else.
    pub(crate) fn leave_sleep(&self, index: usize, workers: &impl Workers) {
        let told = TOLD + index;
        if self.state.load(SeqCst) == told
            && self
                .state
                .compare_exchange(told, VACANT, SeqCst, SeqCst)
                .is_ok()
        {
            self.hand_off_if_needed(workers);
        }
    }

    /// A timer or a source was just registered: if nobody holds the role while a worker
    /// sleeps, tell that worker to take it.
    pub(crate) fn registered(&self, workers: &impl Workers) {
        if self.state.load(SeqCst) == VACANT && workers.idle().num_sleeping() > 0 {
            self.hand_off(workers);
        }
    }

    fn hand_off_if_needed(&self, workers: &impl Workers) {
        if workers.idle().any_sleeping() && workers.has_pending() {
            self.hand_off(workers);
        }
    }

    /// Tells the most recent sleeper to take the role, if the role is still vacant.
    fn hand_off(&self, workers: &impl Workers) {
        let told = workers.idle().pick_sleeper(|index| {
            self.state
                .compare_exchange(VACANT, TOLD + index, SeqCst, SeqCst)
                .is_ok()
        });
        if let Some(index) = told {
            workers.unpark(index);
        }
    }
}

#[cfg(all(test, goro_loom))]
mod loom_tests {
    //! A worker stops driving to run a task that blocks for ever, while a timer is
    //! registered and other workers go to sleep or are given work. A sleeping worker must
    //! end up holding the role and firing the timer; if it is never told, it sleeps for
    //! ever and loom reports the deadlock.
    use super::*;
    use loom::sync::atomic::AtomicBool;
    use loom::sync::{Arc, Condvar, Mutex};
    use loom::thread;

    /// A worker's sleep: a flag under a mutex, a condition variable. An unpark before the
    /// park is kept, as `park.rs` keeps it.
    #[derive(Default)]
    struct Park {
        notified: Mutex<bool>,
        cvar: Condvar,
    }

    impl Park {
        fn unpark(&self) {
            *self.notified.lock().unwrap() = true;
            self.cvar.notify_one();
        }

        fn park(&self) {
            let mut n = self.notified.lock().unwrap();
            while !*n {
                n = self.cvar.wait(n).unwrap();
            }
            *n = false;
        }
    }

    /// A runtime reduced to what the role touches.
    struct Model {
        idle: Idle,
        role: DriverRole,
        /// The reactor's timers: whether one is registered.
        timer: Mutex<bool>,
        /// The worker in the poller, which a new timer wakes (the reactor's own rule).
        driving: Mutex<Option<usize>>,
        /// Set by whoever fired the timer.
        fired: AtomicBool,
        parks: Vec<Park>,
    }

    impl Workers for Model {
        fn idle(&self) -> &Idle {
            &self.idle
        }

        fn has_pending(&self) -> bool {
            *self.timer.lock().unwrap()
        }

        fn unpark(&self, index: usize) {
            self.parks[index].unpark();
        }
    }

    impl Model {
        fn new(workers: usize) -> Arc<Model> {
            Arc::new(Model {
                idle: Idle::new(workers, workers),
                role: DriverRole::new(),
                timer: Mutex::new(false),
                driving: Mutex::new(None),
                fired: AtomicBool::new(false),
                parks: (0..workers).map(|_| Park::default()).collect(),
            })
        }

        /// Registers a timer as `time.rs` does: insert, wake the poller, then the role.
        fn insert_timer(&self) {
            *self.timer.lock().unwrap() = true;
            if let Some(driver) = *self.driving.lock().unwrap() {
                self.parks[driver].unpark();
            }
            self.role.registered(self);
        }

        /// Worker `i`'s park loop (`worker.rs`), already on the sleepers list: drive if it
        /// can, else sleep; leave when given work (the task then blocks for ever).
        fn sleep(&self, i: usize) {
            let mut driving = false;
            while !self.fired.load(SeqCst) {
                if !driving && self.role.try_take() {
                    driving = true;
                    *self.driving.lock().unwrap() = Some(i);
                }
                if driving && *self.timer.lock().unwrap() {
                    self.fired.store(true, SeqCst);
                    self.parks.iter().for_each(Park::unpark);
                    return;
                }
                self.parks[i].park();
                if !self.idle.is_parked(i) {
                    if driving {
                        *self.driving.lock().unwrap() = None;
                        self.role.release(self);
                    } else {
                        self.role.leave_sleep(i, self);
                    }
                    return;
                }
            }
        }
    }

    /// Worker 0 gives the role up to run a blocking task while worker 1 goes to sleep and a
    /// timer is registered: worker 1 must fire it.
    #[test]
    fn a_released_role_reaches_a_worker_going_to_sleep() {
        loom::model(|| {
            let m = Model::new(2);
            assert!(m.role.try_take());
            let holder = {
                let m = m.clone();
                thread::spawn(move || m.role.release(&*m))
            };
            let inserter = {
                let m = m.clone();
                thread::spawn(move || m.insert_timer())
            };
            assert!(!m.idle.transition_to_parked(1, false));
            m.sleep(1);
            holder.join().unwrap();
            inserter.join().unwrap();
            assert!(m.fired.load(SeqCst));
        });
    }

    /// Worker 2 gives the role up to run a task that then registers a timer and blocks for
    /// ever; workers 0 and 1 sleep, and one of them (perhaps the one told to take the role,
    /// perhaps after taking it) is given work meanwhile: the other must fire the timer.
    #[test]
    fn a_told_worker_given_work_passes_the_role_on() {
        loom::model(|| {
            let m = Model::new(3);
            assert!(m.role.try_take());
            assert!(!m.idle.transition_to_parked(0, false));
            assert!(!m.idle.transition_to_parked(1, false));
            let holder = {
                let m = m.clone();
                thread::spawn(move || {
                    m.role.release(&*m);
                    m.insert_timer();
                })
            };
            let producer = {
                let m = m.clone();
                thread::spawn(move || {
                    if let Some(i) = m.idle.worker_to_notify() {
                        m.parks[i].unpark();
                    }
                })
            };
            let sleeper = {
                let m = m.clone();
                thread::spawn(move || m.sleep(1))
            };
            m.sleep(0);
            holder.join().unwrap();
            producer.join().unwrap();
            sleeper.join().unwrap();
            assert!(m.fired.load(SeqCst));
        });
    }
}
