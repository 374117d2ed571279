//! `dump_tasks()`: the dump lists what the runtime's tasks are doing, and SIGQUIT prints it
//! from a stuck program when `GORO_DUMP_ON_SIGQUIT=1` is set.

// `rt.block_on(async { Builder::new().name(..).spawn(..) })` only enters the runtime so that
// `Builder::spawn` records the test's own line; the handle is awaited later, on purpose.
#![allow(clippy::async_yields_async)]

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{runtime, watchdog};
use goro_runtime::task::{Builder, TaskDump, TaskInfo, TaskState};
use goro_runtime::{JoinHandle, Runtime};

/// Dumps `rt` until `ready` holds for the dump, or panics after 10 s.
fn dump_until(rt: &Runtime, ready: impl Fn(&TaskDump) -> bool) -> TaskDump {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let dump = rt.dump_tasks();
        if ready(&dump) {
            return dump;
        }
        assert!(
            Instant::now() < deadline,
            "the dump never got there:\n{dump}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The entry of the task behind `handle`, if the dump lists it.
fn entry<'a, T>(dump: &'a TaskDump, handle: &JoinHandle<T>) -> Option<&'a TaskInfo> {
    dump.tasks().iter().find(|t| Some(t.id()) == handle.id())
}

/// Whether the dump lists the task behind `handle` in `state`.
fn is_in<T>(dump: &TaskDump, handle: &JoinHandle<T>, state: TaskState) -> bool {
    entry(dump, handle).is_some_and(|t| t.state() == state)
}

/// A task parked on a channel shows as idle, with its name, its spawn location and its
/// polls; an unnamed one has no name.
#[test]
fn a_parked_task_shows_idle_with_its_name_and_spawn_location() {
    watchdog(30, || {
        let rt = runtime(2);
        let (tx, rx) = goro_sync::chan::bounded::<()>(0);
        let (rx1, rx2) = (rx.clone(), rx);
        let (line, named, unnamed) = rt.block_on(async {
            let named = Builder::new().name("consumer");
            let (line, named) = (line!(), named.spawn(async move { rx1.recv().await }));
            let unnamed = goro_runtime::spawn(async move { rx2.recv().await });
            (line, named, unnamed)
        });
        let dump = dump_until(&rt, |d| {
            is_in(d, &named, TaskState::Idle) && is_in(d, &unnamed, TaskState::Idle)
        });
        let (n, u) = (
            entry(&dump, &named).unwrap(),
            entry(&dump, &unnamed).unwrap(),
        );
        assert_eq!(n.name(), Some("consumer"));
        assert_eq!(u.name(), None);
        for t in [n, u] {
            assert!(t.polls() >= 1, "{t}");
            assert!(t.last_worker().is_some_and(|w| w < 2), "{t}");
            assert!(!t.is_blocking(), "{t}");
            assert_eq!(t.location().file(), file!(), "{t}");
        }
        assert_eq!((n.location().line(), u.location().line()), (line, line + 1));
        let text = dump.to_string();
        let head = format!("task {} \"consumer\" [idle ", n.id());
        assert!(text.contains(&head), "{text}");
        let spawned = format!("\n    spawned at {}:{line}:", file!());
        assert!(text.contains(&spawned), "{text}");
        drop(tx);
        rt.block_on(async {
            assert_eq!(named.await.unwrap(), None);
            assert_eq!(unnamed.await.unwrap(), None);
        });
    });
}

/// The task that takes the dump is running, on the worker it runs on.
#[test]
fn the_caller_shows_as_running_on_its_worker() {
    watchdog(30, || {
        let rt = runtime(2);
        // Both a first poll (shown by the worker) and a later one (from the registry).
        let (first, later) = rt
            .block_on(rt.spawn(async {
                let first = goro_runtime::dump_tasks();
                let worker = goro_runtime::worker_index();
                goro_runtime::yield_now().await;
                let later = goro_runtime::dump_tasks();
                let worker_later = goro_runtime::worker_index();
                ((first, worker), (later, worker_later))
            }))
            .unwrap();
        for ((dump, worker), polls) in [(first, 1), (later, 2)] {
            let running: Vec<_> = dump
                .tasks()
                .iter()
                .filter(|t| t.state() == TaskState::Running)
                .collect();
            assert_eq!(running.len(), 1, "{dump}");
            assert_eq!(running[0].polls(), polls, "{dump}");
            assert_eq!(running[0].last_worker(), worker, "{dump}");
            assert_eq!(running[0].location().file(), file!(), "{dump}");
        }
    });
}

/// A task in its first poll that blocks its worker, one that never got polled because the
/// only worker is blocked, and a blocking call: what a stuck program looks like.
#[test]
fn a_blocked_worker_its_task_and_the_tasks_behind_it_are_reported() {
    watchdog(30, || {
        let rt = runtime(1);
        let (started_tx, started) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let blocker = rt.block_on(async {
            Builder::new().name("blocker").spawn(async move {
                started_tx.send(()).unwrap();
                let _ = released.recv(); // blocks the only worker
            })
        });
        started.recv_timeout(Duration::from_secs(10)).unwrap();
        let behind = rt.spawn(async {});
        let (call_started_tx, call_started) = mpsc::channel();
        let (end_call, call_ends) = mpsc::channel::<()>();
        let call = rt.spawn_blocking(move || {
            call_started_tx.send(()).unwrap();
            let _ = call_ends.recv();
        });
        call_started.recv_timeout(Duration::from_secs(10)).unwrap();
        let dump = rt.dump_tasks();
        let b = entry(&dump, &blocker).unwrap_or_else(|| panic!("{dump}"));
        assert_eq!(b.name(), Some("blocker"));
        assert_eq!(
            (b.state(), b.polls(), b.last_worker()),
            (TaskState::Running, 1, Some(0))
        );
        let c = entry(&dump, &call).unwrap_or_else(|| panic!("{dump}"));
        assert!(c.is_blocking(), "{dump}");
        assert_eq!(
            (c.state(), c.polls(), c.last_worker()),
            (TaskState::Running, 1, None)
        );
        assert!(entry(&dump, &behind).is_none(), "{dump}");
        assert_eq!(dump.unpolled(), 1, "{dump}");
        assert_eq!(dump.tasks().len() + dump.unpolled(), rt.num_tasks());
        let text = dump.to_string();
        assert!(
            text.starts_with("goro: 3 live tasks, 1 not polled yet"),
            "{text}"
        );
        assert!(text.contains(" (blocking) [running "), "{text}");
        release.send(()).unwrap();
        end_call.send(()).unwrap();
        rt.block_on(async {
            blocker.await.unwrap();
            behind.await.unwrap();
            call.await.unwrap();
        });
    });
}

/// A finished task leaves the dump; the counts match `num_tasks`.
#[test]
fn finished_tasks_leave_and_the_count_matches_num_tasks() {
    watchdog(30, || {
        let rt = runtime(2);
        let (tx, rx) = goro_sync::chan::bounded::<()>(0);
        let parked: Vec<_> = (0..10)
            .map(|_| {
                let rx = rx.clone();
                rt.spawn(async move { rx.recv().await })
            })
            .collect();
        let dump = dump_until(&rt, |d| parked.iter().all(|h| is_in(d, h, TaskState::Idle)));
        assert_eq!(dump.unpolled(), 0, "{dump}");
        assert_eq!(dump.tasks().len(), rt.num_tasks(), "{dump}");
        assert_eq!(dump.tasks().len(), 10, "{dump}");
        drop(tx);
        rt.block_on(async {
            for h in parked {
                assert_eq!(h.await.unwrap(), None);
            }
        });
        // Finished tasks leave once their futures are dropped (just after their handles
        // got their output).
        let dump = dump_until(&rt, |d| d.tasks().is_empty());
        assert_eq!(dump.unpolled() + dump.tasks().len(), rt.num_tasks());
        assert_eq!(dump.to_string(), "goro: 0 live tasks");
    });
}

/// The time in a state grows while the task stays in it.
#[test]
fn time_in_state_grows_while_idle() {
    watchdog(30, || {
        let rt = runtime(2);
        let (tx, rx) = goro_sync::chan::bounded::<()>(0);
        let task = rt.spawn(async move { rx.recv().await });
        dump_until(&rt, |d| is_in(d, &task, TaskState::Idle));
        std::thread::sleep(Duration::from_millis(100));
        let dump = rt.dump_tasks();
        let since = entry(&dump, &task).unwrap().since();
        // The coarse clock ticks every few milliseconds; stamps are never late.
        assert!(
            since >= Duration::from_millis(80),
            "idle for {since:?} after 100 ms"
        );
        drop(tx);
        rt.block_on(task).unwrap();
    });
}

/// Set in the child process of the SIGQUIT test.
const CHILD_ENV: &str = "GORO_DUMP_TEST_CHILD";

/// The child: a runtime whose two workers are both blocked by named tasks, plus a named task
/// parked on a channel; says "ready", then stays stuck until killed.
fn stuck_child() -> ! {
    let rt = runtime(2);
    let (started_tx, started) = mpsc::channel();
    let (_never_tx, never) = goro_sync::chan::bounded::<()>(0);
    let mut tasks: Vec<JoinHandle<()>> = Vec::new();
    for name in ["stuck-a", "stuck-b"] {
        let started_tx = started_tx.clone();
        let stuck = async move {
            started_tx.send(()).unwrap();
            loop {
                std::thread::sleep(Duration::from_secs(3600)); // blocks its worker
            }
        };
        let task = rt.block_on(async { Builder::new().name(name).spawn(stuck) });
        tasks.push(task);
    }
    for _ in 0..2 {
        started.recv().unwrap();
    }
    let waiter = async move {
        never.recv().await;
    };
    let waiter = rt.block_on(async { Builder::new().name("waiter").spawn(waiter) });
    // Both workers are blocked: the waiter is never polled, and the dump counts it.
    tasks.push(waiter);
    println!("ready");
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// With `GORO_DUMP_ON_SIGQUIT=1`, SIGQUIT prints the dump of a program whose workers are all
/// blocked, and the program keeps running.
#[test]
fn sigquit_prints_the_dump_of_a_stuck_program() {
    if std::env::var_os(CHILD_ENV).is_some() {
        stuck_child();
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "sigquit_prints_the_dump_of_a_stuck_program",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .env(goro_runtime::DUMP_ON_SIGQUIT_ENV, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("re-run this test binary");
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    // Lines from the child's two streams, read on their own threads (reads block).
    let (lines_tx, lines) = mpsc::channel::<(bool, String)>();
    for (is_err, stream) in [
        (false, Box::new(stdout) as Box<dyn Read + Send>),
        (true, Box::new(stderr)),
    ] {
        let lines_tx = lines_tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = lines_tx.send((is_err, line));
            }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let next_line = |what: &str| {
        let left = deadline.saturating_duration_since(Instant::now());
        lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no {what} from the child within 30 s"))
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // libtest's "test NAME ... " precedes it on the same line.
        while !matches!(next_line("ready"), (false, line) if line.ends_with("ready")) {}
        send_sigquit(pid);
        // The dump lists the two tasks that block the workers (the waiter, queued behind
        // them, is only counted): read its standard error up to their second spawn line.
        let mut dump = String::new();
        while dump.matches("spawned at").count() < 2 {
            let (is_err, line) = next_line("dump");
            if is_err {
                dump.push_str(&line);
                dump.push('\n');
            }
        }
        assert!(dump.starts_with("SIGQUIT: goro task dump\n"), "{dump}");
        let header = "runtime 0 (2 workers): goro: 3 live tasks, 1 not polled yet";
        assert!(dump.contains(header), "{dump}");
        for name in ["stuck-a", "stuck-b"] {
            let head = format!("\"{name}\" [running ");
            assert!(dump.contains(&head), "{dump}");
        }
        assert!(dump.contains(&format!("spawned at {}:", file!())), "{dump}");
        // Still running: a second SIGQUIT prints again.
        assert!(
            child.try_wait().unwrap().is_none(),
            "SIGQUIT ended the child"
        );
        send_sigquit(pid);
        while !next_line("second dump")
            .1
            .contains("SIGQUIT: goro task dump")
        {}
    }));
    child.kill().unwrap(); // our own child, by its handle
    let _ = child.wait();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// Sends SIGQUIT to our child `pid` with kill(1).
fn send_sigquit(pid: u32) {
    let status = Command::new("kill")
        .args(["-QUIT", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -QUIT {pid}: {status}");
}
