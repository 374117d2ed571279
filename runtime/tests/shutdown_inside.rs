//! A runtime dropped from inside one of its own tasks cannot join its workers (it runs on
//! one of them): its shutdown is deferred, never a hang. Deferred must still mean done: every
//! other task is dropped exactly once and every worker thread exits. Each test runs in its
//! own process, so that a hang is killed at a deadline and thread counts are this test's own.

mod common;

use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use common::{eventually, in_own_process, runtime, threads_named, DropCounter};

/// Tasks left pending when the runtime is dropped.
const PENDING: usize = 100;

#[test]
fn a_runtime_dropped_inside_its_own_task_still_drops_every_task_once_and_stops_its_workers() {
    in_own_process(
        "a_runtime_dropped_inside_its_own_task_still_drops_every_task_once_and_stops_its_workers",
        60,
        || {
            let drops = DropCounter::default();
            let rt = runtime(2);
            assert!(eventually(Duration::from_secs(20), || threads_named(
                "goro-worker"
            )
            .len()
                == 2));
            for _ in 0..PENDING {
                let token = drops.token();
                rt.spawn(async move {
                    let _token = token;
                    std::future::pending::<()>().await;
                });
            }
            let slot = Arc::new(Mutex::new(Some(rt)));
            let (tx, rx) = mpsc::channel();
            let inner = slot.clone();
            let token = drops.token();
            slot.lock().unwrap().as_ref().unwrap().spawn(async move {
                let _token = token;
                let rt = inner.lock().unwrap().take();
                drop(rt); // on one of its own workers
                tx.send(()).unwrap();
            });
            rx.recv_timeout(Duration::from_secs(20))
                .expect("dropping the runtime from inside its task hung");
            // Deferred, but done: every task dropped (the dropping task too, once it ended)...
            assert!(
                eventually(Duration::from_secs(20), || drops.count() > PENDING),
                "only {} of {} tasks were dropped",
                drops.count(),
                PENDING + 1
            );
            // ...and every worker thread gone.
            assert!(
                eventually(Duration::from_secs(20), || threads_named("goro-worker")
                    .is_empty()),
                "worker threads still running: {:?}",
                threads_named("goro-worker")
            );
            // Exactly once: nothing dropped twice once everything has stopped.
            assert_eq!(drops.count(), PENDING + 1);
        },
    );
}
