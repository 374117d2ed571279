//! Timers: they fire on time, early timers interrupt long waits, intervals do not drift.

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{runtime, watchdog};
use goro_runtime::time::{interval, sleep, sleep_until, timeout};

#[test]
fn twenty_thousand_sleepers_wake_on_time() {
    watchdog(60, || {
        let rt = runtime(2);
        let woke = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        let handles: Vec<_> = (0..20_000)
            .map(|i| {
                let woke = woke.clone();
                rt.spawn(async move {
                    let d = Duration::from_millis(100 + (i % 50) as u64);
                    let before = Instant::now();
                    sleep(d).await;
                    assert!(before.elapsed() >= d, "woke early");
                    woke.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        rt.block_on(async {
            for h in handles {
                h.await.unwrap();
            }
        });
        assert_eq!(woke.load(Ordering::SeqCst), 20_000);
        let elapsed = start.elapsed();
        assert!(
            elapsed < Duration::from_secs(3),
            "20k sleeps of ~100 ms took {elapsed:?}"
        );
    });
}

#[test]
fn an_earlier_timer_interrupts_a_long_wait() {
    watchdog(60, || {
        let rt = runtime(2);
        // The driver goes to sleep on a 10 s timer...
        let long = rt.spawn(sleep(Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(50));
        // ...then a 5 ms timer is added from this (non-runtime) thread.
        let start = Instant::now();
        rt.block_on(sleep(Duration::from_millis(5)));
        let elapsed = start.elapsed();
        assert!(
            elapsed < Duration::from_millis(500),
            "5 ms sleep took {elapsed:?}"
        );
        long.abort();
    });
}

#[test]
fn a_timer_fires_while_another_task_blocks_its_worker() {
    watchdog(60, || {
        let rt = runtime(2);
        let blocker = rt.spawn(async {
            std::thread::sleep(Duration::from_secs(2));
        });
        std::thread::sleep(Duration::from_millis(50));
        let timed = rt.spawn(async {
            let start = Instant::now();
            for _ in 0..5 {
                sleep(Duration::from_millis(10)).await;
            }
            start.elapsed()
        });
        let elapsed = rt.block_on(timed).unwrap();
        assert!(
            elapsed < Duration::from_millis(1000),
            "5 × 10 ms took {elapsed:?}"
        );
        rt.block_on(blocker).unwrap();
    });
}

#[test]
fn interval_ticks_do_not_drift() {
    watchdog(60, || {
        let rt = runtime(2);
        rt.block_on(async {
            let period = Duration::from_millis(2);
            let mut ticker = interval(period);
            let first = ticker.tick().await;
            let mut last = first;
            for _ in 0..100 {
                last = ticker.tick().await;
            }
            // Scheduled instants are exact multiples of the period (missed ticks would be
            // skipped, keeping the phase).
            let span = last - first;
            assert_eq!(span.as_nanos() % period.as_nanos(), 0);
            assert!(span >= period * 100);
            assert!(Instant::now() >= last);
        });
    });
}

#[test]
fn interval_skips_missed_ticks() {
    watchdog(60, || {
        let rt = runtime(1);
        rt.block_on(async {
            let period = Duration::from_millis(10);
            let mut ticker = interval(period);
            let first = ticker.tick().await;
            std::thread::sleep(Duration::from_millis(55));
            let late = ticker.tick().await; // the tick that was due
            let next = ticker.tick().await; // the first deadline after the delay
            assert_eq!(late - first, period);
            assert!(
                next - first >= Duration::from_millis(60),
                "{:?}",
                next - first
            );
        });
    });
}

#[test]
fn timeout_returns_the_output_or_elapsed() {
    watchdog(30, || {
        let rt = runtime(2);
        rt.block_on(async {
            assert_eq!(timeout(Duration::from_secs(10), async { 3 }).await, Ok(3));
            let err = timeout(Duration::from_millis(10), std::future::pending::<()>())
                .await
                .unwrap_err();
            assert_eq!(err.to_string(), "deadline has elapsed");
            let io: std::io::Error = err.into();
            assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
        });
    });
}

#[test]
fn sleep_until_a_past_instant_is_ready_at_once() {
    watchdog(30, || {
        let rt = runtime(1);
        rt.block_on(sleep_until(Instant::now() - Duration::from_secs(1)));
    });
}

#[test]
fn cancelled_sleeps_do_not_fire() {
    watchdog(30, || {
        let rt = runtime(2);
        rt.block_on(async {
            for _ in 0..10_000 {
                let r = timeout(Duration::from_secs(3600), async { 1 }).await;
                assert_eq!(r, Ok(1));
            }
        });
    });
}

#[test]
fn after_delivers_the_instant_once_the_duration_has_passed() {
    watchdog(30, || {
        let rt = runtime(2);
        rt.block_on(async {
            let start = Instant::now();
            let rx = goro_runtime::time::after(Duration::from_millis(20));
            let at = rx.recv().await.expect("after sends once");
            assert!(at >= start + Duration::from_millis(20), "fired early");
            assert!(start.elapsed() < Duration::from_secs(5));
            // It sends exactly once, then the channel is closed (the timer dropped its sender).
            assert_eq!(rx.recv().await, None);
            let now = goro_runtime::time::after(Duration::ZERO);
            assert!(now.recv().await.is_some());
        });
    });
}

#[test]
fn after_works_as_a_select_arm() {
    watchdog(30, || {
        let rt = runtime(2);
        rt.block_on(async {
            let (tx, rx) = goro_sync::chan::bounded::<u32>(0);
            let mut got = Vec::new();
            let sender = goro_runtime::spawn(async move {
                for i in 0..3 {
                    tx.send(i).await.unwrap();
                }
                std::future::pending::<()>().await;
            });
            loop {
                goro_sync::select! {
                    v = rx.recv() => got.push(v.unwrap()),
                    _ = goro_runtime::time::after(Duration::from_millis(50)).recv() => break,
                }
            }
            sender.abort();
            assert_eq!(got, vec![0, 1, 2]);
        });
    });
}

#[test]
fn a_timeout_that_elapsed_leaves_no_send_behind() {
    watchdog(30, || {
        let rt = runtime(2);
        rt.block_on(async {
            let (tx, rx) = goro_sync::chan::bounded::<u32>(0);
            let mut send = std::pin::pin!(timeout(Duration::from_millis(5), tx.send(1)));
            let out = std::future::poll_fn(|cx| send.as_mut().poll(cx)).await;
            assert!(out.is_err(), "nobody received: the send timed out");
            // The future is not dropped yet, but it reported the value as not sent: no
            // receiver may take it now.
            assert_eq!(rx.try_recv(), Err(goro_sync::chan::TryRecvError::Empty));
        });
    });
}

#[test]
fn a_recv_that_timed_out_consumed_nothing() {
    watchdog(30, || {
        let rt = runtime(2);
        rt.block_on(async {
            let (tx, rx) = goro_sync::chan::bounded::<u32>(0);
            let mut recv = std::pin::pin!(timeout(Duration::from_millis(5), rx.recv()));
            let out = std::future::poll_fn(|cx| recv.as_mut().poll(cx)).await;
            assert!(out.is_err(), "nobody sent: the receive timed out");
            assert_eq!(tx.try_send(2), Err(goro_sync::chan::TrySendError::Full(2)));
        });
    });
}

#[test]
fn a_send_taken_before_the_deadline_is_reported_sent() {
    watchdog(30, || {
        let rt = runtime(2);
        rt.block_on(async {
            let (tx, rx) = goro_sync::chan::bounded::<u32>(0);
            let mut send = std::pin::pin!(timeout(Duration::from_millis(20), tx.send(1)));
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            assert!(send.as_mut().poll(&mut cx).is_pending());
            // A receiver takes the waiting send's value (Go's rendezvous)...
            assert_eq!(rx.try_recv(), Ok(1));
            sleep(Duration::from_millis(40)).await;
            // ...so, although the deadline has passed, the send is reported done.
            assert_eq!(
                send.as_mut().poll(&mut cx),
                std::task::Poll::Ready(Ok(Ok(())))
            );
        });
    });
}
