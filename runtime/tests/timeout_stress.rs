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
