//! `TaskGroup`: Go's `errgroup.Group` with `SetLimit`, for tasks.
//!
//! # The protocol
//!
//! The group's state sits under one mutex: the running members (their join handles, to abort
//! them), the members queued behind the limit, and the first error. Each member is spawned
//! wrapped in a `Member` future that, when its future ends (or is dropped, if aborted),
//! takes the lock once to
//!
//! - leave the running set;
//! - record its error if it is the first, mark the group failed and abort every other
//!   member (queued members are dropped unstarted);
//! - otherwise start the next queued member, so `spawn` never waits for room;
//! - wake `wait`, which returns once nothing runs or waits to run.
//!
//! User code (a future's destructor) is never run while the lock is held: futures taken out
//! under the lock are dropped after it is released.

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use slab::Slab;

use crate::task::{self, JoinHandle, Kind};

type BoxFuture<E> = Pin<Box<dyn Future<Output = Result<(), E>> + Send + 'static>>;

/// A group of tasks that fail together: the first error wins and aborts the rest.
///
/// ```
/// use goro_runtime::TaskGroup;
///
/// goro_runtime::block_on(async {
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
    /// Running members; a slot is `None` only while its task is being spawned.
    running: Slab<Option<JoinHandle<()>>>,
    /// Members waiting for room under the limit.
    queued: VecDeque<(BoxFuture<E>, &'static Location<'static>)>,
    /// The most members running at once.
    limit: Option<usize>,
    /// The first error.
    error: Option<E>,
    /// The first panic of a member, re-raised by `wait`.
    panic: Option<Box<dyn Any + Send + 'static>>,
    /// Set by the first error or panic: nothing new starts.
    failed: bool,
    /// The task in `wait`.
    waiter: Option<Waker>,
}

impl<E: Send + 'static> Default for TaskGroup<E> {
    fn default() -> Self {
        TaskGroup::new()
    }
}

impl<E: Send + 'static> TaskGroup<E> {
    /// A group with no limit on how many members run at once.
    pub fn new() -> TaskGroup<E> {
        Self::make(None)
    }

    /// A group that runs at most `n` members at once; the others wait in the group.
    ///
    /// # Panics
    ///
    /// If `n` is zero: nothing could ever run.
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
                    error: None,
                    panic: None,
                    failed: false,
                    waiter: None,
                }),
            }),
        }
    }

    /// Adds a member. It starts now if the limit allows, otherwise when a member finishes;
    /// `spawn` itself never waits. After the group has failed, new members are dropped.
    #[track_caller]
    pub fn spawn<F>(&self, future: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        let location = Location::caller();
        let mut state = self.inner.lock();
        if state.failed {
            drop(state);
            drop(future);
            return;
        }
        let future: BoxFuture<E> = Box::pin(future);
        if state.limit.is_some_and(|n| state.running.len() >= n) {
            state.queued.push_back((future, location));
        } else {
            self.inner.start(&mut state, future, location);
        }
    }

    /// The number of members running or queued.
    pub fn len(&self) -> usize {
        let state = self.inner.lock();
        state.running.len() + state.queued.len()
    }

    /// Whether no member runs or waits to run.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until every member has ended; returns the first error, if any.
    ///
    /// # Errors
    ///
    /// The first error a member returned (the other members were aborted).
    ///
    /// # Panics
    ///
    /// If a member panicked: the panic is raised again here, after the others were aborted.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future does not touch the members, which go on running, and
    /// the first error (or panic) is taken out of the group only by the poll that returns it,
    /// so a later `wait` still reports it. Only the task that polled `wait` last is woken when
    /// the group is done: wait from one task at a time.
    ///
    /// ```
    /// use std::time::Duration;
    /// use goro_runtime::{time, TaskGroup};
    ///
    /// goro_runtime::block_on(async {
    ///     let (release, gate) = goro_sync::chan::bounded::<()>(0);
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
        Wait { group: self }
    }
}

impl<E: Send + 'static> Inner<E> {
    fn lock(&self) -> MutexGuard<'_, State<E>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn start(
        self: &Arc<Self>,
        state: &mut State<E>,
        future: BoxFuture<E>,
        location: &'static Location<'static>,
    ) {
        let slot = state.running.insert(None);
        let member = Member {
            future: Some(future),
            group: self.clone(),
            slot,
        };
        let handle =
            crate::current::with_handle(|h| task::spawn_on(h, member, None, Kind::Async, location));
        state.running[slot] = Some(handle);
    }

    /// A member ended.
    fn finish(self: &Arc<Self>, slot: usize, outcome: Outcome<E>) {
        let mut state = self.lock();
        let handle = state.running.try_remove(slot);
        let mut dropped = Vec::new();
        match outcome {
            Outcome::Err(e) if !state.failed => {
                state.error = Some(e);
                dropped = self.fail(&mut state);
            }
            Outcome::Panic(p) if !state.failed => {
                state.panic = Some(p);
                dropped = self.fail(&mut state);
            }
            _ => {
                while !state.failed && state.limit.is_none_or(|n| state.running.len() < n) {
                    let Some((future, location)) = state.queued.pop_front() else {
                        break;
                    };
                    self.start(&mut state, future, location);
                }
            }
        }
        let waiter = state.waiter.take();
        drop(state);
        drop(handle);
        drop(dropped);
        if let Some(w) = waiter {
            w.wake();
        }
    }

    /// Marks the group failed, aborts the running members and hands back the queued ones
    /// (to be dropped after the lock is released).
    fn fail(&self, state: &mut State<E>) -> Vec<(BoxFuture<E>, &'static Location<'static>)> {
        state.failed = true;
        for (_, handle) in state.running.iter() {
            if let Some(h) = handle {
                h.abort();
            }
        }
        state.queued.drain(..).collect()
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
    /// The member's slot in `running`.
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
        if self.future.take().is_some() {
            // Aborted (or dropped at shutdown) before it ended.
            self.group.finish(self.slot, Outcome::Aborted);
        }
    }
}

/// The future of [`TaskGroup::wait`].
pub struct Wait<'a, E> {
    /// The group waited on.
    group: &'a TaskGroup<E>,
}

impl<E: Send + 'static> Future for Wait<'_, E> {
    type Output = Result<(), E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        let mut state = self.group.inner.lock();
        if !state.running.is_empty() || !state.queued.is_empty() {
            state.waiter = Some(cx.waker().clone());
            return Poll::Pending;
        }
        if let Some(payload) = state.panic.take() {
            drop(state);
            panic::resume_unwind(payload);
        }
        Poll::Ready(state.error.take().map_or(Ok(()), Err))
    }
}

impl<E> Drop for TaskGroup<E> {
    fn drop(&mut self) {
        let mut state = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
        state.failed = true;
        for (_, handle) in state.running.iter() {
            if let Some(h) = handle {
                h.abort();
            }
        }
        let queued: Vec<_> = state.queued.drain(..).collect();
        drop(state);
        drop(queued);
    }
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("TaskGroup")
            .field("running", &state.running.len())
            .field("queued", &state.queued.len())
            .field("limit", &state.limit)
            .field("failed", &state.failed)
            .finish()
    }
}

impl<E> fmt::Debug for Wait<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait").finish_non_exhaustive()
    }
}
