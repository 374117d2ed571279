//! The workloads of the coordination primitives: mutex, wait group, channels and select,
//! each written once against [`Locks`] and [`Channels`].
//!
//! Like the others (see `workloads.rs`), each checks its own result and panics when it is
//! wrong, and runs its timed part inside a spawned driver task.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use goro_benches::ns_per;

use super::locks::Locks;

/// `tasks` tasks each lock one mutex `locks` times to add 1 to the counter it guards; ns per
/// lock.
pub fn mutex_contention<R: Locks>(rt: &R, tasks: usize, locks: usize) -> f64 {
    let (total, elapsed) = rt.block_on_task(async move {
        let counter = Arc::new(R::mutex(0usize));
        let start = Instant::now();
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let counter = counter.clone();
                R::spawn(async move {
                    for _ in 0..locks {
                        R::with_lock(&counter, |c: &mut usize| *c += 1).await;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await;
        }
        let elapsed = start.elapsed();
        (R::with_lock(&counter, |c: &mut usize| *c).await, elapsed)
    });
    assert_eq!(
        total,
        tasks * locks,
        "mutex_contention: the counter lost increments"
    );
    ns_per(elapsed, tasks * locks)
}

/// `n` tiny tasks spawned and waited for in the runtime's WaitGroup idiom; ns per task.
pub fn waitgroup<R: Locks>(rt: &R, n: usize) -> f64 {
    let (elapsed, ran) = rt.block_on_task(async move {
        let ran = Arc::new(AtomicUsize::new(0));
        let counter = ran.clone();
        let start = Instant::now();
        R::spawn_and_wait(n, move |_| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        })
        .await;
        // The wait synchronises with every task's end, so every increment is visible here.
        (start.elapsed(), ran.load(Ordering::Relaxed))
    });
    assert_eq!(
        ran, n,
        "waitgroup: the wait returned after {ran} of {n} tasks"
    );
    ns_per(elapsed, n)
}
