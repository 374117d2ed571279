//! One registered file descriptor: its readiness in each direction and the wakers waiting for
//! it, and [`Registered`], the public owner of an I/O object registered with the reactor.
//!
//! # The protocol
//!
//! Where the OS allows (epoll, kqueue) a descriptor is registered once, edge-triggered, for
//! both directions: the OS reports each change to "readable" or "writable", and nothing is
//! re-armed, so waiting costs no syscall. Each direction keeps a `ready` flag, a `tick` that
//! counts the events seen, and the wakers of the tasks waiting for it.
//!
//! 1. An operation reads the tick, then tries the I/O. If it gets `WouldBlock`, it clears
//!    `ready` *only if the tick is unchanged*: an event that arrived during the attempt is
//!    kept, so it cannot be lost between "the socket was empty" and "wake me when it is not".
//!    (With edge triggering this is essential: that event will not be reported again.)
//! 2. Still not ready: it stores its waker.
//! 3. The driver gets the event: sets `ready`, bumps the tick, takes the wakers of that
//!    direction and wakes them.
//!
//! Where edge triggering is missing, registration is one-shot instead: step 2 also arms the
//! poller for the directions that have a waiter (a `modify` syscall, only when that interest
//! is not armed already), and since one event disarms the whole descriptor, step 3 wakes the
//! waiters of the *other* direction too, so that they re-arm their own interest.
//!
//! Sources are keyed in the reactor by slab slot plus a generation, so an event still in
//! flight for a closed descriptor can never be delivered to a new source that reused the
//! slot or the descriptor number.
//!
//! # Many waiters in one direction
//!
//! A poll-style caller ([`Registered::poll_ready`], [`Registered::poll_io`]: `AsyncRead`
//! and friends) has one waker slot per direction, and the last task to poll is the one woken,
//! as with every readiness API of that shape. The futures ([`Registered::ready`],
//! [`Registered::io`]) instead each own an entry in a per-direction list of waiters, so any
//! number of tasks may wait at once (several tasks accepting on one listener, several
//! receiving on one UDP socket). An event wakes every waiter of its direction; the list entry
//! belongs to its future and is removed when the future completes or is dropped, so a
//! cancelled waiter leaves nothing behind.

use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::sync::atomic::{
    AtomicU64,
    Ordering::{AcqRel, Acquire},
};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use slab::Slab;

use super::sys::Mode;
use super::{shut_down_error, Reactor};

/// Which way an operation waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Waiting until the descriptor can be read (or accepted on).
    Read,
    /// Waiting until the descriptor can be written (or a connect has finished).
    Write,
}

impl Interest {
    fn index(self) -> usize {
        match self {
            Interest::Read => 0,
            Interest::Write => 1,
        }
    }
}

#[derive(Debug, Default)]
struct Direction {
    /// The poll-style waiter of this direction (the last task to call `poll_ready`).
    waker: Option<Waker>,
    /// The future-style waiters, one entry per live `Ready`/`Io` future that has waited;
    /// an entry is `None` once its waker was taken by an event, until the future polls again.
    waiters: Slab<Option<Waker>>,
    /// Whether the poller is armed for this direction right now (one-shot mode only).
    armed: bool,
}

impl Direction {
    /// Whether any task waits in this direction (so the poller must be armed for it).
    fn has_waiter(&self) -> bool {
        self.waker.is_some() || !self.waiters.is_empty()
    }

    /// Whether a task's waker is stored here now.
    fn has_waker(&self) -> bool {
        self.waker.is_some() || self.waiters.iter().any(|(_, w)| w.is_some())
    }

    /// Moves every waker of this direction into `wakers`.
    fn take_wakers(&mut self, wakers: &mut Vec<Waker>) {
        wakers.extend(self.waker.take());
        for (_, waiter) in self.waiters.iter_mut() {
            wakers.extend(waiter.take());
        }
    }
}

/// Where a waiter keeps its waker.
#[derive(Debug)]
enum Slot<'a> {
    /// The direction's single poll-style slot.
    Poll,
    /// An entry in the direction's waiter list, created on first use.
    Waiter(&'a mut Option<usize>),
}

/// The reactor's record of one descriptor.
#[derive(Debug)]
pub(crate) struct Source {
    /// The key events for this source carry: slab slot plus generation.
    pub(crate) key: usize,
    /// Per direction (read, write): the number of events seen, shifted left once, with the
    /// low bit set while the direction is ready. Atomic, so that an operation that finds its
    /// socket ready, or that only clears readiness, takes no lock.
    readiness: [AtomicU64; 2],
    /// Wakers, read then write.
    dirs: Mutex<[Direction; 2]>,
}

/// The ready bit of a `readiness` word.
const READY: u64 = 1;

impl Source {
    pub(crate) fn new(key: usize) -> Source {
        Source {
            key,
            readiness: [AtomicU64::new(0), AtomicU64::new(0)],
            dirs: Mutex::new(Default::default()),
        }
    }

    fn is_ready(&self, i: usize) -> bool {
        self.readiness[i].load(Acquire) & READY != 0
    }

    fn lock(&self) -> MutexGuard<'_, [Direction; 2]> {
        self.dirs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records an event (from the driver) and collects the wakers to call.
    pub(crate) fn dispatch(
        &self,
        mode: Mode,
        readable: bool,
        writable: bool,
        wakers: &mut Vec<Waker>,
    ) {
        // Readiness first, wakers second: a waiter that registers after we took the wakers
        // re-checks readiness under the lock and sees it (see `poll_ready`).
        for (word, fired) in self.readiness.iter().zip([readable, writable]) {
            if fired {
                let _ = word.fetch_update(AcqRel, Acquire, |w| Some((w | READY).wrapping_add(2)));
            }
        }
        let mut dirs = self.lock();
        for (dir, fired) in dirs.iter_mut().zip([readable, writable]) {
            if fired {
                dir.take_wakers(wakers);
            } else if mode == Mode::Oneshot {
                // The event disarmed this direction too: its waiters must re-arm it.
                dir.armed = false;
                dir.take_wakers(wakers);
            }
        }
    }

    /// Moves every waker of both directions into `wakers`. Waiter entries stay: their
    /// futures own them.
    pub(crate) fn take_all_wakers(&self, wakers: &mut Vec<Waker>) {
        for dir in self.lock().iter_mut() {
            dir.take_wakers(wakers);
        }
    }

    /// Whether a task waits for this source now (its waker is stored).
    pub(crate) fn has_waker(&self) -> bool {
        self.lock().iter().any(Direction::has_waker)
    }

    /// Drops the wakers (deregistration).
    pub(crate) fn clear(&self) {
        let mut dropped = Vec::new();
        self.take_all_wakers(&mut dropped);
        drop(dropped); // outside the lock: a waker's drop may run arbitrary code
    }

    /// The direction's readiness word before an operation (its event count and ready bit).
    fn tick(&self, interest: Interest) -> u64 {
        self.readiness[interest.index()].load(Acquire)
    }

    /// Clears readiness after `WouldBlock`, unless an event arrived since `tick` was read.
    fn clear_ready(&self, interest: Interest, tick: u64) {
        let word = &self.readiness[interest.index()];
        let _ = word.compare_exchange(tick | READY, tick & !READY, AcqRel, Acquire);
    }

    /// Ready if an event arrived since readiness was last cleared; otherwise stores the waker
    /// in `slot` and arms the poller.
    fn poll_ready(
        &self,
        reactor: &Reactor,
        io: &impl AsFd,
        interest: Interest,
        cx: &mut Context<'_>,
        slot: Slot<'_>,
    ) -> Poll<io::Result<()>> {
        let i = interest.index();
        if reactor.is_shut_down() {
            return Poll::Ready(Err(shut_down_error()));
        }
        if self.is_ready(i) && matches!(slot, Slot::Poll | Slot::Waiter(None)) {
            return Poll::Ready(Ok(())); // nothing registered: no lock needed
        }
        let mut dirs = self.lock();
        if reactor.is_shut_down() {
            // Checked under the lock: shutdown wakes, under this lock, what was stored before.
            if let Slot::Waiter(key) = slot {
                if let Some(k) = key.take() {
                    dirs[i].waiters.remove(k);
                }
            }
            return Poll::Ready(Err(shut_down_error()));
        }
        if self.is_ready(i) {
            if let Slot::Waiter(key) = slot {
                if let Some(k) = key.take() {
                    dirs[i].waiters.remove(k);
                }
            }
            return Poll::Ready(Ok(()));
        }
        let is_poll = matches!(slot, Slot::Poll);
        let stored = match slot {
            Slot::Poll => &mut dirs[i].waker,
            Slot::Waiter(key) => {
                let k = *key.get_or_insert_with(|| dirs[i].waiters.insert(None));
                &mut dirs[i].waiters[k]
            }
        };
        match stored {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *stored = Some(cx.waker().clone()),
        }
        if reactor.mode == Mode::Oneshot && !dirs[i].armed {
            let read = dirs[0].has_waiter();
            let write = dirs[1].has_waiter();
            if let Err(e) = reactor.arm(io, self.key, read, write) {
                if is_poll {
                    dirs[i].waker = None;
                }
                return Poll::Ready(Err(e));
            }
            dirs[0].armed = read;
            dirs[1].armed = write;
        }
        Poll::Pending
    }

    /// Removes a waiter entry (its future completed or was dropped).
    fn remove_waiter(&self, interest: Interest, key: &mut Option<usize>) {
        if let Some(k) = key.take() {
            let waker = self.lock()[interest.index()].waiters.try_remove(k);
            drop(waker);
        }
    }
}

/// An I/O object registered with the current runtime's reactor.
///
/// This is the building block of `goro::net`: it owns a non-blocking descriptor, waits for
/// readiness without blocking a thread, and deregisters the descriptor before closing it.
///
/// It stays registered with the runtime it was created on. Once that runtime is shut down
/// (dropped), nobody watches the descriptor any more: every operation that could wait
/// ([`poll_ready`](Registered::poll_ready), [`poll_io`](Registered::poll_io),
/// [`ready`](Registered::ready), [`io`](Registered::io), and the futures already waiting)
/// returns an error of kind [`io::ErrorKind::Other`] saying that the socket's runtime was
/// shut down, at once, whatever runtime polls it; so does registering with a runtime that
/// is shutting down. Dropping it, or [`into_inner`](Registered::into_inner), still works.
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use goro_runtime::reactor::{Interest, Registered};
///
/// goro::block_on(async {
///     let (a, mut b) = UnixStream::pair().unwrap();
///     a.set_nonblocking(true).unwrap();
///     let a = Registered::new(a).unwrap();
///     b.write_all(b"hi").unwrap();
///     let mut buf = [0; 2];
///     let n = futures_lite::future::poll_fn(|cx| {
///         a.poll_io(Interest::Read, cx, |mut s| s.read(&mut buf))
///     })
///     .await
///     .unwrap();
///     assert_eq!(&buf[..n], b"hi");
/// });
/// ```
pub struct Registered<T: AsFd> {
    /// The reactor's record of the descriptor.
    source: Arc<Source>,
    /// The reactor the descriptor is registered with.
    reactor: Arc<Reactor>,
    /// The I/O object; `None` only inside `into_inner` and `Drop`.
    io: Option<T>,
}

impl<T: AsFd> Registered<T> {
    /// Registers `io`, which must already be in non-blocking mode, with the reactor of the
    /// current runtime (the global one outside any runtime).
    ///
    /// # Errors
    ///
    /// Whatever the OS poller reports, for example when the descriptor cannot be polled;
    /// an error of kind `Other` if the current runtime is shutting down.
    pub fn new(io: T) -> io::Result<Registered<T>> {
        let handle = crate::current::handle();
        let reactor = handle.reactor.clone();
        let source = reactor.insert_source(&io)?;
        // Somebody must poll it: tells a sleeping worker to drive if nobody does.
        handle.executor.driver.registered(&*handle);
        Ok(Registered {
            source,
            reactor,
            io: Some(io),
        })
    }

    /// The I/O object.
    pub fn get_ref(&self) -> &T {
        self.io.as_ref().expect("io is present until drop")
    }

    /// Deregisters the descriptor and gives the I/O object back.
    ///
    /// # Errors
    ///
    /// If the OS poller fails to remove the descriptor.
    pub fn into_inner(mut self) -> io::Result<T> {
        let io = self.io.take().expect("io is present until drop");
        self.reactor.remove_source(&self.source, &io)?;
        Ok(io)
    }

    /// Polls until the descriptor is ready for `interest` (it may still give `WouldBlock`: the
    /// readiness is a hint, as with every readiness API).
    ///
    /// Only the task of the most recent call is woken; use [`Registered::ready`] for many
    /// waiters.
    ///
    /// # Errors
    ///
    /// If the OS poller fails to arm the descriptor, or the runtime was shut down.
    pub fn poll_ready(&self, interest: Interest, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source
            .poll_ready(&self.reactor, self.get_ref(), interest, cx, Slot::Poll)
    }

    /// Runs the non-blocking operation `op` until it does not return `WouldBlock`, waiting
    /// for readiness in between. Takes one unit of the task's cooperative budget.
    ///
    /// Like [`Registered::poll_ready`], only the task of the most recent call is woken; use
    /// [`Registered::io`] when several tasks may wait in the same direction.
    ///
    /// # Errors
    ///
    /// Whatever `op` returns other than `WouldBlock`, a failure to arm the descriptor, or an
    /// error of kind `Other` if the runtime was shut down (then `op` does not run).
    pub fn poll_io<R>(
        &self,
        interest: Interest,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        if self.reactor.is_shut_down() {
            return Poll::Ready(Err(shut_down_error()));
        }
        if goro_sync::coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        loop {
            let tick = self.source.tick(interest);
            match op(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.source.clear_ready(interest, tick);
                }
                res => return Poll::Ready(res),
            }
            if let Err(e) = std::task::ready!(self.poll_ready(interest, cx)) {
                return Poll::Ready(Err(e));
            }
        }
    }

    /// Waits until the descriptor is ready for `interest`. Any number of tasks may wait at
    /// once; an event wakes them all.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    /// use goro_runtime::reactor::{Interest, Registered};
    ///
    /// goro::block_on(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = Registered::new(a).unwrap();
    ///     b.write_all(b"!").unwrap();
    ///     a.ready(Interest::Read).await.unwrap();
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// If the OS poller fails to arm the descriptor, or the runtime was shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future removes its waiter and consumes no readiness.
    pub fn ready(&self, interest: Interest) -> Ready<'_, T> {
        Ready {
            registered: self,
            interest,
            key: None,
        }
    }

    /// Runs the non-blocking operation `op` until it does not return `WouldBlock`, waiting for
    /// readiness in between; the future form of [`Registered::poll_io`], for which any number
    /// of tasks may wait at once. Takes one unit of the task's cooperative budget per poll.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use goro_runtime::reactor::{Interest, Registered};
    ///
    /// goro::block_on(async {
    ///     let (a, mut b) = UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = Registered::new(a).unwrap();
    ///     b.write_all(b"hi").unwrap();
    ///     let mut buf = [0; 2];
    ///     let n = a.io(Interest::Read, |mut s| s.read(&mut buf)).await.unwrap();
    ///     assert_eq!(&buf[..n], b"hi");
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// Whatever `op` returns other than `WouldBlock`, a failure to arm the descriptor, or an
    /// error of kind `Other` if the runtime was shut down (then `op` does not run).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes is safe: `op` either ran to a result that the
    /// future returned, or returned `WouldBlock` and did nothing.
    pub fn io<R, F>(&self, interest: Interest, op: F) -> Io<'_, T, F>
    where
        F: FnMut(&T) -> io::Result<R>,
    {
        Io {
            registered: self,
            interest,
            key: None,
            op,
        }
    }

    /// Waits until the descriptor may be read. Any number of tasks may wait at once.
    ///
    /// # Errors
    ///
    /// If the OS poller fails to arm the descriptor, or the runtime was shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::Read).await
    }

    /// Waits until the descriptor may be written. Any number of tasks may wait at once.
    ///
    /// # Errors
    ///
    /// If the OS poller fails to arm the descriptor, or the runtime was shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::Write).await
    }

    fn poll_waiter(
        &self,
        interest: Interest,
        cx: &mut Context<'_>,
        key: &mut Option<usize>,
    ) -> Poll<io::Result<()>> {
        self.source.poll_ready(
            &self.reactor,
            self.get_ref(),
            interest,
            cx,
            Slot::Waiter(key),
        )
    }
}

/// The future of [`Registered::ready`].
#[must_use = "futures do nothing unless awaited"]
pub struct Ready<'a, T: AsFd> {
    /// The descriptor waited on.
    registered: &'a Registered<T>,
    /// The direction waited for.
    interest: Interest,
    /// This future's entry in the direction's waiter list, once it has waited.
    key: Option<usize>,
}

impl<T: AsFd> Future for Ready<'_, T> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.registered
            .poll_waiter(this.interest, cx, &mut this.key)
    }
}

impl<T: AsFd> Drop for Ready<'_, T> {
    fn drop(&mut self) {
        self.registered
            .source
            .remove_waiter(self.interest, &mut self.key);
    }
}

impl<T: AsFd> fmt::Debug for Ready<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ready")
            .field("interest", &self.interest)
            .finish_non_exhaustive()
    }
}

/// The future of [`Registered::io`].
#[must_use = "futures do nothing unless awaited"]
pub struct Io<'a, T: AsFd, F> {
    /// The descriptor operated on.
    registered: &'a Registered<T>,
    /// The direction the operation waits for.
    interest: Interest,
    /// This future's entry in the direction's waiter list, once it has waited.
    key: Option<usize>,
    /// The non-blocking operation.
    op: F,
}

impl<T: AsFd, R, F: FnMut(&T) -> io::Result<R> + Unpin> Future for Io<'_, T, F> {
    type Output = io::Result<R>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let this = self.get_mut();
        let (registered, interest) = (this.registered, this.interest);
        if registered.reactor.is_shut_down() {
            registered.source.remove_waiter(interest, &mut this.key);
            return Poll::Ready(Err(shut_down_error()));
        }
        if goro_sync::coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        loop {
            let tick = registered.source.tick(interest);
            match (this.op)(registered.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    registered.source.clear_ready(interest, tick);
                }
                res => {
                    registered.source.remove_waiter(interest, &mut this.key);
                    return Poll::Ready(res);
                }
            }
            if let Err(e) = std::task::ready!(registered.poll_waiter(interest, cx, &mut this.key)) {
                return Poll::Ready(Err(e));
            }
        }
    }
}

impl<T: AsFd, F> Drop for Io<'_, T, F> {
    fn drop(&mut self) {
        self.registered
            .source
            .remove_waiter(self.interest, &mut self.key);
    }
}

impl<T: AsFd, F> fmt::Debug for Io<'_, T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Io")
            .field("interest", &self.interest)
            .finish_non_exhaustive()
    }
}

impl<T: AsFd> Drop for Registered<T> {
    fn drop(&mut self) {
        if let Some(io) = self.io.take() {
            // Deregister first, then close: a reused descriptor never sees our events.
            let _ = self.reactor.remove_source(&self.source, &io);
            drop(io);
        }
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for Registered<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registered")
            .field("io", &self.io)
            .field("key", &self.source.key)
            .finish()
    }
}
