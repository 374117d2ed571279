//! Timers: they fire on time, early timers interrupt long waits, intervals do not drift.

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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
        // The driver goes to sleep on a 10 s timer (a `Sleep` belongs to the runtime it is
        // created in: create it inside `rt`)...
        let long = rt.spawn(async { sleep(Duration::from_secs(10)).await });
        std::thread::sleep(Duration::from_millis(50));
        // ...then a 5 ms timer is added from this (non-runtime) thread.
        let start = Instant::now();
        rt.block_on(async { sleep(Duration::from_millis(5)).await });
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

/// On one worker, `spinner` loops on timers that are always due while another task and a
/// 10 ms timer must still make progress: a due timer spends the cooperative budget, so the
/// spinner yields every `DEFAULT_BUDGET` completions.
fn due_timers_yield<F>(spinner: impl FnOnce(Arc<AtomicBool>) -> F)
where
    F: std::future::Future<Output = u64> + Send + 'static,
{
    let rt = runtime(1);
    let stop = Arc::new(AtomicBool::new(false));
    let spinner = rt.spawn(spinner(stop.clone()));
    let other = rt.spawn(async { 7 });
    let timed = rt.spawn(async {
        let start = Instant::now();
        sleep(Duration::from_millis(10)).await;
        start.elapsed()
    });
    assert_eq!(rt.block_on(other).unwrap(), 7);
    let slept = rt.block_on(timed).unwrap();
    assert!(slept >= Duration::from_millis(10), "woke early: {slept:?}");
    stop.store(true, Ordering::SeqCst);
    let rounds = rt.block_on(spinner).unwrap();
    assert!(rounds > 0);
}

#[test]
fn a_loop_over_zero_sleeps_does_not_starve_its_worker() {
    common::in_own_process(
        "a_loop_over_zero_sleeps_does_not_starve_its_worker",
        20,
        || {
            due_timers_yield(|stop| async move {
                let mut rounds = 0;
                while !stop.load(Ordering::SeqCst) {
                    sleep(Duration::ZERO).await;
                    let past = Instant::now();
                    sleep_until(past).await;
                    rounds += 1;
                }
                rounds
            })
        },
    );
}

#[test]
fn a_loop_over_a_due_interval_does_not_starve_its_worker() {
    common::in_own_process(
        "a_loop_over_a_due_interval_does_not_starve_its_worker",
        20,
        || {
            due_timers_yield(|stop| async move {
                // A period shorter than one turn of the loop: every tick is already due.
                let mut ticker = interval(Duration::from_nanos(1));
                let mut rounds = 0;
                while !stop.load(Ordering::SeqCst) {
                    ticker.tick().await;
                    rounds += 1;
                }
                rounds
            })
        },
    );
}

/// How long the blocking task holds its worker in the driver hand-off test...
const BLOCK: Duration = Duration::from_millis(1500);
/// ...and the bound on a 10 ms sleep meanwhile: generous, yet well below `BLOCK`.
const BOUND: Duration = Duration::from_millis(750);

/// Where the task that blocks its worker comes from, and where the 10 ms sleep is.
#[derive(Debug, Clone, Copy)]
enum Blocker {
    /// Woken by a timer, it blocks at once; this thread sleeps 10 ms meanwhile.
    WokenByTimer,
    /// Spawned (into the LIFO slot) by a task woken by a timer; this thread sleeps 10 ms.
    SpawnedIntoLifo,
    /// Spawned by a task woken by a timer, which then sleeps 10 ms itself.
    SpawnedBesideASleep,
}

/// Blocks a worker for `BLOCK` right after the driver ran a task woken by a timer (so the
/// worker that was driving is the one blocked), while a 10 ms sleep is set elsewhere.
/// Returns how long that sleep took.
fn sleep_beside_a_blocked_worker(workers: usize, blocker: Blocker) -> Duration {
    let rt = runtime(workers);
    // Let every worker go idle: one drives the reactor, the others sleep.
    std::thread::sleep(Duration::from_millis(50));
    let (blocking, started) = std::sync::mpsc::channel::<()>();
    let block = move || {
        let _ = blocking.send(());
        std::thread::sleep(BLOCK);
    };
    let task = rt.spawn(async move {
        // Woken by the driver, on the driver's own thread, with no other timer pending.
        sleep(Duration::from_millis(30)).await;
        match blocker {
            Blocker::WokenByTimer => block(),
            Blocker::SpawnedIntoLifo => drop(goro_runtime::spawn(async move { block() })),
            Blocker::SpawnedBesideASleep => {
                let _blocker = goro_runtime::spawn(async move { block() });
                let start = Instant::now();
                sleep(Duration::from_millis(10)).await;
                return Some(start.elapsed());
            }
        }
        None
    });
    let slept = match blocker {
        Blocker::SpawnedBesideASleep => rt.block_on(task).unwrap(),
        _ => {
            started
                .recv_timeout(Duration::from_secs(10))
                .expect("the blocking task never ran");
            rt.block_on(async {
                let start = Instant::now();
                sleep(Duration::from_millis(10)).await;
                Some(start.elapsed())
            })
        }
    };
    slept.expect("a measured sleep")
}

#[test]
fn a_timer_fires_on_an_idle_worker_while_the_last_driver_blocks() {
    watchdog(120, || {
        let mut late = Vec::new();
        for workers in [2, 4] {
            for blocker in [
                Blocker::WokenByTimer,
                Blocker::SpawnedIntoLifo,
                Blocker::SpawnedBesideASleep,
            ] {
                let slept = sleep_beside_a_blocked_worker(workers, blocker);
                assert!(slept >= Duration::from_millis(10), "woke early: {slept:?}");
                if slept >= BOUND {
                    late.push(format!("{workers} workers, {blocker:?}: {slept:?}"));
                }
            }
        }
        assert!(
            late.is_empty(),
            "a 10 ms sleep waited for a worker blocked for {BLOCK:?}: {late:?}"
        );
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
