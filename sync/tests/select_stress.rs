//! `select!` commits exactly one channel operation while other tasks and threads race for the
//! same channels: every value sent is received exactly once, and every select that reported a
//! send (or a receive) is the only one that did.
//!
//! The set-up: channel A carries values out of the selects, channel B into them. Each select
//! task loops over `select! { send to A, recv from B }`, recording what it sent and received.
//! Against them run either plain tasks (receivers on A, senders on B) or mirror selects
//! (`select! { recv from A, send to B }`). At the end the channels are closed and drained, and
//! the books must balance: each value sent on A was received on A exactly once, the same for
//! B. A select that committed both arms, or a value handed to an arm that was not chosen, shows
//! up as a value received but never reported sent (or the reverse).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use futures_lite::future::block_on;
use goro_sync::chan::{self, Receiver, Sender};
use goro_sync::select;

/// Runs `f`, aborting the whole test process if it has not returned after `secs` seconds.
fn watchdog<R>(secs: u64, f: impl FnOnce() -> R) -> R {
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    let name = thread::current().name().unwrap_or("?").to_string();
    thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if flag.load(Ordering::SeqCst) {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        eprintln!("watchdog: test {name} still running after {secs} s: aborting");
        std::process::abort();
    });
    let out = f();
    done.store(true, Ordering::SeqCst);
    out
}

/// Selects per select task.
const ROUNDS: usize = 25_000;
/// Select tasks on each side.
const SELECTORS: u64 = 4;

/// What one party sent and received.
#[derive(Default)]
struct Tally {
    sent_a: Vec<u64>,
    received_a: Vec<u64>,
    sent_b: Vec<u64>,
    received_b: Vec<u64>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.sent_a.extend(other.sent_a);
        self.received_a.extend(other.received_a);
        self.sent_b.extend(other.sent_b);
        self.received_b.extend(other.received_b);
    }

    /// Every value sent was received exactly once, and nothing else was received.
    fn assert_balanced(mut self) {
        for (name, sent, received) in [
            ("A", &mut self.sent_a, &mut self.received_a),
            ("B", &mut self.sent_b, &mut self.received_b),
        ] {
            sent.sort_unstable();
            received.sort_unstable();
            let sent_twice = sent.windows(2).filter(|w| w[0] == w[1]).count();
            assert_eq!(sent_twice, 0, "channel {name}: a value reported sent twice");
            let received_twice = received.windows(2).filter(|w| w[0] == w[1]).count();
            assert_eq!(received_twice, 0, "channel {name}: a value received twice");
            assert_eq!(
                sent.len(),
                received.len(),
                "channel {name}: sent and received counts differ"
            );
            assert!(sent == received, "channel {name}: different values");
        }
    }
}

type Job = Pin<Box<dyn Future<Output = Tally> + Send>>;

/// Where the parties run: goro tasks on 2 workers, or one plain thread each.
enum Exec {
    Goro(goro_runtime::Runtime),
    Threads,
}

enum Handle {
    Goro(goro_runtime::JoinHandle<Tally>),
    Thread(thread::JoinHandle<Tally>),
}

impl Exec {
    fn goro() -> Exec {
        Exec::Goro(
            goro_runtime::Builder::new()
                .worker_threads(2)
                .build()
                .expect("runtime"),
        )
    }

    fn spawn(&self, job: Job) -> Handle {
        match self {
            Exec::Goro(rt) => Handle::Goro(rt.spawn(job)),
            Exec::Threads => Handle::Thread(thread::spawn(move || block_on(job))),
        }
    }

    fn join(&self, handles: Vec<Handle>) -> Tally {
        let mut total = Tally::default();
        for handle in handles {
            total.merge(match (self, handle) {
                (Exec::Goro(rt), Handle::Goro(h)) => rt.block_on(h).expect("task panicked"),
                (_, Handle::Thread(t)) => t.join().expect("thread panicked"),
                _ => unreachable!(),
            });
        }
        total
    }
}

/// Sends to A or receives from B, `ROUNDS` times; values are `id << 32 | n`.
fn selector(id: u64, a: Sender<u64>, b: Receiver<u64>) -> Job {
    Box::pin(async move {
        let mut tally = Tally::default();
        let mut next = id << 32;
        for _ in 0..ROUNDS {
            select! {
                r = a.send(next) => {
                    r.expect("A closed under a selector");
                    tally.sent_a.push(next);
                    next += 1;
                }
                v = b.recv() => tally.received_b.push(v.expect("B closed under a selector")),
            }
        }
        tally
    })
}

/// Receives from A, or sends to B, until `stop` closes.
fn mirror(id: u64, a: Receiver<u64>, b: Sender<u64>, stop: Receiver<()>) -> Job {
    Box::pin(async move {
        let mut tally = Tally::default();
        let mut next = id << 32;
        loop {
            select! {
                v = a.recv() => tally.received_a.push(v.expect("A closed under a mirror")),
                r = b.send(next) => {
                    r.expect("B closed under a mirror");
                    tally.sent_b.push(next);
                    next += 1;
                }
                _ = stop.recv() => break,
            }
        }
        tally
    })
}

fn plain_receiver(a: Receiver<u64>) -> Job {
    Box::pin(async move {
        let mut tally = Tally::default();
        while let Some(v) = a.recv().await {
            tally.received_a.push(v);
        }
        tally
    })
}

fn plain_sender(id: u64, b: Sender<u64>) -> Job {
    Box::pin(async move {
        let mut tally = Tally::default();
        let mut next = id << 32;
        while b.send(next).await.is_ok() {
            tally.sent_b.push(next);
            next += 1;
        }
        tally
    })
}

/// Whatever is still buffered at the end was sent but not yet received: receive it now.
fn drain(a: &Receiver<u64>, b: &Receiver<u64>, tally: &mut Tally) {
    tally
        .received_a
        .extend(std::iter::from_fn(|| a.try_recv().ok()));
    tally
        .received_b
        .extend(std::iter::from_fn(|| b.try_recv().ok()));
}

/// Selects against plain senders and receivers.
fn selects_against_plain_operations(exec: Exec, cap: usize) {
    let (a_tx, a_rx) = chan::bounded(cap);
    let (b_tx, b_rx) = chan::bounded(cap);
    let selectors: Vec<_> = (0..SELECTORS)
        .map(|id| exec.spawn(selector(id, a_tx.clone(), b_rx.clone())))
        .collect();
    let others: Vec<_> = (0..2)
        .flat_map(|i| {
            [
                exec.spawn(plain_receiver(a_rx.clone())),
                exec.spawn(plain_sender(100 + i, b_tx.clone())),
            ]
        })
        .collect();
    drop(a_tx); // A closes when the selectors finish: its receivers then stop.
    let mut tally = exec.join(selectors);
    b_tx.close(); // The senders on B stop (a waiting one gets its value back).
    tally.merge(exec.join(others));
    drain(&a_rx, &b_rx, &mut tally);
    tally.assert_balanced();
}

/// Selects on both ends of both channels: every hand-over is between two selects.
fn selects_against_selects(exec: Exec, cap: usize) {
    let (a_tx, a_rx) = chan::bounded(cap);
    let (b_tx, b_rx) = chan::bounded(cap);
    let (stop_tx, stop_rx) = chan::bounded::<()>(0);
    let selectors: Vec<_> = (0..SELECTORS)
        .map(|id| exec.spawn(selector(id, a_tx.clone(), b_rx.clone())))
        .collect();
    let mirrors: Vec<_> = (0..SELECTORS)
        .map(|id| {
            exec.spawn(mirror(
                100 + id,
                a_rx.clone(),
                b_tx.clone(),
                stop_rx.clone(),
            ))
        })
        .collect();
    let mut tally = exec.join(selectors);
    stop_tx.close();
    tally.merge(exec.join(mirrors));
    drain(&a_rx, &b_rx, &mut tally);
    tally.assert_balanced();
}

#[test]
fn select_commits_once_against_plain_operations_unbuffered_on_goro() {
    watchdog(120, || selects_against_plain_operations(Exec::goro(), 0));
}

#[test]
fn select_commits_once_against_plain_operations_buffered_on_goro() {
    watchdog(120, || selects_against_plain_operations(Exec::goro(), 2));
}

#[test]
fn select_commits_once_against_plain_operations_unbuffered_on_threads() {
    watchdog(120, || selects_against_plain_operations(Exec::Threads, 0));
}

#[test]
fn select_commits_once_against_plain_operations_buffered_on_threads() {
    watchdog(120, || selects_against_plain_operations(Exec::Threads, 1));
}

#[test]
fn select_commits_once_against_selects_unbuffered_on_goro() {
    watchdog(120, || selects_against_selects(Exec::goro(), 0));
}

#[test]
fn select_commits_once_against_selects_buffered_on_goro() {
    watchdog(120, || selects_against_selects(Exec::goro(), 2));
}

#[test]
fn select_commits_once_against_selects_unbuffered_on_threads() {
    watchdog(120, || selects_against_selects(Exec::Threads, 0));
}

#[test]
fn select_commits_once_against_selects_buffered_on_threads() {
    watchdog(120, || selects_against_selects(Exec::Threads, 1));
}
