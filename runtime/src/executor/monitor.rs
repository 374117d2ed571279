//! The monitor: what goro does about a task that blocks its worker (Go's `sysmon`).
//!
//! goro cannot preempt a task: a poll that runs a long loop or calls `std::thread::sleep`
//! keeps its worker until it returns. The rest of the runtime already routes around such a
//! worker: idle peers steal its queue and take its LIFO task (`worker.rs`), and a sleeping
//! peer fires the timers (`driver.rs`). What is left is its *capacity*: with one of two
//! workers blocked, the runtime runs on one. Go solves this by handing the blocked thread's
//! P to a new thread; goro does the same with *replacement workers*.
//!
//! # The monitor thread
//!
//! One thread per runtime, `{name}-monitor`, samples every worker's tick (`Remote::tick`,
//! bumped at each turn of the worker's loop) every [`Monitor::period`]. A worker whose tick
//! has not moved for the threshold (default [`DEFAULT_THRESHOLD`], see
//! [`Builder::blocked_worker_threshold`](crate::Builder::blocked_worker_threshold)), and
//! that is not asleep, is *blocked*: one poll has held it that long. Time the kernel kept the
//! thread waiting for a CPU (`/proc/thread-self/schedstat`; for a thread that is not asleep
//! in the kernel, only its CPU time counts) does not count: on a loaded machine a preempted
//! worker is not the task's fault. For each blocked worker the monitor
//!
//! - reports the task in that poll, once per task (its id, name, spawn location and how
//!   long so far), to the runtime's
//!   [`on_blocked_worker`](crate::Builder::on_blocked_worker) callback or to standard error;
//! - if the worker's thread waits in the OS (a blocking system call, a sleep, a lock: its
//!   state in `/proc/thread-self/stat` is `S` or `D` at a sample), starts a replacement
//!   worker, up to the runtime's limit (by default as many as it has workers), so that the
//!   number of workers able to run tasks stays what it was built with. This is Go's rule:
//!   sysmon hands a P to a new thread when its goroutine is in a system call. A task that
//!   computes gets no replacement: the cores are busy, and another thread would only share
//!   them (Go preempts such a goroutine; goro cannot, and reports it).
//!
//! # Replacement workers
//!
//! A replacement is an ordinary worker on a slot of its own, past the runtime's workers
//! (`Shared::remotes`, with its local queue and LIFO slot): it joins the sleep bookkeeping
//! awake and searching (`idle.rs`, "Replacement workers"), steals the blocked worker's
//! queue, takes its LIFO task, drives the reactor when it sleeps. It leaves when there are
//! more replacements than blocked workers: at its next sleep, at its next maintenance turn
//! (it hands what it holds to the injector), or, when it sleeps already, once the monitor
//! wakes it to leave. Its slot (queue, parker) goes back to the monitor for the next one.
//!
//! # When the monitor sleeps
//!
//! A monitor that sampled all the time would wake an idle program 200 times a second. So when
//! every worker sleeps it sleeps too, on its gate (below), until a worker wakes, and if no
//! worker wakes for [`IDLE_EXIT`] its thread exits: an idle runtime has no monitor thread.
//! The next worker to wake starts a new one.
//!
//! # Why a blocked worker is never left unwatched
//!
//! The gate is one atomic word, `STOPPED`, `AWAKE` or `ASLEEP`, changed under a mutex. The
//! monitor goes to sleep by storing `ASLEEP` and then reading, with an RMW, whether every
//! worker sleeps (`Idle::all_sleeping`); a worker that wakes is first counted awake (an RMW
//! on the same word, by itself or by whoever woke it) and then reads the gate
//! ([`Monitor::worker_awake`]). Of two threads that each write one word and then read the
//! other's with sequentially consistent operations, at least one sees the other's write:
//! either the monitor sees the worker awake and keeps sampling, or the worker sees `ASLEEP`
//! (or `STOPPED`) and, under the mutex, wakes (or starts) the monitor. The mutex makes the
//! wake itself safe: the monitor holds it from storing `ASLEEP` until it waits on the
//! condition variable. The loom model below checks it.

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::idle::Idle;
use super::worker::Core;
use crate::loom;
use crate::park::Parker;
use crate::runtime::Handle;
use crate::task::TaskInfo;

/// How long one poll may hold a worker before the monitor calls the worker blocked, unless
/// the builder says otherwise. Go's sysmon retakes a P blocked in a system call after 20 µs
/// to 10 ms; 10 ms is far beyond any poll that does not block (microseconds), and short
/// enough that a blocked worker costs little.
pub const DEFAULT_THRESHOLD: Duration = Duration::from_millis(10);

/// How long a monitor with every worker asleep waits for one to wake before its thread exits.
pub(crate) const IDLE_EXIT: Duration = Duration::from_millis(100);

/// What a runtime's builder chose for its monitor.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// How long a poll may hold a worker; `None`: no monitor at all.
    pub(crate) threshold: Option<Duration>,
    /// The most replacement workers at once.
    pub(crate) max_replacements: usize,
    /// Where reports go; `None`: standard error.
    pub(crate) on_blocked: Option<BlockedHook>,
}

/// The callback of [`Builder::on_blocked_worker`](crate::Builder::on_blocked_worker).
#[derive(Clone)]
pub(crate) struct BlockedHook(pub(crate) Arc<dyn Fn(&BlockedWorker) + Send + Sync + 'static>);

impl fmt::Debug for BlockedHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlockedHook")
    }
}

/// A task that held its worker for longer than the runtime's threshold, as the monitor
/// reports it (once per task) to
/// [`Builder::on_blocked_worker`](crate::Builder::on_blocked_worker), or, by default, to
/// standard error:
///
/// ```text
/// goro: task 7 "resize" held worker 1 for 12ms in one poll, blocked in the OS; a replacement
/// worker runs the other tasks meanwhile
///     spawned at src/main.rs:21:5
///     Blocking calls belong in goro::spawn_blocking; a long computation should call
///     goro::yield_now().await now and then.
/// ```
#[derive(Debug, Clone)]
pub struct BlockedWorker {
    /// The blocked worker's index.
    worker: usize,
    /// The task in the poll that blocks it.
    task: TaskInfo,
    /// How long the poll had held the worker when the monitor noticed.
    blocked_for: Duration,
    /// Whether a replacement worker was started.
    replaced: bool,
    /// Whether the worker's thread was on a CPU (computing) rather than waiting in the OS.
    on_cpu: bool,
}

impl BlockedWorker {
    /// The blocked worker's index (as [`worker_index`](crate::worker_index) gives it; a
    /// replacement worker's index is past the runtime's workers).
    pub fn worker(&self) -> usize {
        self.worker
    }

    /// The task in the poll that blocks the worker: its id, name and spawn location.
    pub fn task(&self) -> &TaskInfo {
        &self.task
    }

    /// How long the poll had held the worker when the monitor noticed (at least the
    /// threshold; the task may go on blocking after the report).
    pub fn blocked_for(&self) -> Duration {
        self.blocked_for
    }

    /// Whether a replacement worker took the blocked worker's place; false when the task
    /// was computing ([`on_cpu`](Self::on_cpu)), or the runtime's replacements were all in
    /// use (or it allows none).
    pub fn replaced(&self) -> bool {
        self.replaced
    }

    /// Whether the worker's thread was busy on a CPU (a long computation) rather than
    /// waiting in the OS (a blocking system call, a sleep, a lock). A computing task gets no
    /// replacement: with the cores busy, another thread would only share them.
    pub fn on_cpu(&self) -> bool {
        self.on_cpu
    }
}

impl fmt::Display for BlockedWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.task.id())?;
        if let Some(name) = self.task.name() {
            write!(f, " {name:?}")?;
        }
        write!(
            f,
            " held worker {} for {:?} in one poll, ",
            self.worker,
            Duration::from_millis(self.blocked_for.as_millis() as u64),
        )?;
        if self.on_cpu {
            f.write_str("computing; the other workers take the tasks queued behind it")?;
        } else if self.replaced {
            f.write_str("blocked in the OS; a replacement worker runs the other tasks meanwhile")?;
        } else {
            f.write_str("blocked in the OS; no replacement worker was free")?;
        }
        write!(
            f,
            "\n    spawned at {}\n    Blocking calls belong in goro::spawn_blocking; a long \
             computation should call goro::yield_now().await now and then.",
            self.task.location()
        )
    }
}

/// The gate's states (see "Why a blocked worker is never left unwatched").
const STOPPED: usize = 0;
const AWAKE: usize = 1;
const ASLEEP: usize = 2;

/// Where the monitor sleeps while every worker does, and how a waking worker reaches it.
#[derive(Debug)]
pub(crate) struct Gate {
    /// `STOPPED`, `AWAKE` or `ASLEEP`; changed only under `lock`.
    state: loom::AtomicUsize,
    lock: loom::Mutex<()>,
    cvar: loom::Condvar,
}

/// What a waking worker must do about the monitor.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Nothing: it is awake.
    Nothing,
    /// Start a monitor thread: there is none (the gate now says `AWAKE`).
    Start,
}

/// How the monitor's sleep ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Woken {
    /// A worker is awake (or woke it): sample again.
    Sample,
    /// Nobody woke it for the whole wait: the thread exits (the gate says `STOPPED`).
    Exit,
}

impl Gate {
    fn new() -> Gate {
        Gate {
            state: loom::AtomicUsize::new(STOPPED),
            lock: loom::Mutex::new(()),
            cvar: loom::Condvar::new(),
        }
    }

    fn lock(&self) -> loom::MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A worker was counted awake: reach the monitor if it sleeps or is gone. The common
    /// case is one load.
    pub(crate) fn worker_awake(&self) -> Reach {
        if self.state.load(SeqCst) == AWAKE {
            return Reach::Nothing;
        }
        let _guard = self.lock();
        match self.state.swap(AWAKE, SeqCst) {
            ASLEEP => {
                self.cvar.notify_all();
                Reach::Nothing
            }
            STOPPED => Reach::Start,
            _ => Reach::Nothing,
        }
    }

    /// The monitor sleeps while every worker does, at most `exit_after`; see the module
    /// docs for why a waking worker always ends the sleep.
    pub(crate) fn sleep_while_idle(&self, idle: &Idle, exit_after: Duration) -> Woken {
        let mut guard = self.lock();
        self.state.store(ASLEEP, SeqCst);
        if !idle.all_sleeping() {
            self.state.store(AWAKE, SeqCst);
            return Woken::Sample;
        }
        let deadline = Instant::now() + exit_after;
        loop {
            if self.state.load(SeqCst) != ASLEEP {
                return Woken::Sample;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                self.state.store(STOPPED, SeqCst);
                return Woken::Exit;
            }
            guard = (self.cvar.wait_timeout(guard, left))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The monitor waits `period` between samples, or less if woken (shutdown).
    fn nap(&self, period: Duration) {
        let guard = self.lock();
        drop(self.cvar.wait_timeout(guard, period));
    }

    /// Wakes a napping or sleeping monitor (shutdown), which then sees the runtime stopped.
    fn wake(&self) {
        let _guard = self.lock();
        if self.state.load(SeqCst) == ASLEEP {
            self.state.store(AWAKE, SeqCst);
        }
        self.cvar.notify_all();
    }

    /// The thread could not be started: the next worker to wake tries again.
    fn start_failed(&self) {
        let _guard = self.lock();
        self.state.store(STOPPED, SeqCst);
    }
}

/// A replacement worker's slot when no replacement runs on it.
#[derive(Debug)]
pub(crate) struct FreeSlot {
    pub(crate) core: Core,
    pub(crate) parker: Parker,
}

/// A runtime's monitor (see the module docs).
#[derive(Debug)]
pub(crate) struct Monitor {
    settings: Settings,
    /// The runtime's own workers: slots `0..num_workers`; replacements use the rest.
    num_workers: usize,
    /// Prefix of the thread names.
    thread_name: String,
    gate: Gate,
    /// Replacement slots not in use, by slot index minus `num_workers`.
    free: Mutex<Vec<Option<FreeSlot>>>,
    /// The monitor's thread and the replacements', joined at shutdown.
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// Workers the monitor last found blocked.
    blocked: AtomicUsize,
    /// Replacement workers running (and not leaving).
    replacements: AtomicUsize,
}

impl Monitor {
    pub(crate) fn new(
        settings: Settings,
        num_workers: usize,
        thread_name: String,
        free: Vec<FreeSlot>,
    ) -> Monitor {
        Monitor {
            settings,
            num_workers,
            thread_name,
            gate: Gate::new(),
            free: Mutex::new(free.into_iter().map(Some).collect()),
            threads: Mutex::new(Vec::new()),
            blocked: AtomicUsize::new(0),
            replacements: AtomicUsize::new(0),
        }
    }

    /// How many replacement slots the runtime was built with.
    pub(crate) fn slots(settings: &Settings) -> usize {
        if settings.threshold.is_some() {
            settings.max_replacements
        } else {
            0
        }
    }

    /// The time between two samples: half the threshold, between 1 and 10 ms.
    fn period(&self, threshold: Duration) -> Duration {
        (threshold / 2).clamp(Duration::from_millis(1), Duration::from_millis(10))
    }

    /// Whether a replacement may be running (a cheap hint, for wake decisions that are
    /// only an optimisation).
    pub(crate) fn any_replacement(&self) -> bool {
        self.replacements.load(Relaxed) > 0
    }

    /// Starts the monitor thread (at runtime start, when every worker is awake).
    pub(crate) fn start(&self, handle: &Arc<Handle>) {
        self.worker_awake(handle);
    }

    /// A worker left its sleep to run tasks: make sure the monitor watches.
    #[inline]
    pub(crate) fn worker_awake(&self, handle: &Arc<Handle>) {
        if self.settings.threshold.is_some() && self.gate.worker_awake() == Reach::Start {
            self.spawn_monitor(handle);
        }
    }

    fn spawn_monitor(&self, handle: &Arc<Handle>) {
        if handle.is_shutdown() {
            return self.gate.start_failed();
        }
        let h = handle.clone();
        let spawned = thread::Builder::new()
            .name(format!("{}-monitor", self.thread_name))
            .spawn(move || run(&h));
        match spawned {
            Ok(thread) => self.keep_thread(thread),
            // No thread: nothing is watched until a worker wakes again and retries.
            Err(_) => self.gate.start_failed(),
        }
    }

    fn keep_thread(&self, thread: JoinHandle<()>) {
        let mut threads = lock(&self.threads);
        threads.retain(|t| !t.is_finished());
        threads.push(thread);
    }

    /// A replacement worker asks whether it should leave: true (and it is no longer counted)
    /// when replacements outnumber the blocked workers.
    pub(crate) fn try_retire(&self) -> bool {
        let mut current = self.replacements.load(SeqCst);
        loop {
            if current <= self.blocked.load(SeqCst) {
                return false;
            }
            match (self.replacements).compare_exchange(current, current - 1, SeqCst, SeqCst) {
                Ok(_) => return true,
                Err(now) => current = now,
            }
        }
    }

    /// A replacement that chose to leave could not (it had been given work): it stays.
    pub(crate) fn cancel_retire(&self) {
        self.replacements.fetch_add(1, SeqCst);
    }

    /// A replacement worker's thread is done with slot `index`.
    pub(crate) fn slot_free(&self, index: usize, slot: FreeSlot) {
        lock(&self.free)[index - self.num_workers] = Some(slot);
    }

    /// Wakes the monitor and joins its thread and the replacements' (shutdown). Not from a
    /// replacement worker itself (it would join itself).
    pub(crate) fn shutdown(&self, join: bool) {
        self.gate.wake();
        // Until none is left: a replacement started while the monitor was stopping is
        // joined in a later round (the monitor starts none once it has stopped).
        if !join {
            return;
        }
        loop {
            let threads = std::mem::take(&mut *lock(&self.threads));
            if threads.is_empty() {
                break;
            }
            for thread in threads {
                let _ = thread.join();
            }
        }
    }

    /// Starts a replacement worker on a free slot; false if none is free or the OS refused
    /// a thread.
    fn start_replacement(&self, handle: &Arc<Handle>) -> bool {
        if handle.is_shutdown() || self.replacements.load(SeqCst) >= self.settings.max_replacements
        {
            return false;
        }
        let taken = lock(&self.free)
            .iter_mut()
            .enumerate()
            .find_map(|(i, s)| Some((i + self.num_workers, s.take()?)));
        let Some((index, slot)) = taken else {
            return false;
        };
        self.replacements.fetch_add(1, SeqCst);
        let executor = &handle.executor;
        executor.idle.add_spare();
        let h = handle.clone();
        let slot = Arc::new(Mutex::new(Some(slot)));
        let for_thread = slot.clone();
        let spawned = thread::Builder::new()
            .name(format!("{}-worker-{index}", self.thread_name))
            .spawn(move || {
                let FreeSlot { core, parker } = lock(&for_thread).take().expect("slot");
                super::worker::run_replacement(h, index, core, parker);
            });
        match spawned {
            Ok(thread) => {
                self.keep_thread(thread);
                true
            }
            Err(_) => {
                // Undo: the slot back, the counts down (re-checking the queues as a
                // searcher leaving would).
                if let Some(slot) = lock(&slot).take() {
                    self.slot_free(index, slot);
                }
                self.replacements.fetch_sub(1, SeqCst);
                if executor.idle.retire(true) && executor.has_work() {
                    executor.notify_parked();
                }
                false
            }
        }
    }

    /// Wakes every sleeping replacement, so that the ones no longer needed leave.
    fn wake_replacements(&self, handle: &Handle) {
        let remotes = &handle.executor.remotes;
        for remote in &remotes[self.num_workers..] {
            remote.unparker.unpark();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the monitor knows of one worker slot.
#[derive(Debug, Clone)]
struct Watch {
    /// The tick last seen.
    tick: u32,
    /// When the tick was last seen to change.
    since: Instant,
    /// Once the worker looked stuck: when, and its thread's scheduler times then.
    suspect: Option<(Instant, Sched)>,
    /// Whether this stretch of blocking has been reported (or its task found reported).
    reported: bool,
    /// Whether a replacement was started for this stretch.
    replaced: bool,
    /// Whether its thread was seen waiting in the OS during this stretch.
    in_os: bool,
}

impl Watch {
    fn new(tick: u32, now: Instant) -> Watch {
        Watch {
            tick,
            since: now,
            suspect: None,
            reported: false,
            replaced: false,
            in_os: false,
        }
    }
}

/// The monitor thread's loop.
fn run(handle: &Arc<Handle>) {
    let _goro_thread = crate::deadlock::GoroThread::enter();
    let executor = &handle.executor;
    let monitor = &executor.monitor;
    let Some(threshold) = monitor.settings.threshold else {
        return;
    };
    let period = monitor.period(threshold);
    let now = Instant::now();
    let mut watches: Vec<Watch> = (executor.remotes.iter())
        .map(|r| Watch::new(r.tick.load(Relaxed), now))
        .collect();
    let mut reported: HashSet<u64> = HashSet::new();
    while !handle.is_shutdown() {
        if executor.idle.all_sleeping() && !monitor.any_replacement() {
            monitor.blocked.store(0, SeqCst);
            if monitor.gate.sleep_while_idle(&executor.idle, IDLE_EXIT) == Woken::Exit {
                return;
            }
            let now = Instant::now();
            for w in &mut watches {
                w.since = now;
                w.suspect = None;
            }
            continue;
        }
        monitor.gate.nap(period);
        let now = Instant::now();
        // Workers blocked in the OS, which a replacement stands in for.
        let mut blocked = 0;
        let mut reports = Vec::new();
        for (i, (w, remote)) in watches.iter_mut().zip(executor.remotes.iter()).enumerate() {
            let tick = remote.tick.load(Relaxed);
            if tick != w.tick {
                *w = Watch::new(tick, now);
                continue;
            }
            let held = now - w.since;
            if held < threshold / 2 {
                continue;
            }
            if !remote.is_running() || executor.idle.is_parked(i) {
                w.since = now;
                w.suspect = None;
                continue;
            }
            let tid = remote.tid.load(Relaxed);
            let (t0, at_t0) = *w.suspect.get_or_insert_with(|| (now, Sched::read(tid)));
            let sched = Sched::read(tid);
            // Asleep in the kernel, now or at any sample of this stretch: the thread waits in
            // the OS (a system call, a sleep, a lock). Otherwise it runs or waits for a CPU.
            w.in_os |= waits_in_os(tid);
            // The time the task has held the thread since the suspicion began: for a thread
            // in the OS, the wall time minus what the kernel counted as waiting for a CPU;
            // for a runnable one, its CPU time alone, so that a worker preempted on a loaded
            // machine (whose wait the kernel counts only once it runs again) is never
            // blamed on its task. The kernel's counts lag by up to a tick: that can only
            // delay a report.
            let own = if w.in_os {
                let waited = Duration::from_nanos(sched.wait.saturating_sub(at_t0.wait));
                (now - t0).saturating_sub(waited)
            } else {
                Duration::from_nanos(sched.cpu.saturating_sub(at_t0.cpu))
            };
            if held < threshold || own < threshold / 2 {
                continue;
            }
            // Blocked. A thread that computes gets no replacement: another thread would only
            // share the cores with it (Go would preempt it; goro reports it). One in the OS
            // does, and the replacement runs the rest.
            let on_cpu = !w.in_os;
            if !on_cpu {
                blocked += 1;
                if !w.replaced {
                    w.replaced = monitor.start_replacement(handle);
                }
            }
            if !w.reported {
                w.reported = true;
                reports.push((i, held, w.replaced, on_cpu));
            }
        }
        monitor.blocked.store(blocked, SeqCst);
        for (worker, blocked_for, replaced, on_cpu) in reports {
            let Some(task) = crate::dump::running_on(handle, worker) else {
                continue;
            };
            if reported.insert(task.id()) {
                let report = BlockedWorker {
                    worker,
                    task,
                    blocked_for,
                    replaced,
                    on_cpu,
                };
                match &monitor.settings.on_blocked {
                    Some(hook) => {
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            (hook.0)(&report)
                        }));
                    }
                    None => eprintln!("goro: {report}"),
                }
            }
        }
        if monitor.replacements.load(SeqCst) > blocked {
            monitor.wake_replacements(handle);
        }
    }
}

/// Whether thread `tid` of this process sleeps in the kernel (state `S` or `D` in its
/// `/proc/self/task/<tid>/stat`): a blocking system call, a sleep, a lock. False when it
/// runs, waits for a CPU, or cannot be read.
fn waits_in_os(tid: i32) -> bool {
    if tid == 0 {
        return false;
    }
    let Ok(stat) = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")) else {
        return false;
    };
    // `tid (comm) state ...`: the name may hold spaces and parentheses, the state follows
    // the last `)`.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    matches!(state, Some('S' | 'D'))
}

/// A thread's scheduler times, from `/proc/self/task/<tid>/schedstat`; zeros when unknown.
#[derive(Debug, Clone, Copy, Default)]
struct Sched {
    /// Nanoseconds on a CPU.
    cpu: u64,
    /// Nanoseconds runnable but waiting for a CPU.
    wait: u64,
}

impl Sched {
    fn read(tid: i32) -> Sched {
        if tid == 0 {
            return Sched::default();
        }
        let Ok(text) = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")) else {
            return Sched::default();
        };
        let mut fields = text
            .split_whitespace()
            .map(|f| f.parse::<u64>().unwrap_or(0));
        Sched {
            cpu: fields.next().unwrap_or(0),
            wait: fields.next().unwrap_or(0),
        }
    }
}

#[cfg(all(test, goro_loom))]
mod loom_tests {
    //! The hazard: the monitor sees every worker asleep and goes to sleep, while a worker
    //! wakes and, seeing the monitor awake, does not wake it; then the worker blocks in a
    //! task and nobody watches. The model: one worker, asleep at first, wakes; the monitor
    //! must end up seeing it awake (if it slept through, loom reports a deadlock).
    use super::*;
    use ::loom::sync::Arc;
    use ::loom::thread;

    #[test]
    fn a_waking_worker_always_reaches_a_sleeping_monitor() {
        ::loom::model(|| {
            let idle = Arc::new(Idle::new(1, 1));
            assert!(!idle.transition_to_parked(0, false));
            let gate = Arc::new(Gate::new());
            assert_eq!(gate.worker_awake(), Reach::Start); // the monitor runs
            let monitor = {
                let (idle, gate) = (idle.clone(), gate.clone());
                thread::spawn(move || loop {
                    if !idle.all_sleeping() {
                        return; // it watches the awake worker
                    }
                    let woken = gate.sleep_while_idle(&idle, Duration::from_secs(3600));
                    assert_eq!(woken, Woken::Sample);
                })
            };
            assert!(idle.unpark_self(0));
            assert_eq!(gate.worker_awake(), Reach::Nothing);
            monitor.join().unwrap();
        });
    }
}
