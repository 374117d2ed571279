//! Go's "all goroutines are asleep - deadlock!": `block_on` reports a program that nothing can
//! ever wake, and never a program that a thread, a timer, a socket or a blocking job will wake.
//!
//! Each case runs in its own process (a stuck program is the point), with the test harness's
//! main thread waiting for it without a timeout (`--test-threads=1`), and no watchdog thread
//! in the child: a sleeping watchdog is a thread that could still wake a task.

mod common;

use std::any::Any;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::in_own_process;
use goro_runtime::Builder;
use goro_sync::{chan, WaitGroup};

/// The report must come within this long of the program getting stuck (the check confirms
/// over a second or two; the rest is slack for a loaded machine).
const REPORT_WITHIN: Duration = Duration::from_secs(30);

fn runtime(workers: usize) -> goro_runtime::Runtime {
    Builder::new()
        .worker_threads(workers)
        .build()
        .expect("runtime")
}

fn message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Runs `future` on `rt`, expecting the deadlock report; returns it.
fn expect_deadlock<F: std::future::Future>(rt: &goro_runtime::Runtime, future: F) -> String {
    let start = Instant::now();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.block_on(future)))
        .err()
        .expect("block_on returned: no deadlock was reported");
    let msg = message(&*panic);
    assert!(
        msg.starts_with("all tasks are asleep - deadlock!"),
        "not the deadlock report: {msg}"
    );
    assert!(
        start.elapsed() < REPORT_WITHIN,
        "reported after {:?}",
        start.elapsed()
    );
    msg
}

#[test]
fn a_receive_nobody_will_send_to_is_reported() {
    in_own_process("a_receive_nobody_will_send_to_is_reported", 60, || {
        let rt = runtime(2);
        expect_deadlock(&rt, async {
            let (tx, rx) = chan::bounded::<u32>(0);
            let _kept = tx;
            rx.recv().await
        });
    });
}

#[test]
fn tasks_waiting_on_each_other_are_reported() {
    in_own_process("tasks_waiting_on_each_other_are_reported", 60, || {
        let rt = runtime(2);
        let report = expect_deadlock(&rt, async {
            let (a_tx, a_rx) = chan::bounded::<()>(0);
            let (b_tx, b_rx) = chan::bounded::<()>(0);
            let first = goro_runtime::task::Builder::new()
                .name("first")
                .spawn(async move {
                    a_rx.recv().await;
                    b_tx.send(()).await.ok();
                });
            let second = goro_runtime::task::Builder::new()
                .name("second")
                .spawn(async move {
                    b_rx.recv().await;
                    a_tx.send(()).await.ok();
                });
            let _ = first.await;
            let _ = second.await;
        });
        for name in ["\"first\"", "\"second\""] {
            assert!(report.contains(name), "{report}");
        }
        assert!(report.contains("goro: 2 live tasks"), "{report}");
        assert!(
            report.contains("spawned at runtime/tests/deadlock.rs"),
            "{report}"
        );
    });
}

#[test]
fn the_sigquit_dump_thread_does_not_hide_a_deadlock() {
    in_own_process(
        "the_sigquit_dump_thread_does_not_hide_a_deadlock",
        60,
        || {
            // Set before any runtime starts, in a child that runs this test alone.
            std::env::set_var(goro_runtime::DUMP_ON_SIGQUIT_ENV, "1");
            let rt = runtime(1);
            expect_deadlock(&rt, async {
                let (tx, rx) = chan::bounded::<u32>(0);
                let _kept = tx;
                rx.recv().await
            });
        },
    );
}

#[test]
fn a_waitgroup_never_done_is_reported() {
    in_own_process("a_waitgroup_never_done_is_reported", 60, || {
        let rt = runtime(1);
        expect_deadlock(&rt, async {
            let wg = WaitGroup::new();
            wg.add(1);
            wg.wait().await;
        });
    });
}

/// A thread blocked for ever on a `std::sync::Mutex` held by a stuck future cannot wake it.
#[test]
fn a_thread_blocked_on_a_lock_held_by_a_stuck_future_does_not_hide_it() {
    in_own_process(
        "a_thread_blocked_on_a_lock_held_by_a_stuck_future_does_not_hide_it",
        60,
        || {
            let rt = runtime(2);
            let lock = Arc::new(Mutex::new(0));
            let (blocked_tx, blocked_rx) = std::sync::mpsc::channel();
            let theirs = lock.clone();
            // The mistake the lint warns of is the point of this test.
            #[allow(clippy::await_holding_lock)]
            expect_deadlock(&rt, async move {
                let _guard = lock.lock().unwrap();
                std::thread::spawn(move || {
                    blocked_tx.send(()).unwrap();
                    *theirs.lock().unwrap() += 1;
                });
                blocked_rx.recv().unwrap();
                let (tx, rx) = chan::bounded::<()>(0);
                let _kept = tx;
                rx.recv().await; // never: this future sleeps holding the lock
            });
        },
    );
}

#[test]
fn a_plain_thread_that_will_send_is_waited_for() {
    in_own_process("a_plain_thread_that_will_send_is_waited_for", 60, || {
        let rt = runtime(2);
        let (tx, rx) = chan::bounded::<u32>(0);
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(4));
            tx.try_send(7).ok();
            // A rendezvous needs the receiver waiting: it is, by now.
        });
        assert_eq!(rt.block_on(rx.recv()), Some(7));
        sender.join().unwrap();
    });
}

#[test]
fn a_thread_waiting_with_a_timeout_is_waited_for() {
    in_own_process("a_thread_waiting_with_a_timeout_is_waited_for", 60, || {
        let rt = runtime(2);
        let (tx, rx) = chan::unbounded::<u32>();
        let (_never_tx, never_rx) = std::sync::mpsc::channel::<()>();
        let sender = std::thread::spawn(move || {
            // A futex wait with a timeout: it will run again, and then it sends.
            let _ = never_rx.recv_timeout(Duration::from_secs(4));
            tx.try_send(9).unwrap();
        });
        assert_eq!(rt.block_on(rx.recv()), Some(9));
        sender.join().unwrap();
    });
}

#[test]
fn a_long_timer_is_waited_for() {
    in_own_process("a_long_timer_is_waited_for", 60, || {
        let rt = runtime(1);
        let start = Instant::now();
        rt.block_on(async {
            let (_tx, rx) = chan::bounded::<()>(0);
            let out = goro_runtime::time::timeout(Duration::from_secs(4), rx.recv()).await;
            assert!(out.is_err());
        });
        assert!(start.elapsed() >= Duration::from_secs(4));
    });
}

#[test]
fn a_socket_with_a_waiting_task_is_waited_for() {
    in_own_process("a_socket_with_a_waiting_task_is_waited_for", 60, || {
        let rt = runtime(2);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(4));
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(b"x").unwrap();
        });
        rt.block_on(async {
            let listener = goro::net::Async::new(listener).unwrap();
            let (_conn, _) = listener.read_with(|l| l.accept()).await.unwrap();
        });
        client.join().unwrap();
    });
}

#[test]
fn a_blocking_job_that_will_send_is_waited_for() {
    in_own_process("a_blocking_job_that_will_send_is_waited_for", 60, || {
        let rt = runtime(1);
        rt.block_on(async {
            let (tx, rx) = chan::bounded::<u32>(1);
            goro_runtime::spawn_blocking(move || {
                std::thread::sleep(Duration::from_secs(4));
                tx.try_send(3).unwrap();
            });
            assert_eq!(rx.recv().await, Some(3));
        });
    });
}

/// With detection off, a stuck program stays stuck (as it would waiting for a wake goro
/// cannot see, from outside the process): the child is still running after several check
/// periods, and is then killed.
#[test]
fn detection_can_be_turned_off() {
    const CHILD: &str = "GORO_TEST_DEADLOCK_OFF_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let rt = Builder::new()
            .worker_threads(1)
            .detect_deadlocks(false)
            .build()
            .unwrap();
        let (_tx, rx) = chan::bounded::<u32>(0);
        println!("stuck");
        rt.block_on(rx.recv());
        println!("woken");
        return;
    }
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "detection_can_be_turned_off",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(6));
    let still_running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut stderr);
    }
    assert!(still_running, "the child ended: {stderr}");
    assert!(!stderr.contains("deadlock"), "{stderr}");
}
