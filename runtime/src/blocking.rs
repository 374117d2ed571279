//! The blocking pool: threads for calls that would block a worker.
//!
//! # The protocol
//!
//! A blocking call is an ordinary goro task whose schedule function pushes it onto this
//! pool's queue instead of a worker's, so it has the same [`JoinHandle`] (a panic is reported
//! through it) and counts in `num_tasks`. Threads start on demand:
//!
//! - a new job wakes an idle thread if one waits (and counts it as taken, so a burst of jobs
//!   wakes one thread each); otherwise it starts a new thread, up to `max_blocking_threads`
//!   (default [`DEFAULT_MAX_THREADS`]), unless a thread is already starting;
//! - a thread that takes a job and still sees jobs queued, with no idle or starting thread
//!   to take them, starts one more thread first. So a burst grows the pool one thread at a
//!   time, each new thread starting the next while the backlog lasts: a burst of long calls
//!   still gets one thread per call within a few milliseconds, while a stream of short calls
//!   is served by the few threads it keeps busy instead of by dozens that mostly sleep
//!   (starting a thread costs tens of microseconds; a short call, a few);
//! - a thread that finds the queue empty waits for [`KEEP_ALIVE`] and then exits, so a burst
//!   of blocking calls does not leave hundreds of threads behind;
//! - at shutdown, queued jobs are dropped, idle threads exit at once, and running jobs finish
//!   on their own thread without being waited for (a blocking call cannot be interrupted).
//!
//! # When the OS refuses a thread
//!
//! If a thread cannot start (EAGAIN: the process or user is at its thread limit, or out of
//! memory for a stack) while other threads of the pool are alive, the jobs wait for one of
//! them: a thread exits only when the queue is empty, under the same lock. If none is alive,
//! nobody would ever take the queue, so every queued job is failed at once: its handle
//! reports the OS error ([`JoinError::spawn_error`](crate::JoinError::spawn_error)) instead
//! of waiting for ever. Nothing is remembered of the failure: the next job tries to start a
//! thread again, so the pool recovers as soon as the OS allows threads again.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use crate::builder::Hooks;
use crate::executor::drop_runnable;
use crate::runtime::Handle;
use crate::task::Runnable;

/// How long an idle blocking thread waits for a job before it exits. Long enough that a
/// steady trickle of blocking calls reuses threads, short enough that a burst is soon undone.
pub const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// How many times a blocking thread that finds the queue empty yields its CPU and looks
/// again before it goes to sleep.
const IDLE_SPINS: u32 = 3;

/// Blocking threads per runtime unless `Builder::max_blocking_threads` says otherwise: Go
/// lets blocking syscalls take up to 10,000 threads; 512 (tokio's figure) bounds the memory
/// of their stacks while leaving room for hundreds of slow calls at once.
pub const DEFAULT_MAX_THREADS: usize = 512;

/// A runtime's blocking threads and their queue.
#[derive(Debug)]
pub(crate) struct Pool {
    /// Queue and counters.
    state: Mutex<State>,
    /// Where idle threads wait for a job.
    cvar: Condvar,
    /// The most threads at once.
    max_threads: usize,
    /// How long an idle thread lingers.
    keep_alive: Duration,
    /// Thread names are `{prefix}-blocking-{n}`.
    prefix: String,
    /// Runs before each thread start; an error stands for the OS refusing the thread.
    spawn_hook: Option<SpawnHook>,
}

/// A test hook run before the pool starts a thread: an `Err` is treated as the OS refusing
/// the thread, so tests can make thread creation fail deterministically.
#[derive(Clone)]
pub(crate) struct SpawnHook(pub(crate) Arc<dyn Fn() -> io::Result<()> + Send + Sync>);

impl fmt::Debug for SpawnHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SpawnHook")
    }
}

#[derive(Debug, Default)]
struct State {
    /// Jobs not yet started.
    queue: VecDeque<Runnable>,
    /// Threads waiting for a job.
    idle: usize,
    /// Notifications sent to idle threads and not yet taken: never more than `idle`.
    notified: usize,
    /// Threads spawned that have not started taking jobs yet.
    starting: usize,
    /// Threads alive.
    threads: usize,
    /// Number for the next thread's name.
    next_id: usize,
    /// Set once at shutdown: no new jobs, idle threads exit.
    shutdown: bool,
}

impl Pool {
    pub(crate) fn new(
        max_threads: usize,
        keep_alive: Duration,
        prefix: String,
        spawn_hook: Option<SpawnHook>,
    ) -> Pool {
        Pool {
            state: Mutex::new(State::default()),
            cvar: Condvar::new(),
            max_threads,
            keep_alive,
            prefix,
            spawn_hook,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The schedule function of blocking tasks: queue the job, find it a thread.
    pub(crate) fn schedule(&self, handle: &Arc<Handle>, runnable: Runnable) {
        let mut state = self.lock();
        if state.shutdown {
            drop(state);
            drop_runnable(runnable);
            return;
        }
        // Counted before it is queued, uncounted after it ran: a paused clock waits for it.
        handle.reactor.clock().busy();
        state.queue.push_back(runnable);
        if state.idle > state.notified {
            state.notified += 1; // one idle thread is now spoken for
            self.cvar.notify_one();
            return;
        }
        if state.starting == 0 {
            self.start_thread(handle, state);
        }
    }

    /// Starts a thread if the bound allows (consumes the lock guard).
    fn start_thread(&self, handle: &Arc<Handle>, mut state: MutexGuard<'_, State>) {
        if state.threads >= self.max_threads {
            return; // the job waits for a thread to come free
        }
        state.threads += 1;
        state.starting += 1;
        let id = state.next_id;
        state.next_id += 1;
        drop(state);
        if let Err(e) = self.spawn_thread(handle, id) {
            let mut state = self.lock();
            state.threads -= 1;
            state.starting -= 1;
            if state.threads > 0 {
                return; // the jobs wait for a thread that exists (see the module docs)
            }
            let queued: Vec<_> = state.queue.drain(..).collect();
            drop(state);
            for job in queued {
                crate::task::fail_to_start(job, &e);
                handle.job_done();
            }
        }
    }

    /// Starts blocking thread number `id`.
    fn spawn_thread(&self, handle: &Arc<Handle>, id: usize) -> io::Result<()> {
        if let Some(hook) = &self.spawn_hook {
            (hook.0)()?;
        }
        let h = handle.clone();
        thread::Builder::new()
            .name(format!("{}-blocking-{id}", self.prefix))
            .spawn(move || h.blocking.thread_main(&h))
            .map(drop)
    }

    fn thread_main(&self, handle: &Arc<Handle>) {
        let _enter = crate::current::enter(handle.clone());
        let _goro_thread = crate::deadlock::GoroThread::enter();
        Hooks::run_thread_hook(&handle.hooks.thread_start);
        self.serve(handle);
        Hooks::run_thread_hook(&handle.hooks.thread_stop);
    }

    /// A blocking thread's life: runs jobs until idle for the keep-alive, or shutdown.
    fn serve(&self, handle: &Arc<Handle>) {
        let mut state = self.lock();
        state.starting -= 1;
        let mut spins = 0;
        loop {
            if let Some(job) = state.queue.pop_front() {
                spins = 0;
                let free = state.idle - state.notified + state.starting;
                if !state.queue.is_empty() && free == 0 {
                    // A backlog with nobody to take it: grow by one before running this job.
                    self.start_thread(handle, state);
                } else {
                    drop(state);
                }
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run()));
                handle.job_done();
                state = self.lock();
                continue;
            }
            if state.shutdown {
                break;
            }
            if spins < IDLE_SPINS {
                // A short call's task usually sends its next call within microseconds:
                // catching it here saves a sleep and a wake (each a few microseconds).
                spins += 1;
                drop(state);
                thread::yield_now();
                state = self.lock();
                continue;
            }
            spins = 0;
            state.idle += 1;
            let (guard, wait) = self
                .cvar
                .wait_timeout(state, self.keep_alive)
                .unwrap_or_else(|e| e.into_inner());
            state = guard;
            state.idle -= 1;
            if state.notified > 0 {
                state.notified -= 1; // woken for a job: take it at the top of the loop
            } else if wait.timed_out() && state.queue.is_empty() {
                break; // idle for the whole keep-alive
            }
        }
        state.threads -= 1;
    }

    /// The number of blocking threads alive.
    pub(crate) fn num_threads(&self) -> usize {
        self.lock().threads
    }

    /// Drops queued jobs and lets idle threads exit.
    pub(crate) fn shutdown(&self) {
        let mut state = self.lock();
        state.shutdown = true;
        let queued: Vec<_> = state.queue.drain(..).collect();
        drop(state);
        self.cvar.notify_all();
        for job in queued {
            drop_runnable(job);
        }
    }
}
