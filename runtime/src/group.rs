//! `TaskGroup`: Go's `errgroup.Group` with `SetLimit`, for tasks.
//!
//! # The protocol
//!
//! The group's state sits under one mutex: the running members (their join handles, to abort
//! them), the members queued behind the limit, why the group failed, and the tasks waiting in
//! `wait`. Each member is spawned wrapped in a `Member` future that, when its future ends (or
//! is dropped, if aborted), takes the lock once to
//!
//! - leave the running set;
//! - record its error or panic if it is the first, mark the group stopped and take out the
//!   handles of the other members (to abort them) and the queued members (to drop them);
//! - otherwise reserve a running slot for each queued member that now has room, so `spawn`
//!   never waits for room;
//! - when nothing runs or waits to run, take clones of every waiter's waker.
//!
//! Then, with the lock released, it aborts, drops, wakes and spawns what it took out.
//!
//! # The lock is never held while calling out
//!
//! Nothing that can call back into the group runs under its lock: no spawn, no abort, no drop
//! of a join handle, a member or a user's future, no wake. Each of these can end a member on
//! the spot (on a runtime that is shutting down, a spawned or woken task is dropped at once),
//! and a member that ends takes the lock: under the lock that would be a self-deadlock. So
//! each operation takes what it must act on out of the state under the lock and acts after
//! releasing it. Starting a member can end it at once (its runtime is gone), which leaves more
//! to do; that is handled by a loop, not by recursion, so a long queue cannot grow the stack.
//!
//! A member is started in three steps: reserve a slot (under the lock, with a fresh id), spawn
//! its task (unlocked), then store the handle in the slot (under the lock). If the member ended
//! in between, the slot's id no longer matches and the handle is just dropped; if the group
//! stopped in between, nobody could abort the member yet, so the starter aborts it.
//!
//! # No waiter is missed
//!
//! A `Wait` future checks "nothing runs or is queued" and, if that is false, stores its waker
//! in its own entry of the waiter list, both under the lock. The member whose end makes the
//! group idle takes the wakers under the same lock, so a waiter either saw the group idle or
//! is in the list when the last member leaves. Entries are removed only by their own `Wait`
//! (when it completes or is dropped), so a waiter's key is never reused under it.

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use slab::Slab;

use crate::runtime::Handle;
use crate::task::{self, JoinHandle, Kind};

type BoxFuture<E> = Pin<Box<dyn Future<Output = Result<(), E>> + Send + 'static>>;

/// A group of tasks that fail together: the first error wins and aborts the rest.
///
/// To collect every task's value (or error) instead, as they finish, use
/// [`JoinSet`](crate::JoinSet).
///
/// ```
/// use goro::TaskGroup;
///
/// goro::block_on(async {
///     let group = TaskGroup::with_limit(2); // at most two run at once
///     for i in 0..5 {
///         group.spawn(async move { if i == 3 { Err(format!("job {i} failed")) } else { Ok(()) } });
///     }
///     assert_eq!(group.wait().await, Err("job 3 failed".to_string()));
/// });
/// ```
pub struct TaskGroup<E> {
    /// State shared with the members.
    inner: Arc<Inner<E>>,
}

struct Inner<E> {
    /// Everything, under one lock (see the module docs).
    state: Mutex<State<E>>,
}

struct State<E> {
    /// Running members, including those being started.
    running: Slab<Slot>,
    /// Members waiting for room under the limit.
    queued: VecDeque<Queued<E>>,
    /// The most members running at once.
    limit: Option<usize>,
    /// Why the group failed: its first error or panic.
    failure: Option<Failure<E>>,
    /// Set by the first error or panic, or by dropping the group: nothing new starts.
    stopped: bool,
    /// Wakers of the pending `Wait` futures, each in the entry its future owns.
    waiters: Slab<Waker>,
    /// The id the next started member gets (tells a reused slot from the one reserved).
    next_id: u64,
}

/// A running member's entry.
struct Slot {
    /// Which member holds the slot.
    id: u64,
    /// Its task, to abort it; `None` while it is being spawned, and once taken out to abort.
    handle: Option<JoinHandle<()>>,
}

/// A member waiting for room under the limit.
struct Queued<E> {
    /// The member's future.
    future: BoxFuture<E>,
    /// Where `spawn` was called, for task dumps.
    location: &'static Location<'static>,
    /// The runtime `spawn` was called on, where the member will run.
    runtime: Arc<Handle>,
}

/// A member whose slot is reserved and whose task is to be spawned (with the lock released).
struct Start<E> {
    /// Its reserved slot in `running`.
    slot: usize,
    /// Its id, stored in the slot.
    id: u64,
    /// The member's future.
    future: BoxFuture<E>,
    /// Where `spawn` was called.
    location: &'static Location<'static>,
    /// The runtime to spawn on; `None` for the current one.
    runtime: Option<Arc<Handle>>,
}

/// Why a group failed.
enum Failure<E> {
    /// A member returned this error, not yet handed out by a `wait`.
    Error(E),
    /// A member panicked with this payload, not yet raised by a `wait`.
    Panic(Box<dyn Any + Send + 'static>),
    /// The error was handed out by an earlier `wait`.
    ErrorReturned,
    /// The panic was raised by an earlier `wait`.
    PanicRaised,
}

/// What a change of state leaves to do once the lock is released (see the module docs).
struct Todo<E> {
    /// Members to abort (a handle is dropped right after its abort).
    abort: Vec<JoinHandle<()>>,
    /// Handles of members that ended, to drop.
    release: Vec<JoinHandle<()>>,
    /// Queued members dropped unstarted.
    dropped: Vec<Queued<E>>,
    /// Waiters to wake.
    wake: Vec<Waker>,
    /// Members to spawn, in order.
    start: VecDeque<Start<E>>,
}

impl<E> Todo<E> {
    fn new() -> Todo<E> {
        Todo {
            abort: Vec::new(),
            release: Vec::new(),
            dropped: Vec::new(),
            wake: Vec::new(),
            start: VecDeque::new(),
        }
    }

    /// Adds `other`'s work to this one.
    fn append(&mut self, mut other: Todo<E>) {
        self.abort.append(&mut other.abort);
        self.release.append(&mut other.release);
        self.dropped.append(&mut other.dropped);
        self.wake.append(&mut other.wake);
        self.start.append(&mut other.start);
    }
}

impl<E: Send + 'static> Default for TaskGroup<E> {
    fn default() -> Self {
        TaskGroup::new()
    }
}

impl<E: Send + 'static> TaskGroup<E> {
    /// A group with no limit on how many members run at once.
    ///
    /// ```
    /// use goro::TaskGroup;
    ///
    /// goro::block_on(async {
    ///     let group = TaskGroup::<()>::new();
    ///     group.spawn(async { Ok(()) });
    ///     assert_eq!(group.wait().await, Ok(()));
    /// });
    /// ```
    pub fn new() -> TaskGroup<E> {
        Self::make(None)
    }

    /// A group that runs at most `n` members at once; the others wait in the group.
    ///
    /// # Panics
    ///
    /// If `n` is zero: nothing could ever run.
    ///
    /// ```
    /// use goro::TaskGroup;
    ///
    /// let group = TaskGroup::<()>::with_limit(4);
    /// assert!(group.is_empty());
    /// ```
    #[track_caller]
    pub fn with_limit(n: usize) -> TaskGroup<E> {
        assert!(
            n > 0,
            "goro: TaskGroup::with_limit needs a limit of at least 1"
        );
        Self::make(Some(n))
    }

    fn make(limit: Option<usize>) -> TaskGroup<E> {
        TaskGroup {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    running: Slab::new(),
                    queued: VecDeque::new(),
                    limit,
                    failure: None,
                    stopped: false,
                    waiters: Slab::new(),
                    next_id: 0,
                }),
            }),
        }
    }

    /// Adds a member. It starts now if the limit allows, otherwise when a member finishes;
    /// `spawn` itself never waits. After the group has failed, new members are dropped. On a
    /// runtime that has shut down, the member is dropped at once, as a spawned task would be.
    ///
    /// ```
    /// use goro::TaskGroup;
    ///
    /// goro::block_on(async {
    ///     let group = TaskGroup::<std::io::Error>::new();
    ///     group.spawn(async { std::fs::metadata("Cargo.toml").map(|_| ()) });
    ///     assert!(group.wait().await.is_ok());
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        let location = Location::caller();
        let mut state = self.inner.lock();
        if state.stopped {
            drop(state);
            drop(future);
            return;
        }
        let future: BoxFuture<E> = Box::pin(future);
        if state.limit.is_some_and(|n| state.running.len() >= n) {
            let runtime = crate::current::handle();
            state.queued.push_back(Queued {
                future,
                location,
                runtime,
            });
            return;
        }
        let mut todo = Todo::new();
        todo.start.push_back(state.reserve(future, location, None));
        drop(state);
        self.inner.settle(todo);
    }

    /// The number of members running or queued.
    ///
    /// ```
    /// use goro::TaskGroup;
    ///
    /// goro::block_on(async {
    ///     let group = TaskGroup::<()>::with_limit(1);
    ///     group.spawn(std::future::pending());
    ///     group.spawn(std::future::pending());
    ///     assert_eq!(group.len(), 2); // one running, one queued
    /// });
    /// ```
    pub fn len(&self) -> usize {
        let state = self.inner.lock();
        state.running.len() + state.queued.len()
    }

    /// Whether no member runs or waits to run.
    ///
    /// ```
    /// use goro::TaskGroup;
    ///
    /// assert!(TaskGroup::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until every member has ended; returns the first error, if any.
    ///
    /// Any number of tasks may wait on one group at once: every one is woken when the last
    /// member ends. Once a member has failed, no `wait` reports `Ok(())` again, but an error
    /// that is not `Clone` (such as `std::io::Error`) can be handed out only once: the first
    /// `wait` to finish after the failure returns it, and every later `wait` panics, saying the
    /// error was already returned. When `E: Clone`, use [`TaskGroup::wait_cloned`] to get the
    /// first error from every call, as Go's `errgroup.Wait` does.
    ///
    /// ```
    /// use goro::TaskGroup;
    ///
    /// goro::block_on(async {
    ///     let group = TaskGroup::new();
    ///     group.spawn(async { Err(std::io::Error::other("disk full")) });
    ///     // The first wait gets the error ...
    ///     assert_eq!(group.wait().await.unwrap_err().to_string(), "disk full");
    ///     // ... and a second one panics rather than report success.
    ///     let again = std::panic::AssertUnwindSafe(group.wait());
    ///     assert!(futures_lite::FutureExt::catch_unwind(again).await.is_err());
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// The first error a member returned (the other members were aborted).
    ///
    /// # Panics
    ///
    /// If a member panicked: the panic is raised again here, after the others were aborted;
    /// a later `wait` panics with a message saying so. If the group failed and an earlier
    /// `wait` already returned its error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future only stops waiting (it leaves the waiter list) and
    /// does not touch the members, which go on running. The first error (or panic) is taken
    /// out of the group only by the poll that returns it, so a `wait` dropped before it
    /// returned leaves it for the next one.
    ///
    /// ```
    /// use std::time::Duration;
    /// use goro::{time, TaskGroup};
    ///
    /// goro::block_on(async {
    ///     let (release, gate) = goro::sync::chan::bounded::<()>(0);
    ///     let group = TaskGroup::new();
    ///     group.spawn(async move {
    ///         gate.recv().await; // runs until released
    ///         Err("failed")
    ///     });
    ///     // Give up waiting: the member keeps running, and its error is kept for later.
    ///     assert!(time::timeout(Duration::from_millis(1), group.wait()).await.is_err());
    ///     release.close();
    ///     assert_eq!(group.wait().await, Err("failed"));
    /// });
    /// ```
    pub fn wait(&self) -> Wait<'_, E> {
        Wait {
            group: self,
            key: None,
            clone: None,
        }
    }

    /// Like [`TaskGroup::wait`], but returns a clone of the first error, so that every call
    /// after a failure returns it (Go's `errgroup.Wait`).
    ///
    /// ```
    /// use goro::TaskGroup;
    ///
    /// goro::block_on(async {
    ///     let group = TaskGroup::new();
    ///     group.spawn(async { Err("no route to host".to_string()) });
    ///     assert_eq!(group.wait_cloned().await, Err("no route to host".to_string()));
    ///     assert_eq!(group.wait_cloned().await, Err("no route to host".to_string()));
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// The first error a member returned (the other members were aborted).
    ///
    /// # Panics
    ///
    /// As [`TaskGroup::wait`]: if a member panicked, or if a plain `wait` already took the
    /// error out of the group.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, as [`TaskGroup::wait`].
    pub fn wait_cloned(&self) -> Wait<'_, E>
    where
        E: Clone,
    {
        Wait {
            group: self,
            key: None,
            clone: Some(E::clone),
        }
    }
}

impl<E> Inner<E> {
    fn lock(&self) -> MutexGuard<'_, State<E>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<E: Send + 'static> Inner<E> {
    /// Does what a change of state left to do, with the lock released (see the module docs).
    /// Spawning a member can end it at once, which leaves more to do: this loops until done.
    fn settle(self: &Arc<Self>, mut todo: Todo<E>) {
        loop {
            for handle in todo.abort.drain(..) {
                handle.abort();
                drop(handle);
            }
            drop(std::mem::take(&mut todo.release));
            drop(std::mem::take(&mut todo.dropped));
            for waker in todo.wake.drain(..) {
                waker.wake();
            }
            let Some(start) = todo.start.pop_front() else {
                return;
            };
            let more = self.launch(start);
            todo.append(more);
        }
    }

    /// Spawns a reserved member and stores its handle; what is left to do if it ended at once.
    fn launch(self: &Arc<Self>, start: Start<E>) -> Todo<E> {
        let Start {
            slot,
            id,
            future,
            location,
            runtime,
        } = start;
        let member = Member {
            future: Some(future),
            group: self.clone(),
            slot,
        };
        let spawn = |h: &Arc<Handle>| task::try_spawn_on(h, member, None, Kind::Async, location);
        let spawned = match &runtime {
            Some(h) => spawn(h),
            None => crate::current::with_handle(spawn),
        };
        match spawned {
            Ok(handle) => self.install(slot, id, handle),
            Err(mut member) => {
                // The runtime has shut down: the member ends without running.
                let future = member.future.take();
                drop(member);
                drop(future);
                self.lock().end(slot, Outcome::Aborted)
            }
        }
    }

    /// Stores a just-spawned member's handle in its slot, unless it must be aborted or ended.
    fn install(&self, slot: usize, id: u64, handle: JoinHandle<()>) -> Todo<E> {
        let mut todo = Todo::new();
        let mut state = self.lock();
        let stopped = state.stopped;
        match state.running.get_mut(slot) {
            Some(entry) if entry.id == id && !stopped => entry.handle = Some(handle),
            // Stopped while it was being spawned: nobody could abort it yet.
            Some(entry) if entry.id == id => todo.abort.push(handle),
            _ => todo.release.push(handle), // it has ended already
        }
        todo
    }

    /// A member ended.
    fn finish(self: &Arc<Self>, slot: usize, outcome: Outcome<E>) {
        let todo = self.lock().end(slot, outcome);
        self.settle(todo);
    }
}

impl<E> State<E> {
    /// Reserves a running slot for a member about to be spawned.
    fn reserve(
        &mut self,
        future: BoxFuture<E>,
        location: &'static Location<'static>,
        runtime: Option<Arc<Handle>>,
    ) -> Start<E> {
        let id = self.next_id;
        self.next_id += 1;
        let slot = self.running.insert(Slot { id, handle: None });
        Start {
            slot,
            id,
            future,
            location,
            runtime,
        }
    }

    /// Records that the member in `slot` ended; returns what to do after unlocking.
    fn end(&mut self, slot: usize, outcome: Outcome<E>) -> Todo<E> {
        let mut todo = Todo::new();
        todo.release
            .extend(self.running.try_remove(slot).and_then(|s| s.handle));
        let failure = match outcome {
            Outcome::Err(e) => Some(Failure::Error(e)),
            Outcome::Panic(p) => Some(Failure::Panic(p)),
            Outcome::Ok | Outcome::Aborted => None,
        };
        if let Some(failure) = failure {
            if self.failure.is_none() {
                self.failure = Some(failure);
                self.stop(&mut todo);
            }
        }
        while !self.stopped && self.limit.is_none_or(|n| self.running.len() < n) {
            let Some(next) = self.queued.pop_front() else {
                break;
            };
            let start = self.reserve(next.future, next.location, Some(next.runtime));
            todo.start.push_back(start);
        }
        if self.running.is_empty() && self.queued.is_empty() {
            todo.wake = self.waiters.iter().map(|(_, w)| w.clone()).collect();
        }
        todo
    }

    /// Stops the group: nothing new starts; takes out the running members' handles (to abort)
    /// and the queued members (to drop).
    fn stop(&mut self, todo: &mut Todo<E>) {
        self.stopped = true;
        todo.abort
            .extend(self.running.iter_mut().filter_map(|(_, s)| s.handle.take()));
        todo.dropped.extend(self.queued.drain(..));
    }

    /// What `wait` returns once the group is idle; `clone` copies a `Clone` error.
    fn outcome(&mut self, clone: Option<fn(&E) -> E>) -> Result<(), E> {
        match (self.failure.take(), clone) {
            (None, _) => Ok(()),
            (Some(Failure::Error(e)), Some(clone)) => {
                let copy = clone(&e);
                self.failure = Some(Failure::Error(e));
                Err(copy)
            }
            (Some(Failure::Error(e)), None) => {
                self.failure = Some(Failure::ErrorReturned);
                Err(e)
            }
            (Some(Failure::Panic(payload)), _) => {
                self.failure = Some(Failure::PanicRaised);
                panic::resume_unwind(payload)
            }
            (Some(Failure::ErrorReturned), _) => {
                self.failure = Some(Failure::ErrorReturned);
                panic!(
                    "goro: TaskGroup::wait: the group failed, and its error was already returned \
                     by an earlier wait (an error is returned once; with a Clone error, \
                     wait_cloned returns it every time)"
                )
            }
            (Some(Failure::PanicRaised), _) => {
                self.failure = Some(Failure::PanicRaised);
                panic!(
                    "goro: TaskGroup::wait: a member of the group panicked (the panic was \
                     raised by an earlier wait)"
                )
            }
        }
    }
}

/// How a member ended.
enum Outcome<E> {
    /// Its future returned `Ok(())`.
    Ok,
    /// Its future returned an error.
    Err(E),
    /// Its future panicked.
    Panic(Box<dyn Any + Send + 'static>),
    /// It was aborted (or dropped at shutdown) before it ended.
    Aborted,
}

/// A member of a group, as spawned.
struct Member<E: Send + 'static> {
    /// The member's future; `None` once it has ended.
    future: Option<BoxFuture<E>>,
    /// The group to report to.
    group: Arc<Inner<E>>,
    /// The member's slot in `running` (it stays the member's until the member ends).
    slot: usize,
}

impl<E: Send + 'static> Future for Member<E> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(future) = self.future.as_mut() else {
            return Poll::Ready(());
        };
        let outcome = match panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(()))) => Outcome::Ok,
            Ok(Poll::Ready(Err(e))) => Outcome::Err(e),
            Err(payload) => Outcome::Panic(payload),
        };
        self.future = None;
        self.group.finish(self.slot, outcome);
        Poll::Ready(())
    }
}

impl<E: Send + 'static> Drop for Member<E> {
    fn drop(&mut self) {
        if let Some(future) = self.future.take() {
            // Aborted (or dropped at shutdown) before it ended.
            drop(future);
            self.group.finish(self.slot, Outcome::Aborted);
        }
    }
}

/// The future of [`TaskGroup::wait`] and [`TaskGroup::wait_cloned`].
///
/// # Cancel safety
///
/// Cancel-safe: dropping it only stops waiting.
pub struct Wait<'a, E> {
    /// The group waited on.
    group: &'a TaskGroup<E>,
    /// This future's entry in the group's waiter list.
    key: Option<usize>,
    /// Copies the error (`wait_cloned`); `None` hands the error itself out (`wait`).
    clone: Option<fn(&E) -> E>,
}

impl<E: Send + 'static> Future for Wait<'_, E> {
    type Output = Result<(), E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        let group = self.group;
        let mut state = group.inner.lock();
        if !state.running.is_empty() || !state.queued.is_empty() {
            match self.key {
                Some(key) => {
                    let slot = &mut state.waiters[key];
                    if !slot.will_wake(cx.waker()) {
                        *slot = cx.waker().clone();
                    }
                }
                None => self.key = Some(state.waiters.insert(cx.waker().clone())),
            }
            return Poll::Pending;
        }
        let waker = self.key.take().map(|key| state.waiters.remove(key));
        let clone = self.clone;
        let result = panic::catch_unwind(AssertUnwindSafe(|| state.outcome(clone)));
        drop(state);
        drop(waker);
        Poll::Ready(result.unwrap_or_else(|payload| panic::resume_unwind(payload)))
    }
}

impl<E> Drop for Wait<'_, E> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let removed = self.group.inner.lock().waiters.try_remove(key);
            drop(removed);
        }
    }
}

impl<E> Drop for TaskGroup<E> {
    fn drop(&mut self) {
        let mut todo = Todo::new();
        self.inner.lock().stop(&mut todo);
        // `settle` needs `E: Send + 'static`; dropping needs only the abort and the drops.
        for handle in todo.abort {
            handle.abort();
            drop(handle);
        }
        drop(todo.dropped);
    }
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("TaskGroup")
            .field("running", &state.running.len())
            .field("queued", &state.queued.len())
            .field("limit", &state.limit)
            .field("failed", &state.failure.is_some())
            .field("stopped", &state.stopped)
            .finish()
    }
}

impl<E> fmt::Debug for Wait<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_wait_futures_leave_no_waker_behind() {
        let rt = crate::Builder::new().worker_threads(1).build().unwrap();
        let group = TaskGroup::<()>::new();
        rt.block_on(async { group.spawn(std::future::pending()) });
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..100 {
            let mut wait = group.wait();
            assert!(Pin::new(&mut wait).poll(&mut cx).is_pending());
        }
        assert_eq!(group.inner.lock().waiters.len(), 0);
        let mut kept = group.wait();
        assert!(Pin::new(&mut kept).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut kept).poll(&mut cx).is_pending());
        assert_eq!(
            group.inner.lock().waiters.len(),
            1,
            "a re-poll added a waker"
        );
    }
}
