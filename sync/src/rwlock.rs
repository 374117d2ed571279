//! [`RwLock`]: an async reader-writer lock that serves waiters in arrival order.
//!
//! ```
//! let lock = goro::sync::RwLock::new(1);
//! futures_lite::future::block_on(async {
//!     let (a, b) = (lock.read().await, lock.read().await);
//!     assert_eq!(*a + *b, 2);
//! });
//! ```
//!
//! # The protocol
//!
//! The lock's state (how many readers hold it, whether a writer does) and its FIFO queue of
//! waiters live together under one internal std mutex.
//!
//! - **Acquire.** A reader gets in at once if no writer holds the lock *and nobody is queued*;
//!   a writer if the lock is entirely free. Otherwise the future queues, saying whether it
//!   wants to read or write, and returns `Pending`. Readers never overtake a queued writer:
//!   that is what keeps a steady stream of readers from starving a writer (Go's
//!   `sync.RWMutex` blocks new readers behind a pending writer for the same reason).
//! - **Release.** When the last reader or the writer leaves, the queue is served from the
//!   front: a writer is handed the lock if it is free; otherwise every reader up to the next
//!   queued writer is handed a share of it. Handing over means updating the state for the
//!   waiter (`readers += 1` or `writer = true`) and waking it: the lock is its own before it
//!   runs, so no newcomer can slip in between.
//!
//! No wakeup is lost: waiters queue under the internal lock, so a release either happened before
//! (and the waiter got in) or finds it queued. A waiter dropped after being handed the lock
//! releases it at once, which serves the queue again; a queued waiter that is dropped may have
//! been holding back the readers behind it, so its drop serves the queue too.

#![allow(unsafe_code)]

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::waiters::{lock, Key, StdMutex, Waiters};

/// An async reader-writer lock: many readers or one writer at a time.
///
/// Fair: waiters get the lock in the order they asked for it, so neither readers nor writers
/// can starve the other side.
///
/// ```
/// use goro::sync::RwLock;
///
/// futures_lite::future::block_on(async {
///     let config = RwLock::new(String::from("v1"));
///     {
///         let a = config.read().await;
///         let b = config.read().await; // readers share
///         assert_eq!(*a, *b);
///     }
///     config.write().await.push_str("-patched");
///     assert_eq!(*config.read().await, "v1-patched");
/// });
/// ```
pub struct RwLock<T: ?Sized> {
    /// Who holds the lock, and who waits for it.
    synced: StdMutex<Synced>,
    /// The protected value; reached only through the guards.
    value: UnsafeCell<T>,
}

// SAFETY: an `RwLock<T>` owns its `T` and can be sent wherever `T` can.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: readers on several threads share `&T` (needs `T: Sync`); a writer gets `&mut T` on
// whichever thread it runs (needs `T: Send`). The same bounds as `std::sync::RwLock`.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

/// What a waiter asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// A shared read lock.
    Read,
    /// The exclusive write lock.
    Write,
}

/// The lock state, under the internal std mutex.
struct Synced {
    /// How many read guards exist (or have been handed to waiters that have not run yet).
    readers: usize,
    /// Whether a write guard exists (or has been handed to a waiter that has not run yet).
    writer: bool,
    /// The futures waiting, in arrival order; a grant is the access they asked for.
    waiters: Waiters<Access, ()>,
}

impl Synced {
    /// Takes `access` for a newcomer if it may have it now without overtaking the queue.
    fn try_acquire(&mut self, access: Access) -> bool {
        let free = match access {
            Access::Read => !self.writer && self.waiters.is_empty(),
            Access::Write => !self.writer && self.readers == 0 && self.waiters.is_empty(),
        };
        if free {
            self.take(access);
        }
        free
    }

    /// Records `access` as held.
    fn take(&mut self, access: Access) {
        match access {
            Access::Read => self.readers += 1,
            Access::Write => self.writer = true,
        }
    }

    /// Gives back `access`, then serves the queue.
    fn release(&mut self, access: Access) -> Vec<Waker> {
        match access {
            Access::Read => self.readers -= 1,
            Access::Write => self.writer = false,
        }
        self.serve()
    }

    /// Hands the lock to the front of the queue for as long as it can be shared: a writer if
    /// the lock is free, else the readers up to the next writer. Returns the wakers to wake.
    fn serve(&mut self) -> Vec<Waker> {
        let mut wakers = Vec::new();
        while let Some(&access) = self.waiters.front_data() {
            let fits = match access {
                Access::Read => !self.writer,
                Access::Write => !self.writer && self.readers == 0,
            };
            if !fits {
                break;
            }
            self.take(access);
            wakers.extend(self.waiters.grant_front(()));
        }
        wakers
    }
}

impl<T> RwLock<T> {
    /// Creates an unlocked lock holding `value`.
    ///
    /// ```
    /// let lock = goro::sync::RwLock::new(1);
    /// assert_eq!(*lock.try_read().unwrap(), 1);
    /// ```
    pub fn new(value: T) -> RwLock<T> {
        RwLock {
            synced: StdMutex::new(Synced {
                readers: 0,
                writer: false,
                waiters: Waiters::new(),
            }),
            value: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock, returning its value.
    ///
    /// ```
    /// assert_eq!(goro::sync::RwLock::new(7).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Locks for reading, waiting while a writer holds the lock or is queued.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the [`Read`] future gives up its place in the queue (a new
    /// `read()` starts at the back), and if a share of the lock had already been handed to it,
    /// releases that share again, which lets a queued writer in once no reader is left.
    ///
    /// ```
    /// futures_lite::future::block_on(async {
    ///     let lock = goro::sync::RwLock::new(vec![1, 2]);
    ///     assert_eq!(lock.read().await.len(), 2);
    /// });
    /// ```
    pub fn read(&self) -> Read<'_, T> {
        Read {
            waiter: Waiter::new(self, Access::Read),
        }
    }

    /// Locks for writing, waiting until no reader or writer holds the lock and every waiter
    /// queued before has had its turn.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the [`Write`] future gives up its place in the queue (letting the
    /// readers it held back in at once), and if the lock had already been handed to it,
    /// releases it, serving the queue as an unlock does.
    ///
    /// ```
    /// futures_lite::future::block_on(async {
    ///     let lock = goro::sync::RwLock::new(0);
    ///     *lock.write().await += 5;
    ///     assert_eq!(*lock.read().await, 5);
    /// });
    /// ```
    pub fn write(&self) -> Write<'_, T> {
        Write {
            waiter: Waiter::new(self, Access::Write),
        }
    }

    /// Locks for reading if that is possible right now without overtaking a queued writer.
    ///
    /// ```
    /// let lock = goro::sync::RwLock::new(0);
    /// let r = lock.try_read().unwrap();
    /// assert!(lock.try_read().is_some());
    /// assert!(lock.try_write().is_none());
    /// drop(r);
    /// ```
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        // The internal lock is released before a guard exists: a guard's drop takes it.
        let acquired = lock(&self.synced).try_acquire(Access::Read);
        acquired.then(|| RwLockReadGuard { lock: self })
    }

    /// Locks for writing if the lock is free right now.
    ///
    /// ```
    /// let lock = goro::sync::RwLock::new(0);
    /// let w = lock.try_write().unwrap();
    /// assert!(lock.try_read().is_none());
    /// drop(w);
    /// assert!(lock.try_read().is_some());
    /// ```
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        let acquired = lock(&self.synced).try_acquire(Access::Write);
        acquired.then(|| RwLockWriteGuard { lock: self })
    }

    /// A mutable reference to the value; no lock needed, since `&mut self` proves exclusivity.
    ///
    /// ```
    /// let mut lock = goro::sync::RwLock::new(1);
    /// *lock.get_mut() = 2;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// Gives back `access` held by a guard being dropped.
    fn release(&self, access: Access) {
        let wakers = lock(&self.synced).release(access);
        crate::waiters::wake_all(wakers);
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: ?Sized> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let synced = lock(&self.synced);
        f.debug_struct("RwLock")
            .field("readers", &synced.readers)
            .field("writer", &synced.writer)
            .field("waiters", &synced.waiters.len())
            .finish_non_exhaustive()
    }
}

/// The part of [`Read`] and [`Write`] that waits for the lock.
struct Waiter<'a, T: ?Sized> {
    /// The lock being acquired.
    lock: &'a RwLock<T>,
    /// Read or write.
    access: Access,
    /// This future's entry in the queue, once it had to wait.
    key: Option<Key>,
}

impl<'a, T: ?Sized> Waiter<'a, T> {
    fn new(lock: &'a RwLock<T>, access: Access) -> Self {
        Waiter {
            lock,
            access,
            key: None,
        }
    }

    /// Ready once `access` is held.
    fn poll_acquire(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(key) = self.key else {
            futures_lite::ready!(crate::coop::poll_proceed(cx));
            let mut synced = lock(&self.lock.synced);
            if synced.try_acquire(self.access) {
                return Poll::Ready(());
            }
            self.key = Some(synced.waiters.push_back(self.access, cx.waker()));
            return Poll::Pending;
        };
        let mut synced = lock(&self.lock.synced);
        if synced.waiters.take_grant(key).is_some() {
            drop(synced);
            self.key = None;
            return Poll::Ready(());
        }
        synced.waiters.register(key, cx.waker());
        Poll::Pending
    }
}

impl<T: ?Sized> Drop for Waiter<'_, T> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let mut synced = lock(&self.lock.synced);
        let wakers = match synced.waiters.remove(key) {
            // Handed the lock already: give it back.
            Some(()) => synced.release(self.access),
            // Still queued: the waiters behind us may be able to go now.
            None => synced.serve(),
        };
        drop(synced);
        crate::waiters::wake_all(wakers);
    }
}

/// The future returned by [`RwLock::read`].
///
/// ```
/// let lock = goro::sync::RwLock::new(3);
/// let fut: goro::sync::rwlock::Read<'_, i32> = lock.read();
/// assert_eq!(*futures_lite::future::block_on(fut), 3);
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Read<'a, T: ?Sized> {
    /// The wait for a read lock.
    waiter: Waiter<'a, T>,
}

impl<'a, T: ?Sized> Future for Read<'a, T> {
    type Output = RwLockReadGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<RwLockReadGuard<'a, T>> {
        futures_lite::ready!(self.waiter.poll_acquire(cx));
        Poll::Ready(RwLockReadGuard {
            lock: self.waiter.lock,
        })
    }
}

impl<T: ?Sized> fmt::Debug for Read<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Read")
            .field("waiting", &self.waiter.key.is_some())
            .finish_non_exhaustive()
    }
}

/// The future returned by [`RwLock::write`].
///
/// ```
/// let lock = goro::sync::RwLock::new(3);
/// let fut: goro::sync::rwlock::Write<'_, i32> = lock.write();
/// *futures_lite::future::block_on(fut) = 4;
/// assert_eq!(lock.into_inner(), 4);
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Write<'a, T: ?Sized> {
    /// The wait for the write lock.
    waiter: Waiter<'a, T>,
}

impl<'a, T: ?Sized> Future for Write<'a, T> {
    type Output = RwLockWriteGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<RwLockWriteGuard<'a, T>> {
        futures_lite::ready!(self.waiter.poll_acquire(cx));
        Poll::Ready(RwLockWriteGuard {
            lock: self.waiter.lock,
        })
    }
}

impl<T: ?Sized> fmt::Debug for Write<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Write")
            .field("waiting", &self.waiter.key.is_some())
            .finish_non_exhaustive()
    }
}

/// Shared read access to the value of an [`RwLock`]; dropping it releases the read lock.
///
/// ```
/// let lock = goro::sync::RwLock::new(String::from("x"));
/// let guard: goro::sync::RwLockReadGuard<'_, String> = lock.try_read().unwrap();
/// assert_eq!(guard.len(), 1);
/// ```
#[must_use = "the read lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    /// The lock this guard holds one of the read shares of.
    lock: &'a RwLock<T>,
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: while a read guard exists `readers > 0`, so no writer is let in and no
        // `&mut T` exists; read guards only hand out `&T`.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.release(Access::Read);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive access to the value of an [`RwLock`]; dropping it releases the write lock.
///
/// ```
/// let lock = goro::sync::RwLock::new(1);
/// let mut guard: goro::sync::RwLockWriteGuard<'_, i32> = lock.try_write().unwrap();
/// *guard += 1;
/// drop(guard);
/// assert_eq!(lock.into_inner(), 2);
/// ```
#[must_use = "the write lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    /// The lock this guard holds exclusively.
    lock: &'a RwLock<T>,
}

// SAFETY: a write guard shared between threads gives out `&T` only: `T: Sync` makes that safe.
unsafe impl<T: ?Sized + Sync> Sync for RwLockWriteGuard<'_, T> {}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: while the write guard exists `writer` is set and `readers == 0`: this guard
        // is the only access to the value.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only reference from the guard.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.release(Access::Write);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
