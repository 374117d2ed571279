//! Which workers are asleep, which are searching, and whom to wake for new work.
//!
//! # The protocol
//!
//! Waking a parked thread costs microseconds, so goro wakes as few as it can without ever
//! leaving runnable work with nobody to run it. Two counts, packed in one atomic word, steer
//! it: `unparked` (workers not asleep) and `searching` (awake workers looking for work but
//! holding none). A list of sleepers, under a mutex, says who can be woken.
//!
//! - **New work** (a spawn, a wake, an injector push) calls [`Idle::worker_to_notify`]. If a
//!   worker is already searching, it will find the work: nobody is woken. Otherwise one
//!   sleeper is popped and counted as unparked *and* searching before it even runs, so a burst
//!   of new tasks wakes one worker, not a herd.
//! - **A searching worker finds work**: [`Idle::transition_from_searching`]. If it was the
//!   last searcher, it wakes another worker: there may be more work than it took, and nobody
//!   else is looking.
//! - **A worker goes to sleep**: [`Idle::transition_to_parked`] adds it to the sleepers and
//!   lowers the counts under the lock. If it was the last searcher, it must look at every
//!   queue once more *after* announcing that it sleeps: a producer that pushed work just
//!   before saw a searcher and woke nobody. This re-check is what makes the
//!   "skip the wake, someone is searching" shortcut safe (tokio lost wakeups here twice).
//! - At most half of the workers search at once, so idle workers do not all hammer the
//!   queues of the busy ones.
//!
//! # Replacement workers
//!
//! The number of workers is not fixed: while a task blocks a worker, the monitor
//! (`monitor.rs`) adds a replacement, and the replacement leaves once the blocked worker is
//! back. So the state word holds a third count, `live`, the workers that exist, and "somebody
//! sleeps" reads `unparked < live`.
//!
//! - **A replacement joins** ([`Idle::add_spare`]): `live`, `unparked` and `searching` rise
//!   together, as for a worker woken for new work: it starts out looking for work.
//! - **A replacement leaves while awake** ([`Idle::retire`]): it lowers the three counts as a
//!   worker going to sleep lowers two, and for the same reason, if it was the last
//!   searcher, re-checks every queue after the change: a producer may have skipped a wake
//!   because it searched. It never joins the sleepers, so nobody can pick it for work.
//! - **A replacement leaves while asleep** ([`Idle::retire_parked`]): under the sleepers
//!   lock it takes itself off the list and lowers `live`. If it is no longer on the list,
//!   somebody popped it to give it work, counted it awake and searching: it must search
//!   first, and leaves at its next sleep.

use std::sync::atomic::Ordering::SeqCst;

use crate::loom::{AtomicU64, AtomicUsize, Mutex, MutexGuard};

/// Bits of the packed state that hold `searching`; the next as many hold `unparked`, the
/// rest `live`.
const SEARCHING_BITS: u32 = 16;
const COUNT_MASK: u64 = (1 << SEARCHING_BITS) - 1;
const ONE_UNPARKED: u64 = 1 << SEARCHING_BITS;
const ONE_LIVE: u64 = 1 << (2 * SEARCHING_BITS);

/// The three counts of the packed state.
#[derive(Clone, Copy, Debug)]
struct Counts {
    /// Workers that exist (the runtime's own, and replacements).
    live: usize,
    /// Workers not asleep.
    unparked: usize,
    /// Awake workers looking for work but holding none.
    searching: usize,
}

impl Counts {
    fn of(state: u64) -> Counts {
        Counts {
            live: (state >> (2 * SEARCHING_BITS) & COUNT_MASK) as usize,
            unparked: (state >> SEARCHING_BITS & COUNT_MASK) as usize,
            searching: (state & COUNT_MASK) as usize,
        }
    }
}

/// Sleep and search bookkeeping for a runtime's workers.
#[derive(Debug)]
pub(crate) struct Idle {
    /// `live << 32 | unparked << 16 | searching`.
    state: AtomicU64,
    /// Indices of the workers that are parked (or about to park), most recent last.
    sleepers: Mutex<Vec<usize>>,
    /// With a paused clock only: how many times a worker was counted awake, so that the test
    /// of quiescence (`clock.rs`) can tell that one woke while it looked.
    wakes: Option<AtomicUsize>,
}

impl Idle {
    /// The bookkeeping of `num_workers` awake workers, with room for `slots` in all
    /// (replacements included).
    pub(crate) fn new(num_workers: usize, slots: usize) -> Idle {
        let n = num_workers as u64;
        Idle {
            state: AtomicU64::new((n * ONE_LIVE) | (n * ONE_UNPARKED)),
            sleepers: Mutex::new(Vec::with_capacity(slots)),
            wakes: None,
        }
    }

    /// As [`Idle::new`], counting wakes for a paused clock (see `wakes`).
    pub(crate) fn counting_wakes(num_workers: usize, slots: usize) -> Idle {
        Idle {
            wakes: Some(AtomicUsize::new(0)),
            ..Idle::new(num_workers, slots)
        }
    }

    /// How many times a worker was counted awake (zero unless counting).
    pub(crate) fn wakes(&self) -> usize {
        self.wakes.as_ref().map_or(0, |w| w.load(SeqCst))
    }

    fn count_wake(&self) {
        if let Some(w) = &self.wakes {
            w.fetch_add(1, SeqCst);
        }
    }

    fn sleepers(&self) -> MutexGuard<'_, Vec<usize>> {
        self.sleepers.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn counts(&self) -> Counts {
        Counts::of(self.state.load(SeqCst))
    }

    /// Whether new work should wake somebody: nobody searches and somebody sleeps.
    ///
    /// This is a read-modify-write (`fetch_add(0)`), not a load, on purpose. The producer
    /// published its task with a plain release store (the local queue's tail); a load here
    /// could be ordered before that store (x86's store buffer does exactly this), see a stale
    /// "somebody searches", and skip the wake while that searcher, having read the old tail,
    /// goes to sleep. As an RMW it is ordered after the store, and it is ordered against the
    /// sleeper's own RMW in `transition_to_parked`: either the sleeper's re-check sees the
    /// task, or this sees the sleeper. (tokio lost wakeups to the load version, #1788.)
    fn should_notify(&self) -> bool {
        let c = Counts::of(self.state.fetch_add(0, SeqCst));
        c.searching == 0 && c.unparked < c.live
    }

    /// Picks a sleeping worker to wake for new work, already counted as unparked and
    /// searching, or `None` when a searcher or nobody asleep makes a wake useless.
    #[must_use]
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        if !self.should_notify() {
            return None;
        }
        let mut sleepers = self.sleepers();
        if !self.should_notify() {
            return None;
        }
        let index = sleepers.pop()?;
        self.state.fetch_add(ONE_UNPARKED | 1, SeqCst);
        self.count_wake(); // after the count it changed: see `clock::quiescent`
        Some(index)
    }

    /// Tries to start searching; fails when half of the workers already search.
    #[must_use]
    pub(crate) fn transition_to_searching(&self) -> bool {
        let c = self.counts();
        if 2 * c.searching >= c.live {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// Stops searching (work was found). Returns true if this was the last searcher, in which
    /// case the caller must wake another worker.
    #[must_use]
    pub(crate) fn transition_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, SeqCst);
        prev & COUNT_MASK == 1
    }

    /// Announces that worker `index` goes to sleep. Returns true if it was the last searcher,
    /// in which case the caller must re-check every queue before sleeping.
    #[must_use]
    pub(crate) fn transition_to_parked(&self, index: usize, is_searching: bool) -> bool {
        let mut sleepers = self.sleepers();
        let dec = ONE_UNPARKED | u64::from(is_searching);
        let prev = self.state.fetch_sub(dec, SeqCst);
        sleepers.push(index);
        is_searching && prev & COUNT_MASK == 1
    }

    /// A replacement worker joins, counted awake and searching (see "Replacement workers").
    pub(crate) fn add_spare(&self) {
        self.state.fetch_add(ONE_LIVE | ONE_UNPARKED | 1, SeqCst);
        self.count_wake(); // after the count it changed: see `clock::quiescent`
    }

    /// An awake replacement worker leaves. Returns true if it was the last searcher, in which
    /// case the caller must re-check every queue, as a worker going to sleep does.
    #[must_use]
    pub(crate) fn retire(&self, is_searching: bool) -> bool {
        let dec = ONE_LIVE | ONE_UNPARKED | u64::from(is_searching);
        let prev = self.state.fetch_sub(dec, SeqCst);
        is_searching && prev & COUNT_MASK == 1
    }

    /// Sleeping replacement worker `index` leaves, if it is still on the sleepers list; false
    /// when somebody took it off to give it work (it then searches, and counts as awake).
    #[must_use]
    pub(crate) fn retire_parked(&self, index: usize) -> bool {
        let removed = remove_sleeper(&mut self.sleepers(), index);
        if removed {
            self.state.fetch_sub(ONE_LIVE, SeqCst);
        }
        removed
    }

    /// Called by a worker that woke up on its own (an I/O event, a timer, a spurious wake)
    /// with work in hand: takes it off the sleepers list. Returns false when somebody had
    /// already taken it off (and counted it as searching) to give it work.
    pub(crate) fn unpark_self(&self, index: usize) -> bool {
        let removed = remove_sleeper(&mut self.sleepers(), index);
        if removed {
            self.state.fetch_add(ONE_UNPARKED, SeqCst);
            self.count_wake();
        }
        removed
    }

    /// Offers the most recent sleeper to `choose` while holding the sleepers lock, so that
    /// nobody takes it off the list meanwhile; returns it if `choose` accepted it. The driver
    /// hand-off (`driver.rs`) relies on this.
    pub(crate) fn pick_sleeper(&self, choose: impl FnOnce(usize) -> bool) -> Option<usize> {
        let sleepers = self.sleepers();
        let index = *sleepers.last()?;
        choose(index).then_some(index)
    }

    /// Whether worker `index` is still on the sleepers list.
    pub(crate) fn is_parked(&self, index: usize) -> bool {
        self.sleepers().contains(&index)
    }

    /// Whether every worker is asleep, read with an RMW (`fetch_add(0)`): the monitor's
    /// check before it sleeps (`monitor.rs`) must be ordered after its own announcement.
    pub(crate) fn all_sleeping(&self) -> bool {
        Counts::of(self.state.fetch_add(0, SeqCst)).unparked == 0
    }

    /// The number of workers asleep right now.
    pub(crate) fn num_sleeping(&self) -> usize {
        let c = self.counts();
        c.live - c.unparked
    }

    /// Whether any worker is awake.
    pub(crate) fn any_awake(&self) -> bool {
        self.counts().unparked > 0
    }

    /// Whether any worker sleeps, read with an RMW (`fetch_add(0)`): ordered after the
    /// caller's own RMW, so that of two threads that each change one word and then read the
    /// other's, at least one sees the other's change (the driver hand-off, `driver.rs`, as in
    /// `should_notify`).
    pub(crate) fn any_sleeping(&self) -> bool {
        let c = Counts::of(self.state.fetch_add(0, SeqCst));
        c.unparked < c.live
    }
}

/// Takes worker `index` off the sleepers list (under its lock); false if it was not on it.
fn remove_sleeper(sleepers: &mut Vec<usize>, index: usize) -> bool {
    match sleepers.iter().position(|&i| i == index) {
        Some(pos) => {
            sleepers.swap_remove(pos);
            true
        }
        None => false,
    }
}

#[cfg(all(test, not(goro_loom)))]
mod tests {
    use super::*;

    #[test]
    fn new_work_wakes_one_sleeper_and_counts_it_searching() {
        let idle = Idle::new(2, 2);
        assert!(!idle.transition_to_parked(0, false));
        assert!(!idle.transition_to_parked(1, false));
        assert_eq!(idle.worker_to_notify(), Some(1));
        // The woken worker counts as searching: a second wake is not needed.
        assert_eq!(idle.worker_to_notify(), None);
        assert!(idle.transition_from_searching());
        assert_eq!(idle.num_sleeping(), 1);
    }

    #[test]
    fn last_searcher_going_to_sleep_is_told_to_recheck() {
        let idle = Idle::new(4, 4);
        assert!(idle.transition_to_searching());
        assert!(idle.transition_to_parked(3, true));
        assert!(idle.is_parked(3));
        assert!(idle.unpark_self(3));
        assert!(!idle.is_parked(3));
    }

    #[test]
    fn at_most_half_of_the_workers_search() {
        let idle = Idle::new(2, 2);
        assert!(idle.transition_to_searching());
        assert!(!idle.transition_to_searching());
    }
}

#[cfg(all(test, goro_loom))]
mod loom_tests {
    //! The lost-wakeup hazard: a producer publishes work and skips the wake because a worker
    //! is searching, while that worker, having found nothing, goes to sleep. The worker's
    //! re-check after `transition_to_parked` must catch the work, or the producer must wake
    //! it. loom explores every interleaving; a lost wakeup shows as a deadlock (the worker
    //! parks for ever).
    use super::*;
    use loom::sync::atomic::{AtomicBool, Ordering};
    use loom::sync::{Arc, Condvar, Mutex as LoomMutex};
    use loom::thread;

    /// A worker's sleep: a flag under a mutex, a condition variable.
    struct Park {
        notified: LoomMutex<bool>,
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

    /// One worker that searches, finds nothing and parks; a producer that pushes one task
    /// and notifies. The worker must end up running the task.
    #[test]
    fn work_published_while_the_last_searcher_parks_is_not_lost() {
        loom::model(|| {
            let idle = Arc::new(Idle::new(1, 1));
            let queued = Arc::new(AtomicBool::new(false));
            let park = Arc::new(Park {
                notified: LoomMutex::new(false),
                cvar: Condvar::new(),
            });
            let worker = {
                let (idle, queued, park) = (idle.clone(), queued.clone(), park.clone());
                thread::spawn(move || {
                    // The worker starts out searching, as a woken worker does.
                    assert!(idle.transition_to_searching());
                    loop {
                        if queued.load(Ordering::Acquire) {
                            return; // ran the task
                        }
                        if idle.transition_to_parked(0, true) && queued.load(Ordering::Acquire) {
                            // The last searcher's re-check found work: wake someone (us).
                            if let Some(i) = idle.worker_to_notify() {
                                assert_eq!(i, 0);
                                park.unpark();
                            }
                        }
                        park.park();
                        if idle.is_parked(0) {
                            assert!(idle.unpark_self(0));
                        }
                        let _ = idle.transition_to_searching();
                    }
                })
            };
            // Published like the local queue's tail: a release store, nothing stronger.
            queued.store(true, Ordering::Release);
            if let Some(i) = idle.worker_to_notify() {
                assert_eq!(i, 0);
                park.unpark();
            }
            worker.join().unwrap();
        });
    }

    /// A runtime of one worker, asleep, and one replacement that searches, finds nothing and
    /// leaves, while a producer publishes a task and notifies. The replacement counted as the
    /// searcher, so the producer may skip the wake; the replacement's re-check on leaving
    /// must then wake the sleeping worker. Someone must run the task.
    #[test]
    fn work_published_while_a_replacement_leaves_is_not_lost() {
        loom::model(|| {
            let idle = Arc::new(Idle::new(1, 2));
            assert!(!idle.transition_to_parked(0, false)); // worker 0 sleeps
            idle.add_spare(); // replacement 1: awake, searching
            let queued = Arc::new(AtomicBool::new(false));
            let taken = Arc::new(AtomicBool::new(false));
            let park = Arc::new(Park {
                notified: LoomMutex::new(false),
                cvar: Condvar::new(),
            });
            let worker = {
                let (idle, queued, taken, park) =
                    (idle.clone(), queued.clone(), taken.clone(), park.clone());
                thread::spawn(move || loop {
                    park.park();
                    if idle.is_parked(0) {
                        assert!(idle.unpark_self(0));
                    }
                    if queued.load(Ordering::Acquire) && !taken.swap(true, Ordering::AcqRel) {
                        return; // ran the task
                    }
                    if taken.load(Ordering::Acquire) {
                        return; // the replacement ran it
                    }
                    if idle.transition_to_parked(0, true) && queued.load(Ordering::Acquire) {
                        if let Some(i) = idle.worker_to_notify() {
                            assert_eq!(i, 0);
                            park.unpark();
                        }
                    }
                })
            };
            let replacement = {
                let (idle, queued, taken, park) =
                    (idle.clone(), queued.clone(), taken.clone(), park.clone());
                thread::spawn(move || {
                    if queued.load(Ordering::Acquire) && !taken.swap(true, Ordering::AcqRel) {
                        // It ran the task; the worker must still be let go.
                        if idle.retire(true) {
                            if let Some(i) = idle.worker_to_notify() {
                                assert_eq!(i, 0);
                            }
                        }
                        park.unpark();
                        return;
                    }
                    // Nothing found: it leaves, re-checking as the last searcher.
                    if idle.retire(true) && queued.load(Ordering::Acquire) {
                        if let Some(i) = idle.worker_to_notify() {
                            assert_eq!(i, 0);
                            park.unpark();
                        }
                    }
                })
            };
            // Published like the local queue's tail: a release store, nothing stronger.
            queued.store(true, Ordering::Release);
            if let Some(i) = idle.worker_to_notify() {
                assert_eq!(i, 0);
                park.unpark();
            }
            replacement.join().unwrap();
            worker.join().unwrap();
            assert!(taken.load(Ordering::Acquire));
        });
    }
}
