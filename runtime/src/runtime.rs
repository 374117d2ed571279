//! A runtime: its workers, reactor, blocking pool and live tasks, and how it shuts down.
//!
//! # Shutdown
//!
//! Dropping a [`Runtime`]:
//!
//! 1. sets the shutdown flag (no task runs or is spawned after it; a spawn drops its future
//!    at once and its handle reports cancellation) and wakes every worker and the driver;
//! 2. joins the workers, each of which drops the tasks left in its own queue and LIFO slot
//!    (unless the drop happens on one of its own workers: a thread cannot join itself, so the
//!    workers are left to exit on their own);
//! 3. drops the blocking pool's queued jobs and lets its idle threads exit;
//! 4. drops the injector's tasks, then wakes every task still alive (the registry of
//!    `task.rs` holds a waker for each); the schedule function sees the flag and drops the
//!    task, running its destructors. Destructors may wake or spawn more tasks, so this repeats
//!    until no task is left or a round makes no progress (a blocking call still running);
//! 5. drops the wakers the reactor held, so nothing keeps a task allocation alive.
//!
//! No lock is held while a task's destructor runs, and no step waits for a task that is
//! parked: shutdown cannot hang on one.

use std::fmt;
use std::future::Future;
use std::io;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::blocking::{Pool, SpawnHook};
use crate::builder::Hooks;
use crate::executor::monitor::{FreeSlot, Monitor};
use crate::executor::worker::{self, Core};
use crate::executor::{self, queue, Remote, Shared};
use crate::park::Parker;
use crate::reactor::Reactor;
use crate::registry::Registry;
use crate::task::{self, JoinHandle, Kind};

/// Everything the threads of one runtime share.
#[derive(Debug)]
pub(crate) struct Handle {
    /// Queues, workers' remote ends, idle bookkeeping.
    pub(crate) executor: Shared,
    /// The poller and the timers.
    pub(crate) reactor: Arc<Reactor>,
    /// Threads for blocking calls.
    pub(crate) blocking: Pool,
    /// One waker per live task.
    pub(crate) tasks: Registry,
    /// Set once, when the runtime starts shutting down.
    shutdown: AtomicBool,
    /// Thread and poll callbacks set on the builder.
    pub(crate) hooks: Hooks,
    /// Whether `block_on` on this runtime reports deadlocks (`deadlock.rs`).
    pub(crate) detect_deadlocks: bool,
}

impl Handle {
    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// A blocking job has run (or failed to start): a paused clock stops waiting for it.
    pub(crate) fn job_done(&self) {
        if self.reactor.clock().idle() {
            self.reactor.notify();
        }
    }

    /// Whether nothing of this runtime can run until a timer fires or a socket becomes
    /// ready: every worker asleep with empty queues, and nothing counted busy by the clock
    /// (`clock.rs`, which says why this is enough).
    pub(crate) fn is_quiescent(&self) -> bool {
        let executor = &self.executor;
        crate::clock::quiescent(self.reactor.clock(), &executor.idle, || {
            !executor.has_work() && executor.remotes.iter().all(|r| !r.lifo.is_some())
        })
    }
}

/// How long a test's tasks may take to finish after its body returned (a task that sent the
/// body its last value may still be returning).
const LEAK_GRACE: Duration = Duration::from_secs(1);

/// The Builder's testing and diagnostic switches.
#[derive(Debug, Clone)]
pub(crate) struct Checks {
    /// The clock starts paused (`clock.rs`).
    pub(crate) start_paused: bool,
    /// `block_on` reports deadlocks (`deadlock.rs`).
    pub(crate) detect_deadlocks: bool,
    /// Blocked workers: threshold, replacements, reports (`executor/monitor.rs`).
    pub(crate) monitor: crate::executor::monitor::Settings,
}

/// A goro runtime: worker threads running tasks, a reactor, a blocking pool.
///
/// Most programs use the global runtime through the free functions ([`spawn`](crate::spawn),
/// [`block_on`](crate::block_on)); build a `Runtime` to choose its settings or to shut it
/// down. Dropping it stops its workers and drops every task it still has.
///
/// ```
/// let rt = goro::Runtime::new().unwrap();
/// let handle = rt.spawn(async { "hello" });
/// assert_eq!(rt.block_on(handle).unwrap(), "hello");
/// ```
pub struct Runtime {
    /// The state shared with the runtime's threads.
    handle: Arc<Handle>,
    /// The worker threads, joined at drop.
    workers: Vec<thread::JoinHandle<()>>,
}

impl Runtime {
    /// A runtime with the default settings of [`Builder::new`](crate::Builder::new).
    ///
    /// # Errors
    ///
    /// As [`Builder::build`](crate::Builder::build).
    pub fn new() -> io::Result<Runtime> {
        crate::Builder::new().build()
    }

    pub(crate) fn start(
        workers: usize,
        max_blocking: usize,
        keep_alive: Duration,
        name: String,
        spawn_hook: Option<SpawnHook>,
        hooks: Hooks,
        checks: Checks,
    ) -> io::Result<Runtime> {
        let Checks {
            start_paused,
            detect_deadlocks,
            monitor,
        } = checks;
        let reactor = Arc::new(Reactor::new(start_paused)?);
        let slots = workers + Monitor::slots(&monitor);
        let mut cores = Vec::with_capacity(workers);
        let mut free = Vec::new();
        let mut remotes = Vec::with_capacity(slots);
        for index in 0..slots {
            let (local, steal) = queue::new();
            let parker = Parker::new(Some(reactor.clone()));
            remotes.push(Remote::new(steal, parker.unparker()));
            let core = Core::new(local, index);
            if index < workers {
                cores.push((core, parker));
            } else {
                free.push(FreeSlot { core, parker });
            }
        }
        let monitor = Monitor::new(monitor, workers, name.clone(), free);
        let handle = Arc::new(Handle {
            executor: Shared::new(remotes.into_boxed_slice(), workers, start_paused, monitor),
            reactor,
            blocking: Pool::new(max_blocking, keep_alive, name.clone(), spawn_hook),
            tasks: Registry::new(slots + 1),
            shutdown: AtomicBool::new(false),
            hooks,
            detect_deadlocks,
        });
        crate::deadlock::register_runtime(&handle);
        if start_paused {
            let weak = Arc::downgrade(&handle);
            handle
                .reactor
                .set_quiescent(crate::reactor::Quiescent(Box::new(move || {
                    weak.upgrade().is_some_and(|h| h.is_quiescent())
                })));
        }
        crate::dump::on_runtime_start();
        let mut rt = Runtime {
            handle: handle.clone(),
            workers: Vec::with_capacity(workers),
        };
        for (index, (core, parker)) in cores.into_iter().enumerate() {
            let h = handle.clone();
            let thread = thread::Builder::new()
                .name(format!("{name}-worker-{index}"))
                .spawn(move || worker::run(h, index, core, parker))?;
            rt.workers.push(thread);
        }
        handle.executor.monitor.start(&handle);
        Ok(rt)
    }

    pub(crate) fn handle(&self) -> &Arc<Handle> {
        &self.handle
    }

    /// Runs `future` to completion on the current thread, with this runtime entered: tasks
    /// it spawns and timers it sets belong to this runtime.
    ///
    /// # Panics
    ///
    /// When called from inside a goro task (see [`block_on`](crate::block_on)).
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        crate::block_on::run(&self.handle, future)
    }

    /// What `#[goro::test]` runs: the body, then the leak check (unless `allow_leaks`).
    ///
    /// # Panics
    ///
    /// If the body panics, or if tasks are still alive a second after it returned: a test
    /// should end the tasks it starts (abort them, close what they wait on, or await them),
    /// or say with `#[goro::test(allow_leaks)]` that leaving them is intended.
    #[doc(hidden)]
    #[track_caller]
    pub fn __run_test<F: Future>(&self, future: F, allow_leaks: bool) -> F::Output {
        let out = self.block_on(future);
        if !allow_leaks {
            if let Some(report) = crate::deadlock::leaked_tasks(&self.handle, LEAK_GRACE) {
                panic!("{report}");
            }
        }
        out
    }

    /// Spawns a task on this runtime.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        task::spawn_on(&self.handle, future, None, Kind::Async, Location::caller())
    }

    /// Runs a blocking function on this runtime's blocking pool; as
    /// [`spawn_blocking`](crate::spawn_blocking), a thread refused by the OS included.
    ///
    /// ```
    /// let rt = goro::Runtime::new().unwrap();
    /// let handle = rt.spawn_blocking(|| 2 + 2);
    /// assert_eq!(rt.block_on(handle).unwrap(), 4);
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, T>(&self, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let future = async move { f() };
        task::spawn_on(
            &self.handle,
            future,
            None,
            Kind::Blocking,
            Location::caller(),
        )
    }

    /// The number of live tasks of this runtime (spawned, not yet finished or dropped).
    pub fn num_tasks(&self) -> usize {
        self.handle.tasks.live()
    }

    /// The number of worker threads the runtime was built with (replacement workers for
    /// blocked ones, see [`Builder::blocked_worker_threshold`](crate::Builder::blocked_worker_threshold),
    /// are not counted).
    pub fn worker_threads(&self) -> usize {
        self.handle.executor.num_workers
    }

    /// The number of blocking threads alive right now.
    pub fn blocking_threads(&self) -> usize {
        self.handle.blocking.num_threads()
    }

    /// This runtime's counters: tasks polled and stolen per worker, queue lengths, live tasks
    /// (see [`Metrics`](crate::Metrics)).
    pub fn metrics(&self) -> crate::Metrics {
        crate::metrics::snapshot(&self.handle)
    }

    /// The live tasks of this runtime (see [`dump_tasks`](crate::dump_tasks)).
    ///
    /// ```
    /// let rt = goro::Runtime::new().unwrap();
    /// let task = rt.spawn(std::future::pending::<()>());
    /// let dump = rt.dump_tasks();
    /// assert_eq!(dump.tasks().len() + dump.unpolled(), 1);
    /// task.abort();
    /// ```
    pub fn dump_tasks(&self) -> crate::task::TaskDump {
        crate::dump::snapshot(&self.handle)
    }

    fn shutdown(&mut self) {
        let handle = &self.handle;
        // Destructors that run below and spawn must reach this (dying) runtime, which drops
        // their futures at once, not the global one.
        let _enter = crate::current::enter(handle.clone());
        handle.shutdown.store(true, Ordering::Release);
        handle.executor.unpark_all();
        handle.reactor.notify();
        let on_worker = executor::current_worker_index(handle).is_some();
        if !on_worker {
            for thread in self.workers.drain(..) {
                let _ = thread.join();
            }
        }
        handle.executor.monitor.shutdown(!on_worker);
        handle.blocking.shutdown();
        loop {
            handle.executor.drain_injector();
            let live = handle.tasks.live();
            if live == 0 {
                break;
            }
            for waker in handle.tasks.parked_wakers() {
                waker.wake();
            }
            handle.executor.drain_injector();
            if handle.tasks.live() >= live {
                break; // what is left is running (a blocking call) and ends on its own
            }
        }
        // Pushes from here on fail and drop their task at once (see `push_injector`).
        handle.executor.injector.close();
        handle.executor.drain_injector();
        handle.reactor.shutdown();
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("workers", &self.worker_threads())
            .field("tasks", &self.num_tasks())
            .finish()
    }
}
