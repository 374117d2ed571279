//! Starvation: tasks that are always ready (a loop over a channel that always has a value)
//! occupy every worker, and a timer and a socket must still be served — the workers check the
//! injector and poll the reactor every so many ticks, and channel operations spend the
//! cooperative budget. Each case runs in its own process: starvation shows as a hang, and the
//! child is killed at its deadline.

mod common;

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use common::{in_own_process, runtime};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use goro::sync::chan;
use goro_net::TcpListener;

/// How long each starved party may take before the test fails: far beyond what a loaded
/// machine needs (a few milliseconds), far below the child's deadline.
const LIMIT: Duration = Duration::from_secs(30);

/// Echo round trips the client makes.
const ROUND_TRIPS: usize = 20;

fn always_ready_tasks_do_not_starve_a_timer_or_a_socket(workers: usize) {
    let rt = runtime(workers);
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    // One spinner per worker; each publishes the worker it last ran on (+1; 0: not yet).
    let on_worker: Arc<Vec<AtomicUsize>> =
        Arc::new((0..workers).map(|_| AtomicUsize::new(0)).collect());
    let spinners: Vec<_> = (0..workers)
        .map(|i| {
            let (stop, on_worker) = (stop.clone(), on_worker.clone());
            rt.spawn(async move {
                let (tx, rx) = chan::unbounded();
                tx.try_send(()).unwrap();
                let mut rounds = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    rx.recv().await.unwrap();
                    tx.send(()).await.unwrap();
                    let here = goro_runtime::worker_index().expect("on a worker");
                    on_worker[i].store(here + 1, Ordering::SeqCst);
                    rounds += 1;
                }
                rounds
            })
        })
        .collect();
    // Wait until the spinners occupy every worker at once (an idle worker steals one).
    let deadline = Instant::now() + LIMIT;
    loop {
        let mut seen: Vec<usize> = on_worker.iter().map(|w| w.load(Ordering::SeqCst)).collect();
        seen.sort_unstable();
        seen.dedup();
        if seen.len() == workers && seen[0] != 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the spinners never spread over the {workers} workers: {seen:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }

    // A timer task and a socket server, spawned while every worker spins.
    let (done_tx, done_rx) = mpsc::channel::<&'static str>();
    let timer_done = done_tx.clone();
    rt.spawn(async move {
        for _ in 0..10 {
            goro_runtime::time::sleep(Duration::from_millis(10)).await;
        }
        timer_done.send("timer").unwrap();
    });
    rt.spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 8];
        for _ in 0..ROUND_TRIPS {
            conn.read_exact(&mut buf).await.unwrap();
            conn.write_all(&buf).await.unwrap();
        }
        done_tx.send("echo server").unwrap();
    });
    // The client is a plain thread: only the server side needs a worker.
    let client = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(LIMIT)).unwrap();
        for i in 0..ROUND_TRIPS as u64 {
            s.write_all(&i.to_le_bytes()).unwrap();
            let mut buf = [0u8; 8];
            s.read_exact(&mut buf).expect("the echo server starved");
            assert_eq!(u64::from_le_bytes(buf), i);
        }
    });

    let mut finished = Vec::new();
    for _ in 0..2 {
        match done_rx.recv_timeout(LIMIT) {
            Ok(who) => finished.push(who),
            Err(_) => {
                panic!("starved on {workers} worker(s): after {LIMIT:?} only {finished:?} finished")
            }
        }
    }
    client.join().unwrap();
    // The spinners ran all along (they were not simply parked while the others ran).
    stop.store(true, Ordering::SeqCst);
    for s in spinners {
        assert!(rt.block_on(s).unwrap() > 0);
    }
}

#[test]
fn always_ready_tasks_do_not_starve_a_timer_or_a_socket_on_one_worker() {
    in_own_process(
        "always_ready_tasks_do_not_starve_a_timer_or_a_socket_on_one_worker",
        90,
        || always_ready_tasks_do_not_starve_a_timer_or_a_socket(1),
    );
}

#[test]
fn always_ready_tasks_do_not_starve_a_timer_or_a_socket_on_two_workers() {
    in_own_process(
        "always_ready_tasks_do_not_starve_a_timer_or_a_socket_on_two_workers",
        90,
        || always_ready_tasks_do_not_starve_a_timer_or_a_socket(2),
    );
}
