//! Helpers shared by the runtime's behaviour tests.

#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs `f`, aborting the whole test process if it has not returned after `secs` seconds:
/// a hang fails the run in seconds instead of stalling CI.
pub fn watchdog<R>(secs: u64, f: impl FnOnce() -> R) -> R {
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    let name = std::thread::current().name().unwrap_or("?").to_string();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if flag.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("watchdog: test {name} still running after {secs} s: aborting");
        std::process::abort();
    });
    let out = f();
    done.store(true, Ordering::SeqCst);
    out
}

/// A runtime with `n` workers.
pub fn runtime(n: usize) -> goro_runtime::Runtime {
    goro_runtime::Builder::new()
        .worker_threads(n)
        .build()
        .expect("runtime")
}

/// Counts how often it is dropped.
#[derive(Debug, Clone, Default)]
pub struct DropCounter(Arc<std::sync::atomic::AtomicUsize>);

impl DropCounter {
    pub fn token(&self) -> DropToken {
        DropToken(self.0.clone())
    }

    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Increments its counter when dropped.
#[derive(Debug)]
pub struct DropToken(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for DropToken {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// The names of this process's threads that start with `prefix`.
pub fn threads_named(prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir("/proc/self/task").expect("procfs") {
        let path = entry.expect("task entry").path().join("comm");
        if let Ok(name) = std::fs::read_to_string(path) {
            let name = name.trim().to_string();
            if name.starts_with(prefix) {
                names.push(name);
            }
        }
    }
    names
}

/// Polls `cond` every 10 ms until it holds or `limit` passes; returns whether it held.
pub fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

/// Set in a child process started by [`in_own_process`]: the name of the test it runs.
const CHILD_ENV: &str = "GORO_TEST_CHILD";

/// Runs `body` in a child process, for tests whose failure is a hang or an abort (a
/// deadlock, a stack overflow, a panic in a destructor during cleanup): the child re-runs
/// this test binary with `--exact name`, and the parent fails the test if the child does
/// not pass within `secs` seconds, killing it by its PID.
///
/// `name` must be the test's full name in its binary (its function name at the top level).
pub fn in_own_process(name: &str, secs: u64, body: impl FnOnce()) {
    if std::env::var(CHILD_ENV).as_deref() == Ok(name) {
        body();
        return;
    }
    let log_path =
        std::env::temp_dir().join(format!("goro-test-child-{}-{name}.log", std::process::id()));
    let log = std::fs::File::create(&log_path).expect("child log");
    let mut child = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, name)
        .stdout(log.try_clone().expect("child log"))
        .stderr(log)
        .spawn()
        .expect("start the child test process");
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
    let _ = std::fs::remove_file(&log_path);
    match status {
        None => panic!("{name}: still running after {secs} s (a hang); killed\n{output}"),
        Some(s) if !s.success() => panic!("{name}: the child process failed: {s}\n{output}"),
        Some(_) => assert!(
            output.contains("1 passed"),
            "{name}: the child ran no test (wrong name?)\n{output}"
        ),
    }
}
