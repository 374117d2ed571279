//! Lost wakeups at the boundary between a wake and the poll it interrupts: a task woken
//! while its poll is still running (by one thread, or by two at once) must be polled exactly
//! once more — not zero times (a lost wakeup: the task hangs), not twice for one wake.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Poll, Waker};

use common::{runtime, watchdog};

/// A plain thread that wakes each waker it is handed, then says so.
fn waker_thread() -> (
    mpsc::Sender<(Waker, mpsc::Sender<()>)>,
    std::thread::JoinHandle<()>,
) {
    let (tx, rx) = mpsc::channel::<(Waker, mpsc::Sender<()>)>();
    let thread = std::thread::spawn(move || {
        for (waker, done) in rx {
            waker.wake();
            done.send(()).unwrap();
        }
    });
    (tx, thread)
}

/// Runs `rounds` tasks on `workers` workers; in its first poll each task hands its waker to
/// `wakers` threads and returns `Pending` only after all of them have woken it. Every task
/// must then be polled exactly once more.
fn woken_during_its_poll(workers: usize, wakers: usize, rounds: usize) {
    let rt = runtime(workers);
    let threads: Vec<_> = (0..wakers).map(|_| waker_thread()).collect();
    for round in 0..rounds {
        let polls = Arc::new(AtomicUsize::new(0));
        let senders: Vec<_> = threads.iter().map(|(tx, _)| tx.clone()).collect();
        let p = polls.clone();
        let task = rt.spawn(std::future::poll_fn(move |cx| {
            let n = p.fetch_add(1, Ordering::SeqCst) + 1;
            if n > 1 {
                return Poll::Ready(n);
            }
            let (done_tx, done_rx) = mpsc::channel();
            for tx in &senders {
                tx.send((cx.waker().clone(), done_tx.clone())).unwrap();
            }
            // Every wake has happened, while this poll is still running.
            for _ in 0..senders.len() {
                done_rx.recv().unwrap();
            }
            Poll::Pending
        }));
        let n = rt.block_on(task).unwrap();
        assert_eq!(n, 2, "round {round}: polled {n} times");
        assert_eq!(polls.load(Ordering::SeqCst), 2, "round {round}");
    }
    for (tx, thread) in threads {
        drop(tx);
        thread.join().unwrap();
    }
}

#[test]
fn a_wake_during_its_poll_runs_the_task_exactly_once_more() {
    watchdog(120, || woken_during_its_poll(2, 1, 5_000));
}

#[test]
fn two_concurrent_wakes_during_its_poll_run_the_task_exactly_once_more() {
    watchdog(120, || woken_during_its_poll(2, 2, 5_000));
}

#[test]
fn a_wake_during_its_poll_on_a_single_worker_runs_the_task_exactly_once_more() {
    watchdog(120, || woken_during_its_poll(1, 2, 5_000));
}
