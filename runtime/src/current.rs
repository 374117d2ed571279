//! Which runtime the current thread is in, and the lazily started global runtime.
//!
//! Workers, blocking threads and threads inside `Runtime::block_on` have a current runtime;
//! the free functions (`spawn`, `sleep`, ...) use it. Every other thread uses the global
//! runtime, built on first use with the default [`Builder`](crate::Builder) settings.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use crate::runtime::{Handle, Runtime};

thread_local! {
    /// The runtime entered on this thread, if any.
    static CURRENT: RefCell<Option<Arc<Handle>>> = const { RefCell::new(None) };
}

/// The runtime that free functions use when no runtime is entered.
static GLOBAL: OnceLock<Runtime> = OnceLock::new();

/// The global runtime, started on first use.
///
/// # Panics
///
/// If the runtime cannot start (no threads or no poller could be created), with the OS error.
pub(crate) fn global() -> &'static Runtime {
    GLOBAL.get_or_init(|| {
        crate::Builder::new()
            .build()
            .unwrap_or_else(|e| panic!("goro: failed to start the global runtime: {e}"))
    })
}

/// The current runtime: the entered one, else the global one.
pub(crate) fn handle() -> Arc<Handle> {
    let entered = CURRENT.try_with(|c| c.borrow().clone()).ok().flatten();
    entered.unwrap_or_else(|| global().handle().clone())
}

/// Runs `f` with the current runtime, without touching its reference count.
///
/// `f` runs while this thread's runtime slot is borrowed: it must not run user code that
/// could enter a runtime (spawning is fine: it never drops a user future inside).
pub(crate) fn with_handle<R>(f: impl FnOnce(&Arc<Handle>) -> R) -> R {
    let mut f = Some(f);
    let entered = CURRENT.try_with(|c| c.borrow().as_ref().map(|h| (f.take().unwrap())(h)));
    match (entered, f) {
        (Ok(Some(out)), _) => out,
        (_, Some(f)) => f(global().handle()),
        (_, None) => unreachable!("with_handle: the closure ran but returned nothing"),
    }
}

/// Runs `f` with the entered runtime, if this thread has entered one (a worker, a blocking
/// thread, a thread inside `block_on`); never starts the global runtime.
pub(crate) fn with_entered<R>(f: impl FnOnce(&Arc<Handle>) -> R) -> Option<R> {
    CURRENT
        .try_with(|c| c.borrow().as_ref().map(f))
        .ok()
        .flatten()
}

/// Restores the previously entered runtime when dropped (also on unwind).
#[derive(Debug)]
pub(crate) struct EnterGuard {
    /// The runtime that was current before `enter`.
    prev: Option<Arc<Handle>>,
}

/// Makes `handle` the current runtime of this thread until the guard is dropped.
pub(crate) fn enter(handle: Arc<Handle>) -> EnterGuard {
    let prev = CURRENT.with(|c| c.borrow_mut().replace(handle));
    EnterGuard { prev }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = prev);
    }
}
