//! Helpers shared by the facade's integration tests.

#![allow(dead_code)]

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Aborts the test process if it is still alive when `bound` has passed, unless disarmed by
/// being dropped first: a hang anywhere (a worker stuck, a lost wakeup) fails the run in
/// seconds instead of stalling it.
pub struct Watchdog(Arc<AtomicBool>);

impl Watchdog {
    /// Starts the clock for the test `name`.
    pub fn arm(name: &str, bound: Duration) -> Watchdog {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let name = name.to_string();
        std::thread::spawn(move || {
            let deadline = Instant::now() + bound;
            while Instant::now() < deadline {
                if flag.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            eprintln!("watchdog: {name} still running after {bound:?}: aborting");
            std::process::abort();
        });
        Watchdog(done)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Runs `fut` on goro's global runtime under a [`Watchdog`] of `secs` seconds.
pub fn run<F: Future>(secs: u64, fut: F) -> F::Output {
    let name = std::thread::current().name().unwrap_or("?").to_string();
    let _watchdog = Watchdog::arm(&name, Duration::from_secs(secs));
    goro::block_on(fut)
}
