//! The workloads of the coordination primitives: mutex, wait group, channels and select,
//! each written once against [`Locks`] and [`Channels`].
//!
//! Like the others (see `workloads.rs`), each checks its own result and panics when it is
//! wrong, and runs its timed part inside a spawned driver task.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use goro_benches::plan::{MPMC_CAPACITY, MPMC_CONSUMERS, MPMC_PRODUCERS, MUTEX_LONG_WORK};
use goro_benches::{ns_per, Workload};

use super::channels::{Arm, Channels};
use super::locks::Locks;
use super::workloads::parked_memory;

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

/// One long critical section of `mutex_long`: [`MUTEX_LONG_WORK`] dependent multiply-adds on
/// the guarded value (an LCG step; the same in `benches/go/sync.go`).
pub fn long_work(value: u64) -> u64 {
    let mut x = value;
    for _ in 0..MUTEX_LONG_WORK {
        x = std::hint::black_box(x)
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
    }
    x
}

/// `tasks` tasks each lock one mutex `locks` times and, holding it, run [`long_work`] on the
/// value it guards; ns per lock. The result is checked against the same steps run in order
/// (each step is a bijection, and the sections run one at a time, so any interleaving of
/// whole sections gives the same value; a lost or torn one does not).
pub fn mutex_long<R: Locks>(rt: &R, tasks: usize, locks: usize) -> f64 {
    let (total, elapsed) = rt.block_on_task(async move {
        let state = Arc::new(R::mutex(0u64));
        let start = Instant::now();
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let state = state.clone();
                R::spawn(async move {
                    for _ in 0..locks {
                        R::with_lock(&state, |x: &mut u64| *x = long_work(*x)).await;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await;
        }
        let elapsed = start.elapsed();
        (R::with_lock(&state, |x: &mut u64| *x).await, elapsed)
    });
    let expected = (0..tasks * locks).fold(0u64, |x, _| long_work(x));
    assert_eq!(
        total, expected,
        "mutex_long: a critical section was lost or torn"
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

/// Two tasks pass a counter back and forth `trips` times over two channels of capacity
/// `cap`, one of them adding 1; ns per round trip.
pub fn ping_pong<R: Channels>(rt: &R, trips: usize, cap: usize) -> f64 {
    rt.block_on_task(async move {
        let (ping, mut pinged) = R::bounded::<usize>(cap);
        let (pong, mut ponged) = R::bounded::<usize>(cap);
        let echo = R::spawn(async move {
            while let Some(v) = R::recv(&mut pinged).await {
                R::send(&pong, v + 1).await;
            }
        });
        let start = Instant::now();
        for i in 0..trips {
            R::send(&ping, i).await;
            let reply = R::recv(&mut ponged).await;
            assert_eq!(reply, Some(i + 1), "ping_pong: wrong reply to trip {i}");
        }
        let elapsed = start.elapsed();
        drop(ping);
        echo.await;
        ns_per(elapsed, trips)
    })
}

/// [`MPMC_PRODUCERS`] tasks send `total` distinct values into one channel of capacity
/// [`MPMC_CAPACITY`] and [`MPMC_CONSUMERS`] tasks receive them until it closes; millions of
/// values per second, from the first spawn until every consumer has seen the channel close.
pub fn mpmc<R: Channels>(rt: &R, total: usize) -> f64 {
    let per_producer = total / MPMC_PRODUCERS;
    let total = per_producer * MPMC_PRODUCERS;
    let (elapsed, received) = rt.block_on_task(async move {
        let (tx, rx) = R::bounded::<usize>(MPMC_CAPACITY);
        let rx = R::share(rx);
        let start = Instant::now();
        let consumers: Vec<_> = (0..MPMC_CONSUMERS)
            .map(|_| {
                let rx = rx.clone();
                R::spawn(async move {
                    let mut got = Vec::new();
                    while let Some(v) = R::recv_shared(&rx).await {
                        got.push(v);
                    }
                    got
                })
            })
            .collect();
        drop(rx);
        for p in 0..MPMC_PRODUCERS {
            let tx = tx.clone();
            R::go(async move {
                for v in p * per_producer..(p + 1) * per_producer {
                    R::send(&tx, v).await;
                }
            });
        }
        // The channel closes when the last producer drops its clone.
        drop(tx);
        let mut received = Vec::with_capacity(MPMC_CONSUMERS);
        for c in consumers {
            received.push(c.await);
        }
        (start.elapsed(), received)
    });
    check_each_once(&received, total);
    total as f64 / elapsed.as_secs_f64() / 1e6
}

/// Panics unless `received` holds every value below `total` exactly once.
fn check_each_once(received: &[Vec<usize>], total: usize) {
    let mut seen = vec![false; total];
    for &v in received.iter().flatten() {
        assert!(v < total, "mpmc: received {v}, which nobody sent");
        assert!(!seen[v], "mpmc: received {v} twice");
        seen[v] = true;
    }
    let count: usize = received.iter().map(Vec::len).sum();
    assert_eq!(count, total, "mpmc: {count} of {total} values received");
}

/// One task selects `n` times over two channels each prefilled with `n` values, so both are
/// ready every time; ns per select.
pub fn select2<R: Channels>(rt: &R, n: usize) -> f64 {
    let (elapsed, firsts, seconds) = rt.block_on_task(async move {
        let (tx_a, mut rx_a) = R::bounded::<usize>(n);
        let (tx_b, mut rx_b) = R::bounded::<usize>(n);
        for i in 0..n {
            R::send(&tx_a, i).await;
            R::send(&tx_b, i).await;
        }
        let (mut next_a, mut next_b) = (0, 0);
        let start = Instant::now();
        for _ in 0..n {
            let (arm, v) = R::select2(&mut rx_a, &mut rx_b).await;
            let next = match arm {
                Arm::First => &mut next_a,
                Arm::Second => &mut next_b,
            };
            assert_eq!(v, Some(*next), "select2: {arm:?} arm received out of order");
            *next += 1;
        }
        let elapsed = start.elapsed();
        drop((tx_a, tx_b));
        (elapsed, next_a, next_b)
    });
    eprintln!("select2: first arm taken {firsts} times, second {seconds}");
    assert_eq!(firsts + seconds, n, "select2: selects lost");
    assert!(
        firsts > 0 && seconds > 0,
        "select2: one arm was never chosen although both were always ready"
    );
    ns_per(elapsed, n)
}

/// `n` tasks each create a bounded(1) channel, keep its sender and wait in `recv` for ever;
/// growth of RSS per task.
pub fn chan_memory<R: Channels>(rt: &R, n: usize) -> f64 {
    parked_memory(rt, n, Workload::ChanMemory, |parked| async move {
        let (tx, mut rx) = R::bounded::<u64>(1);
        parked.fetch_add(1, Ordering::Relaxed);
        let woke = R::recv(&mut rx).await;
        drop(tx);
        panic!("chan_memory: recv returned {woke:?} on a channel nobody sends on");
    })
}
