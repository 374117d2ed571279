//! The runtime workloads, each written once against [`AsyncRuntime`], and the dispatch to
//! every workload (those of the coordination primitives are in `sync_workloads.rs`).
//!
//! Every workload checks its own result and panics when it is wrong (the child's panic hook
//! turns that into an abort), because a benchmark that silently measured nothing is worse
//! than none. Timed work that spawns "from a task" runs inside a spawned driver task, not in
//! `block_on`'s future: that future runs on the calling thread, which is no worker in goro
//! or tokio.

use std::fs;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro_benches::machine::rss_bytes;
use goro_benches::plan::{Size, BLOCKING_IN_FLIGHT, SLEEP};
use goro_benches::{ns_per, Latch, Workload};

use super::channels::Channels;
use super::contenders::AsyncRuntime;
use super::locks::Locks;
use super::sync_workloads;

/// How often `idle_memory` checks whether every task has started.
const START_POLL: Duration = Duration::from_millis(1);

/// What `blocking_pool` reads: 32 bytes, a "tiny" read.
const PROBE: &[u8; 32] = b"goro blocking_pool probe file..\n";

/// Tasks spawned at start-up so every worker thread has run before anything is timed.
const WARM_UP_TASKS_PER_WORKER: usize = 4;

/// Runs `workload` of `size` on `rt` and returns the number the report shows.
pub fn run<R: Locks + Channels>(rt: &R, workload: Workload, size: Size, workers: usize) -> f64 {
    warm_up(rt, workers);
    match workload {
        Workload::SpawnMany => spawn_many(rt, size.count),
        Workload::SpawnRemote => spawn_remote(rt, size.count),
        Workload::YieldMany => yield_many(rt, size.count, size.repeat),
        Workload::ChainedSpawn => chained_spawn(rt, size.count, size.repeat),
        Workload::Sleepers => sleepers(rt, size.count),
        Workload::IdleMemory => idle_memory(rt, size.count),
        Workload::BlockingPool => blocking_pool(rt, size.count),
        Workload::CpuParallel => cpu_parallel(rt, size.count, size.repeat),
        Workload::PingPongCap0
        | Workload::PingPongCap1
        | Workload::PingPongCap0OneWorker
        | Workload::PingPongCap1OneWorker => {
            let cap = workload.ping_pong_capacity().unwrap_or(1);
            sync_workloads::ping_pong(rt, size.count, cap)
        }
        Workload::Mpmc => sync_workloads::mpmc(rt, size.count),
        Workload::MutexContention => sync_workloads::mutex_contention(rt, size.count, size.repeat),
        Workload::MutexLong => sync_workloads::mutex_long(rt, size.count, size.repeat),
        Workload::WaitGroup => sync_workloads::waitgroup(rt, size.count),
        Workload::Select2 => sync_workloads::select2(rt, size.count),
        Workload::ChanMemory => sync_workloads::chan_memory(rt, size.count),
        Workload::TcpEcho
        | Workload::TcpStream
        | Workload::TcpChurn
        | Workload::IdleConns
        | Workload::IdleConnsThreads => super::net::run(rt, workload, size),
    }
}

/// Starts a few tasks per worker and waits for them, so thread start-up is not timed.
fn warm_up<R: AsyncRuntime>(rt: &R, workers: usize) {
    let n = workers * WARM_UP_TASKS_PER_WORKER;
    let ran = rt.block_on_task(async move {
        let handles: Vec<_> = (0..n).map(|i| R::spawn(async move { i })).collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await;
        }
        sum
    });
    assert_eq!(ran, n * (n - 1) / 2, "warm-up tasks returned wrong values");
}

/// `n` detached tiny tasks spawned from a task; ns per task until the last one ran.
fn spawn_many<R: AsyncRuntime>(rt: &R, n: usize) -> f64 {
    let latch = Arc::new(Latch::new(n));
    let done = latch.clone();
    let elapsed = rt.block_on_task(async move {
        let start = Instant::now();
        for _ in 0..n {
            let latch = latch.clone();
            R::go(async move { latch.count_down() });
        }
        latch.wait().await;
        start.elapsed()
    });
    assert_eq!(done.remaining(), 0, "spawn_many: not every task ran");
    ns_per(elapsed, n)
}

/// `n` detached tiny tasks spawned from this (non-runtime) thread; ns per task.
fn spawn_remote<R: AsyncRuntime>(rt: &R, n: usize) -> f64 {
    let latch = Arc::new(Latch::new(n));
    let start = Instant::now();
    for _ in 0..n {
        let latch = latch.clone();
        rt.spawn_outside(async move { latch.count_down() });
    }
    rt.block_on(latch.wait());
    let elapsed = start.elapsed();
    assert_eq!(latch.remaining(), 0, "spawn_remote: not every task ran");
    ns_per(elapsed, n)
}

/// `tasks` tasks that each yield `yields` times; ns per yield.
fn yield_many<R: AsyncRuntime>(rt: &R, tasks: usize, yields: usize) -> f64 {
    let yielded = Arc::new(AtomicUsize::new(0));
    let counted = yielded.clone();
    let elapsed = rt.block_on_task(async move {
        let latch = Arc::new(Latch::new(tasks));
        let start = Instant::now();
        for _ in 0..tasks {
            let (latch, yielded) = (latch.clone(), yielded.clone());
            R::go(async move {
                for _ in 0..yields {
                    R::yield_now().await;
                }
                yielded.fetch_add(yields, Ordering::Relaxed);
                latch.count_down();
            });
        }
        latch.wait().await;
        start.elapsed()
    });
    let total = tasks * yields;
    assert_eq!(
        counted.load(Ordering::Relaxed),
        total,
        "yield_many: yields lost"
    );
    ns_per(elapsed, total)
}

/// One hop of a chain: spawns the next hop, or ends the chain after `left` more hops.
fn hop<R: AsyncRuntime>(left: usize, hops: usize, end: Arc<(Latch, AtomicUsize)>) {
    if left == 0 {
        end.1.store(hops, Ordering::Relaxed);
        end.0.count_down();
        return;
    }
    R::go(async move { hop::<R>(left - 1, hops + 1, end) });
}

/// `chains` chains, one after another, of `depth` tasks each spawning the next; ns per hop.
fn chained_spawn<R: AsyncRuntime>(rt: &R, depth: usize, chains: usize) -> f64 {
    let elapsed = rt.block_on_task(async move {
        let start = Instant::now();
        for chain in 0..chains {
            let end = Arc::new((Latch::new(1), AtomicUsize::new(0)));
            hop::<R>(depth, 0, end.clone());
            end.0.wait().await;
            let hops = end.1.load(Ordering::Relaxed);
            assert_eq!(hops, depth, "chained_spawn: chain {chain} made {hops} hops");
        }
        start.elapsed()
    });
    ns_per(elapsed, depth * chains)
}

/// What `sleepers` observes besides its wall time, to tell spawning cost from timer lag.
#[derive(Default)]
struct SleepStats {
    /// Tasks whose sleep ended before [`SLEEP`] had passed.
    early: AtomicUsize,
    /// The latest moment a task started sleeping, in µs after the first spawn.
    last_start_us: AtomicU64,
    /// The longest time a task woke after its deadline, in µs.
    max_late_us: AtomicU64,
}

/// `n` tasks sleep [`SLEEP`]; wall ms from the first spawn to the last wake. The spawn time,
/// the last task's start and the worst lateness go to stderr.
fn sleepers<R: AsyncRuntime>(rt: &R, n: usize) -> f64 {
    let stats = Arc::new(SleepStats::default());
    let seen = stats.clone();
    let (spawned, elapsed) = rt.block_on_task(async move {
        let latch = Arc::new(Latch::new(n));
        let start = Instant::now();
        for _ in 0..n {
            let (latch, stats) = (latch.clone(), stats.clone());
            R::go(async move {
                let slept_at = Instant::now();
                R::sleep(SLEEP).await;
                let slept = slept_at.elapsed();
                let started_us = (slept_at - start).as_micros() as u64;
                stats.last_start_us.fetch_max(started_us, Ordering::Relaxed);
                let late_us = slept.saturating_sub(SLEEP).as_micros() as u64;
                stats.max_late_us.fetch_max(late_us, Ordering::Relaxed);
                if slept < SLEEP {
                    stats.early.fetch_add(1, Ordering::Relaxed);
                }
                latch.count_down();
            });
        }
        let spawned = start.elapsed();
        latch.wait().await;
        (spawned, start.elapsed())
    });
    let early = seen.early.load(Ordering::Relaxed);
    assert_eq!(
        early, 0,
        "sleepers: {early} tasks woke before their deadline"
    );
    eprintln!(
        "sleepers: spawn loop {:.1} ms; last task began sleeping at {:.1} ms; \
         worst wake {:.1} ms after its deadline; last wake at {:.1} ms",
        spawned.as_secs_f64() * 1000.0,
        seen.last_start_us.load(Ordering::Relaxed) as f64 / 1000.0,
        seen.max_late_us.load(Ordering::Relaxed) as f64 / 1000.0,
        elapsed.as_secs_f64() * 1000.0,
    );
    elapsed.as_secs_f64() * 1000.0
}

/// `n` tasks parked forever; growth of RSS per task once all of them have run once.
fn idle_memory<R: AsyncRuntime>(rt: &R, n: usize) -> f64 {
    parked_memory(rt, n, Workload::IdleMemory, |parked| async move {
        parked.fetch_add(1, Ordering::Relaxed);
        std::future::pending::<()>().await;
    })
}

/// Spawns `n` tasks running `task(parked)`, each of which adds 1 to `parked` just before it
/// parks for ever; returns the growth of RSS per task once all have parked.
pub fn parked_memory<R, F, Fut>(rt: &R, n: usize, workload: Workload, task: F) -> f64
where
    R: AsyncRuntime,
    F: Fn(Arc<AtomicUsize>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let base = rss_bytes().unwrap_or_else(|e| panic!("{workload}: cannot read RSS: {e}"));
    let parked = Arc::new(AtomicUsize::new(0));
    let counted = parked.clone();
    rt.block_on_task(async move {
        for _ in 0..n {
            R::go(task(parked.clone()));
        }
        while parked.load(Ordering::Relaxed) < n {
            R::sleep(START_POLL).await;
        }
    });
    let grown = rss_bytes().unwrap_or_else(|e| panic!("{workload}: cannot read RSS: {e}")) as f64
        - base as f64;
    assert_eq!(
        counted.load(Ordering::Relaxed),
        n,
        "{workload}: tasks did not all park"
    );
    if let Some(live) = rt.live_tasks() {
        assert!(
            live >= n,
            "{workload}: {n} tasks parked but the runtime counts {live} live"
        );
    }
    assert!(grown > 0.0, "{workload}: RSS did not grow ({grown} bytes)");
    grown / n as f64
}

/// A file holding [`PROBE`], removed when dropped.
struct ProbeFile(PathBuf);

impl ProbeFile {
    fn create() -> ProbeFile {
        let path = std::env::temp_dir().join(format!("goro-bench-{}.probe", std::process::id()));
        fs::write(&path, PROBE).expect("blocking_pool: cannot write the probe file");
        ProbeFile(path)
    }
}

impl Drop for ProbeFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// `calls` file reads on the blocking pool, [`BLOCKING_IN_FLIGHT`] at a time; ns per call.
fn blocking_pool<R: AsyncRuntime>(rt: &R, calls: usize) -> f64 {
    let probe = ProbeFile::create();
    let path = Arc::new(probe.0.clone());
    let good = Arc::new(AtomicUsize::new(0));
    let counted = good.clone();
    let elapsed = rt.block_on_task(async move {
        let next = Arc::new(AtomicUsize::new(0));
        let latch = Arc::new(Latch::new(BLOCKING_IN_FLIGHT));
        let start = Instant::now();
        for _ in 0..BLOCKING_IN_FLIGHT {
            let (next, latch, good, path) =
                (next.clone(), latch.clone(), good.clone(), path.clone());
            R::go(async move {
                while next.fetch_add(1, Ordering::Relaxed) < calls {
                    let path = path.clone();
                    let bytes = R::spawn_blocking(move || fs::read(&*path)).await;
                    if bytes.is_ok_and(|b| b == PROBE) {
                        good.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latch.count_down();
            });
        }
        latch.wait().await;
        start.elapsed()
    });
    let good = counted.load(Ordering::Relaxed);
    assert_eq!(
        good, calls,
        "blocking_pool: {good} of {calls} reads returned the probe"
    );
    ns_per(elapsed, calls)
}

/// An `n × n` matrix of small exact values, different for each `seed`.
fn matrix(n: usize, seed: usize) -> Arc<Vec<f64>> {
    Arc::new(
        (0..n * n)
            .map(|i| ((i * 7 + seed * 13) % 17) as f64 / 8.0 - 1.0)
            .collect(),
    )
}

/// Row `i` of `a × b` (both `n × n`, row-major), in i-k-j order so `b` is read row-wise.
fn product_row(a: &[f64], b: &[f64], n: usize, i: usize) -> Vec<f64> {
    let mut row = vec![0.0; n];
    for k in 0..n {
        let aik = a[i * n + k];
        for (r, bkj) in row.iter_mut().zip(&b[k * n..(k + 1) * n]) {
            *r += aik * bkj;
        }
    }
    row
}

/// `a × b` on the calling thread.
fn product_sequential(a: &[f64], b: &[f64], n: usize) -> Vec<Vec<f64>> {
    (0..n).map(|i| product_row(a, b, n, i)).collect()
}

/// `a × b` with one task per row.
fn product_parallel<R: AsyncRuntime>(
    rt: &R,
    a: &Arc<Vec<f64>>,
    b: &Arc<Vec<f64>>,
    n: usize,
) -> Vec<Vec<f64>> {
    let (a, b) = (a.clone(), b.clone());
    rt.block_on_task(async move {
        let rows: Vec<_> = (0..n)
            .map(|i| {
                let (a, b) = (a.clone(), b.clone());
                R::spawn(async move { product_row(&a, &b, n, i) })
            })
            .collect();
        let mut product = Vec::with_capacity(n);
        for row in rows {
            product.push(row.await);
        }
        product
    })
}

/// Sequential time / parallel time of an `n × n` matmul over `rounds` alternating rounds
/// (after one untimed round of each), every parallel result checked against the sequential.
fn cpu_parallel<R: AsyncRuntime>(rt: &R, n: usize, rounds: usize) -> f64 {
    let (a, b) = (matrix(n, 1), matrix(n, 2));
    let expected = product_sequential(&a, &b, n);
    assert!(
        product_parallel(rt, &a, &b, n) == expected,
        "cpu_parallel: wrong product"
    );
    let (mut sequential, mut parallel) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..rounds {
        let start = Instant::now();
        let seq = std::hint::black_box(product_sequential(&a, &b, n));
        sequential += start.elapsed();
        let start = Instant::now();
        let par = product_parallel(rt, &a, &b, n);
        parallel += start.elapsed();
        assert!(seq == expected, "cpu_parallel: sequential product changed");
        assert!(
            par == expected,
            "cpu_parallel: parallel product differs from sequential"
        );
    }
    sequential.as_secs_f64() / parallel.as_secs_f64()
}
