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

/// The environment variable that tells a re-executed test binary which test it runs for
/// [`in_own_process`].
const CHILD_VAR: &str = "GORO_TEST_IN_OWN_PROCESS";

/// Runs `body` in a child process: this test binary, re-executed for the test `name` alone
/// (`--exact`). The parent waits at most `secs` seconds, kills the child by its PID if it is
/// still running, and fails unless the child exited successfully. For regression tests of a
/// hang that could not be shut down in-process (a worker that never returns from a poll).
pub fn in_own_process(name: &str, secs: u64, body: impl FnOnce()) {
    if std::env::var(CHILD_VAR).as_deref() == Ok(name) {
        body();
        return;
    }
    let exe = std::env::current_exe().expect("the test binary");
    let mut child = std::process::Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_VAR, name)
        .spawn()
        .expect("re-executing the test binary");
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(status) = child.try_wait().expect("waiting for the child") {
            assert!(
                status.success(),
                "{name} failed in its own process: {status}"
            );
            return;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{name} hung: still running after {secs} s in its own process");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
