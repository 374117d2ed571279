//! Go's `context`: cancellation and deadlines that flow from a parent to everything derived
//! from it.
//!
//! ```
//! use std::time::Duration;
//! use goro::sync::{Context, ContextError};
//!
//! goro::block_on(async {
//!     let (ctx, cancel) = Context::background().with_cancel();
//!     let (child, _cancel_child) = ctx.with_timeout(Duration::from_secs(60));
//!     let worker = goro::spawn(async move {
//!         child.done().await;
//!         child.err()
//!     });
//!     cancel.cancel();
//!     assert_eq!(worker.await.unwrap(), Some(ContextError::Canceled));
//! });
//! ```
//!
//! # The protocol
//!
//! A context is a node in a tree. Each node keeps, under one mutex, its error (once set, set
//! for good), the wakers of the futures waiting in [`Context::done`], and weak links to its
//! children. Cancelling a node sets its error, takes its waiters and children out under the
//! lock, then, with the lock released, wakes the waiters and cancels each child with the same
//! error (with a work list, not recursion: chains may be deeper than any stack; dropping a
//! chain likewise unlinks parent after parent in a loop). A child registers with its parent under the parent's lock, after checking the
//! parent's error under that same lock, so a child is either cancelled at birth or reached by
//! the parent's cancellation: never missed.
//!
//! Request-scoped values ([`Context::with_value`]) live apart from that tree: a context holds
//! the newest node of an immutable linked list of key-value pairs, each pointing to the list
//! its parent had. A lookup walks from the newest node to the oldest, so the nearest value for
//! a key wins; nothing is locked, since a node never changes once built. Deriving a context
//! (with a value, a cancel, a deadline) never changes the part the derivation did not touch: a
//! value context shares its parent's cancellation node, so it is done exactly when its parent
//! is.
//!
//! Deadlines are lazy: no timer task runs per context. A child's deadline is clamped to its
//! parent's, so each node only needs to watch its own: [`Context::err`] compares it with the
//! clock, and a [`Done`] future sleeps until it alongside waiting for a cancellation. When
//! either happens first, the node records the error and cancels its subtree.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::{Duration, Instant};

use slab::Slab;

use crate::signal::{Signal, Signals};
use crate::time::{sleep_until, Sleep};

/// Why a context is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextError {
    /// A [`CancelFn`] of this context or of an ancestor was called.
    Canceled,
    /// The deadline of this context (or of an ancestor) passed.
    DeadlineExceeded,
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContextError::Canceled => "context canceled",
            ContextError::DeadlineExceeded => "context deadline exceeded",
        })
    }
}

impl std::error::Error for ContextError {}

/// A cancellation signal and an optional deadline, shared by cloning (Go's `context.Context`).
///
/// [`Context::background`] is never cancelled; `with_cancel`, `with_timeout` and
/// `with_deadline` derive children that are cancelled with their parent, or earlier;
/// `with_value` derives a child that carries one more request-scoped value.
#[derive(Clone, Default)]
pub struct Context {
    /// The cancellation node; `None` for the background context (and for value contexts
    /// derived from it only by `with_value`).
    node: Option<Arc<Node>>,
    /// The newest request-scoped value, linked to the older ones; `None` if there is none.
    values: Option<Arc<ValueNode>>,
}

/// A typed key for [`Context::with_value`] (the key type Go programs declare per package).
///
/// Each key is distinct by identity, not by name: two keys made by two calls of
/// [`new`](ContextKey::new) never find each other's values, even with the same name and type,
/// so libraries cannot collide. A clone is the same key. The name only shows in `Debug`.
///
/// ```
/// use goro::sync::{Context, ContextKey};
///
/// static REQUEST_ID: ContextKey<u64> = ContextKey::new("request-id");
///
/// let ctx = Context::background().with_value(&REQUEST_ID, 42);
/// assert_eq!(ctx.value(&REQUEST_ID), Some(&42));
/// ```
pub struct ContextKey<T> {
    /// The identity, drawn from a process-wide counter on first use (0 until then), so that
    /// `new` can be `const` and keys can be statics.
    id: AtomicU64,
    /// For `Debug` only.
    name: &'static str,
    /// The type of the values this key stores.
    value_type: PhantomData<fn() -> T>,
}

/// The next key identity to hand out; 0 means "not drawn yet", so this starts at 1.
static NEXT_KEY_ID: AtomicU64 = AtomicU64::new(1);

impl<T> ContextKey<T> {
    /// A new key, distinct from every other. `name` is only for `Debug`.
    ///
    /// ```
    /// use goro::sync::{Context, ContextKey};
    ///
    /// let a = ContextKey::<&str>::new("user");
    /// let b = ContextKey::<&str>::new("user");
    /// let ctx = Context::background().with_value(&a, "alice");
    /// assert_eq!(ctx.value(&b), None); // same name, different key
    /// ```
    pub const fn new(name: &'static str) -> Self {
        ContextKey {
            id: AtomicU64::new(0),
            name,
            value_type: PhantomData,
        }
    }

    /// The key's identity, drawn on first use.
    fn id(&self) -> u64 {
        let id = self.id.load(Ordering::Acquire);
        if id != 0 {
            return id;
        }
        let fresh = NEXT_KEY_ID.fetch_add(1, Ordering::Relaxed);
        match self
            .id
            .compare_exchange(0, fresh, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => fresh,
            Err(drawn) => drawn, // another thread drew first: its id is the key's
        }
    }
}

impl<T> Clone for ContextKey<T> {
    fn clone(&self) -> Self {
        ContextKey {
            id: AtomicU64::new(self.id()),
            name: self.name,
            value_type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for ContextKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ContextKey").field(&self.name).finish()
    }
}

/// One request-scoped value and the list it was added to.
struct ValueNode {
    /// The identity of the key it was stored under.
    key: u64,
    /// The value, a `T` of that key.
    value: Box<dyn Any + Send + Sync>,
    /// The values of the context this one was derived from.
    parent: Option<Arc<ValueNode>>,
}

impl Drop for ValueNode {
    /// Unlinks a chain node by node in a loop: dropping a deep chain must not recurse.
    fn drop(&mut self) {
        let mut link = self.parent.take();
        while let Some(node) = link {
            link = Arc::into_inner(node).and_then(|mut node| node.parent.take());
        }
    }
}

/// Cancels the context it came with (and that context's descendants). Dropping it does not.
///
/// ```
/// use goro::sync::{Context, ContextError};
///
/// let (ctx, cancel) = Context::background().with_cancel();
/// assert_eq!(ctx.err(), None);
/// cancel.cancel();
/// assert_eq!(ctx.err(), Some(ContextError::Canceled));
/// ```
#[derive(Clone)]
pub struct CancelFn {
    /// The node to cancel.
    node: Arc<Node>,
}

struct Node {
    /// When this context expires, already clamped to the parent's deadline.
    deadline: Option<Instant>,
    /// The parent and this node's key among its children, to unlink on drop.
    parent: Option<(Arc<Node>, usize)>,
    /// Error, waiters, children.
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Set once, when the context is done.
    err: Option<ContextError>,
    /// The signal that cancelled it, if one did (see [`Context::with_signals`]).
    signal: Option<Signal>,
    /// Wakers of pending `Done` futures.
    waiters: Slab<Waker>,
    /// Live children.
    children: Slab<Weak<Node>>,
}

impl Node {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records `err` (unless already done) and cancels the subtree.
    ///
    /// The subtree is walked with a work list, not by recursion: a chain of contexts can be
    /// arbitrarily deep, and the walk must not depend on the stack's size.
    fn cancel(&self, err: ContextError) {
        self.cancel_by(err, None);
    }

    /// Like `cancel`, recording the signal that caused it (for the subtree too).
    fn cancel_by(&self, err: ContextError, signal: Option<Signal>) {
        let mut work: Vec<Arc<Node>> = Vec::new();
        self.mark_done(err, signal, &mut work);
        while let Some(node) = work.pop() {
            node.mark_done(err, signal, &mut work);
        }
    }

    /// Records `err` (and `signal`) unless already done; wakes the waiters and pushes the
    /// live children on `work`, with the lock released.
    fn mark_done(&self, err: ContextError, signal: Option<Signal>, work: &mut Vec<Arc<Node>>) {
        let mut state = self.lock();
        if state.err.is_some() {
            return;
        }
        state.err = Some(err);
        state.signal = signal;
        let waiters: Vec<Waker> = state.waiters.drain().collect();
        let children: Vec<Weak<Node>> = state.children.drain().collect();
        drop(state);
        for waker in waiters {
            waker.wake();
        }
        work.extend(children.iter().filter_map(Weak::upgrade));
    }

    /// The error, checking the deadline on the way.
    fn err(&self) -> Option<ContextError> {
        if let Some(err) = self.lock().err {
            return Some(err);
        }
        if self.deadline.is_some_and(|d| crate::time::now() >= d) {
            self.cancel(ContextError::DeadlineExceeded);
            return self.lock().err;
        }
        None
    }
}

impl Drop for Node {
    /// Unlinks the node from its parent. When this node held the last reference to its
    /// parent, the parent goes too, and so on up the chain: that is done in a loop, taking
    /// each parent's own link out before it is dropped, so dropping a deep chain does not
    /// recurse (its depth must not depend on the stack's size).
    fn drop(&mut self) {
        let mut link = self.parent.take();
        while let Some((parent, key)) = link {
            let removed = parent.lock().children.try_remove(key);
            drop(removed);
            // `into_inner` gives the node only to the last holder, without a race.
            link = Arc::into_inner(parent).and_then(|mut node| node.parent.take());
        }
    }
}

impl Context {
    /// The root context: never cancelled, no deadline (Go's `context.Background()`).
    pub fn background() -> Context {
        Context {
            node: None,
            values: None,
        }
    }

    /// A child that carries `value` under `key` (Go's `context.WithValue`), for request-scoped
    /// data that crosses API boundaries: a request id, a trace span, the caller's identity.
    /// It is done exactly when this context is, and has the same deadline.
    ///
    /// The value reaches only code that is handed the context. For a value that deep helpers
    /// read without every layer passing it (a request id for log lines), a
    /// [`task_local!`](macro@crate::task_local) may read better; the
    /// [`task_local`](mod@crate::task_local) module compares the two.
    ///
    /// ```
    /// use goro::sync::{Context, ContextKey};
    ///
    /// static USER: ContextKey<String> = ContextKey::new("user");
    ///
    /// let (ctx, cancel) = Context::background().with_cancel();
    /// let ctx = ctx.with_value(&USER, "alice".to_string());
    /// let (child, _) = ctx.with_cancel(); // values pass down to children
    /// assert_eq!(child.value(&USER).map(String::as_str), Some("alice"));
    /// cancel.cancel(); // and cancellation passes through value contexts
    /// assert!(child.err().is_some());
    /// ```
    pub fn with_value<T: Send + Sync + 'static>(&self, key: &ContextKey<T>, value: T) -> Context {
        Context {
            node: self.node.clone(),
            values: Some(Arc::new(ValueNode {
                key: key.id(),
                value: Box::new(value),
                parent: self.values.clone(),
            })),
        }
    }

    /// The value stored under `key` by the nearest [`with_value`](Context::with_value) on the
    /// way to the root, or `None` (Go's `ctx.Value(key)`).
    ///
    /// ```
    /// use goro::sync::{Context, ContextKey};
    ///
    /// static DEPTH: ContextKey<u32> = ContextKey::new("depth");
    ///
    /// let outer = Context::background().with_value(&DEPTH, 1);
    /// let inner = outer.with_value(&DEPTH, 2); // shadows, for `inner` and its children only
    /// assert_eq!((outer.value(&DEPTH), inner.value(&DEPTH)), (Some(&1), Some(&2)));
    /// assert_eq!(Context::background().value(&DEPTH), None);
    /// ```
    pub fn value<T: Send + Sync + 'static>(&self, key: &ContextKey<T>) -> Option<&T> {
        let id = key.id();
        let mut link = self.values.as_deref();
        while let Some(node) = link {
            if node.key == id {
                return node.value.downcast_ref::<T>();
            }
            link = node.parent.as_deref();
        }
        None
    }

    /// A child that is cancelled when `cancel` is called or when this context is done.
    pub fn with_cancel(&self) -> (Context, CancelFn) {
        self.derive(None)
    }

    /// A child that expires after `timeout` (or earlier with its parent), or when cancelled.
    ///
    /// ```
    /// use std::time::Duration;
    /// use goro::sync::{Context, ContextError};
    ///
    /// goro::block_on(async {
    ///     let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(5));
    ///     ctx.done().await;
    ///     assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    /// });
    /// ```
    pub fn with_timeout(&self, timeout: Duration) -> (Context, CancelFn) {
        let deadline = crate::time::now().checked_add(timeout);
        self.derive(deadline.or_else(|| self.deadline()))
    }

    /// A child that expires at `deadline` (or earlier with its parent), or when cancelled.
    pub fn with_deadline(&self, deadline: Instant) -> (Context, CancelFn) {
        self.derive(Some(deadline))
    }

    fn derive(&self, deadline: Option<Instant>) -> (Context, CancelFn) {
        let deadline = match (deadline, self.deadline()) {
            (Some(mine), Some(parent)) => Some(mine.min(parent)),
            (mine, parent) => mine.or(parent),
        };
        let mut inherited = None;
        let node = match &self.node {
            None => Arc::new(Node {
                deadline,
                parent: None,
                state: Mutex::new(State::default()),
            }),
            Some(parent) => {
                let mut pstate = parent.lock();
                inherited = pstate.err.map(|err| (err, pstate.signal));
                let key = pstate.children.vacant_entry().key();
                let node = Arc::new(Node {
                    deadline,
                    parent: Some((parent.clone(), key)),
                    state: Mutex::new(State::default()),
                });
                if inherited.is_none() {
                    pstate.children.insert(Arc::downgrade(&node));
                }
                node
            }
        };
        if let Some((err, signal)) = inherited {
            node.cancel_by(err, signal); // the parent was already done: so is the child, at birth
        }
        let cancel = CancelFn { node: node.clone() };
        let child = Context {
            node: Some(node),
            values: self.values.clone(),
        };
        (child, cancel)
    }

    /// Why the context is done, or `None` while it is not.
    pub fn err(&self) -> Option<ContextError> {
        self.node.as_ref().and_then(|n| n.err())
    }

    /// A child that is cancelled when one of `signals` arrives (Go's `signal.NotifyContext`),
    /// when `cancel` is called, or when this context is done. Its [`Context::err`] is then
    /// [`ContextError::Canceled`], and [`Context::signal`] says which signal it was.
    ///
    /// A task of the current runtime waits for the signals; it ends, and stops listening,
    /// when the child is done. So call `cancel` once the child is no longer needed (as with
    /// Go's `stop`): until then the listener stays, and the signals' handlers replace their
    /// default action (see [`crate::signal`]).
    ///
    /// ```no_run
    /// use goro::signal::Signal;
    /// use goro::sync::{Context, ContextError};
    ///
    /// goro::block_on(async {
    ///     let (ctx, cancel) = Context::background()
    ///         .with_signals(&[Signal::Interrupt, Signal::Terminate])
    ///         .unwrap();
    ///     ctx.done().await; // until Ctrl-C or SIGTERM
    ///     assert_eq!(ctx.err(), Some(ContextError::Canceled));
    ///     eprintln!("stopping on {}", ctx.signal().unwrap());
    ///     cancel.cancel();
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Signals::new`]: an empty list, or a handler or the signal pipe that cannot be
    /// set up.
    pub fn with_signals(&self, signals: &[Signal]) -> std::io::Result<(Context, CancelFn)> {
        let mut listener = Signals::new(signals)?;
        let (ctx, cancel) = self.with_cancel();
        let watched = ctx.clone();
        crate::spawn(async move {
            let done = async {
                watched.done().await;
                None
            };
            if let Some(signal) = futures_lite::future::or(done, listener.recv()).await {
                if let Some(node) = &watched.node {
                    node.cancel_by(ContextError::Canceled, Some(signal));
                }
            }
        });
        Ok((ctx, cancel))
    }

    /// The signal that cancelled this context (or the ancestor whose cancellation reached
    /// it), if it was cancelled by one: see [`Context::with_signals`]. `None` while the
    /// context is not done, or when something else ended it.
    ///
    /// ```
    /// use goro::sync::Context;
    ///
    /// let (ctx, cancel) = Context::background().with_cancel();
    /// cancel.cancel();
    /// assert_eq!(ctx.signal(), None); // cancelled, but not by a signal
    /// ```
    pub fn signal(&self) -> Option<Signal> {
        self.node.as_ref().and_then(|n| n.lock().signal)
    }

    /// When the context expires, if it has a deadline.
    pub fn deadline(&self) -> Option<Instant> {
        self.node.as_ref().and_then(|n| n.deadline)
    }

    /// Waits until the context is done (Go's `<-ctx.Done()`); usable as a `select!` arm.
    ///
    /// The background context is never done: its `done()` never completes.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: see [`Done`].
    ///
    /// ```
    /// use goro::sync::Context;
    ///
    /// goro::block_on(async {
    ///     let (ctx, cancel) = Context::background().with_cancel();
    ///     cancel.cancel();
    ///     ctx.done().await; // done for good: completes at once
    ///     assert!(ctx.err().is_some());
    /// });
    /// ```
    pub fn done(&self) -> Done<'_> {
        Done {
            ctx: self,
            key: None,
            sleep: None,
        }
    }
}

impl CancelFn {
    /// Cancels the context and its descendants (with [`ContextError::Canceled`]). Calling it
    /// again, or after the deadline, changes nothing.
    pub fn cancel(&self) {
        self.node.cancel(ContextError::Canceled);
    }
}

/// The future of [`Context::done`].
///
/// # Cancel safety
///
/// Cancel safe: being done is a state of the context that never goes back, not an event
/// handed to one waiter; dropping the future only stops waiting, and a `done()` created after
/// the cancellation completes at once.
pub struct Done<'a> {
    /// The context waited on.
    ctx: &'a Context,
    /// This future's slot among the node's waiters.
    key: Option<usize>,
    /// Sleeps until the deadline, if there is one.
    sleep: Option<Sleep>,
}

impl Future for Done<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let Some(node) = self.ctx.node.clone() else {
            return Poll::Pending; // background: never done
        };
        if let Some(deadline) = node.deadline {
            let sleep = self.sleep.get_or_insert_with(|| sleep_until(deadline));
            if Pin::new(sleep).poll(cx).is_ready() {
                node.cancel(ContextError::DeadlineExceeded);
            }
        }
        let mut state = node.lock();
        if state.err.is_some() {
            return Poll::Ready(());
        }
        match self.key {
            Some(key) => match state.waiters.get_mut(key) {
                Some(w) if w.will_wake(cx.waker()) => {}
                Some(w) => *w = cx.waker().clone(),
                None => self.key = Some(state.waiters.insert(cx.waker().clone())),
            },
            None => self.key = Some(state.waiters.insert(cx.waker().clone())),
        }
        Poll::Pending
    }
}

impl Drop for Done<'_> {
    fn drop(&mut self) {
        if let (Some(key), Some(node)) = (self.key, &self.ctx.node) {
            let removed = node.lock().waiters.try_remove(key);
            drop(removed);
        }
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("err", &self.err())
            .field("deadline", &self.deadline())
            .finish()
    }
}

impl fmt::Debug for CancelFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelFn").finish_non_exhaustive()
    }
}

impl fmt::Debug for Done<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Done").field("ctx", self.ctx).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_children_unlink_from_their_parent() {
        let (parent, _cancel) = Context::background().with_cancel();
        let node = parent.node.clone().unwrap();
        let kept: Vec<_> = (0..3).map(|_| parent.with_cancel()).collect();
        for _ in 0..10_000 {
            drop(parent.with_timeout(Duration::from_secs(1)));
        }
        assert_eq!(node.lock().children.len(), 3);
        drop(kept);
        assert_eq!(node.lock().children.len(), 0);
    }

    #[test]
    fn dropped_done_futures_leave_no_waker_behind() {
        let (ctx, _cancel) = Context::background().with_cancel();
        let waker = Waker::noop();
        let mut cx = TaskContext::from_waker(waker);
        for _ in 0..1000 {
            let mut done = ctx.done();
            assert!(Pin::new(&mut done).poll(&mut cx).is_pending());
        }
        assert_eq!(ctx.node.as_ref().unwrap().lock().waiters.len(), 0);
    }
}
