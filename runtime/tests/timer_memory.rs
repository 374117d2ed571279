//! Timers that are created and cancelled (a `timeout` whose future finished first, a `Sleep`
//! dropped by a losing select arm) must leave nothing behind: a server sets and cancels
//! millions of them over its life. Measured as the process's resident memory, in a process
//! of its own so that no other test's allocations move the number.

mod common;

use std::pin::pin;
use std::time::{Duration, Instant};

use common::{in_own_process, runtime};
use futures_lite::future::poll_once;
use goro_runtime::time::sleep_until;

/// The process's resident set, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS in /proc/self/status");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("VmRSS in kB");
    kib * 1024
}

/// Registers `n` timers, each with its own millisecond of deadline (so each would keep a
/// bucket of its own if cancelled ones stayed), and cancels each right after.
async fn create_and_cancel(n: u64, base: Instant) {
    for i in 0..n {
        let mut sleep = pin!(sleep_until(base + Duration::from_millis(i)));
        assert!(
            poll_once(&mut sleep).await.is_none(),
            "a timer an hour away fired"
        );
        // Dropped here: cancelled.
        if i % 1024 == 0 {
            goro_runtime::yield_now().await;
        }
    }
}

#[test]
fn a_million_timers_created_and_cancelled_leave_memory_flat() {
    in_own_process(
        "a_million_timers_created_and_cancelled_leave_memory_flat",
        300,
        || {
            let rt = runtime(2);
            let task = rt.spawn(async {
                let base = Instant::now() + Duration::from_secs(3600);
                // Warm-up: the allocator's arenas, the reactor's tables at their working size.
                create_and_cancel(100_000, base).await;
                let before = rss();
                create_and_cancel(1_000_000, base).await;
                (before, rss())
            });
            let (before, after) = rt.block_on(task).unwrap();
            let growth = after.saturating_sub(before);
            eprintln!(
                "VmRSS {} KiB before, {} KiB after",
                before / 1024,
                after / 1024
            );
            // AddressSanitizer holds freed blocks in quarantine (256 MiB by default) to catch
            // uses after free: under it the process grows whatever goro does. CI's ASan run
            // says so in this variable; the timers still run, checked by ASan instead.
            if std::env::var_os("GORO_TEST_SANITIZER").is_some() {
                eprintln!("memory not checked under a sanitizer");
                return;
            }
            assert!(
                growth < 64 << 20,
                "1M cancelled timers grew the process by {} MiB",
                growth >> 20
            );
        },
    );
}
