//! The waiter list every primitive of this crate parks its futures in.
//!
//! Each primitive keeps its state and a [`Waiters`] list together under one internal std mutex.
//! A future that cannot complete pushes an entry (its waker and whatever the primitive needs to
//! know about it) and keeps the [`Key`] of that entry. The list is FIFO: the entry pushed first
//! is the [`front`](Waiters::front).
//!
//! # The protocol
//!
//! 1. **Wait.** Under the lock, a future checks the primitive's state; if it cannot proceed it
//!    pushes its entry, still under the lock, and returns `Pending`. Anyone who changes the state
//!    takes the same lock, so either the future saw the change, or its entry was in the list
//!    when the change was made: no wakeup can fall in between.
//! 2. **Grant.** Whoever makes progress possible (an unlock, a released permit, a notification)
//!    *grants* it to an entry: under the lock, the entry leaves the queue and records the grant
//!    (the lock itself, a permit, a notification). The primitive's state already accounts for
//!    the grant, so nobody else can take what was granted. The entry's waker is returned and
//!    woken after the lock is released, so a waker never runs under our lock.
//! 3. **Take.** When the granted future is polled it takes the grant (freeing its entry) and
//!    completes. Its waker may fire spuriously; a future that finds no grant re-registers its
//!    current waker and stays queued.
//! 4. **Cancel.** A future dropped while it has an entry removes it. If the entry had already
//!    been granted, the grant would be lost with it: [`Waiters::remove`] returns the grant, and
//!    the primitive passes it on (unlocks, releases the permit, re-notifies) exactly as if the
//!    future had completed and then let go. This is the bug event-listener and async-lock
//!    shipped; it cannot happen here because a grant always has an owner: the entry, until the
//!    future takes it or hands it back.
//!
//! A key is only ever freed by the future that holds it, so keys need no generation: an index
//! cannot be reused while its future still refers to it.

use std::fmt;
use std::sync::PoisonError;
#[cfg(not(all(test, goro_loom)))]
use std::sync::TryLockError;
use std::task::Waker;

// Under `--cfg goro_loom` this crate's own unit tests swap in loom's mutex and `Arc`, so that
// loom explores every interleaving of the primitives' critical sections. Only under `test`:
// loom is a dev-dependency, and the copy of this crate that goro-runtime links stays on std.
#[cfg(all(test, goro_loom))]
pub(crate) use loom::sync::{Arc, Mutex as StdMutex, MutexGuard as StdMutexGuard};
#[cfg(not(all(test, goro_loom)))]
pub(crate) use std::sync::{Arc, Mutex as StdMutex, MutexGuard as StdMutexGuard};

/// Locks one of the crate's internal mutexes (a channel's state, a primitive's waiter list),
/// treating a poisoned one as usable.
///
/// Nothing this crate does under its locks can leave the state half-updated when user code
/// panics: wakers are woken and user futures polled only after the lock is released. A poisoned
/// lock therefore means another thread panicked for unrelated reasons, and the state is sound.
///
/// On a machine with more than one CPU, a thread that finds the lock taken backs off before
/// it asks again: it pauses for [`BACKOFF`] pause instructions, retries, pauses twice as
/// long, retries, and only then waits in std's lock, which spins by reading the lock word and
/// takes it the moment it is released. Taking it at once makes the lock, and the state it guards, change cores on
/// every operation when tasks on two workers share a channel; backing off leaves the holder's
/// core a few hundred nanoseconds to take it again for its next operation while the cache
/// line is still its own (Go's runtime lock backs off the same way, with its `procyield`
/// rounds). Four senders and four receivers on two workers moved 4–6 M values/s before,
/// about 18 M after (`mpmc` in BENCHMARKS.md). An uncontended lock costs the same single
/// compare-and-swap as before, and a lock held longer than the backoff ends in std's lock,
/// which sleeps in the kernel.
#[inline]
pub(crate) fn lock<S>(mutex: &StdMutex<S>) -> StdMutexGuard<'_, S> {
    // Loom explores every interleaving of each retry: its models take the lock directly.
    #[cfg(not(all(test, goro_loom)))]
    match mutex.try_lock() {
        Ok(guard) => guard,
        Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        Err(TryLockError::WouldBlock) => lock_contended(mutex),
    }
    #[cfg(all(test, goro_loom))]
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// [`lock`] after its first try found the mutex taken: the backoff, then std's lock. Out of
/// line, so that the uncontended lock stays one inlined compare-and-swap.
#[cfg(not(all(test, goro_loom)))]
#[cold]
#[inline(never)]
fn lock_contended<S>(mutex: &StdMutex<S>) -> StdMutexGuard<'_, S> {
    // On one CPU the holder is not running while we pause: go straight to std's lock.
    let rounds = if multi_cpu() { 2 } else { 0 };
    for pauses in [BACKOFF, 2 * BACKOFF].into_iter().take(rounds) {
        for _ in 0..pauses {
            std::hint::spin_loop();
        }
        match mutex.try_lock() {
            Ok(guard) => return guard,
            Err(TryLockError::Poisoned(poisoned)) => return poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => {}
        }
    }
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether this machine has more than one CPU (read once): pausing or spinning for a lock
/// only helps when its holder can run at the same time.
pub(crate) fn multi_cpu() -> bool {
    static MULTI: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *MULTI.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1))
}

/// Pause instructions [`lock`] waits after finding its mutex taken, before its first retry.
#[cfg(not(all(test, goro_loom)))]
const BACKOFF: u32 = 32;

/// Wakes every waker in `wakers`; called once the lock that collected them is released.
pub(crate) fn wake_all(wakers: Vec<Waker>) {
    wakers.into_iter().for_each(Waker::wake);
}

/// The handle a waiting future keeps to its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key(usize);

/// One slot of the list's storage.
enum Entry<D, G> {
    /// Free, its index on the free list.
    Vacant,
    /// Waiting in the queue.
    Queued {
        /// What the primitive needs to know about this waiter (a read or write request, the
        /// time it started waiting).
        data: D,
        /// The waker of the task that last polled the future.
        waker: Waker,
        /// The entry queued just before this one, towards the front.
        prev: Option<usize>,
        /// The entry queued just after this one, towards the back.
        next: Option<usize>,
    },
    /// Out of the queue, holding what it was granted until its future takes it.
    Granted(G),
}

/// A FIFO queue of waiting futures, with O(1) push, grant and removal by key.
///
/// `D` is the per-waiter data, `G` what a waiter can be granted.
pub(crate) struct Waiters<D, G> {
    /// The entries, indexed by key.
    entries: Vec<Entry<D, G>>,
    /// Indices of vacant entries, reused before the vector grows.
    free: Vec<usize>,
    /// The oldest queued entry.
    head: Option<usize>,
    /// The newest queued entry.
    tail: Option<usize>,
    /// How many entries are queued (not counting granted ones).
    queued: usize,
}

impl<D, G> Waiters<D, G> {
    /// An empty list.
    pub(crate) fn new() -> Self {
        Waiters {
            entries: Vec::new(),
            free: Vec::new(),
            head: None,
            tail: None,
            queued: 0,
        }
    }

    /// Whether no entry is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.queued == 0
    }

    /// How many entries are queued.
    pub(crate) fn len(&self) -> usize {
        self.queued
    }

    /// The oldest queued entry.
    pub(crate) fn front(&self) -> Option<Key> {
        self.head.map(Key)
    }

    /// The data of the oldest queued entry.
    pub(crate) fn front_data(&self) -> Option<&D> {
        self.data(self.front()?)
    }

    /// The data of a queued entry; `None` once it has been granted.
    pub(crate) fn data(&self, key: Key) -> Option<&D> {
        match self.entries.get(key.0) {
            Some(Entry::Queued { data, .. }) => Some(data),
            _ => None,
        }
    }

    /// The data of a queued entry, mutably; `None` once it has been granted.
    pub(crate) fn data_mut(&mut self, key: Key) -> Option<&mut D> {
        match self.entries.get_mut(key.0) {
            Some(Entry::Queued { data, .. }) => Some(data),
            _ => None,
        }
    }

    /// Queues a new entry at the back.
    pub(crate) fn push_back(&mut self, data: D, waker: &Waker) -> Key {
        let entry = Entry::Queued {
            data,
            waker: waker.clone(),
            prev: self.tail,
            next: None,
        };
        let index = match self.free.pop() {
            Some(index) => {
                self.entries[index] = entry;
                index
            }
            None => {
                self.entries.push(entry);
                self.entries.len() - 1
            }
        };
        match self.tail {
            Some(tail) => self.set_next(tail, Some(index)),
            None => self.head = Some(index),
        }
        self.tail = Some(index);
        self.queued += 1;
        Key(index)
    }

    /// Stores the waker to wake for a queued entry (cloning only if it changed).
    pub(crate) fn register(&mut self, key: Key, new: &Waker) {
        if let Some(Entry::Queued { waker, .. }) = self.entries.get_mut(key.0) {
            if !waker.will_wake(new) {
                *waker = new.clone();
            }
        }
    }

    /// A clone of a queued entry's waker, for waking it without granting anything.
    pub(crate) fn waker(&self, key: Key) -> Option<Waker> {
        match self.entries.get(key.0) {
            Some(Entry::Queued { waker, .. }) => Some(waker.clone()),
            _ => None,
        }
    }

    /// Takes a queued entry out of the queue and records `grant` in it. Returns the waker to
    /// wake once the lock is released; `None` if the entry was not queued.
    pub(crate) fn grant(&mut self, key: Key, grant: G) -> Option<Waker> {
        let Entry::Queued { .. } = self.entries.get(key.0)? else {
            return None;
        };
        self.unlink(key.0);
        match std::mem::replace(&mut self.entries[key.0], Entry::Granted(grant)) {
            Entry::Queued { waker, .. } => Some(waker),
            _ => None,
        }
    }

    /// Grants `grant` to the oldest queued entry; `None` if the queue is empty.
    pub(crate) fn grant_front(&mut self, grant: G) -> Option<Waker> {
        self.grant(self.front()?, grant)
    }

    /// Grants a clone of `grant` to every queued entry; returns their wakers.
    pub(crate) fn grant_all(&mut self, grant: G) -> Vec<Waker>
    where
        G: Clone,
    {
        let mut wakers = Vec::with_capacity(self.queued);
        while let Some(waker) = self.grant_front(grant.clone()) {
            wakers.push(waker);
        }
        wakers
    }

    /// If the entry has been granted, frees it and returns the grant; otherwise leaves it.
    pub(crate) fn take_grant(&mut self, key: Key) -> Option<G> {
        let Entry::Granted(_) = self.entries.get(key.0)? else {
            return None;
        };
        self.remove(key)
    }

    /// Frees the entry whatever its state, taking it out of the queue if it was queued.
    /// Returns the grant if it had been granted one, which the caller must pass on.
    pub(crate) fn remove(&mut self, key: Key) -> Option<G> {
        let queued = matches!(self.entries.get(key.0)?, Entry::Queued { .. });
        if queued {
            self.unlink(key.0);
        }
        let entry = std::mem::replace(&mut self.entries[key.0], Entry::Vacant);
        if matches!(entry, Entry::Vacant) {
            debug_assert!(false, "goro-sync: waiter key freed twice");
            return None;
        }
        self.free.push(key.0);
        match entry {
            Entry::Granted(grant) => Some(grant),
            _ => None,
        }
    }

    /// Takes a queued entry out of the queue's links (its slot stays occupied).
    fn unlink(&mut self, index: usize) {
        let (prev, next) = match &self.entries[index] {
            Entry::Queued { prev, next, .. } => (*prev, *next),
            _ => return,
        };
        match prev {
            Some(prev) => self.set_next(prev, next),
            None => self.head = next,
        }
        match next {
            Some(next) => self.set_prev(next, prev),
            None => self.tail = prev,
        }
        self.queued -= 1;
    }

    fn set_next(&mut self, index: usize, to: Option<usize>) {
        if let Entry::Queued { next, .. } = &mut self.entries[index] {
            *next = to;
        }
    }

    fn set_prev(&mut self, index: usize, to: Option<usize>) {
        if let Entry::Queued { prev, .. } = &mut self.entries[index] {
            *prev = to;
        }
    }
}

impl<D, G> fmt::Debug for Waiters<D, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waiters")
            .field("queued", &self.queued)
            .field("granted", &self.granted())
            .finish()
    }
}

impl<D, G> Waiters<D, G> {
    /// How many entries hold a grant their future has not taken yet.
    fn granted(&self) -> usize {
        let occupied = self.entries.len() - self.free.len();
        occupied - self.queued
    }
}

#[cfg(all(test, not(goro_loom)))]
mod tests {
    use super::*;

    fn list() -> Waiters<u32, &'static str> {
        Waiters::new()
    }

    #[test]
    fn grants_go_to_the_oldest_waiter_first() {
        let mut w = list();
        let waker = Waker::noop();
        let a = w.push_back(1, waker);
        let b = w.push_back(2, waker);
        assert!(w.grant_front("x").is_some());
        assert_eq!(w.take_grant(a), Some("x"));
        assert_eq!(w.front(), Some(b));
        assert_eq!(w.take_grant(b), None);
    }

    #[test]
    fn removing_a_middle_entry_keeps_the_order() {
        let mut w = list();
        let waker = Waker::noop();
        let keys: Vec<Key> = (0..4).map(|i| w.push_back(i, waker)).collect();
        assert_eq!(w.remove(keys[1]), None);
        assert_eq!(w.remove(keys[3]), None);
        w.push_back(4, waker);
        let order: Vec<u32> = std::iter::from_fn(|| {
            let key = w.front()?;
            let data = *w.data(key)?;
            w.remove(key);
            Some(data)
        })
        .collect();
        assert_eq!(order, vec![0, 2, 4]);
        assert!(w.is_empty());
        assert_eq!(w.granted(), 0);
    }

    #[test]
    fn removing_a_granted_entry_returns_its_grant() {
        let mut w = list();
        let key = w.push_back(7, Waker::noop());
        assert_eq!(w.grant_all("all").len(), 1);
        assert!(w.is_empty());
        assert_eq!(w.granted(), 1);
        assert_eq!(w.remove(key), Some("all"));
        assert_eq!(w.granted(), 0);
    }

    #[test]
    fn slots_are_reused() {
        let mut w = list();
        let a = w.push_back(1, Waker::noop());
        w.remove(a);
        let b = w.push_back(2, Waker::noop());
        assert_eq!(a, b);
        assert_eq!(w.len(), 1);
    }
}

/// Wakes a loom thread parked in [`block_on`].
#[cfg(all(test, goro_loom))]
struct Unpark(loom::thread::Thread);

#[cfg(all(test, goro_loom))]
impl std::task::Wake for Unpark {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on a loom thread, parking it while the future is pending
/// (`crate::waiters::block_on` needs loom's `futures` feature, which this crate does not enable).
#[cfg(all(test, goro_loom))]
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let waker = Waker::from(std::sync::Arc::new(Unpark(loom::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        loom::thread::park();
    }
}

#[cfg(all(test, goro_loom))]
mod loom_tests {
    use super::*;
    use loom::thread;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// A minimal notification built directly on the list: `notify` grants the front waiter or
    /// stores a permit; a dropped waiter that was granted passes the grant on.
    struct Signal {
        synced: StdMutex<(usize, Waiters<(), ()>)>,
    }

    struct Wait<'a> {
        signal: &'a Signal,
        key: Option<Key>,
    }

    impl Signal {
        fn notify(&self) {
            let waker = {
                let mut s = lock(&self.synced);
                let waker = s.1.grant_front(());
                if waker.is_none() {
                    s.0 += 1;
                }
                waker
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    impl Future for Wait<'_> {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let mut s = lock(&self.signal.synced);
            match self.key {
                Some(key) => {
                    if s.1.take_grant(key).is_some() {
                        drop(s);
                        self.key = None;
                        return Poll::Ready(());
                    }
                    s.1.register(key, cx.waker());
                }
                None if s.0 > 0 => {
                    s.0 -= 1;
                    return Poll::Ready(());
                }
                None => {
                    let key = s.1.push_back((), cx.waker());
                    drop(s);
                    self.key = Some(key);
                }
            }
            Poll::Pending
        }
    }

    impl Drop for Wait<'_> {
        fn drop(&mut self) {
            if let Some(key) = self.key.take() {
                let granted = lock(&self.signal.synced).1.remove(key);
                if granted.is_some() {
                    self.signal.notify();
                }
            }
        }
    }

    /// Waiter A is queued; a notification races A being dropped; waiter B must still get it.
    #[test]
    fn loom_dropped_waiter_passes_its_grant_on() {
        loom::model(|| {
            let signal = Arc::new(Signal {
                synced: StdMutex::new((0, Waiters::new())),
            });
            let mut a = Box::pin(Wait {
                signal: &signal,
                key: None,
            });
            let waker = Waker::noop();
            assert!(a
                .as_mut()
                .poll(&mut Context::from_waker(waker))
                .is_pending());
            let notifier = {
                let signal = signal.clone();
                thread::spawn(move || signal.notify())
            };
            drop(a);
            crate::waiters::block_on(Wait {
                signal: &signal,
                key: None,
            });
            notifier.join().unwrap();
        });
    }
}
