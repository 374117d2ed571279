//! Task dumps: what every live task of a runtime is doing (Go's SIGQUIT goroutine dump, from
//! goro's own bookkeeping).
//!
//! # The bookkeeping
//!
//! Each task's metadata carries an [`Activity`]: its state (scheduled, running, idle), the
//! worker that last polled it, how often it was polled, and when the state last changed.
//! It is written at three moments: by the schedule functions (the task is queued), and by the
//! task's own poll, before (running) and after (idle, if the future is pending). These
//! writes never race with each other: async-task runs a task's poll and its schedule call
//! one after the other, never at once (a wake during the poll is scheduled once the poll has
//! returned), and hands the task from thread to thread with acquire and release. So each
//! write is a plain load and store, no read-modify-write, on the task's own header, which
//! the poll touches anyway. Time stamps come from the coarse monotonic clock (the kernel's
//! last tick, read without a system call or a TSC read: about 6 ns here, where
//! `Instant::now` takes 45 and `rdtsc` 16), which a worker reads at the end of one poll in
//! eight; other state changes on that worker reuse the reading ([`stamp`]). Its
//! resolution, a few milliseconds, is plenty for "idle for 3 s".
//!
//! # Finding the tasks
//!
//! A task is entered in its runtime's registry (`registry.rs`) the first time it parks; a
//! blocking call when it starts. Entering every task at spawn, or at its first poll, would
//! cost each task two lock round trips, and most tasks in a busy program (a request
//! handler's little helpers) finish in their first poll: spawn_many measured 10–30% slower
//! that way. So a dump finds a live task in one of three places:
//!
//! - in the registry, once it has parked: the dump reads its metadata under the shard lock;
//! - in its worker's [`FirstPollSlot`], during its first poll: the worker copies the task's
//!   id, spawn location and start time there before the poll (a few plain stores on cache
//!   lines only that worker writes, under a sequence counter, so a reader never sees a torn
//!   copy and never touches the task's memory, which may be freed at any moment);
//! - nowhere, before its first poll: it waits in a run queue, which cannot be walked
//!   without stopping the workers. Those tasks are counted, not listed
//!   ([`TaskDump::unpolled`]).
//!
//! A task that parks at the end of its first poll registers before it leaves the slot, and
//! a dump reads the slots before the registry, so a task moving from one to the other is
//! never missed (it may be seen twice: the registry's copy wins). A reader may see a state a
//! moment old; it never blocks a worker for longer than one registry shard's walk.
//!
//! # On SIGQUIT
//!
//! With `GORO_DUMP_ON_SIGQUIT=1` in the environment, the first runtime built starts one small
//! thread, `goro-dump`, that waits for SIGQUIT and prints the dump of every live runtime to
//! standard error; the program keeps running (Go prints its dump and exits). The thread waits
//! through goro's own signal handling (`signal.rs`), but with `poll(2)` instead of a reactor:
//! a stuck program may have every worker blocked, and a listener that needs a worker to run
//! would never print. Without the variable nothing is started and SIGQUIT keeps its default
//! action (the process ends with a core dump).

#![allow(unsafe_code)]

use std::cell::Cell;
use std::fmt;
use std::io::Write;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release};
use std::sync::Once;
use std::time::Duration;

use crate::loom;
use crate::runtime::Handle;
use crate::signal::{BlockingListener, Signal};
use crate::task::Meta;

/// The environment variable that makes SIGQUIT print a task dump: `GORO_DUMP_ON_SIGQUIT=1`.
///
/// Read when a runtime is built. Set, the first runtime built installs a SIGQUIT handler
/// and starts one thread, `goro-dump`, which prints the dump of every live runtime to
/// standard error on each SIGQUIT (Ctrl-\ at a terminal, `kill -QUIT <pid>`); the program
/// keeps running, where Go's would exit. It prints even when every worker is blocked.
/// Unset (or any other value), nothing is installed and SIGQUIT keeps its default action.
///
/// ```no_run
/// // GORO_DUMP_ON_SIGQUIT=1 ./server &
/// // kill -QUIT %1    # the server prints its tasks to stderr and carries on
/// if std::env::var_os(goro::DUMP_ON_SIGQUIT_ENV).is_some_and(|v| v == "1") {
///     eprintln!("send SIGQUIT to pid {} for a task dump", std::process::id());
/// }
/// goro::block_on(async { /* serve */ });
/// ```
pub const DUMP_ON_SIGQUIT_ENV: &str = "GORO_DUMP_ON_SIGQUIT";

/// The task's state, in the low bits of `Activity::word`.
const STATE_MASK: u64 = 0b11;
const SCHEDULED: u64 = 0;
const RUNNING: u64 = 1;
const IDLE: u64 = 2;
/// A blocking-pool job rather than an async task.
const BLOCKING: u64 = 1 << 2;
/// The last worker's index plus one (0: none yet, or a blocking-pool thread).
const WORKER_SHIFT: u32 = 3;
const WORKER_MASK: u64 = 0xFFF;
// Every worker index plus one, replacement workers' included, must fit in the field.
const _: () = assert!(2 * crate::builder::MAX_WORKERS < WORKER_MASK as usize);
/// The number of polls, in the remaining high bits.
const POLLS_SHIFT: u32 = 15;

/// What a task has been doing, for dumps (see the module docs).
#[derive(Debug)]
pub(crate) struct Activity {
    /// State, blocking flag, last worker and poll count, packed (the constants above).
    word: AtomicU64,
    /// When the state last changed, in nanoseconds of the coarse clock.
    since: AtomicU64,
}

impl Activity {
    /// A task just spawned: scheduled, never polled.
    pub(crate) fn new(blocking: bool) -> Activity {
        let flags = if blocking { BLOCKING } else { 0 };
        Activity {
            word: AtomicU64::new(SCHEDULED | flags),
            since: AtomicU64::new(stamp()),
        }
    }

    /// The task was queued. Called by the schedule functions.
    #[inline]
    pub(crate) fn scheduled(&self) {
        self.set(|word| (word & !STATE_MASK) | SCHEDULED, stamp());
    }

    /// A poll starts, on worker `worker` (`None` on a blocking-pool thread).
    #[inline]
    pub(crate) fn running(&self, worker: Option<usize>) {
        let index = worker.map_or(0, |i| i as u64 + 1) & WORKER_MASK;
        self.set(
            |word| {
                let keep = word & BLOCKING;
                let polls = (word >> POLLS_SHIFT).wrapping_add(1);
                keep | RUNNING | (index << WORKER_SHIFT) | (polls << POLLS_SHIFT)
            },
            stamp(),
        );
    }

    /// A poll on `worker` ended; the task is idle if the future is `pending` (a finished
    /// task is about to leave the registry and needs no record).
    #[inline]
    pub(crate) fn polled(&self, worker: Option<usize>, pending: bool) {
        let now = match worker {
            Some(_) => end_of_poll(),
            None => read_clock(),
        };
        if pending {
            self.set(|word| (word & !STATE_MASK) | IDLE, now);
        }
    }

    /// One state change: only one thread at a time changes a task's activity (module docs),
    /// so a load and a store suffice.
    #[inline]
    fn set(&self, f: impl FnOnce(u64) -> u64, now: u64) {
        self.word.store(f(self.word.load(Relaxed)), Relaxed);
        self.since.store(now, Relaxed);
    }
}

/// A worker reads the clock at the end of one poll in this many, and stamps the state changes
/// in between with that reading. A clock read (about 6 ns) at every poll made a yield 15%
/// slower; one in 8 is lost in the noise, and between two readings a busy worker runs 8
/// polls, which normally take microseconds: far below the clock's resolution.
const POLLS_PER_CLOCK_READ: u32 = 8;

thread_local! {
    /// On a worker: the coarse time it last read, 0 when unknown (before the first poll, and
    /// from when the worker goes to sleep).
    static NOW: Cell<u64> = const { Cell::new(0) };
    /// On a worker: polls left before it reads the clock again.
    static POLLS_TO_CLOCK_READ: Cell<u32> = const { Cell::new(0) };
}

/// The time stamp of a state change: the worker's cached time if it has one, else the
/// clock.
///
/// A worker's cached time is at most [`POLLS_PER_CLOCK_READ`] polls old, and it forgets the
/// time before it sleeps ([`forget_now`]). So time stamps are as exact as the clock,
/// except after a poll that blocked its worker for a long time: until the worker's next
/// clock read, at most 7 polls later, the state changes on that worker (the blocking task's
/// own idle stamp among them) are stamped as if they happened before that poll, and show
/// that much longer in their state.
#[inline]
fn stamp() -> u64 {
    match NOW.with(Cell::get) {
        0 => read_clock(),
        cached => cached,
    }
}

/// The time at the end of a poll on a worker: the clock once every
/// [`POLLS_PER_CLOCK_READ`] polls, the cached reading otherwise.
#[inline]
fn end_of_poll() -> u64 {
    let left = POLLS_TO_CLOCK_READ.with(Cell::get);
    let cached = NOW.with(Cell::get);
    if left > 0 && cached != 0 {
        POLLS_TO_CLOCK_READ.with(|c| c.set(left - 1));
        return cached;
    }
    refresh_now()
}

/// Reads the clock into the worker's cache. Out of line: the call would otherwise make
/// the poll path save registers around it on every poll.
#[cold]
#[inline(never)]
fn refresh_now() -> u64 {
    let now = coarse_now();
    NOW.with(|c| c.set(now));
    POLLS_TO_CLOCK_READ.with(|c| c.set(POLLS_PER_CLOCK_READ - 1));
    now
}

/// Reads the clock, out of line (see [`refresh_now`]).
#[cold]
#[inline(never)]
fn read_clock() -> u64 {
    coarse_now()
}

/// The worker is going to sleep: its cached time will go stale.
pub(crate) fn forget_now() {
    NOW.with(|c| c.set(0));
}

/// What a worker shows of the task in its first poll (see the module docs): written only by
/// its worker, read by dumps.
///
/// A sequence lock: the worker makes `seq` odd, writes the fields, makes it even again; a
/// reader that finds `seq` even and unchanged across its reads of the fields read one
/// consistent copy (the fields are atomics, so a torn read is a stale value, never undefined
/// behaviour, and the sequence check rejects it). A loom model checks it.
///
/// On cache lines of its own: the worker writes it twice per first poll, and sharing a line
/// with what its peers read all the time (the steal end of its queue) made spawning a task
/// 3–4% slower.
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct FirstPollSlot {
    /// Odd while the worker writes; changes with every write.
    seq: loom::AtomicU64,
    /// The task's id; 0 when the worker is not in a first poll.
    id: loom::AtomicU64,
    /// The task's spawn location (always a `&'static Location`, or null).
    location: loom::AtomicPtr<Location<'static>>,
    /// When the poll started.
    since: loom::AtomicU64,
}

impl Default for FirstPollSlot {
    fn default() -> FirstPollSlot {
        FirstPollSlot {
            seq: loom::AtomicU64::new(0),
            id: loom::AtomicU64::new(0),
            location: loom::AtomicPtr::new(std::ptr::null_mut()),
            since: loom::AtomicU64::new(0),
        }
    }
}

/// How often a dump retries reading a slot that its worker keeps rewriting (a task that
/// finishes in its first poll is gone by the next try anyway). Two under loom, which would
/// otherwise explore every retry.
const SLOT_READ_ATTEMPTS: usize = if cfg!(all(test, goro_loom)) { 2 } else { 100 };

impl FirstPollSlot {
    /// The worker starts the first poll of `meta`'s task.
    #[inline]
    pub(crate) fn show(&self, meta: &Meta) {
        let location = meta.location() as *const Location<'static>;
        self.write(meta.id(), location.cast_mut(), stamp());
    }

    /// The first poll is over.
    #[inline]
    pub(crate) fn clear(&self) {
        self.write(0, std::ptr::null_mut(), 0);
    }

    /// The writer's side of the sequence lock (one writer: the worker).
    #[inline]
    fn write(&self, id: u64, location: *mut Location<'static>, since: u64) {
        let seq = self.seq.load(Relaxed);
        self.seq.store(seq.wrapping_add(1), Relaxed);
        loom::fence(Release);
        self.id.store(id, Relaxed);
        self.location.store(location, Relaxed);
        self.since.store(since, Relaxed);
        self.seq.store(seq.wrapping_add(2), Release);
    }

    /// The task in its first poll on worker `worker`, if any.
    fn read(&self, worker: usize, now: u64) -> Option<TaskInfo> {
        for _ in 0..SLOT_READ_ATTEMPTS {
            let before = self.seq.load(Acquire);
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let id = self.id.load(Relaxed);
            let location = self.location.load(Relaxed);
            let since = self.since.load(Relaxed);
            loom::fence(Acquire);
            if self.seq.load(Relaxed) != before {
                continue;
            }
            if id == 0 || location.is_null() {
                return None;
            }
            // SAFETY: the slot only ever holds null or a `&'static Location` (`show`), and
            // the sequence check above proves `location` was written together with `id`.
            let location: &'static Location<'static> = unsafe { &*location };
            return Some(TaskInfo {
                id,
                name: None,
                location,
                state: TaskState::Running,
                since: Duration::from_nanos(now.saturating_sub(since)),
                polls: 1,
                last_worker: Some(worker),
                blocking: false,
            });
        }
        None
    }
}

/// Which clock the time stamps use: the kernel's tick-granular one where it exists.
#[cfg(any(target_os = "linux", target_os = "android"))]
const COARSE_CLOCK: libc::clockid_t = libc::CLOCK_MONOTONIC_COARSE;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const COARSE_CLOCK: libc::clockid_t = libc::CLOCK_MONOTONIC;

/// Now, in nanoseconds of the coarse monotonic clock.
#[inline]
fn coarse_now() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and the clock id is one this OS supports;
    // `clock_gettime` writes nothing else. It cannot fail with these arguments; if it did,
    // `ts` would stay zero and the dump would show a wrong duration, nothing worse.
    unsafe { libc::clock_gettime(COARSE_CLOCK, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

/// What a task is doing, in a [`TaskInfo`].
///
/// ```
/// use goro::task::TaskState;
///
/// goro::block_on(async {
///     let me = goro::spawn(async {
///         let dump = goro::dump_tasks();
///         let me = dump.tasks().iter().find(|t| t.state() == TaskState::Running);
///         me.is_some()
///     });
///     assert!(me.await.unwrap());
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskState {
    /// Waiting in a run queue to be polled (just spawned, woken, or yielding).
    Scheduled,
    /// Being polled right now, on a worker or (for a blocking call) a blocking-pool thread.
    Running,
    /// Its last poll returned `Pending`: waiting for a wake (a channel, a timer, a socket).
    Idle,
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskState::Scheduled => "scheduled",
            TaskState::Running => "running",
            TaskState::Idle => "idle",
        })
    }
}

/// One live task in a [`TaskDump`].
///
/// ```
/// use goro::task::TaskState;
///
/// goro::block_on(async {
///     let (_tx, rx) = goro::sync::chan::bounded::<()>(0);
///     let task = goro::task::Builder::new()
///         .name("waiter")
///         .spawn(async move { rx.recv().await });
///     let info = loop {
///         let dump = goro::dump_tasks();
///         match dump.tasks().iter().find(|t| t.name() == Some("waiter")) {
///             Some(info) if info.state() == TaskState::Idle => break info.clone(),
///             _ => goro::time::sleep(std::time::Duration::from_millis(1)).await,
///         }
///     };
///     assert_eq!(info.id(), task.id().unwrap());
///     assert!(info.polls() >= 1);
///     assert!(info.location().file().ends_with(".rs"));
///     println!("{info}"); // task 94502795616400 "waiter" [idle 1.0ms, 1 poll, last on worker 0]
///     task.abort();
/// });
/// ```
#[derive(Debug, Clone)]
pub struct TaskInfo {
    /// The task's id ([`JoinHandle::id`](crate::JoinHandle::id)).
    id: u64,
    /// The task's name, if it has one.
    name: Option<String>,
    /// Where it was spawned.
    location: &'static Location<'static>,
    /// What it was doing when the dump was taken.
    state: TaskState,
    /// How long it had been in that state.
    since: Duration,
    /// How often it was polled.
    polls: u64,
    /// The worker that last polled it.
    last_worker: Option<usize>,
    /// A blocking-pool job rather than an async task.
    blocking: bool,
}

impl TaskInfo {
    /// The task's id, as [`JoinHandle::id`](crate::JoinHandle::id) gives it.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The task's name, if it was spawned with one ([`Builder::name`](crate::task::Builder::name)).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned (the caller of `spawn`).
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// What the task was doing when the dump was taken.
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// How long the task had been in that state, to within a few milliseconds.
    pub fn since(&self) -> Duration {
        self.since
    }

    /// How often the task has been polled (a blocking call is polled once).
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// The worker that last polled the task (see [`worker_index`](crate::worker_index));
    /// `None` if it was never polled, and for a blocking call.
    pub fn last_worker(&self) -> Option<usize> {
        self.last_worker
    }

    /// True for a blocking call ([`spawn_blocking`](crate::spawn_blocking)).
    pub fn is_blocking(&self) -> bool {
        self.blocking
    }

    /// Reads the task's metadata (under its registry shard's lock: nothing slow here).
    fn read(meta: &Meta, now: u64) -> TaskInfo {
        let activity = meta.activity();
        let word = activity.word.load(Relaxed);
        let since = activity.since.load(Relaxed);
        let state = match word & STATE_MASK {
            RUNNING => TaskState::Running,
            IDLE => TaskState::Idle,
            _ => TaskState::Scheduled,
        };
        let worker = (word >> WORKER_SHIFT) & WORKER_MASK;
        TaskInfo {
            id: meta.id(),
            name: None,
            location: meta.location(),
            state,
            since: Duration::from_nanos(now.saturating_sub(since)),
            polls: word >> POLLS_SHIFT,
            last_worker: (worker > 0).then(|| worker as usize - 1),
            blocking: word & BLOCKING != 0,
        }
    }
}

impl fmt::Display for TaskInfo {
    /// Two lines, Go-like: `task 17 "name" [idle 3.2s, 5 polls, last on worker 1]` and
    /// `    spawned at src/main.rs:12:5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.id)?;
        if let Some(name) = &self.name {
            write!(f, " {name:?}")?;
        }
        if self.blocking {
            f.write_str(" (blocking)")?;
        }
        let plural = if self.polls == 1 { "" } else { "s" };
        write!(
            f,
            " [{} {:.1?}, {} poll{plural}",
            self.state, self.since, self.polls
        )?;
        match (self.last_worker, self.state) {
            (Some(w), TaskState::Running) => write!(f, ", on worker {w}")?,
            (Some(w), _) => write!(f, ", last on worker {w}")?,
            (None, TaskState::Running) if self.blocking => f.write_str(", on a blocking thread")?,
            (None, _) => {}
        }
        write!(f, "]\n    spawned at {}", self.location)
    }
}

/// The live tasks of a runtime at one moment, from [`dump_tasks`] or
/// [`Runtime::dump_tasks`](crate::Runtime::dump_tasks): Go's goroutine dump.
///
/// `Display` prints one block per task, the longest in its state first:
///
/// ```text
/// goro: 2 live tasks
///
/// task 94502795616400 "fetcher" [idle 3.2s, 5 polls, last on worker 1]
///     spawned at src/main.rs:12:5
///
/// task 94502795617024 [running 1.5ms, 1 poll, on worker 0]
///     spawned at src/main.rs:20:9
/// ```
///
/// ```
/// goro::block_on(async {
///     let sleeper = goro::task::Builder::new()
///         .name("sleeper")
///         .spawn(goro::time::sleep(std::time::Duration::from_secs(60)));
///     while goro::dump_tasks().unpolled() > 0 {
///         goro::yield_now().await; // until the sleeper's first poll
///     }
///     let dump = goro::dump_tasks();
///     assert!(dump.tasks().iter().any(|t| t.name() == Some("sleeper")));
///     eprintln!("{dump}");
///     sleeper.abort();
/// });
/// ```
#[derive(Debug, Clone)]
pub struct TaskDump {
    /// One entry per live task polled at least once, the longest in its state first.
    tasks: Vec<TaskInfo>,
    /// Live tasks never polled yet.
    unpolled: usize,
}

impl TaskDump {
    /// The live tasks that have been polled at least once, the longest in its state first.
    pub fn tasks(&self) -> &[TaskInfo] {
        &self.tasks
    }

    /// The number of live tasks not polled yet: spawned and waiting in a run queue for
    /// their first poll. They are counted, not listed (see the module docs). Together with
    /// [`tasks`](TaskDump::tasks) they make up [`num_tasks`](crate::num_tasks), give or take
    /// the tasks spawned or finished while the dump was taken.
    ///
    /// ```
    /// let rt = goro::Builder::new().worker_threads(1).build().unwrap();
    /// let dump = rt.block_on(rt.spawn(async {
    ///     // This task holds the only worker: the new one cannot be polled yet.
    ///     goro::spawn(async {});
    ///     goro::dump_tasks()
    /// }));
    /// assert_eq!(dump.unwrap().unpolled(), 1);
    /// ```
    pub fn unpolled(&self) -> usize {
        self.unpolled
    }
}

impl fmt::Display for TaskDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let live = self.tasks.len() + self.unpolled;
        let plural = if live == 1 { "" } else { "s" };
        write!(f, "goro: {live} live task{plural}")?;
        if self.unpolled > 0 {
            write!(f, ", {} not polled yet (not listed)", self.unpolled)?;
        }
        for task in &self.tasks {
            write!(f, "\n\n{task}")?;
        }
        Ok(())
    }
}

/// The dump of the runtime behind `handle`.
pub(crate) fn snapshot(handle: &Handle) -> TaskDump {
    let now = coarse_now();
    // The slots first, then the registry (see the module docs).
    let first_polls: Vec<TaskInfo> = (handle.executor.remotes.iter().enumerate())
        .filter_map(|(i, remote)| remote.first_poll.read(i, now))
        .collect();
    let mut tasks = Vec::with_capacity(handle.tasks.live());
    let mut named = Vec::new();
    handle.tasks.for_each(|meta| {
        if meta.is_named() {
            named.push(tasks.len());
        }
        tasks.push(TaskInfo::read(meta, now));
    });
    for info in first_polls {
        if !tasks.iter().any(|t| t.id == info.id) {
            named.push(tasks.len());
            tasks.push(info);
        }
    }
    // Names live in a side table with its own lock, taken outside the shards' locks.
    for i in named {
        tasks[i].name = handle.tasks.name_of(tasks[i].id);
    }
    tasks.sort_by(|a, b| b.since.cmp(&a.since).then(a.id.cmp(&b.id)));
    let unpolled = handle.tasks.live().saturating_sub(tasks.len());
    TaskDump { tasks, unpolled }
}

/// The live tasks of the current runtime (the one this code runs on, or the global one):
/// their names, spawn locations, states and poll counts. Go's SIGQUIT dump, or
/// `runtime.Stack(buf, true)`, without the stacks (a future has none to show).
///
/// The bookkeeping behind it is always on and costs a few nanoseconds per poll. To get a
/// dump from a stuck program without changing it, run it with `GORO_DUMP_ON_SIGQUIT=1` and
/// send it SIGQUIT (Ctrl-\ at a terminal, or `kill -QUIT <pid>`): every live runtime's dump
/// goes to standard error, and the program keeps running.
///
/// ```
/// goro::block_on(async {
///     let (tx, rx) = goro::sync::chan::bounded::<u32>(0);
///     let consumer = goro::task::Builder::new()
///         .name("consumer")
///         .spawn(async move { rx.recv().await });
///     let dump = goro::dump_tasks();
///     assert_eq!(dump.tasks().len() + dump.unpolled(), goro::num_tasks());
///     eprintln!("{dump}");
///     tx.send(1).await.unwrap();
///     assert_eq!(consumer.await.unwrap(), Some(1));
/// });
/// ```
pub fn dump_tasks() -> TaskDump {
    crate::current::with_handle(|h| snapshot(h))
}

/// Starts the SIGQUIT thread once.
static WATCHER: Once = Once::new();

/// Called when a runtime starts: with `GORO_DUMP_ON_SIGQUIT=1`, starts the `goro-dump`
/// thread if it is not running yet. (The runtime is already on the list of live runtimes
/// that `deadlock.rs` keeps, which the thread prints.)
pub(crate) fn on_runtime_start() {
    if std::env::var_os(DUMP_ON_SIGQUIT_ENV).is_none_or(|v| v != "1") {
        return;
    }
    WATCHER.call_once(|| {
        // Listening starts here, before the runtime is handed out: a SIGQUIT sent once the
        // program is up finds the handler installed, not the default action.
        let listener = match BlockingListener::new(&[Signal::Quit]) {
            Ok(listener) => listener,
            Err(e) => {
                eprintln!("goro: {DUMP_ON_SIGQUIT_ENV} is set, but SIGQUIT cannot be caught: {e}");
                return;
            }
        };
        let started = std::thread::Builder::new()
            .name("goro-dump".into())
            .spawn(move || watch_sigquit(listener));
        if let Err(e) = started {
            eprintln!("goro: {DUMP_ON_SIGQUIT_ENV} is set, but the dump thread did not start: {e}");
        }
    });
}

/// The `goro-dump` thread: prints every live runtime's dump on each SIGQUIT.
fn watch_sigquit(mut listener: BlockingListener) {
    // It waits in poll(2), which the deadlock check counts as a thread that might still wake
    // a task; it wakes none (it only prints), so it is marked as goro's own.
    let _goro_thread = crate::deadlock::GoroThread::enter();
    loop {
        if let Err(e) = listener.recv() {
            eprintln!("goro: the SIGQUIT dump thread stops: {e}");
            return;
        }
        print_all();
    }
}

/// The task in a poll on worker `worker`, if any (the monitor's report, `monitor.rs`).
/// Walks the registry without copying it: with a million tasks a full snapshot would be a
/// hundred megabytes, which an allocator may keep after it is freed.
pub(crate) fn running_on(handle: &Handle, worker: usize) -> Option<TaskInfo> {
    let now = coarse_now();
    let mut found = handle.executor.remotes[worker].first_poll.read(worker, now);
    if found.is_none() {
        handle.tasks.for_each(|meta| {
            if found.is_none() {
                let info = TaskInfo::read(meta, now);
                if info.state == TaskState::Running
                    && info.last_worker == Some(worker)
                    && !info.blocking
                {
                    found = Some(info);
                }
            }
        });
    }
    let mut info = found?;
    info.name = handle.tasks.name_of(info.id);
    Some(info)
}

/// Writes the dump of every live runtime to standard error, in one piece.
fn print_all() {
    let runtimes = crate::deadlock::live_runtimes();
    let mut out = String::from("SIGQUIT: goro task dump\n");
    for (i, handle) in runtimes.iter().enumerate() {
        let workers = handle.executor.num_workers;
        out.push_str(&format!(
            "\nruntime {i} ({workers} workers): {}\n",
            snapshot(handle)
        ));
    }
    out.push('\n');
    let _ = std::io::stderr().lock().write_all(out.as_bytes());
}

#[cfg(all(test, goro_loom))]
mod loom_tests {
    use super::*;

    use ::loom::thread;

    #[test]
    fn loom_a_dump_reads_a_first_poll_slot_whole_or_not_at_all() {
        ::loom::model(|| {
            let slot = std::sync::Arc::new(FirstPollSlot::default());
            let (a, b): (&'static Location<'static>, &'static Location<'static>) =
                (Location::caller(), Location::caller());
            let worker = {
                let slot = slot.clone();
                thread::spawn(move || {
                    slot.write(1, (a as *const Location<'static>).cast_mut(), 10);
                    slot.clear();
                    slot.write(2, (b as *const Location<'static>).cast_mut(), 20);
                })
            };
            if let Some(info) = slot.read(0, 100) {
                let seen = (info.id(), info.location() as *const _, info.since());
                let first = (1, a as *const _, Duration::from_nanos(90));
                let second = (2, b as *const _, Duration::from_nanos(80));
                assert!(seen == first || seen == second, "a torn read: {info:?}");
            }
            worker.join().unwrap();
            let last = slot.read(0, 100).expect("the last task shown");
            assert_eq!(last.id(), 2);
        });
    }
}
