//! Task-local values: a value set for one future, read anywhere below it without passing it.
//!
//! [`task_local!`](macro@crate::task_local) declares a key; [`LocalKey::scope`] runs a future
//! with a value for it, and any code that future runs, however deep, reads the value with
//! [`LocalKey::with`] or [`LocalKey::get`]:
//!
//! ```
//! goro::task_local! {
//!     /// The id of the request being served, for the log lines.
//!     static REQUEST_ID: u64;
//! }
//!
//! fn log(msg: &str) -> String {
//!     // Deep in a call chain that knows nothing about requests.
//!     format!("[req {}] {msg}", REQUEST_ID.get())
//! }
//!
//! async fn handle() -> String {
//!     goro::yield_now().await;
//!     log("handled")
//! }
//!
//! goro::block_on(async {
//!     let line = REQUEST_ID.scope(7, handle()).await;
//!     assert_eq!(line, "[req 7] handled");
//! });
//! ```
//!
//! # `Context::with_value` or `task_local!`
//!
//! Both carry request-scoped values; they differ in how the value travels.
//!
//! - A [`Context`](crate::context::Context) is **explicit**: a function sees a value only if it
//!   was handed the context, as in Go. It crosses [`spawn`](crate::spawn) when you move it
//!   into the new task, it carries cancellation and deadlines too, and a reader can see in a
//!   signature that it depends on it. Use it for anything that changes what the code does
//!   (deadlines, cancellation, a tenant, credentials) and for values other tasks must see.
//! - A task-local is **implicit**: it belongs to one future, and is in scope only while that
//!   future is being polled. Nothing in the signatures between the `scope` and the read
//!   mentions it, which reads better for values a deep helper needs but the layers between
//!   do not care about: a request id a logging call prints, a trace span, a metrics label.
//!
//! Go has no goroutine-local storage, on purpose; [`Context`](crate::context::Context) is the
//! Go way, and the default. Reach for a task-local where threading a context through every
//! call would only be noise.
//!
//! # Tasks do not inherit
//!
//! A task spawned from inside a scope does **not** see the value: it is a future of its own,
//! polled outside the scope. Give it the value explicitly, with a scope of its own
//! (`goro::spawn(KEY.scope(KEY.get(), work()))`), or pass a `Context`.
//!
//! # Implementation
//!
//! Each key is a thread-local slot, `RefCell<Option<T>>`. A [`TaskLocalFuture`] holds the
//! value between polls; around each poll of its inner future it swaps its value into the
//! slot and, when the poll returns or unwinds, swaps it back out (a guard does the second
//! swap, so a panic restores it too). The value therefore lives in the thread's slot only
//! while the future runs on that thread: it follows the future from worker to worker, and a
//! task polled next on the same thread finds whatever was there before, the slot's empty
//! state on a worker. Because the swap exchanges rather than overwrites, a nested scope of
//! the same key parks the outer value inside itself for its poll and hands it back after.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

/// Declares one or more task-local keys: `static NAME: goro::LocalKey<T>`.
///
/// The syntax is that of std's `thread_local!` without an initialiser: a task-local has no
/// value until a [`scope`](LocalKey::scope) gives it one. Attributes (doc comments too) and
/// visibility are kept.
///
/// ```
/// goro::task_local! {
///     /// Who the current request is for.
///     pub static USER: String;
///     static ATTEMPT: u32;
/// }
///
/// goro::block_on(async {
///     let greeting = USER
///         .scope("ada".to_string(), ATTEMPT.scope(1, async {
///             format!("{} (attempt {})", USER.with(|u| u.clone()), ATTEMPT.get())
///         }))
///         .await;
///     assert_eq!(greeting, "ada (attempt 1)");
/// });
/// ```
///
/// See the [module docs](mod@crate::task_local) for when to use it rather than
/// `Context::with_value`.
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident : $t:ty; $($rest:tt)*) => {
        $crate::__task_local_key!($(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident : $t:ty) => {
        $crate::__task_local_key!($(#[$attr])* $vis $name, $t);
    };
}

/// Declares one key of [`task_local!`]: a `LocalKey` around a thread-local slot of its own.
#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_key {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::LocalKey<$t> = {
            ::std::thread_local! {
                static __GORO_TASK_LOCAL_SLOT: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::LocalKey::__new(__GORO_TASK_LOCAL_SLOT, ::std::stringify!($name))
        };
    };
}

/// A key to a task-local value, declared with [`task_local!`](macro@crate::task_local).
///
/// The value is set by [`scope`](LocalKey::scope) for a future (or
/// [`sync_scope`](LocalKey::sync_scope) for a closure) and read inside it with
/// [`with`](LocalKey::with), [`try_with`](LocalKey::try_with) or [`get`](LocalKey::get).
///
/// ```
/// goro::task_local! {
///     static TRACE: &'static str;
/// }
///
/// goro::block_on(async {
///     assert!(TRACE.try_with(|_| ()).is_err()); // no scope yet
///     TRACE.scope("checkout", async {
///         assert_eq!(TRACE.get(), "checkout");
///     })
///     .await;
/// });
/// ```
pub struct LocalKey<T: 'static> {
    /// This key's slot on each thread: the value of the scope running on that thread, if any.
    slot: std::thread::LocalKey<RefCell<Option<T>>>,
    /// The key's name in the program, for panics, errors and `Debug`.
    name: &'static str,
}

impl<T: 'static> LocalKey<T> {
    /// Used by [`task_local!`](macro@crate::task_local); not part of the API.
    #[doc(hidden)]
    pub const fn __new(
        slot: std::thread::LocalKey<RefCell<Option<T>>>,
        name: &'static str,
    ) -> Self {
        LocalKey { slot, name }
    }

    /// Runs `future` with this key set to `value`: every poll of the returned future sees it.
    ///
    /// The value moves with the future from worker to worker, and is never seen by another
    /// task, including tasks spawned inside the scope. An enclosing scope of the same key is
    /// hidden inside and visible again after. The value is dropped with the returned future;
    /// [`TaskLocalFuture::take_value`] takes it back instead.
    ///
    /// ```
    /// goro::task_local! {
    ///     static DEPTH: u32;
    /// }
    ///
    /// goro::block_on(DEPTH.scope(1, async {
    ///     let inner = DEPTH.scope(2, async { DEPTH.get() }).await;
    ///     assert_eq!(inner, 2);
    ///     assert_eq!(DEPTH.get(), 1); // the outer value is back
    /// }));
    /// ```
    ///
    /// # Panics
    ///
    /// Polling the returned future panics if it happens inside a [`with`](LocalKey::with)
    /// of the same key (the value is borrowed there and cannot be swapped).
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            key: self,
            value: Some(value),
            future: Some(future),
        }
    }

    /// Runs `f` with this key set to `value`, and returns what `f` returns.
    ///
    /// For synchronous code, and for setting a value around `block_on` on a thread of your
    /// own. The enclosing value, if any, is back when `f` returns or panics.
    ///
    /// ```
    /// goro::task_local! {
    ///     static USER: &'static str;
    /// }
    ///
    /// let shout = USER.sync_scope("ada", || USER.with(|u| u.to_uppercase()));
    /// assert_eq!(shout, "ADA");
    /// ```
    ///
    /// # Panics
    ///
    /// If called inside a [`with`](LocalKey::with) of the same key, and if `f` panics.
    #[track_caller]
    pub fn sync_scope<R>(&'static self, value: T, f: impl FnOnce() -> R) -> R {
        let mut value = Some(value);
        match self.enter(&mut value, f) {
            Ok(out) => out,
            Err(err) => err.panic(self.name),
        }
    }

    /// Calls `f` with a reference to the value of the enclosing scope.
    ///
    /// ```
    /// goro::task_local! {
    ///     static PATH: String;
    /// }
    ///
    /// goro::block_on(PATH.scope("/users/7".to_string(), async {
    ///     let len = PATH.with(|p| p.len());
    ///     assert_eq!(len, 8);
    /// }));
    /// ```
    ///
    /// # Panics
    ///
    /// Outside any scope of this key, with a message naming the key; use
    /// [`try_with`](LocalKey::try_with) where that can happen.
    #[track_caller]
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        match self.try_with(f) {
            Ok(out) => out,
            Err(err) => panic!("goro: {err}"),
        }
    }

    /// Calls `f` with a reference to the value of the enclosing scope, if there is one.
    ///
    /// ```
    /// goro::task_local! {
    ///     static REQUEST_ID: u64;
    /// }
    ///
    /// fn request_id() -> Option<u64> {
    ///     REQUEST_ID.try_with(|id| *id).ok()
    /// }
    ///
    /// assert_eq!(request_id(), None);
    /// assert_eq!(REQUEST_ID.sync_scope(9, request_id), Some(9));
    /// ```
    ///
    /// # Errors
    ///
    /// [`AccessError`] outside any scope of this key (also while the thread is exiting and
    /// its thread-locals are gone).
    pub fn try_with<R>(&'static self, f: impl FnOnce(&T) -> R) -> Result<R, AccessError> {
        let not_set = AccessError { name: self.name };
        self.slot
            .try_with(|slot| {
                // Only a swap borrows the slot mutably, and no user code runs during one.
                let value = slot.try_borrow().map_err(|_| not_set)?;
                value.as_ref().map(f).ok_or(not_set)
            })
            .unwrap_or(Err(not_set))
    }

    /// A clone of the value of the enclosing scope.
    ///
    /// ```
    /// goro::task_local! {
    ///     static TENANT: String;
    /// }
    ///
    /// goro::block_on(TENANT.scope("acme".to_string(), async {
    ///     assert_eq!(TENANT.get(), "acme");
    /// }));
    /// ```
    ///
    /// # Panics
    ///
    /// Outside any scope of this key, as [`with`](LocalKey::with).
    #[track_caller]
    pub fn get(&'static self) -> T
    where
        T: Clone,
    {
        self.with(T::clone)
    }

    /// Swaps `value` into this thread's slot, runs `f`, and swaps it back out, also if `f`
    /// panics. `value` holds the enclosing value (if any) while `f` runs.
    fn enter<R>(
        &'static self,
        value: &mut Option<T>,
        f: impl FnOnce() -> R,
    ) -> Result<R, ScopeError> {
        self.swap(value)?;
        let guard = SwapBack { key: self, value };
        let out = f();
        drop(guard);
        Ok(out)
    }

    /// Exchanges `value` with the content of this thread's slot.
    fn swap(&'static self, value: &mut Option<T>) -> Result<(), ScopeError> {
        self.slot
            .try_with(|slot| {
                let mut slot = slot.try_borrow_mut().map_err(|_| ScopeError::Borrowed)?;
                mem::swap(&mut *slot, value);
                Ok(())
            })
            .unwrap_or(Err(ScopeError::ThreadExiting))
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LocalKey").field(&self.name).finish()
    }
}

/// Puts the scope's value back into its holder, and the enclosing value into the slot, when
/// the scope's body returns or unwinds.
struct SwapBack<'a, T: 'static> {
    /// The key whose slot was entered.
    key: &'static LocalKey<T>,
    /// The scope's holder, which has the enclosing value while the body runs.
    value: &'a mut Option<T>,
}

impl<T: 'static> Drop for SwapBack<'_, T> {
    fn drop(&mut self) {
        // Cannot fail: the slot was reachable when the scope was entered, scopes nest, and a
        // `with` that started inside the body has ended before the body did. Never panic
        // here: this may run during an unwind.
        let _ = self.key.swap(self.value);
    }
}

/// Why a scope could not be entered.
#[derive(Debug, Clone, Copy)]
enum ScopeError {
    /// Inside a `with` of the same key.
    Borrowed,
    /// The thread's thread-locals have been destroyed.
    ThreadExiting,
}

impl ScopeError {
    /// Panics with a message saying why a scope of `name` could not be entered.
    #[track_caller]
    fn panic(self, name: &str) -> ! {
        match self {
            ScopeError::Borrowed => panic!(
                "goro: cannot enter a scope of task-local `{name}` inside `{name}.with(..)`: \
                 the value is borrowed there; end the `with` first, or clone the value out"
            ),
            ScopeError::ThreadExiting => panic!(
                "goro: cannot enter a scope of task-local `{name}`: this thread is exiting and \
                 its thread-locals are gone"
            ),
        }
    }
}

/// A task-local read outside any scope of its key: the error of [`LocalKey::try_with`].
///
/// ```
/// goro::task_local! {
///     static REQUEST_ID: u64;
/// }
///
/// let err = REQUEST_ID.try_with(|id| *id).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "task-local `REQUEST_ID` is not set: read it inside `REQUEST_ID.scope(..)` or `sync_scope`",
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessError {
    /// The key's name.
    name: &'static str,
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name;
        write!(
            f,
            "task-local `{name}` is not set: read it inside `{name}.scope(..)` or `sync_scope`"
        )
    }
}

impl std::error::Error for AccessError {}

pin_project! {
    /// A future run with a task-local value: the future of [`LocalKey::scope`].
    ///
    /// Its output is the inner future's. Dropping it before it completes drops the inner
    /// future *with the value in scope*, so a `Drop` impl inside it may still read the key;
    /// the value itself is dropped afterwards. Only where a scope cannot be entered (inside a
    /// [`LocalKey::with`] of the same key, or while the thread is exiting) is the inner future
    /// dropped without it, since a drop must not panic. The inner future is dropped, in scope,
    /// as soon as it completes.
    ///
    /// ```
    /// goro::task_local! {
    ///     static ID: u32;
    /// }
    ///
    /// goro::block_on(async {
    ///     let fut = ID.scope(3, async { ID.get() * 2 });
    ///     assert!(format!("{fut:?}").contains("ID"));
    ///     assert_eq!(fut.await, 6);
    /// });
    /// ```
    ///
    /// # Cancel safety
    ///
    /// As cancel safe as the inner future: dropping it only drops that and the value.
    ///
    /// # Panics
    ///
    /// A poll after it completed panics. A poll inside a [`LocalKey::with`] of the same key
    /// panics.
    pub struct TaskLocalFuture<T: 'static, F> {
        // (pin-project-lite takes no attributes on fields, so no `///` here.)
        // The key the value is for.
        key: &'static LocalKey<T>,
        // The value between polls; during a poll, the enclosing value (if any) in its place.
        value: Option<T>,
        // The inner future; `None` once it completed or was dropped, so that it is dropped
        // in scope, never by the fields' own drop.
        #[pin]
        future: Option<F>,
    }

    impl<T: 'static, F> PinnedDrop for TaskLocalFuture<T, F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            let mut future = this.future;
            if future.is_some() {
                let key = *this.key;
                // Dropped with the value in scope; if the slot cannot be entered (inside a
                // `with` of the key, or the thread is exiting), dropped without: a drop must
                // not panic.
                if key.enter(this.value, || future.set(None)).is_err() {
                    future.set(None);
                }
            }
        }
    }
}

impl<T: 'static, F> TaskLocalFuture<T, F> {
    /// Takes the value out, leaving the key unset for any later poll of the inner future.
    ///
    /// `None` if it was already taken. Useful to get a value back from a scope cut short.
    ///
    /// ```
    /// use std::pin::pin;
    ///
    /// goro::task_local! {
    ///     static BUF: Vec<u8>;
    /// }
    ///
    /// let mut fut = pin!(BUF.scope(vec![1, 2, 3], std::future::pending::<()>()));
    /// assert_eq!(fut.as_mut().take_value(), Some(vec![1, 2, 3]));
    /// assert_eq!(fut.as_mut().take_value(), None);
    /// ```
    pub fn take_value(self: Pin<&mut Self>) -> Option<T> {
        self.project().value.take()
    }
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let key = *this.key;
        let mut future = this.future;
        let polled = key.enter(this.value, || {
            let inner = future
                .as_mut()
                .as_pin_mut()
                .expect("goro: a TaskLocalFuture was polled after it completed");
            let polled = inner.poll(cx);
            if polled.is_ready() {
                future.set(None); // drop it now, with the value still in scope
            }
            polled
        });
        match polled {
            Ok(polled) => polled,
            Err(err) => err.panic(key.name),
        }
    }
}

impl<T: 'static, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture")
            .field("key", &self.key.name)
            .field("has_value", &self.value.is_some())
            .field("done", &self.future.is_none())
            .finish()
    }
}
