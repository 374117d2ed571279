//! Go's "all goroutines are asleep - deadlock!": `block_on` reports a program that can never
//! make progress, instead of hanging.
//!
//! # What counts as a deadlock
//!
//! A thread waiting in [`block_on`](crate::block_on) checks, about every half second while
//! its future waits, whether anything could still wake it. Nothing can when all of these
//! hold, at two checks at least a second apart with no task polled, no worker woken and no
//! `block_on` thread woken in between:
//!
//! 1. in every goro runtime of the process: every worker sleeps with empty queues, no
//!    `block_on` thread is awake, no blocking job is queued or running, no timer is pending,
//!    and no socket, pipe or signal has a task waiting for it (a socket merely open counts for
//!    nothing: only a waiting task can be woken by it);
//! 2. every other thread of the process is blocked for ever: in a futex wait without a
//!    timeout (a `std::sync::Mutex`, a `Condvar::wait`, a `join`, a channel `recv`).
//!    A thread that runs, sleeps, waits with a timeout or waits on any other system call
//!    (I/O, `poll`, `accept`) might still wake a task, so it rules a deadlock out.
//!
//! Then `block_on` panics with a message that starts `all tasks are asleep - deadlock!` and
//! lists the live tasks.
//!
//! # Compared with Go
//!
//! Go's `checkdead` fires only when no goroutine can run and none waits on a timer, and it
//! gives up as soon as the network poller has any descriptor: a program with one open socket
//! is never reported. goro counts only what can really wake a task: a socket nobody waits on
//! does not rule a deadlock out, and a thread outside the runtime counts only while it can
//! still run. Like Go, goro cannot see a wake that would come from outside the process.
//!
//! # What it does not detect
//!
//! - A deadlock while another thread waits with a timeout, sleeps, or blocks in a system call
//!   other than a futex: that thread might still wake a task. Rust's test harness waits for
//!   its tests with a 60-second timeout while several run at once, so inside `cargo test`
//!   the report comes once that timeout has passed (with `--test-threads=1` it waits without
//!   one, and the report comes within seconds).
//! - A deadlock of some tasks while others still run (a cycle of two tasks waiting on each
//!   other in a busy server): only "nothing at all can happen" is reported.
//! - Without `/proc/self/task` (not Linux, or no procfs), nothing is reported.
//!
//! [`Builder::detect_deadlocks`](crate::Builder::detect_deadlocks) turns the check off for
//! a runtime's `block_on` calls.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use crate::runtime::Handle;

/// How often a waiting `block_on` thread looks.
pub(crate) const CHECK_PERIOD: Duration = Duration::from_millis(500);

/// How long everything must stay stuck before it is reported.
const CONFIRM_AFTER: Duration = Duration::from_secs(1);

/// The threads that belong to goro: workers, blocking threads, and threads inside a
/// `block_on`. The check judges them by their runtime's state, not by their system call.
static GORO_THREADS: Mutex<Option<HashSet<i32>>> = Mutex::new(None);

/// Every runtime of the process (dropped ones are skipped and pruned), for the deadlock check
/// and for SIGQUIT dumps.
static RUNTIMES: Mutex<Vec<Weak<Handle>>> = Mutex::new(Vec::new());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

thread_local! {
    /// This thread's kernel id, read once.
    static TID: i32 = read_tid();
}

/// The kernel id of the calling thread (0 if unknown), read once per thread.
pub(crate) fn this_tid() -> i32 {
    TID.try_with(|t| *t).unwrap_or(0)
}

/// The kernel id of the calling thread (0 if unknown).
fn read_tid() -> i32 {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name()?.to_str()?.parse().ok())
        .unwrap_or(0)
}

/// Marks the calling thread as goro's until dropped.
#[derive(Debug)]
pub(crate) struct GoroThread {
    /// The thread's kernel id; 0 when unknown (then nothing is recorded).
    tid: i32,
    /// Whether this guard added the id (a nested `block_on` does not add it twice).
    added: bool,
}

impl GoroThread {
    pub(crate) fn enter() -> GoroThread {
        let tid = TID.try_with(|t| *t).unwrap_or(0);
        let added = tid != 0 && lock(&GORO_THREADS).get_or_insert_default().insert(tid);
        GoroThread { tid, added }
    }
}

impl Drop for GoroThread {
    fn drop(&mut self) {
        if self.added {
            if let Some(set) = lock(&GORO_THREADS).as_mut() {
                set.remove(&self.tid);
            }
        }
    }
}

/// Records a new runtime, so that other runtimes' checks can judge it.
pub(crate) fn register_runtime(handle: &Arc<Handle>) {
    let mut all = lock(&RUNTIMES);
    all.retain(|w| w.strong_count() > 0);
    all.push(Arc::downgrade(handle));
}

/// Every live runtime, oldest first (the deadlock check's list; task dumps on SIGQUIT print
/// these).
pub(crate) fn live_runtimes() -> Vec<Arc<Handle>> {
    lock(&RUNTIMES).iter().filter_map(Weak::upgrade).collect()
}

/// What a check saw of the runtimes' activity: unchanged between two checks means nothing
/// ran in between.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Activity(Vec<(u64, u64, usize)>);

/// The state of one waiting `block_on` thread's checks.
#[derive(Debug, Default)]
pub(crate) struct Watch {
    /// When everything was first seen stuck, and the activity seen then.
    stuck_since: Option<(Instant, Activity)>,
}

impl Watch {
    /// One check, by a `block_on` thread of `handle` whose future waits. Returns the report
    /// once the program has been stuck for long enough.
    pub(crate) fn check(&mut self, handle: &Arc<Handle>) -> Option<String> {
        let Some(activity) = stuck_everywhere(handle) else {
            self.stuck_since = None;
            return None;
        };
        match &self.stuck_since {
            Some((since, seen)) if *seen == activity => {
                if since.elapsed() >= CONFIRM_AFTER && other_threads_blocked() {
                    return Some(report(handle));
                }
            }
            _ => self.stuck_since = Some((Instant::now(), activity)),
        }
        None
    }
}

/// If every runtime is stuck, their activity counters.
fn stuck_everywhere(current: &Arc<Handle>) -> Option<Activity> {
    let runtimes = live_runtimes();
    let mut activity = Vec::with_capacity(runtimes.len());
    if !runtimes.iter().any(|h| Arc::ptr_eq(h, current)) {
        activity.push(current.stuck()?);
    }
    for handle in &runtimes {
        activity.push(handle.stuck()?);
    }
    Some(Activity(activity))
}

impl Handle {
    /// If nothing of this runtime can wake a task — it is quiescent, and no timer is pending
    /// and no source has a waiting task — its activity counters (tasks polled, worker sleeps,
    /// `block_on` wakes).
    fn stuck(&self) -> Option<(u64, u64, usize)> {
        if self.is_shutdown() {
            return Some((0, 0, 0)); // it will never wake anything again
        }
        let counters = |h: &Handle| {
            let (mut polled, mut parked) = (0, 0);
            for remote in h.executor.remotes.iter() {
                polled += remote.counters.polled();
                parked += remote.counters.parked();
            }
            (polled, parked, h.reactor.clock().wakes())
        };
        let before = counters(self);
        let stuck =
            self.is_quiescent() && !self.reactor.has_timers() && !self.reactor.has_waiting_source();
        (stuck && counters(self) == before).then_some(before)
    }
}

/// Whether every thread of the process that is not goro's waits in a futex without a
/// timeout. Any doubt (an unreadable file, an unknown state) counts as "could still run".
fn other_threads_blocked() -> bool {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return false;
    };
    let ours = lock(&GORO_THREADS).clone().unwrap_or_default();
    for entry in tasks {
        let Ok(entry) = entry else { return false };
        let Some(tid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            return false;
        };
        if ours.contains(&tid) {
            continue;
        }
        let Ok(syscall) = std::fs::read_to_string(entry.path().join("syscall")) else {
            return false;
        };
        if !blocked_for_ever(&syscall) {
            return false;
        }
    }
    true
}

/// The futex system call's number on this architecture.
#[cfg(target_arch = "x86_64")]
const SYS_FUTEX: u64 = 202;
#[cfg(target_arch = "aarch64")]
const SYS_FUTEX: u64 = 98;
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const SYS_FUTEX: u64 = u64::MAX; // unknown: never "blocked for ever"

/// Whether a thread whose `/proc/.../syscall` reads `line` waits in a futex with no timeout:
/// the number, then the arguments `uaddr op val timeout ...` in hex. `running` (or a number
/// of -1) is a thread on a CPU or between system calls.
fn blocked_for_ever(line: &str) -> bool {
    let mut fields = line.split_whitespace();
    let Some(Ok(number)) = fields.next().map(str::parse::<u64>) else {
        return false;
    };
    let args: Vec<u64> = fields
        .map(|f| u64::from_str_radix(f.trim_start_matches("0x"), 16).unwrap_or(u64::MAX))
        .collect();
    if number != SYS_FUTEX || args.len() < 4 {
        return false;
    }
    // op without the private and clock flags: WAIT (0) or WAIT_BITSET (9) may wait for ever.
    let op = args[1] & 0x7f;
    matches!(op, 0 | 9) && args[3] == 0
}

/// The message `block_on` panics with.
fn report(handle: &Handle) -> String {
    let mut out = String::from("all tasks are asleep - deadlock!\n\n");
    out.push_str(
        "goro: block_on's future waits, and nothing can ever wake it: every worker sleeps, no \
         timer is pending, no socket has a waiting task, no blocking job runs, and every other \
         thread is blocked for ever.\n",
    );
    out.push_str(&task_list(handle));
    out
}

/// The leak check of `#[goro::test]`: waits up to `grace` for the runtime's tasks to end,
/// and describes those still alive then.
pub(crate) fn leaked_tasks(handle: &Handle, grace: Duration) -> Option<String> {
    let deadline = Instant::now() + grace;
    let mut pause = Duration::from_micros(100);
    while handle.tasks.live() > 0 {
        if Instant::now() >= deadline {
            let live = handle.tasks.live();
            if live == 0 {
                break;
            }
            return Some(format!(
                "goro: the test left {live} task(s) running when its body returned. End them \
                 (abort their JoinHandles, close the channels they wait on, or await them), or \
                 allow it with #[goro::test(allow_leaks)].\n{}",
                task_list(handle)
            ));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    }
    None
}

/// The live tasks as a task dump lists them (`dump.rs`).
fn task_list(handle: &Handle) -> String {
    format!("\n{}", crate::dump::snapshot(handle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_futex_wait_without_timeout_is_for_ever() {
        // WAIT_BITSET | PRIVATE, no timeout: a Condvar::wait or a join.
        assert!(blocked_for_ever(
            "202 0x55c9115285c8 0x89 0x0 0x0 0x0 0xffffffff 0x7ffd 0x7f93"
        ));
        // FUTEX_WAIT_PRIVATE (128) without a timeout: a parked std::sync::Mutex.
        assert!(blocked_for_ever(
            "202 0x7f 0x80 0x2 0x0 0x0 0x0 0x7ffd 0x7f93"
        ));
    }

    #[test]
    fn anything_else_might_still_run() {
        // The same wait with a timeout (recv_timeout, the test harness's 60 s warning).
        assert!(!blocked_for_ever(
            "202 0x55c9115285c8 0x89 0xffffffff 0x7ffde7e97e50 0x0 0x7ffd 0x7ffd 0x7f93"
        ));
        // FUTEX_WAKE, a sleep, a read, a running thread.
        assert!(!blocked_for_ever(
            "202 0x7f 0x81 0x1 0x0 0x0 0x0 0x7ffd 0x7f93"
        ));
        assert!(!blocked_for_ever(
            "230 0x1 0x0 0x7f932fb0cd38 0x7f932fb0cd38 0x0 0x0"
        ));
        assert!(!blocked_for_ever(
            "0 0x4 0x7f932ff0e100 0x20 0xfff 0x0 0x1 0x7f 0x7f"
        ));
        assert!(!blocked_for_ever("running"));
        assert!(!blocked_for_ever("-1 0x7ffd 0x7f93"));
        assert!(!blocked_for_ever(""));
    }

    #[test]
    fn this_thread_has_a_kernel_id() {
        assert!(read_tid() > 0);
    }
}
