//! Configuring and starting a [`Runtime`].

use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::blocking::{self, SpawnHook};
use crate::runtime::Runtime;
use crate::task::TaskMeta;

/// The environment variable that sets the number of workers, as `GOMAXPROCS` does for Go.
/// Set to an empty string, it counts as unset (as in Go).
pub const MAXPROCS_ENV: &str = "GORO_MAXPROCS";

/// The most worker threads a runtime may have; [`Builder::build`] refuses more (from
/// [`Builder::worker_threads`] or `GORO_MAXPROCS`) with an error, and the default (one per
/// CPU) is capped at it. Every worker starts when the runtime is built and reserves a thread
/// stack, and idle workers scan each other's queues to steal, so workers beyond the CPU
/// count only cost memory and stealing; 1024 is above the CPU count of any machine goro
/// targets, and far below what the task registry can address (a 16-bit shard index).
pub const MAX_WORKERS: usize = 1024;

/// Builds a [`Runtime`] with custom settings.
///
/// ```
/// let rt = goro::Builder::new()
///     .worker_threads(2)
///     .max_blocking_threads(16)
///     .thread_name("app")
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    /// Workers; `None`: `GORO_MAXPROCS`, else the available parallelism.
    worker_threads: Option<usize>,
    /// The most blocking threads at once.
    max_blocking_threads: usize,
    /// Prefix of thread names: `{name}-worker-N`, `{name}-blocking-N`.
    thread_name: String,
    /// How long an idle blocking thread lingers.
    keep_alive: Duration,
    /// Test hook run before each blocking thread starts (see `blocking_spawn_hook`).
    spawn_hook: Option<SpawnHook>,
    /// Callbacks for tracing and metrics (`on_thread_start`, `on_before_task_poll`, ...).
    hooks: Hooks,
    /// Whether the clock starts paused (tests).
    start_paused: bool,
    /// Whether `block_on` reports deadlocks.
    detect_deadlocks: bool,
    /// Blocked workers: threshold (`None`: off), replacements (`None`: one per worker),
    /// where reports go.
    blocked_threshold: Option<Duration>,
    max_replacements: Option<usize>,
    on_blocked: Option<crate::executor::monitor::BlockedHook>,
}

/// A callback run on each of a runtime's threads as it starts or stops.
pub(crate) type ThreadHook = Arc<dyn Fn() + Send + Sync + 'static>;

/// A callback run around each poll of a task.
pub(crate) type PollHook = Arc<dyn Fn(&TaskMeta<'_>) + Send + Sync + 'static>;

/// The callbacks a runtime runs for tracing and metrics. Each is an `Option` checked where it
/// would run, so an unset one costs a branch and no call.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) thread_start: Option<ThreadHook>,
    pub(crate) thread_stop: Option<ThreadHook>,
    pub(crate) before_poll: Option<PollHook>,
    pub(crate) after_poll: Option<PollHook>,
}

impl Hooks {
    /// Runs a thread hook, if set. A panic of the hook is contained: it must not take a
    /// worker down (the panic message is printed as usual).
    pub(crate) fn run_thread_hook(hook: &Option<ThreadHook>) {
        if let Some(hook) = hook {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook()));
        }
    }
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("thread_start", &self.thread_start.is_some())
            .field("thread_stop", &self.thread_stop.is_some())
            .field("before_poll", &self.before_poll.is_some())
            .field("after_poll", &self.after_poll.is_some())
            .finish()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// Default settings: one worker per CPU (or `GORO_MAXPROCS`), up to 512 blocking
    /// threads, threads named `goro-worker-N` and `goro-blocking-N`.
    pub fn new() -> Builder {
        Builder {
            worker_threads: None,
            max_blocking_threads: blocking::DEFAULT_MAX_THREADS,
            thread_name: "goro".to_string(),
            keep_alive: blocking::KEEP_ALIVE,
            spawn_hook: None,
            hooks: Hooks::default(),
            start_paused: false,
            detect_deadlocks: true,
            blocked_threshold: Some(crate::executor::monitor::DEFAULT_THRESHOLD),
            max_replacements: None,
            on_blocked: None,
        }
    }

    /// Sets the number of worker threads, overriding `GORO_MAXPROCS`. At most
    /// [`MAX_WORKERS`]: [`Builder::build`] returns an error for more.
    ///
    /// # Panics
    ///
    /// If `n` is zero: a runtime needs at least one worker.
    #[track_caller]
    pub fn worker_threads(mut self, n: usize) -> Builder {
        assert!(n > 0, "goro: worker_threads must be at least 1");
        self.worker_threads = Some(n);
        self
    }

    /// Sets the most blocking threads that may run at once (default 512).
    ///
    /// # Panics
    ///
    /// If `n` is zero: `spawn_blocking` would never run anything.
    #[track_caller]
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        assert!(n > 0, "goro: max_blocking_threads must be at least 1");
        self.max_blocking_threads = n;
        self
    }

    /// Sets the prefix of the runtime's thread names (default `goro`).
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        self.thread_name = name.into();
        self
    }

    /// Starts the runtime with its clock paused, for tests (default `false`).
    ///
    /// The runtime's time then moves only when told to
    /// ([`time::advance`](crate::time::advance)), or by itself when nothing of the runtime
    /// can run until a timer fires: it jumps to that timer. A test of a 30-second timeout
    /// takes as long as its code takes to run. `#[goro::test(start_paused)]` sets it.
    ///
    /// What the paused clock changes: every timer of the runtime ([`sleep`](crate::time::sleep),
    /// [`timeout`](crate::time::timeout), [`interval`](crate::time::interval),
    /// [`after`](crate::time::after), context deadlines) and
    /// [`time::now`](crate::time::now). What it does not: [`std::time::Instant::now`], and the
    /// OS, so a timeout around real I/O that is not ready at once fires at once. A wake from a
    /// thread goro does not run is not waited for: the clock may jump past it; run such work
    /// with [`spawn_blocking`](crate::spawn_blocking), which holds the clock still while it
    /// runs.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = goro::Builder::new().worker_threads(1).start_paused(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = goro::time::now();
    ///     let real = std::time::Instant::now();
    ///     let slow = goro::time::sleep(Duration::from_secs(3600));
    ///     let out = goro::time::timeout(Duration::from_secs(30), slow).await;
    ///     assert!(out.is_err());
    ///     assert_eq!(goro::time::now() - start, Duration::from_secs(30));
    ///     assert!(real.elapsed() < Duration::from_secs(30));
    /// });
    /// ```
    pub fn start_paused(mut self, paused: bool) -> Builder {
        self.start_paused = paused;
        self
    }

    /// Whether [`block_on`](crate::Runtime::block_on) on this runtime reports a deadlock
    /// (default `true`): Go's "all goroutines are asleep - deadlock!".
    ///
    /// While its future waits, a `block_on` thread looks about twice a second at whether
    /// anything could still wake it. When nothing can — in every goro runtime of the process
    /// every worker sleeps with nothing queued, no timer is pending, no socket has a waiting
    /// task, no blocking job runs, no other `block_on` thread is awake, and every thread that
    /// is not goro's is blocked for ever in a futex wait without a timeout — for more than a
    /// second, `block_on` panics with a message that starts `all tasks are asleep -
    /// deadlock!` and lists the live tasks. A thread that runs, sleeps, waits with a timeout
    /// or waits in any other system call (I/O) might still wake a task, and prevents the
    /// report: it never fires on a program that a plain thread, a timer or a socket will
    /// wake. Go, unlike goro, gives up its check as soon as any socket is open.
    ///
    /// It costs one wake-up of the waiting thread every half second. Turn it off to wait for
    /// a wake from outside the process that goro cannot see (a signal handler of your own
    /// that writes to a channel, say).
    ///
    /// ```should_panic
    /// let rt = goro::Builder::new().worker_threads(1).build().unwrap();
    /// rt.block_on(async {
    ///     let (tx, rx) = goro::sync::chan::bounded::<()>(0);
    ///     let _keep_open = tx;
    ///     rx.recv().await; // panics: all tasks are asleep - deadlock!
    /// });
    /// ```
    pub fn detect_deadlocks(mut self, detect: bool) -> Builder {
        self.detect_deadlocks = detect;
        self
    }

    /// Sets how long one poll may hold a worker before the runtime calls the worker blocked
    /// (default [`BLOCKED_WORKER_THRESHOLD`](crate::BLOCKED_WORKER_THRESHOLD), 10 ms);
    /// `None` turns the monitor off.
    ///
    /// goro cannot preempt a task: one that calls `std::thread::sleep`, blocks on a
    /// `std::sync::Mutex` or computes for a long time keeps its worker until its poll
    /// returns. A monitor thread watches the workers, as Go's sysmon does, and when one has
    /// been held this long (time the OS kept the thread waiting for a CPU does not count):
    ///
    /// - its queued tasks are taken by the other workers, its LIFO task included, and timers
    ///   keep firing on a sleeping worker (this happens with the monitor off too);
    /// - if its thread waits in the OS (a blocking system call, a sleep, a lock), a
    ///   *replacement worker* thread takes its place until it returns, so the runtime keeps
    ///   the capacity it was built with, up to [`max_replacement_workers`](Self::max_replacement_workers)
    ///   at once (Go's hand-off of a P whose thread is in a system call); a task that
    ///   computes gets none, since another thread would only share the busy cores;
    /// - the task is reported, once per task, with its name, spawn location and how long
    ///   (see [`on_blocked_worker`](Self::on_blocked_worker); by default on standard error).
    ///
    /// The monitor samples the workers every half threshold (1 to 10 ms) while any worker is
    /// awake, sleeps while every worker sleeps, and its thread exits after 100 ms of that: an
    /// idle runtime has no monitor thread.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = goro::Builder::new()
    ///     .worker_threads(1)
    ///     .blocked_worker_threshold(Some(Duration::from_millis(50)))
    ///     .on_blocked_worker(|report| eprintln!("slow task: {}", report.task().location()))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     let slow = goro::spawn(async { std::thread::sleep(Duration::from_millis(300)) });
    ///     // The only worker is blocked; a replacement runs this one meanwhile.
    ///     let quick = goro::spawn(async { 1 + 1 });
    ///     assert_eq!(quick.await.unwrap(), 2);
    ///     slow.await.unwrap();
    /// });
    /// ```
    pub fn blocked_worker_threshold(mut self, threshold: Option<Duration>) -> Builder {
        self.blocked_threshold = threshold;
        self
    }

    /// Sets the most replacement workers that may run at once (default: as many as the
    /// runtime has workers); 0 keeps the reports and starts no thread. A program that blocks
    /// every worker and every replacement runs with no free worker until one returns, as
    /// without the monitor: the limit keeps it from creating threads without end.
    pub fn max_replacement_workers(mut self, n: usize) -> Builder {
        self.max_replacements = Some(n);
        self
    }

    /// Sends the monitor's reports of blocked workers (see
    /// [`blocked_worker_threshold`](Self::blocked_worker_threshold)) to `f` instead of
    /// standard error: at most one per task, from the monitor thread. A panic of `f` is
    /// contained.
    pub fn on_blocked_worker(
        mut self,
        f: impl Fn(&crate::BlockedWorker) + Send + Sync + 'static,
    ) -> Builder {
        self.on_blocked = Some(crate::executor::monitor::BlockedHook(Arc::new(f)));
        self
    }

    /// Sets how long an idle blocking thread waits for work before it exits (default 10 s).
    pub fn thread_keep_alive(mut self, keep_alive: Duration) -> Builder {
        self.keep_alive = keep_alive;
        self
    }

    /// Runs `f` on each of the runtime's threads, workers and blocking-pool threads alike, as
    /// it starts, before it runs any task: to set up thread-local state of a tracing or
    /// metrics library. A panic of `f` is contained (the thread carries on).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let started = Arc::new(AtomicUsize::new(0));
    /// let count = started.clone();
    /// let rt = goro::Builder::new()
    ///     .worker_threads(2)
    ///     .on_thread_start(move || {
    ///         count.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(rt.spawn_blocking(|| ())).unwrap(); // a blocking thread starts too
    /// drop(rt);
    /// assert!(started.load(Ordering::SeqCst) >= 3);
    /// ```
    pub fn on_thread_start(mut self, f: impl Fn() + Send + Sync + 'static) -> Builder {
        self.hooks.thread_start = Some(Arc::new(f));
        self
    }

    /// Runs `f` on each of the runtime's threads, workers and blocking-pool threads alike,
    /// as it stops (after its last task). Workers stop when the runtime is dropped, and the
    /// drop waits for them; a blocking thread stops after idling for the keep-alive
    /// ([`Builder::thread_keep_alive`]), or soon after the runtime is dropped. A panic of `f`
    /// is contained.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let stopped = Arc::new(AtomicUsize::new(0));
    /// let count = stopped.clone();
    /// let rt = goro::Builder::new()
    ///     .worker_threads(2)
    ///     .on_thread_stop(move || {
    ///         count.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// drop(rt); // joins the workers
    /// assert_eq!(stopped.load(Ordering::SeqCst), 2);
    /// ```
    pub fn on_thread_stop(mut self, f: impl Fn() + Send + Sync + 'static) -> Builder {
        self.hooks.thread_stop = Some(Arc::new(f));
        self
    }

    /// Runs `f` just before each poll of each task of the runtime (blocking calls included),
    /// on the thread that polls it, with the task's id and name: to enter a tracing span or
    /// start a timer. Unset, it costs one branch per poll. A panic of `f` is contained.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let polls = Arc::new(AtomicUsize::new(0));
    /// let count = polls.clone();
    /// let rt = goro::Builder::new()
    ///     .worker_threads(1)
    ///     .on_before_task_poll(move |_task| {
    ///         count.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(rt.spawn(async { goro::yield_now().await })).unwrap();
    /// assert_eq!(polls.load(Ordering::SeqCst), 2); // one yield: two polls
    /// ```
    pub fn on_before_task_poll(
        mut self,
        f: impl Fn(&TaskMeta<'_>) + Send + Sync + 'static,
    ) -> Builder {
        self.hooks.before_poll = Some(Arc::new(f));
        self
    }

    /// Runs `f` just after each poll of each task of the runtime (blocking calls included),
    /// on the thread that polled it, with the task's id and name, even when the poll
    /// panicked; when the poll completed the task, before its result reaches its joiner.
    /// Unset, it costs one branch per poll. A panic of `f` is contained.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let log = seen.clone();
    /// let rt = goro::Builder::new()
    ///     .worker_threads(1)
    ///     .on_after_task_poll(move |task| log.lock().unwrap().push(task.id()))
    ///     .build()
    ///     .unwrap();
    /// let handle = rt.spawn(async { 1 });
    /// let id = handle.id().unwrap();
    /// rt.block_on(handle).unwrap();
    /// assert_eq!(*seen.lock().unwrap(), [id]);
    /// ```
    pub fn on_after_task_poll(
        mut self,
        f: impl Fn(&TaskMeta<'_>) + Send + Sync + 'static,
    ) -> Builder {
        self.hooks.after_poll = Some(Arc::new(f));
        self
    }

    /// For tests of goro itself: `hook` runs before the blocking pool starts each thread, and
    /// an `Err` it returns is handled as if the OS had refused the thread. This is how the
    /// tests make thread creation fail, and recover, deterministically.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    ///
    /// let refuse = Arc::new(AtomicBool::new(true));
    /// let flag = refuse.clone();
    /// let rt = goro::Builder::new()
    ///     .worker_threads(1)
    ///     .blocking_spawn_hook(move || match flag.load(Ordering::SeqCst) {
    ///         true => Err(std::io::Error::from_raw_os_error(11)), // EAGAIN
    ///         false => Ok(()),
    ///     })
    ///     .build()
    ///     .unwrap();
    /// let err = rt.block_on(rt.spawn_blocking(|| 1)).unwrap_err();
    /// assert!(err.spawn_error().is_some());
    /// refuse.store(false, Ordering::SeqCst);
    /// assert_eq!(rt.block_on(rt.spawn_blocking(|| 1)).unwrap(), 1);
    /// ```
    #[doc(hidden)]
    pub fn blocking_spawn_hook(
        mut self,
        hook: impl Fn() -> io::Result<()> + Send + Sync + 'static,
    ) -> Builder {
        self.spawn_hook = Some(SpawnHook(Arc::new(hook)));
        self
    }

    /// Starts the runtime's worker threads.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `GORO_MAXPROCS` is set to something other than a positive integer
    /// (and `worker_threads` was not called), or if the number of workers asked for is above
    /// [`MAX_WORKERS`]; what the OS says if it refuses a thread or a poller.
    ///
    /// ```
    /// let err = goro::Builder::new()
    ///     .worker_threads(goro::MAX_WORKERS + 1)
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub fn build(&self) -> io::Result<Runtime> {
        let workers = match self.worker_threads {
            Some(n) => check_workers(n, "worker_threads")?,
            None => workers_from_env()?,
        };
        Runtime::start(
            workers,
            self.max_blocking_threads,
            self.keep_alive,
            self.thread_name.clone(),
            self.spawn_hook.clone(),
            self.hooks.clone(),
            crate::runtime::Checks {
                start_paused: self.start_paused,
                detect_deadlocks: self.detect_deadlocks,
                monitor: crate::executor::monitor::Settings {
                    threshold: self.blocked_threshold,
                    max_replacements: self.max_replacements.unwrap_or(workers).min(MAX_WORKERS),
                    on_blocked: self.on_blocked.clone(),
                },
            },
        )
    }
}

/// `GORO_MAXPROCS` if set (and not empty), else the available parallelism, capped at
/// [`MAX_WORKERS`].
fn workers_from_env() -> io::Result<usize> {
    let from_env = match std::env::var(MAXPROCS_ENV) {
        Ok(value) => parse_maxprocs(&value)?,
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(v)) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{MAXPROCS_ENV} must be a positive integer, got {v:?}"),
            ))
        }
    };
    match from_env {
        Some(n) => check_workers(n, MAXPROCS_ENV),
        None => {
            let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
            Ok(cpus.min(MAX_WORKERS))
        }
    }
}

/// The value of `GORO_MAXPROCS`: `None` if empty (unset, as in Go).
fn parse_maxprocs(value: &str) -> io::Result<Option<usize>> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{MAXPROCS_ENV} must be a positive integer, got {value:?}"),
        )),
    }
}

/// `n` workers, asked for by `source`, if it is not above [`MAX_WORKERS`].
fn check_workers(n: usize, source: &str) -> io::Result<usize> {
    if n > MAX_WORKERS {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{source} asks for {n} worker threads; goro allows at most {MAX_WORKERS}"),
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maxprocs_accepts_positive_integers_only() {
        assert_eq!(parse_maxprocs("3").unwrap(), Some(3));
        assert_eq!(parse_maxprocs(" 2 ").unwrap(), Some(2));
        assert_eq!(parse_maxprocs("").unwrap(), None);
        assert_eq!(parse_maxprocs("  ").unwrap(), None);
        for bad in ["0", "-1", "two"] {
            let err = parse_maxprocs(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains("GORO_MAXPROCS"), "{err}");
        }
    }

    #[test]
    fn worker_counts_above_the_maximum_are_refused() {
        assert_eq!(check_workers(MAX_WORKERS, "x").unwrap(), MAX_WORKERS);
        let err = check_workers(MAX_WORKERS + 1, "GORO_MAXPROCS").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("at most 1024"), "{err}");
    }
}
