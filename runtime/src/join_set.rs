//! `JoinSet`: a set of tasks whose results are collected in the order they finish.
//!
//! # The protocol
//!
//! The set owns its members' [`JoinHandle`]s in numbered slots. Each slot has a waker of its
//! own (a `MemberWake`: the slot number and the set's shared `Ready` list), and a member's
//! handle is only ever polled with its slot's waker, so async-task remembers that waker as
//! the task's joiner and wakes it when the task ends (completes, panics, is aborted or is
//! dropped by its runtime's shutdown). Waking it puts the slot number on the ready list,
//! once (a `queued` flag per slot), and wakes the task waiting in `join_next`, if any.
//!
//! `join_next` takes slot numbers off the ready list and polls their handles, until one is
//! ready; a new member's slot is put on the list when it is spawned, so its first poll
//! registers the slot's waker.
//!
//! # No wake-up is lost
//!
//! - A member that ends before its handle was polled is found by that first poll.
//! - A member that ends after its handle's poll registered the slot's waker wakes it, which
//!   queues the slot. The `queued` flag is cleared when the slot is taken off the list,
//!   *before* its handle is polled, so a wake during or after that poll queues it again.
//! - `join_next` stores its own waker and finds the list empty under one lock, and a member
//!   wake pushes onto the list and takes that waker under the same lock: either `join_next`
//!   saw the slot, or the wake sees its waker.
//!
//! The loom model at the end of this file checks the last point.
//!
//! A stale entry (a slot whose member was already joined, or reused by a new member) costs
//! one spurious poll: polling a pending handle only re-registers the same waker. Nothing is
//! called out under the lock: wakers are cloned before it is taken and woken after it is
//! released.

use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::panic::Location;
use std::pin::Pin;
use std::sync::{Arc, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use crate::loom::{Mutex, MutexGuard};
use crate::runtime::Runtime;
use crate::task::{self, JoinError, JoinHandle, Kind};

/// A set of tasks, joined in the order they finish: tokio's `JoinSet`, and in Go terms a
/// `sync.WaitGroup` with a channel of results.
///
/// Every member's result comes out of [`JoinSet::join_next`], errors included; a failure
/// stops nothing else. That is the difference from [`TaskGroup`](crate::TaskGroup), Go's
/// errgroup, whose first error wins and aborts the other members. Dropping the set aborts
/// every member it still holds ([`JoinSet::detach_all`] lets them run on instead).
///
/// ```
/// use std::time::Duration;
///
/// goro::block_on(async {
///     let mut set = goro::JoinSet::new();
///     for ms in [30, 10, 20] {
///         set.spawn(async move {
///             goro::time::sleep(Duration::from_millis(ms)).await;
///             ms
///         });
///     }
///     let mut total = 0;
///     while let Some(result) = set.join_next().await {
///         total += result.unwrap(); // most likely 10, then 20, then 30
///     }
///     assert_eq!(total, 60);
///     assert!(set.is_empty());
/// });
/// ```
pub struct JoinSet<T> {
    /// The members' handles; `None` for a free slot.
    slots: Vec<Option<JoinHandle<T>>>,
    /// Each slot's waker, kept for the life of the set.
    wakers: Vec<Waker>,
    /// Free slots, to reuse.
    free: Vec<usize>,
    /// The number of members.
    len: usize,
    /// The slots whose member may have ended.
    ready: Arc<Ready>,
}

/// The ready list, shared with the slots' wakers.
struct Ready {
    inner: Mutex<ReadyInner>,
}

#[derive(Default)]
struct ReadyInner {
    /// Slots to poll, in the order their members woke them.
    queue: VecDeque<usize>,
    /// Whether each slot is in `queue`.
    queued: Vec<bool>,
    /// The task waiting in `join_next`.
    waker: Option<Waker>,
}

impl Ready {
    fn new() -> Ready {
        Ready {
            inner: Mutex::new(ReadyInner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ReadyInner> {
        // Nothing panics under this lock; a poisoned lock still holds consistent state.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts `slot` on the list (once) and wakes the waiting `join_next`.
    fn push(&self, slot: usize) {
        let waker = {
            let mut inner = self.lock();
            // A waker of a slot dropped by `detach_all` may still fire: ignore it.
            match inner.queued.get_mut(slot) {
                Some(queued) if !*queued => {
                    *queued = true;
                    inner.queue.push_back(slot);
                    inner.waker.take()
                }
                _ => None,
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Ready {
    /// Takes the next slot off the list, clearing its flag. With `waker`, stores it (in the
    /// same critical section) to be woken by the next `push` if the list is empty.
    fn pop(&self, waker: Option<&Waker>) -> Option<usize> {
        // Cloned before the lock: nothing is called out under it.
        let waker = waker.cloned();
        let mut inner = self.lock();
        match inner.queue.pop_front() {
            Some(slot) => {
                inner.queued[slot] = false;
                Some(slot)
            }
            None => {
                if waker.is_some() {
                    inner.waker = waker;
                }
                None
            }
        }
    }

    /// Adds a slot (for a new member).
    fn add_slot(&self) {
        self.lock().queued.push(false);
    }
}

/// The waker of one slot.
struct MemberWake {
    ready: Arc<Ready>,
    slot: usize,
}

impl Wake for MemberWake {
    fn wake(self: Arc<Self>) {
        self.ready.push(self.slot);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.ready.push(self.slot);
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        JoinSet::new()
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    ///
    /// ```
    /// let set = goro::JoinSet::<u32>::new();
    /// assert!(set.is_empty());
    /// ```
    pub fn new() -> JoinSet<T> {
        JoinSet {
            slots: Vec::new(),
            wakers: Vec::new(),
            free: Vec::new(),
            len: 0,
            ready: Arc::new(Ready::new()),
        }
    }

    /// The number of members not joined yet (finished or not).
    ///
    /// ```
    /// goro::block_on(async {
    ///     let mut set = goro::JoinSet::new();
    ///     set.spawn(async { 1 });
    ///     assert_eq!(set.len(), 1);
    ///     set.join_next().await;
    ///     assert_eq!(set.len(), 0);
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set has no members.
    ///
    /// ```
    /// assert!(goro::JoinSet::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a task's handle to the set, and puts its slot on the ready list for a first poll.
    fn insert(&mut self, handle: JoinHandle<T>) {
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = Some(handle);
                slot
            }
            None => {
                let slot = self.slots.len();
                let waker = Waker::from(Arc::new(MemberWake {
                    ready: self.ready.clone(),
                    slot,
                }));
                self.ready.add_slot();
                self.slots.push(Some(handle));
                self.wakers.push(waker);
                slot
            }
        };
        self.len += 1;
        self.ready.push(slot);
    }

    /// Spawns `future` on the current runtime (the global one outside any runtime) as a
    /// member of the set.
    ///
    /// ```
    /// goro::block_on(async {
    ///     let mut set = goro::JoinSet::new();
    ///     set.spawn(async { "hello" });
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), "hello");
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F)
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let location = Location::caller();
        let handle =
            crate::current::with_handle(|h| task::spawn_on(h, future, None, Kind::Async, location));
        self.insert(handle);
    }

    /// Spawns `future` on `runtime` as a member of the set.
    ///
    /// ```
    /// let rt = goro::Builder::new().worker_threads(1).build().unwrap();
    /// let mut set = goro::JoinSet::new();
    /// set.spawn_on(async { 7 }, &rt);
    /// assert_eq!(rt.block_on(set.join_next()).unwrap().unwrap(), 7);
    /// ```
    #[track_caller]
    pub fn spawn_on<F>(&mut self, future: F, runtime: &Runtime)
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let location = Location::caller();
        let handle = task::spawn_on(runtime.handle(), future, None, Kind::Async, location);
        self.insert(handle);
    }

    /// Runs `f` on the current runtime's blocking pool as a member of the set. Aborting a
    /// blocking member drops it if it has not started; once running, it runs to the end.
    ///
    /// ```
    /// goro::block_on(async {
    ///     let mut set = goro::JoinSet::new();
    ///     set.spawn_blocking(|| std::fs::metadata("Cargo.toml").is_ok());
    ///     assert!(set.join_next().await.unwrap().unwrap());
    /// });
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F)
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let location = Location::caller();
        let future = async move { f() };
        let handle = crate::current::with_handle(|h| {
            task::spawn_on(h, future, None, Kind::Blocking, location)
        });
        self.insert(handle);
    }

    /// Polls the member in `slot`, with the slot's waker; removes it if it has finished.
    fn poll_slot(&mut self, slot: usize) -> Option<Result<T, JoinError>> {
        let handle = self.slots[slot].as_mut()?;
        let mut cx = Context::from_waker(&self.wakers[slot]);
        match Pin::new(handle).poll(&mut cx) {
            Poll::Ready(result) => {
                self.slots[slot] = None;
                self.free.push(slot);
                self.len -= 1;
                Some(result)
            }
            Poll::Pending => None,
        }
    }

    /// The next slot off the ready list. With `waker`, stores it to be woken if the list is
    /// empty.
    fn next_ready(&self, waker: Option<&Waker>) -> Option<usize> {
        self.ready.pop(waker)
    }

    /// Polls for the next member to finish: its result, or `None` if the set is empty. This
    /// is what [`JoinSet::join_next`] awaits.
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// goro::block_on(async {
    ///     let mut set = goro::JoinSet::new();
    ///     set.spawn(async { 1 });
    ///     let got = poll_fn(|cx| set.poll_join_next(cx)).await;
    ///     assert_eq!(got.unwrap().unwrap(), 1);
    /// });
    /// ```
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        if self.len == 0 {
            return Poll::Ready(None);
        }
        loop {
            let Some(slot) = self.next_ready(Some(cx.waker())) else {
                return Poll::Pending;
            };
            if let Some(result) = self.poll_slot(slot) {
                return Poll::Ready(Some(result));
            }
        }
    }

    /// Waits for the next member to finish and gives its result, or `None` once the set is
    /// empty. Members come out in the order they finish.
    ///
    /// # Errors
    ///
    /// A member that panicked or was aborted gives its [`JoinError`] (as `Some(Err(_))`);
    /// the other members are not affected.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a member's result is taken out of the set only by the poll that returns
    /// it, so a `join_next` that loses a `select!` or a `timeout` leaves every result in the
    /// set for the next call.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// goro::block_on(async {
    ///     let (release, gate) = goro::sync::chan::bounded::<()>(0);
    ///     let mut set = goro::JoinSet::new();
    ///     set.spawn(async move {
    ///         gate.recv().await;
    ///         "late"
    ///     });
    ///     let early = goro::time::timeout(Duration::from_millis(1), set.join_next()).await;
    ///     assert!(early.is_err()); // gave up waiting; the member is still in the set
    ///     assert_eq!(set.len(), 1);
    ///     release.close();
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), "late");
    /// });
    /// ```
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// The result of a member that has already finished, without waiting: `None` if no
    /// member is known to have finished (or the set is empty).
    ///
    /// ```
    /// goro::block_on(async {
    ///     let mut set = goro::JoinSet::<()>::new();
    ///     set.spawn(std::future::pending());
    ///     assert!(set.try_join_next().is_none());
    ///     set.abort_all();
    ///     set.shutdown().await;
    /// });
    /// ```
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        while let Some(slot) = self.next_ready(None) {
            if let Some(result) = self.poll_slot(slot) {
                return Some(result);
            }
        }
        None
    }

    /// Aborts every member: each is dropped at its next poll, and its result is a
    /// [`JoinError`] whose `is_cancelled()` is true (unless it had finished already). The
    /// members stay in the set until joined.
    ///
    /// ```
    /// goro::block_on(async {
    ///     let mut set = goro::JoinSet::<()>::new();
    ///     set.spawn(std::future::pending());
    ///     set.abort_all();
    ///     assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort_all(&self) {
        for handle in self.slots.iter().flatten() {
            handle.abort();
        }
    }

    /// Aborts every member and waits until each has ended, discarding their results. The
    /// set is empty afterwards.
    ///
    /// # Cancel safety
    ///
    /// Dropping it part way leaves the members not yet joined in the set, aborted.
    ///
    /// ```
    /// goro::block_on(async {
    ///     let mut set = goro::JoinSet::<()>::new();
    ///     for _ in 0..3 {
    ///         set.spawn(std::future::pending());
    ///     }
    ///     set.shutdown().await;
    ///     assert!(set.is_empty());
    /// });
    /// ```
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Empties the set without aborting: every member runs on, detached, as a dropped
    /// [`JoinHandle`] does.
    ///
    /// ```
    /// goro::block_on(async {
    ///     let (tx, rx) = goro::sync::chan::bounded(1);
    ///     let mut set = goro::JoinSet::new();
    ///     set.spawn(async move { tx.send(5).await.unwrap() });
    ///     set.detach_all();
    ///     drop(set);
    ///     assert_eq!(rx.recv().await, Some(5)); // it ran on
    /// });
    /// ```
    pub fn detach_all(&mut self) {
        {
            let mut inner = self.ready.lock();
            inner.queue.clear();
            inner.queued.clear();
        }
        // Dropping the handles detaches the tasks; wakers of the old slots now find no flag
        // to set and do nothing.
        let slots = std::mem::take(&mut self.slots);
        self.wakers.clear();
        self.free.clear();
        self.len = 0;
        drop(slots);
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len).finish()
    }
}

#[cfg(all(test, goro_loom))]
mod loom_tests {
    //! The lost-wakeup hazard: a member ends (its result becomes visible, then its slot's
    //! waker fires) while `join_next` finds the list empty and parks. Either `join_next`
    //! takes the slot off the list and sees the result, or the member's push finds the
    //! stored waker and wakes it. A lost wake-up shows as a deadlock.
    use super::*;
    use loom::sync::atomic::{AtomicBool, Ordering};
    use loom::sync::{Condvar, Mutex as LoomMutex};
    use loom::thread;

    /// The waiting task's waker: a flag under a mutex and a condition variable.
    struct Park {
        notified: LoomMutex<bool>,
        cvar: Condvar,
    }

    impl Wake for Park {
        fn wake(self: Arc<Self>) {
            *self.notified.lock().unwrap() = true;
            self.cvar.notify_one();
        }
    }

    impl Park {
        fn park(&self) {
            let mut n = self.notified.lock().unwrap();
            while !*n {
                n = self.cvar.wait(n).unwrap();
            }
            *n = false;
        }
    }

    /// Two members end on their own threads while the joiner collects both.
    #[test]
    fn a_member_ending_while_join_next_parks_wakes_it() {
        loom::model(|| {
            let ready = Arc::new(Ready::new());
            let done: Arc<[AtomicBool; 2]> =
                Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
            // Spawning puts each new slot on the list for a first poll.
            for slot in 0..2 {
                ready.add_slot();
                ready.push(slot);
            }
            let members: Vec<_> = (0..2)
                .map(|slot| {
                    let (ready, done) = (ready.clone(), done.clone());
                    thread::spawn(move || {
                        done[slot].store(true, Ordering::Release); // the task's output
                        ready.push(slot); // async-task wakes the registered slot waker
                    })
                })
                .collect();
            let park = Arc::new(Park {
                notified: LoomMutex::new(false),
                cvar: Condvar::new(),
            });
            let waker = Waker::from(park.clone());
            let mut joined = [false; 2];
            while joined != [true, true] {
                match ready.pop(Some(&waker)) {
                    // "Polling the handle": ready if the output is there; else the slot's
                    // waker stays registered.
                    Some(slot) => {
                        if done[slot].load(Ordering::Acquire) {
                            joined[slot] = true;
                        }
                    }
                    None => park.park(),
                }
            }
            for member in members {
                member.join().unwrap();
            }
        });
    }
}
