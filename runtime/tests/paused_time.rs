//! A runtime built with a paused clock: time moves only by `time::advance` or when nothing of
//! the runtime can run before a timer, and then exactly to that timer.
//!
//! The tests that say "the clock did not move" try to break the rule the docs claim: while a
//! task runs on a worker, a `block_on` thread polls, or a blocking job runs, the clock stays
//! where it is, however long (in real time) that takes.

mod common;

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::watchdog;
use goro_runtime::time::{self, advance, sleep, timeout};
use goro_runtime::Builder;
use goro_sync::chan;

fn paused(workers: usize) -> goro_runtime::Runtime {
    Builder::new()
        .worker_threads(workers)
        .start_paused(true)
        .build()
        .expect("runtime")
}

#[test]
fn a_thirty_second_timeout_takes_no_real_time() {
    watchdog(60, || {
        for workers in [1, 4] {
            let rt = paused(workers);
            let real = Instant::now();
            let virtual_elapsed = rt.block_on(async {
                let start = time::now();
                let (_tx, rx) = chan::bounded::<()>(0);
                let out = timeout(Duration::from_secs(30), rx.recv()).await;
                assert!(out.is_err(), "nothing was sent: the timeout must fire");
                time::now() - start
            });
            assert_eq!(virtual_elapsed, Duration::from_secs(30));
            assert!(
                real.elapsed() < Duration::from_secs(20),
                "took {:?} of real time",
                real.elapsed()
            );
        }
    });
}

#[test]
fn timers_fire_in_order_at_their_exact_instants() {
    watchdog(60, || {
        let rt = paused(2);
        rt.block_on(async {
            let start = time::now();
            let (tx, rx) = chan::unbounded();
            for i in (1..=50u64).rev() {
                let tx = tx.clone();
                goro_runtime::spawn(async move {
                    sleep(Duration::from_secs(i)).await;
                    tx.send((i, time::now())).await.unwrap();
                });
            }
            drop(tx);
            let mut expected = 1;
            while let Some((i, at)) = rx.recv().await {
                assert_eq!(i, expected, "timers fired out of order");
                assert_eq!(at - start, Duration::from_secs(i));
                expected += 1;
            }
            assert_eq!(expected, 51);
        });
    });
}

#[test]
fn the_clock_stays_while_a_task_runs_on_a_worker() {
    watchdog(60, || {
        let rt = paused(2);
        rt.block_on(async {
            let start = time::now();
            let task = goro_runtime::spawn(async {
                // Blocks its worker for real time; the runtime is not idle meanwhile.
                std::thread::sleep(Duration::from_millis(300));
                7
            });
            let out = timeout(Duration::from_millis(100), task).await;
            assert_eq!(out.expect("the clock moved while a task ran").unwrap(), 7);
            assert_eq!(time::now(), start);
        });
    });
}

#[test]
fn the_clock_stays_while_a_blocking_job_runs() {
    watchdog(60, || {
        let rt = paused(1);
        rt.block_on(async {
            let start = time::now();
            let job = goro_runtime::spawn_blocking(|| {
                std::thread::sleep(Duration::from_millis(300));
                "done"
            });
            let out = timeout(Duration::from_millis(100), job).await;
            assert_eq!(
                out.expect("the clock moved during a blocking job").unwrap(),
                "done"
            );
            assert_eq!(time::now(), start);
        });
    });
}

#[test]
fn the_clock_stays_while_block_on_polls() {
    watchdog(60, || {
        let rt = paused(2);
        rt.block_on(async {
            let start = time::now();
            let timer = goro_runtime::spawn(async {
                sleep(Duration::from_secs(10)).await;
            });
            goro_runtime::yield_now().await;
            // This thread is busy in its poll: every worker idles meanwhile, and a timer is
            // pending, but the clock must not jump.
            std::thread::sleep(Duration::from_millis(300));
            assert_eq!(time::now(), start);
            timer.await.unwrap();
            assert_eq!(time::now() - start, Duration::from_secs(10));
        });
    });
}

/// Work handed from a task to `block_on` and back, round after round, on two workers, each
/// round racing a timeout that must never fire: if the clock ever jumped while a wake was in
/// flight (the worker asleep, the `block_on` thread woken but not yet running), the timeout
/// would win.
#[test]
fn handoffs_between_tasks_and_block_on_never_let_the_clock_jump() {
    watchdog(120, || {
        let rt = paused(2);
        rt.block_on(async {
            let start = time::now();
            let (to_task, from_main) = chan::bounded::<u32>(0);
            let (to_main, from_task) = chan::bounded::<u32>(0);
            let echo = goro_runtime::spawn(async move {
                while let Some(v) = from_main.recv().await {
                    goro_runtime::yield_now().await;
                    to_main.send(v + 1).await.unwrap();
                }
            });
            for round in 0..2000 {
                to_task.send(round).await.unwrap();
                let reply = timeout(Duration::from_secs(1), from_task.recv()).await;
                assert_eq!(reply, Ok(Some(round + 1)), "round {round}");
            }
            assert_eq!(time::now(), start, "no timer had to fire");
            drop(to_task);
            echo.await.unwrap();
        });
    });
}

#[test]
fn ready_sockets_are_served_before_the_clock_jumps() {
    watchdog(60, || {
        let rt = paused(1);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0; 5];
            conn.read_exact(&mut buf).unwrap();
            conn.write_all(&buf).unwrap();
        });
        rt.block_on(async {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream.write_all(b"hello").unwrap();
            // Wait, in real time and without registering anything, until the echo is in
            // this socket's buffer (this thread is busy meanwhile: the clock stays).
            let deadline = Instant::now() + Duration::from_secs(30);
            while stream.peek(&mut [0; 5]).unwrap() < 5 {
                assert!(Instant::now() < deadline, "no echo");
                std::thread::sleep(Duration::from_millis(5));
            }
            let io = goro::net::Async::new(stream).unwrap();
            let start = time::now();
            // The read is ready at once, but only the reactor can say so: the timeout's timer
            // is the next thing due. The socket must win.
            let mut buf = [0; 5];
            let read = io.read_with(|s| (&*s).read(&mut buf));
            let n = timeout(Duration::from_secs(5), read)
                .await
                .expect("a ready socket lost to the clock")
                .unwrap();
            assert_eq!(&buf[..n], &b"hello"[..n]);
            assert_eq!(time::now(), start);
        });
        peer.join().unwrap();
    });
}

#[test]
fn advance_moves_the_clock_and_fires_what_became_due() {
    watchdog(60, || {
        let rt = paused(1);
        rt.block_on(async {
            let start = time::now();
            let fired = Arc::new(AtomicUsize::new(0));
            let (tx, rx) = chan::unbounded();
            for secs in [5u64, 10, 60] {
                let (fired, tx) = (fired.clone(), tx.clone());
                goro_runtime::spawn(async move {
                    // Absolute deadlines: whenever the task first runs, before or after the
                    // advance below.
                    time::sleep_until(start + Duration::from_secs(secs)).await;
                    fired.fetch_add(1, Ordering::SeqCst);
                    tx.send(secs).await.unwrap();
                });
            }
            advance(Duration::from_secs(10)).await;
            assert_eq!(time::now() - start, Duration::from_secs(10));
            let mut got = vec![rx.recv().await.unwrap(), rx.recv().await.unwrap()];
            got.sort();
            assert_eq!(got, [5, 10]);
            // The 60 s timer is the only thing left: awaiting it jumps there by itself.
            assert_eq!(rx.recv().await, Some(60));
            assert_eq!(time::now() - start, Duration::from_secs(60));
            assert_eq!(fired.load(Ordering::SeqCst), 3);
        });
    });
}

#[test]
fn interval_ticks_exactly_one_period_apart() {
    watchdog(60, || {
        let rt = paused(1);
        rt.block_on(async {
            let start = time::now();
            let mut ticker = time::interval(Duration::from_secs(60));
            for k in 1..=10 {
                let tick = ticker.tick().await;
                assert_eq!(tick - start, Duration::from_secs(60 * k));
                assert_eq!(time::now(), tick);
            }
        });
    });
}

#[test]
fn after_sends_the_paused_time() {
    watchdog(60, || {
        let rt = paused(1);
        rt.block_on(async {
            let start = time::now();
            let at = time::after(Duration::from_secs(90)).recv().await.unwrap();
            assert_eq!(at - start, Duration::from_secs(90));
        });
    });
}

#[test]
fn context_deadlines_follow_the_paused_clock() {
    watchdog(60, || {
        let rt = paused(2);
        rt.block_on(async {
            use goro_runtime::context::{Context, ContextError};
            let start = time::now();
            let (ctx, _cancel) = Context::background().with_timeout(Duration::from_secs(30));
            assert_eq!(ctx.deadline(), Some(start + Duration::from_secs(30)));
            assert_eq!(ctx.err(), None);
            ctx.done().await;
            assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
            assert_eq!(time::now() - start, Duration::from_secs(30));
        });
    });
}

#[test]
fn advance_on_a_real_clock_panics_clearly() {
    watchdog(60, || {
        let rt = common::runtime(1);
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(advance(Duration::from_secs(1)))
        }))
        .unwrap_err();
        let msg = err
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        assert!(msg.contains("start_paused"), "{msg}");
    });
}

#[test]
fn now_outside_any_runtime_is_the_real_clock() {
    let before = Instant::now();
    let now = time::now();
    assert!(now >= before && now <= Instant::now());
}
