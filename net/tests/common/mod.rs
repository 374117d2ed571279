//! Helpers shared by goro-net's behaviour tests.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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

/// Runs `fut` on a fresh runtime of `workers` workers under a watchdog of `secs` seconds.
pub fn run<F: Future>(workers: usize, secs: u64, fut: F) -> F::Output {
    watchdog(secs, || runtime(workers).block_on(fut))
}

/// The number of OS threads of this process, from `/proc/self/status`.
pub fn os_threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a Threads: line")
}

/// The names of this process's threads that start with `prefix`.
pub fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("procfs")
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim().starts_with(prefix))
        .count()
}

/// Whether `python3` can be run; tests with a Python peer skip (saying so) without it.
pub fn have_python() -> bool {
    let ok = std::process::Command::new("python3")
        .arg("-c")
        .arg("pass")
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("python3 not found: skipping the Python peer");
    }
    ok
}

/// A fresh directory for socket files, removed by the caller.
pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("goro-net-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Set in a child process started by [`in_own_process`]: the child runs the test's body.
pub const CHILD_ENV: &str = "GORO_TEST_CHILD";

/// Runs `body` in a child process (this test binary again, with only test `name`), so that a
/// hang or an abort fails this test alone: the child is killed, by its PID, after `secs`
/// seconds. In the child (where [`CHILD_ENV`] is set) runs `body` directly.
pub fn in_own_process(name: &str, secs: u64, body: impl FnOnce()) {
    if std::env::var_os(CHILD_ENV).is_some() {
        body();
        return;
    }
    let mut child = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .spawn()
        .expect("start the child test process");
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill(); // this child only, by its PID
            let _ = child.wait();
            panic!("test {name} still running after {secs} s in its own process: killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        status.success(),
        "test {name} failed in its own process: {status}"
    );
}
