//! Unix signals as futures and streams (Go's `os/signal`): [`ctrl_c`], [`Signals`], and
//! [`Context::with_signals`](crate::context::Context::with_signals).
//!
//! A graceful shutdown: serve until SIGINT or SIGTERM, then stop taking work and let what is
//! running finish.
//!
//! ```no_run
//! use goro::signal::Signal;
//! use goro::sync::Context;
//!
//! goro::block_on(async {
//!     let (ctx, stop) = Context::background()
//!         .with_signals(&[Signal::Interrupt, Signal::Terminate])
//!         .expect("listen for signals");
//!     let server = goro::spawn({
//!         let ctx = ctx.clone();
//!         async move {
//!             // Accept connections (with `goro::hyper::serve`, say) until `ctx` is done.
//!             ctx.done().await;
//!         }
//!     });
//!     ctx.done().await;
//!     eprintln!("{:?}: shutting down", ctx.signal());
//!     server.await.unwrap();
//!     stop.cancel(); // releases the listener (a no-op once a signal came)
//! });
//! ```
//!
//! # Semantics
//!
//! - **Only while listening.** A signal is delivered to the listeners that exist when it
//!   arrives. One that arrives before a listener was created is not delivered to it later
//!   (Go's `signal.Notify` behaves the same).
//! - **Coalesced.** Signals are not queued: several deliveries of one signal between two
//!   `recv`s of a listener are reported once. A [`Signals`] stream that waits for several
//!   signals reports each that arrived, in the order of the list it was created with.
//! - **Every listener gets it.** Any number of listeners, in any number of runtimes, may
//!   wait for the same signal; each receives it.
//! - **The default action is replaced for good.** The first listener of a signal installs
//!   goro's handler for it, which stays installed for the life of the process: from then on
//!   SIGINT (say) no longer ends the process, even after every listener is gone; it is
//!   simply not delivered to anyone. Handlers that other libraries installed are kept and
//!   still called (the handler chains to them).
//!
//! # How it works, and why no wakeup is lost
//!
//! The handler, installed once per signal (with `SA_RESTART`) through `signal-hook-registry`,
//! does only async-signal-safe work: it increments the signal's counter (a lock-free atomic)
//! and writes one byte into a process-wide, non-blocking self-pipe (a socket pair). It takes
//! no lock and allocates nothing. If the pipe is full the byte is dropped: a byte is only a
//! wakeup, the counters say what arrived, and a full pipe already means wakeups are pending.
//!
//! Each listener remembers the counters of its signals when it was created, holds a
//! duplicate of the pipe's read end registered with its runtime's reactor (so no extra
//! thread, and every runtime's poller sees the pipe become readable), and keeps a waker in a
//! global registry (a std `Mutex` that the handler never touches). Polling a listener:
//!
//! 1. drains the pipe, which arms its registration for the next byte; if it read any byte
//!    it wakes every waker in the registry (taking the registry's lock), since the byte may
//!    have been meant for a listener elsewhere, whose own poller may no longer see the pipe
//!    readable once it is drained;
//! 2. under the registry's lock, stores its waker and compares its signals' counters with
//!    the ones it saw: a changed one is a delivery.
//!
//! Take a signal whose counter increment step 2 missed. This listener did not drain its
//! byte in step 1 (it would then have seen the increment, which precedes the byte). So the
//! byte is either still in the pipe after step 1, and then it makes the pipe readable for
//! this listener's registration (armed in step 1; readiness tracking sees events that race
//! with arming), or another listener drained it. That drainer read the byte after the increment, and then took the
//! registry's lock to wake everyone. Had it taken the lock before step 2, step 2 would have
//! seen the increment (the lock orders them); so it took it after, and found and woke the
//! waker stored in step 2. Either way the listener is polled again and sees the counter.
//! A loom model checks that argument.
//!
//! signalfd (Linux) would avoid the pipe, but it only works if the signal is blocked in
//! every thread of the process, including threads a library does not create: a library
//! cannot guarantee that, and a thread that leaves it unblocked gets the default action.
//! The self-pipe works with any threads and any OS.

#![allow(unsafe_code)]

use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use futures_lite::Stream;
use slab::Slab;

use crate::loom::{AtomicUsize, Mutex, MutexGuard};
use crate::reactor::{Interest, Registered};

/// A Unix signal that goro can listen for.
///
/// ```
/// use goro::signal::Signal;
///
/// assert_eq!(Signal::from_raw(Signal::Terminate.as_raw()), Some(Signal::Terminate));
/// assert_eq!(Signal::Interrupt.as_raw(), 2); // SIGINT
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Signal {
    /// SIGINT: Ctrl-C at a terminal.
    Interrupt,
    /// SIGTERM: the polite request to end (what `kill` and service managers send).
    Terminate,
    /// SIGHUP: the terminal went away; by convention, daemons reload their configuration.
    Hangup,
    /// SIGQUIT: Ctrl-\ at a terminal.
    Quit,
    /// SIGUSR1: user-defined.
    User1,
    /// SIGUSR2: user-defined.
    User2,
    /// SIGCHLD: a child process stopped or ended.
    Child,
    /// SIGWINCH: the terminal's size changed.
    WindowChange,
    /// SIGALRM: a timer set with `alarm` expired.
    Alarm,
    /// SIGPIPE: a write to a pipe or socket whose reader is gone.
    Pipe,
}

impl Signal {
    /// Every signal of the enum.
    const ALL: [Signal; 10] = [
        Signal::Interrupt,
        Signal::Terminate,
        Signal::Hangup,
        Signal::Quit,
        Signal::User1,
        Signal::User2,
        Signal::Child,
        Signal::WindowChange,
        Signal::Alarm,
        Signal::Pipe,
    ];

    /// The signal's number on this OS (`SIGINT` is 2).
    ///
    /// ```
    /// use goro::signal::Signal;
    ///
    /// assert_eq!(Signal::Hangup.as_raw(), 1);
    /// ```
    pub fn as_raw(self) -> i32 {
        match self {
            Signal::Interrupt => libc::SIGINT,
            Signal::Terminate => libc::SIGTERM,
            Signal::Hangup => libc::SIGHUP,
            Signal::Quit => libc::SIGQUIT,
            Signal::User1 => libc::SIGUSR1,
            Signal::User2 => libc::SIGUSR2,
            Signal::Child => libc::SIGCHLD,
            Signal::WindowChange => libc::SIGWINCH,
            Signal::Alarm => libc::SIGALRM,
            Signal::Pipe => libc::SIGPIPE,
        }
    }

    /// The signal with this number, if it is one of the enum.
    ///
    /// ```
    /// use goro::signal::Signal;
    ///
    /// assert_eq!(Signal::from_raw(15), Some(Signal::Terminate));
    /// assert_eq!(Signal::from_raw(9), None); // SIGKILL cannot be caught
    /// ```
    pub fn from_raw(raw: i32) -> Option<Signal> {
        Signal::ALL.into_iter().find(|s| s.as_raw() == raw)
    }

    /// The signal's slot among the counters.
    fn index(self) -> usize {
        Signal::ALL
            .iter()
            .position(|&s| s == self)
            .expect("every signal is in ALL")
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
            Signal::Hangup => "SIGHUP",
            Signal::Quit => "SIGQUIT",
            Signal::User1 => "SIGUSR1",
            Signal::User2 => "SIGUSR2",
            Signal::Child => "SIGCHLD",
            Signal::WindowChange => "SIGWINCH",
            Signal::Alarm => "SIGALRM",
            Signal::Pipe => "SIGPIPE",
        })
    }
}

/// What the handlers and the listeners share: how often each signal arrived, and the
/// listeners' wakers (see the module docs for the protocol).
struct Hub {
    /// How often each signal (by index) arrived since goro's handler for it was installed.
    /// Incremented by the handler (lock-free, so async-signal-safe). Wrapping is fine:
    /// listeners only compare for a change.
    counts: [AtomicUsize; Signal::ALL.len()],
    /// The wakers of the listeners, by listener (`None` until first polled). The handler
    /// never takes this lock.
    wakers: Mutex<Slab<Option<Waker>>>,
}

impl Hub {
    fn new() -> Hub {
        Hub {
            counts: std::array::from_fn(|_| AtomicUsize::new(0)),
            wakers: Mutex::new(Slab::new()),
        }
    }

    /// The handler's part: signal `index` arrived (its byte is written after this).
    fn record(&self, index: usize) {
        self.counts[index].fetch_add(1, Release);
    }

    /// The count of signal `index` now.
    fn count(&self, index: usize) -> usize {
        self.counts[index].load(Acquire)
    }

    fn lock(&self) -> MutexGuard<'_, Slab<Option<Waker>>> {
        self.wakers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot for a new listener's waker.
    fn insert(&self) -> usize {
        self.lock().insert(None)
    }

    /// Frees a listener's slot.
    fn remove(&self, key: usize) {
        let removed = self.lock().try_remove(key);
        drop(removed);
    }

    /// Wakes every listener: called by whoever drained a byte from the pipe.
    fn wake_all(&self) {
        let wakers: Vec<Waker> = self.lock().iter().filter_map(|(_, w)| w.clone()).collect();
        for waker in wakers {
            waker.wake();
        }
    }

    /// Step 2 of a poll: under the lock, stores `waker` for listener `key` and looks for a
    /// signal of `watch` (signal index, count last seen) whose count changed; returns its
    /// position in `watch`, marking it seen.
    fn check(&self, key: usize, waker: &Waker, watch: &mut [(usize, usize)]) -> Option<usize> {
        let mut wakers = self.lock();
        let slot = &mut wakers[key];
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
        for (i, (index, seen)) in watch.iter_mut().enumerate() {
            let now = self.count(*index);
            if now != *seen {
                *seen = now;
                return Some(i);
            }
        }
        None
    }
}

/// The process-wide self-pipe, the hub, and which handlers are installed.
struct Global {
    /// The read end; each listener registers its own duplicate.
    reader: UnixStream,
    /// The write end, never closed: the handlers write into its descriptor.
    writer: UnixStream,
    /// The counters and the listeners' wakers.
    hub: Hub,
    /// Whether goro's handler is installed, per signal (by index).
    installed: std::sync::Mutex<[bool; Signal::ALL.len()]>,
}

static GLOBAL: OnceLock<Global> = OnceLock::new();

impl Global {
    /// The global state, made on first use.
    fn get() -> io::Result<&'static Global> {
        if let Some(global) = GLOBAL.get() {
            return Ok(global);
        }
        let (reader, writer) = UnixStream::pair()?;
        reader.set_nonblocking(true)?;
        writer.set_nonblocking(true)?;
        // If another thread won the race, its pipe is used and this one is closed.
        Ok(GLOBAL.get_or_init(|| Global {
            reader,
            writer,
            hub: Hub::new(),
            installed: std::sync::Mutex::new([false; Signal::ALL.len()]),
        }))
    }

    /// Installs goro's handler for each of `signals` that has none yet, and returns, for
    /// each (without duplicates), its index and its count once installed: only later
    /// arrivals are delivered.
    fn listen(&'static self, signals: &[Signal]) -> io::Result<Vec<(usize, usize)>> {
        let mut installed = self.installed.lock().unwrap_or_else(|e| e.into_inner());
        let mut watch: Vec<(usize, usize)> = Vec::with_capacity(signals.len());
        for &signal in signals {
            let index = signal.index();
            if watch.iter().any(|&(i, _)| i == index) {
                continue;
            }
            if !installed[index] {
                self.install(signal)?;
                installed[index] = true;
            }
            watch.push((index, self.hub.count(index)));
        }
        Ok(watch)
    }

    /// Installs goro's handler for `signal`.
    fn install(&'static self, signal: Signal) -> io::Result<()> {
        let index = signal.index();
        let hub = &self.hub;
        let fd = self.writer.as_raw_fd();
        let handler = move || {
            hub.record(index);
            let byte = index as u8;
            // SAFETY: `write` is async-signal-safe; `fd` is the write end of the global
            // pipe, which is never closed (`GLOBAL` is never dropped), and `byte` is a valid
            // one-byte buffer. The descriptor is non-blocking, so a full pipe makes it fail
            // with EAGAIN instead of blocking the handler; the byte is only a wakeup and
            // pending bytes already wake the listeners. signal-hook-registry restores
            // `errno` after the handler.
            unsafe {
                libc::write(fd, (&byte as *const u8).cast(), 1);
            }
        };
        // SAFETY: the action runs inside a signal handler, so it must be async-signal-safe:
        // it only does an atomic increment (lock-free) and a `write` (see above); it takes
        // no lock, allocates nothing, and never panics (`index` is in bounds).
        unsafe { signal_hook_registry::register(signal.as_raw(), handler) }?;
        Ok(())
    }

    /// Reads every byte in the pipe through `pipe` (a duplicate of the read end); wakes every
    /// listener if there was any. Ends with `WouldBlock`, which arms the caller's wait.
    fn drain(&self, mut pipe: &UnixStream) -> io::Result<()> {
        let mut buf = [0u8; 64];
        let mut any = false;
        loop {
            match pipe.read(&mut buf) {
                Ok(0) => return Err(io::Error::other("goro's signal pipe was closed")),
                Ok(_) => any = true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        if any {
            self.hub.wake_all();
        }
        Err(io::ErrorKind::WouldBlock.into())
    }
}

/// One registered listener: its signals, the counts it has seen, its registration.
struct Listener {
    global: &'static Global,
    /// The signals listened for, by index, and the count of each last seen.
    watch: Vec<(usize, usize)>,
    /// A duplicate of the pipe's read end, registered with this runtime's reactor.
    pipe: Registered<UnixStream>,
    /// This listener's slot among the hub's wakers.
    key: usize,
}

impl Listener {
    fn new(signals: &[Signal]) -> io::Result<Listener> {
        if signals.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no signal to listen for",
            ));
        }
        let global = Global::get()?;
        let pipe = Registered::new(global.reader.try_clone()?)?;
        let watch = global.listen(signals)?;
        let key = global.hub.insert();
        Ok(Listener {
            global,
            watch,
            pipe,
            key,
        })
    }

    /// The next signal that arrived since the last one reported (see the module docs).
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Signal>> {
        let global = self.global;
        // Step 1: `drain` never returns `Ok`; its final `WouldBlock` arms the wait.
        if let Poll::Ready(Err(e)) = self.pipe.poll_io(Interest::Read, cx, |p| global.drain(p)) {
            return Poll::Ready(Err(e));
        }
        // Step 2.
        match global.hub.check(self.key, cx.waker(), &mut self.watch) {
            Some(i) => Poll::Ready(Ok(Signal::ALL[self.watch[i].0])),
            None => Poll::Pending,
        }
    }

    /// The signals listened for.
    fn signals(&self) -> Vec<Signal> {
        self.watch.iter().map(|&(i, _)| Signal::ALL[i]).collect()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.global.hub.remove(self.key);
    }
}

/// A listener for a plain thread, which waits in `poll(2)` rather than in a reactor: the
/// task dump's SIGQUIT thread uses it, because it must print even when every worker is
/// blocked (`dump.rs`).
///
/// It follows the listeners' protocol (module docs), with a waker that writes a byte into
/// a pipe of its own: after step 2 the thread waits until the signal pipe or its own pipe is
/// readable. A byte left in the signal pipe after step 1 makes the first readable (`poll` is
/// level-triggered); a byte drained by another listener, which then wakes every stored
/// waker, makes the second readable. Either way the thread runs steps 1 and 2 again.
pub(crate) struct BlockingListener {
    global: &'static Global,
    /// The signals listened for, by index, and the count of each last seen.
    watch: Vec<(usize, usize)>,
    /// A duplicate of the signal pipe's read end.
    pipe: UnixStream,
    /// The read end of this listener's own wake pipe.
    woken: UnixStream,
    /// The waker stored in the hub: writes into the wake pipe.
    waker: Waker,
    /// This listener's slot among the hub's wakers.
    key: usize,
}

/// The waker of a [`BlockingListener`]: one byte into its wake pipe.
struct PipeWaker(UnixStream);

impl std::task::Wake for PipeWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        // Non-blocking: a full pipe already holds a pending wakeup.
        let _ = (&self.0).write(&[1]);
    }
}

impl BlockingListener {
    /// Starts listening for `signals` (installing goro's handlers).
    pub(crate) fn new(signals: &[Signal]) -> io::Result<BlockingListener> {
        let global = Global::get()?;
        let pipe = global.reader.try_clone()?;
        let (woken, wake) = UnixStream::pair()?;
        woken.set_nonblocking(true)?;
        wake.set_nonblocking(true)?;
        let watch = global.listen(signals)?;
        let key = global.hub.insert();
        Ok(BlockingListener {
            global,
            watch,
            pipe,
            woken,
            waker: Waker::from(std::sync::Arc::new(PipeWaker(wake))),
            key,
        })
    }

    /// Blocks the thread until one of the signals arrives.
    pub(crate) fn recv(&mut self) -> io::Result<Signal> {
        loop {
            // Step 1: `drain` ends with `WouldBlock` when the pipe is empty.
            match self.global.drain(&self.pipe) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
                Ok(()) => {}
            }
            // Step 2.
            if let Some(i) = self
                .global
                .hub
                .check(self.key, &self.waker, &mut self.watch)
            {
                return Ok(Signal::ALL[self.watch[i].0]);
            }
            wait_readable(&self.pipe, &self.woken)?;
            let mut buf = [0u8; 64];
            while matches!((&self.woken).read(&mut buf), Ok(n) if n > 0) {}
        }
    }
}

impl Drop for BlockingListener {
    fn drop(&mut self) {
        self.global.hub.remove(self.key);
    }
}

/// Blocks until `a` or `b` is readable.
fn wait_readable(a: &UnixStream, b: &UnixStream) -> io::Result<()> {
    let mut fds = [a.as_raw_fd(), b.as_raw_fd()].map(|fd| libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    });
    loop {
        // SAFETY: `fds` is a valid array of two pollfd structures, whose length is passed,
        // and both descriptors stay open for the call (borrowed from `a` and `b`).
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if n >= 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Waits for the next SIGINT (Ctrl-C), like Go's `signal.Notify(c, os.Interrupt); <-c`.
///
/// It starts listening when first polled: a SIGINT that arrived before is not seen. From
/// then on SIGINT no longer ends the process (see the module docs).
///
/// ```no_run
/// goro::block_on(async {
///     goro::signal::ctrl_c().await.expect("listen for Ctrl-C");
///     eprintln!("interrupted: cleaning up");
/// });
/// ```
///
/// # Errors
///
/// If the handler cannot be installed or the pipe cannot be made or registered (the
/// process is out of descriptors, say), or if the runtime shuts down while waiting.
///
/// # Cancel safety
///
/// Cancel safe: dropping the future stops listening; a SIGINT it did not report is lost to
/// it, as to any listener that no longer exists.
pub async fn ctrl_c() -> io::Result<()> {
    let mut listener = Listener::new(&[Signal::Interrupt])?;
    futures_lite::future::poll_fn(|cx| listener.poll_recv(cx)).await?;
    Ok(())
}

/// A stream of the signals of a set, as they arrive (Go's `signal.Notify`).
///
/// ```no_run
/// use goro::signal::{Signal, Signals};
///
/// goro::block_on(async {
///     let mut signals = Signals::new(&[Signal::Hangup, Signal::Terminate]).unwrap();
///     while let Some(signal) = signals.recv().await {
///         match signal {
///             Signal::Hangup => eprintln!("reloading the configuration"),
///             _ => break,
///         }
///     }
/// });
/// ```
///
/// It is a [`Stream`] too. It ends (`None`) only if its runtime (the one it was created in)
/// shuts down. Dropping it stops listening; the handlers stay installed (see the module docs).
pub struct Signals {
    listener: Listener,
    /// Set once the stream has ended.
    done: bool,
}

impl Signals {
    /// Starts listening for `signals` (duplicates are ignored), installing goro's handler
    /// for each that has none yet. Signals that arrived before are not reported.
    ///
    /// ```
    /// use goro::signal::{Signal, Signals};
    ///
    /// goro::block_on(async {
    ///     let signals = Signals::new(&[Signal::User1]).unwrap();
    ///     drop(signals);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `signals` is empty; otherwise if a handler cannot be installed or
    /// the pipe cannot be made or registered with the current runtime (out of descriptors,
    /// or the runtime is shutting down).
    pub fn new(signals: &[Signal]) -> io::Result<Signals> {
        Ok(Signals {
            listener: Listener::new(signals)?,
            done: false,
        })
    }

    /// Waits for the next signal of the set; `None` once the runtime has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a signal is only taken when it is returned; one that arrives while no
    /// `recv` is waiting is returned by the next.
    pub async fn recv(&mut self) -> Option<Signal> {
        futures_lite::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl Stream for Signals {
    type Item = Signal;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Signal>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.listener.poll_recv(cx) {
            Poll::Ready(Ok(signal)) => Poll::Ready(Some(signal)),
            Poll::Ready(Err(_)) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl fmt::Debug for Signals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signals")
            .field("signals", &self.listener.signals())
            .finish()
    }
}

#[cfg(all(test, goro_loom))]
mod loom_tests {
    //! The lost-wakeup hazard of listeners sharing one pipe: listener A's check misses a
    //! signal's count, and listener B (in another runtime) drains the signal's byte, so A's
    //! own registration never sees the pipe readable. Then B's `wake_all` must find A's
    //! waker. The pipe is a byte counter here (the kernel orders a write before the read
    //! that returns it, as `Release`/`Acquire` do); a byte still in it at the end would wake
    //! A through its own registration, which is the reactor's business.
    use super::*;
    use loom::sync::atomic::{AtomicBool, AtomicUsize as Bytes, Ordering};
    use loom::sync::Arc;
    use loom::thread;
    use std::task::Wake;

    /// A waker that records that it was woken.
    struct Flag(AtomicBool);

    impl Wake for Flag {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    /// A listener's step 1: drain the pipe, waking everyone if there was a byte.
    fn drain(hub: &Hub, pipe: &Bytes) {
        if pipe.swap(0, Ordering::Acquire) > 0 {
            hub.wake_all();
        }
    }

    #[test]
    fn loom_a_signal_drained_by_another_listener_still_wakes() {
        loom::model(|| {
            let hub = Arc::new(Hub::new());
            let pipe = Arc::new(Bytes::new(0));
            let a = hub.insert();
            let b = hub.insert();
            let mut watch_a = vec![(0, hub.count(0))];
            let mut watch_b = vec![(0, hub.count(0))];

            let handler = {
                let (hub, pipe) = (hub.clone(), pipe.clone());
                thread::spawn(move || {
                    hub.record(0);
                    pipe.fetch_add(1, Ordering::Release);
                })
            };
            let other = {
                let (hub, pipe) = (hub.clone(), pipe.clone());
                thread::spawn(move || {
                    drain(&hub, &pipe);
                    hub.check(b, Waker::noop(), &mut watch_b);
                })
            };

            let flag = std::sync::Arc::new(Flag(AtomicBool::new(false)));
            let waker = Waker::from(flag.clone());
            drain(&hub, &pipe);
            let got = hub.check(a, &waker, &mut watch_a).is_some();

            handler.join().unwrap();
            other.join().unwrap();
            let byte_left = pipe.load(Ordering::Acquire) > 0;
            assert!(
                got || flag.0.load(Ordering::SeqCst) || byte_left,
                "listener A missed the signal and nobody will wake it"
            );
        });
    }
}
