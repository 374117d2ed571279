//! One registered file descriptor: its readiness in each direction and the wakers waiting for
//! it, and [`Registered`], the public owner of an I/O object registered with the reactor.
//!
//! # The protocol
//!
//! Interest is one-shot (`polling`'s default): after an event the OS reports nothing more
//! for the descriptor until it is re-armed. Each direction keeps a `ready` flag, a `tick` that
//! counts the events seen, and the waker of the task waiting for it.
//!
//! 1. An operation reads the tick, then tries the I/O. If it gets `WouldBlock`, it clears
//!    `ready` *only if the tick is unchanged*: an event that arrived during the attempt is
//!    kept, so it cannot be lost between "the socket was empty" and "wake me when it is not".
//! 2. Still not ready: it stores its waker and arms the poller for the directions that have a
//!    waiter (a `modify` syscall, only when that interest is not armed already).
//! 3. The driver gets the event: sets `ready`, bumps the tick, takes the waker and wakes it.
//!    Because one event disarms the whole descriptor, a waiter in the *other* direction is
//!    woken too, so that it re-arms its own interest instead of sleeping forever.
//!
//! Sources are keyed in the reactor by slab slot plus a generation, so an event still in
//! flight for a closed descriptor can never be delivered to a new source that reused the
//! slot or the descriptor number.

use std::fmt;
use std::io;
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use super::Reactor;

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
    /// Set by an event, cleared by an operation that got `WouldBlock`.
    ready: bool,
    /// The number of events seen in this direction.
    tick: u64,
    /// The task waiting for this direction.
    waker: Option<Waker>,
    /// Whether the poller is armed for this direction right now.
    armed: bool,
}

/// The reactor's record of one descriptor.
#[derive(Debug)]
pub(crate) struct Source {
    /// The key events for this source carry: slab slot plus generation.
    pub(crate) key: usize,
    /// Readiness and wakers, read then write.
    dirs: Mutex<[Direction; 2]>,
}

impl Source {
    pub(crate) fn new(key: usize) -> Source {
        Source {
            key,
            dirs: Mutex::new(Default::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, [Direction; 2]> {
        self.dirs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records an event (from the driver) and collects the wakers to call.
    pub(crate) fn dispatch(&self, readable: bool, writable: bool, wakers: &mut Vec<Waker>) {
        let mut dirs = self.lock();
        for (dir, fired) in dirs.iter_mut().zip([readable, writable]) {
            dir.armed = false; // one-shot: the event disarmed every direction
            if fired {
                dir.ready = true;
                dir.tick = dir.tick.wrapping_add(1);
            }
            wakers.extend(dir.waker.take());
        }
    }

    /// Drops the wakers (shutdown).
    pub(crate) fn clear(&self) {
        for dir in self.lock().iter_mut() {
            dir.waker = None;
        }
    }

    fn tick(&self, interest: Interest) -> u64 {
        self.lock()[interest.index()].tick
    }

    fn clear_ready(&self, interest: Interest, tick: u64) {
        let mut dirs = self.lock();
        let dir = &mut dirs[interest.index()];
        if dir.tick == tick {
            dir.ready = false;
        }
    }

    /// Ready if an event arrived since readiness was last cleared; otherwise registers the
    /// waker and arms the poller.
    fn poll_ready(
        &self,
        reactor: &Reactor,
        io: &impl AsFd,
        interest: Interest,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let mut dirs = self.lock();
        let i = interest.index();
        if dirs[i].ready {
            return Poll::Ready(Ok(()));
        }
        match &dirs[i].waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => dirs[i].waker = Some(cx.waker().clone()),
        }
        if !dirs[i].armed {
            let read = dirs[0].waker.is_some();
            let write = dirs[1].waker.is_some();
            if let Err(e) = reactor.arm(io, self.key, read, write) {
                dirs[i].waker = None;
                return Poll::Ready(Err(e));
            }
            dirs[0].armed = read;
            dirs[1].armed = write;
        }
        Poll::Pending
    }
}

/// An I/O object registered with the current runtime's reactor.
///
/// This is the building block of `goro::net`: it owns a non-blocking descriptor, waits for
/// readiness without blocking a thread, and deregisters the descriptor before closing it.
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use goro_runtime::reactor::{Interest, Registered};
///
/// goro_runtime::block_on(async {
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
    /// Whatever the OS poller reports, for example when the descriptor cannot be polled.
    pub fn new(io: T) -> io::Result<Registered<T>> {
        let reactor = crate::current::handle().reactor.clone();
        let source = reactor.insert_source(&io)?;
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
    pub fn poll_ready(&self, interest: Interest, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source
            .poll_ready(&self.reactor, self.get_ref(), interest, cx)
    }

    /// Runs the non-blocking operation `op` until it does not return `WouldBlock`, waiting
    /// for readiness in between. Takes one unit of the task's cooperative budget.
    pub fn poll_io<R>(
        &self,
        interest: Interest,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
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

    /// Waits until the descriptor may be read.
    ///
    /// # Errors
    ///
    /// If the OS poller fails to arm the descriptor.
    pub async fn readable(&self) -> io::Result<()> {
        futures_lite::future::poll_fn(|cx| self.poll_ready(Interest::Read, cx)).await
    }

    /// Waits until the descriptor may be written.
    ///
    /// # Errors
    ///
    /// If the OS poller fails to arm the descriptor.
    pub async fn writable(&self) -> io::Result<()> {
        futures_lite::future::poll_fn(|cx| self.poll_ready(Interest::Write, cx)).await
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
