//! `timeout` around channel operations under load: `Elapsed` means the operation did not take
//! effect, so a retry loop neither loses nor duplicates a value. In a file of its own, so that
//! its busy workers do not disturb the timing tests of `time.rs`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{runtime, watchdog};
use goro_runtime::time::timeout;

/// Sends `values` values through `timeout(d, tx.send(v))`, retrying each on `Elapsed`, while
/// receivers race for them (parked in `recv`, retrying `timeout(0, recv())`, and spinning on
/// `try_recv`). Returns how often each value was received.
fn send_with_timeout_retries(cap: usize, values: usize, d: Duration) -> Vec<usize> {
    let rt = runtime(2);
    let (tx, rx) = goro_sync::chan::bounded::<usize>(cap);
    let counts: Arc<Vec<AtomicUsize>> =
        Arc::new((0..values).map(|_| AtomicUsize::new(0)).collect());
    let mut receivers = Vec::new();
    for r in 0..3 {
        let rx = rx.clone();
        let counts = counts.clone();
        receivers.push(rt.spawn(async move {
            loop {
                let got = if r == 0 {
                    rx.recv().await
                } else if r == 1 {
                    // `Elapsed` means nothing was consumed: just try again.
                    match timeout(Duration::ZERO, rx.recv()).await {
                        Ok(got) => got,
                        Err(_elapsed) => {
                            goro_runtime::yield_now().await;
                            continue;
                        }
                    }
                } else {
                    match rx.try_recv() {
                        Ok(v) => Some(v),
                        Err(e) if e.is_closed() => None,
                        Err(_) => {
                            goro_runtime::yield_now().await;
                            continue;
                        }
                    }
                };
                let Some(v) = got else { return };
                counts[v].fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    drop(rx);
    let senders: Vec<_> = (0..2)
        .map(|s| {
            let tx = tx.clone();
            rt.spawn(async move {
                for v in (s..values).step_by(2) {
                    loop {
                        match timeout(d, tx.send(v)).await {
                            Ok(sent) => break sent.expect("the channel stays open"),
                            // Not sent: send it again (after letting the others run).
                            Err(_elapsed) => goro_runtime::yield_now().await,
                        }
                    }
                }
            })
        })
        .collect();
    drop(tx);
    rt.block_on(async {
        for s in senders {
            s.await.unwrap();
        }
        for r in receivers {
            r.await.unwrap();
        }
    });
    counts.iter().map(|c| c.load(Ordering::Relaxed)).collect()
}

#[test]
fn a_send_that_timed_out_was_not_sent() {
    // Before `timeout` committed like a select, every configuration here duplicated values
    // (a receiver took a waiting send's value just before the timeout dropped it as unsent).
    watchdog(240, || {
        let mut wrong = Vec::new();
        for round in 0..4 {
            for cap in [0, 1, 7] {
                for (d, values) in [(Duration::ZERO, 20_000), (Duration::from_micros(50), 1_000)] {
                    let counts = send_with_timeout_retries(cap, values, d);
                    let bad: Vec<_> = counts
                        .iter()
                        .enumerate()
                        .filter(|&(_, &n)| n != 1)
                        .map(|(v, &n)| (v, n))
                        .collect();
                    if !bad.is_empty() {
                        wrong.push(format!(
                            "round {round}, capacity {cap}, timeout {d:?}: {} values received \
                             other than once, e.g. (value, times) {:?}",
                            bad.len(),
                            &bad[..bad.len().min(3)]
                        ));
                    }
                }
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    });
}

/// Set in the child process that runs a scenario which used to hang.
const CHILD_ENV: &str = "GORO_TIMEOUT_STRESS_CHILD";

/// Runs the test `name` of this binary in a child process with [`CHILD_ENV`] set, killing it
/// if it has not finished after `secs` seconds. Panics unless the child passed in time.
fn in_child_process(name: &str, secs: u64) {
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .spawn()
        .expect("re-run this test binary");
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(
                status.success(),
                "the child running {name} failed: {status}"
            );
            return;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap(); // our own child, by its handle
            let _ = child.wait();
            panic!("{name} still running after {secs} s: it hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A retry loop on a zero timeout, with no other await, next to its receiver on one worker:
/// each timed-out attempt must still let the receiver run. (A spent budget used to make the
/// send return at once, the zero timeout `Elapsed`, and the loop spin in one poll for ever.)
#[test]
fn a_zero_timeout_retry_loop_lets_its_receiver_run() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return in_child_process("a_zero_timeout_retry_loop_lets_its_receiver_run", 30);
    }
    let rt = runtime(1);
    let (tx, rx) = goro_sync::chan::bounded::<u32>(0);
    let sender = rt.spawn(async move {
        for v in 0..100 {
            while timeout(Duration::ZERO, tx.send(v)).await.is_err() {}
        }
    });
    let receiver = rt.spawn(async move {
        let mut got = Vec::new();
        while let Some(v) = rx.recv().await {
            got.push(v);
        }
        got
    });
    rt.block_on(async {
        sender.await.unwrap();
        assert_eq!(receiver.await.unwrap(), (0..100).collect::<Vec<_>>());
    });
}
