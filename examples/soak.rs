//! Soak: every part of goro at once, round after round, with every counter checked.
//!
//! Run: `cargo run --release --example soak -- --secs 60` (CI runs `--secs 10`; `--workers N`
//! sets the worker count, default one per CPU or `GORO_MAXPROCS`).
//!
//! Each round runs these side by side on all workers, then checks what came out:
//!
//! - spawn storms: thousands of short tasks in a `JoinSet` (some yield, some spawn a child,
//!   a few block their worker for a millisecond), and a `TaskGroup` with a limit: every task
//!   spawned completes once, and no more members run at once than the limit;
//! - channels: unbuffered, buffered and unbounded, several producers and consumers, every
//!   operation inside a `timeout` short enough that some elapse; `select!` loops sending one
//!   value to whichever of two channels takes it first, against a timer arm. Every value
//!   carries a sequence number and must be received exactly once (an elapsed send sent
//!   nothing and is retried; an elapsed or losing receive took nothing);
//! - timers: sleeps that must not fire early, an interval, timeouts that fire and timeouts
//!   whose long timer is cancelled;
//! - TCP echo over 127.0.0.1: one server task per connection, clients checking every byte,
//!   and idle connections whose client task is aborted while it waits to read;
//! - aborts: `JoinHandle::abort` of sleeping, running, yielding and channel-blocked tasks, a
//!   dropped `JoinSet`, a failing `TaskGroup`: each aborted future is dropped exactly once;
//! - blocking calls: `spawn_blocking` jobs, and `goro::fs` writes, reads and removals in a
//!   temporary directory.
//!
//! Values made along the way are counted while alive: when a round ends no counted value and
//! no task may be left (`goro::num_tasks() == 0`). The resident memory after the warm-up round
//! (round 2) and at the end is printed, and may grow by at most 2x + 32 MiB. A watchdog thread
//! aborts the process if no round completes within a minute, naming the parts still running.
//!
//! What to look for: the last line, `soak passed` (exit code 0), or `soak FAILED:` with what
//! was lost, duplicated, leaked or late (exit code 1; a hang aborts the process).

mod common;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use goro::io::{AsyncReadExt, AsyncWriteExt};
use goro::net::{TcpListener, TcpStream};
use goro::sync::chan::{self, Receiver, Sender};
use goro::time::{sleep, timeout};
use goro::{JoinHandle, JoinSet, TaskGroup};

/// Rounds run at least this many times, however short `--secs`: round 2 is the warm-up the
/// memory at the end is compared with.
const MIN_ROUNDS: u64 = 3;
/// The round after which the resident memory is taken as the base line.
const WARM_UP_ROUND: u64 = 2;
/// If no round completes for this long, the watchdog aborts the process: goro hangs.
const ROUND_DEADLINE: Duration = Duration::from_secs(60);
/// How long values and tasks may take to go after a round's work is done (an aborted
/// `JoinSet` member is dropped by a worker, a little later).
const SETTLE_LIMIT: Duration = Duration::from_secs(10);
/// The memory at the end may be at most this factor of the warm-up's ...
const RSS_FACTOR: usize = 2;
/// ... plus this much (KiB): allocator caches and thread stacks come and go.
const RSS_SLACK_KIB: usize = 32 * 1024;
/// A long timer, cancelled before it fires.
const HOUR: Duration = Duration::from_secs(3600);

/// Tasks per spawn storm.
const STORM: u64 = 20_000;
/// One storm task in this many blocks its worker thread for a millisecond.
const STORM_BLOCKER_EVERY: u64 = 1_000;
/// Members of the storm's `TaskGroup`, and how many of them may run at once.
const GROUP_MEMBERS: u64 = 5_000;
const GROUP_LIMIT: usize = 64;
/// Channel traffic: producers, values each, and consumers, per channel.
const PRODUCERS: u64 = 4;
const PER_PRODUCER: u64 = 2_000;
const CONSUMERS: u64 = 3;
/// The longest `timeout` around a channel operation, in microseconds.
const CHAN_WAIT_US: u64 = 2_000;
/// One channel operation in this many gets a zero timeout: it elapses unless the operation
/// completes at its first poll, so a waiter just registered is cancelled, racing the other
/// side.
const ZERO_WAIT_EVERY: u64 = 4;
/// A progress line is printed about this often.
const REPORT_EVERY: Duration = Duration::from_secs(1);
/// `select!` traffic: producers, values each, consumers.
const SELECT_PRODUCERS: u64 = 3;
const SELECT_PER_PRODUCER: u64 = 1_000;
const SELECT_CONSUMERS: u64 = 2;
/// Sleeping tasks per round, and the longest sleep (ms).
const SLEEPERS: u64 = 1_000;
const MAX_SLEEP_MS: u64 = 20;
/// Timeouts that fire, and timeouts whose hour-long timer is cancelled.
const FIRING_TIMEOUTS: u64 = 200;
const CANCELLED_TIMEOUTS: u64 = 5_000;
/// Interval period and ticks taken.
const TICK: Duration = Duration::from_millis(2);
const TICKS: u32 = 10;
/// Echo connections, the most bytes one sends, and connections left idle and aborted.
const ECHO_CONNS: u64 = 32;
const MAX_ECHO_BYTES: u64 = 64 * 1024;
const IDLE_CONNS: u64 = 4;
/// Tasks aborted with `JoinHandle::abort`, tasks of a dropped `JoinSet`, members of a
/// failing `TaskGroup`, tasks aborted after they finished.
const ABORTED: u64 = 1_000;
const SET_DROPPED: u64 = 100;
const GROUP_ABORTED: u64 = 100;
const ABORTED_LATE: u64 = 50;
/// `spawn_blocking` jobs, and files written, read back and removed.
const BLOCKING_JOBS: u64 = 64;
const FILES: u64 = 16;
const FILE_BYTES: u64 = 16 * 1024;

/// Counted values alive right now (`Counted::new` adds one, its drop takes it away): 0
/// between rounds, or something leaked.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The parts of the current round that have not ended yet: what a hang report names.
static RUNNING: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

/// The command line.
#[derive(Parser, Debug)]
#[command(about = "Soak goro: spawn storms, channels, select, timers, TCP, aborts, blocking calls")]
struct Args {
    /// Seconds to keep starting rounds (at least 3 rounds run).
    #[arg(long, default_value_t = 60)]
    secs: u64,
    /// Worker threads (default: one per CPU, or GORO_MAXPROCS).
    #[arg(long)]
    workers: Option<usize>,
}

/// A value whose life is counted in [`LIVE`]; `seq` names it for the exactly-once checks.
#[derive(Debug)]
struct Counted {
    /// Its sequence number within its check.
    seq: u64,
}

impl Counted {
    fn new(seq: u64) -> Counted {
        LIVE.fetch_add(1, SeqCst);
        Counted { seq }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, SeqCst);
    }
}

/// How often each sequence number `0..n` arrived (or was dropped): each must, exactly once.
#[derive(Debug)]
struct Ledger {
    /// Arrivals per sequence number.
    seen: Vec<AtomicU32>,
    /// Sum of the sequence numbers that arrived.
    sum: AtomicU64,
    /// Number of arrivals.
    count: AtomicU64,
}

impl Ledger {
    fn new(n: u64) -> Arc<Ledger> {
        Arc::new(Ledger {
            seen: (0..n).map(|_| AtomicU32::new(0)).collect(),
            sum: AtomicU64::new(0),
            count: AtomicU64::new(0),
        })
    }

    /// Notes one arrival of `seq`.
    fn mark(&self, seq: u64) {
        self.seen[seq as usize].fetch_add(1, SeqCst);
        self.sum.fetch_add(seq, SeqCst);
        self.count.fetch_add(1, SeqCst);
    }

    /// Notes the arrival of `value` and drops it.
    fn record(&self, value: Counted) {
        self.mark(value.seq);
    }

    fn count(&self) -> u64 {
        self.count.load(SeqCst)
    }

    /// Checks that every sequence number arrived exactly once; returns how many arrived.
    fn check(&self, what: &str) -> Result<u64, String> {
        let n = self.seen.len() as u64;
        let counts: Vec<u32> = self.seen.iter().map(|c| c.load(SeqCst)).collect();
        let lost: Vec<usize> = (0..counts.len()).filter(|&i| counts[i] == 0).collect();
        let twice: Vec<usize> = (0..counts.len()).filter(|&i| counts[i] > 1).collect();
        let first = |v: &[usize]| format!("{:?}", &v[..v.len().min(5)]);
        let mut wrong = Vec::new();
        if !lost.is_empty() {
            wrong.push(format!(
                "{} of {n} lost (first {})",
                lost.len(),
                first(&lost)
            ));
        }
        if !twice.is_empty() {
            let dup = twice.len();
            wrong.push(format!(
                "{dup} of {n} more than once (first {})",
                first(&twice)
            ));
        }
        if !wrong.is_empty() {
            return Err(format!("{what}: {}", wrong.join(", ")));
        }
        let (sum, count) = (self.sum.load(SeqCst), self.count());
        if count != n || sum != n * n.saturating_sub(1) / 2 {
            return Err(format!(
                "{what}: count {count} sum {sum}, expected {n} values"
            ));
        }
        Ok(count)
    }
}

/// Marks its own drop in a ledger: proves an aborted future was dropped, once.
#[derive(Debug)]
struct Probe {
    /// Where the drop is marked.
    ledger: Arc<Ledger>,
    /// This probe's number there.
    seq: u64,
    /// Counted, so a probe never dropped shows as a leak too.
    _live: Counted,
}

impl Probe {
    fn new(ledger: &Arc<Ledger>, seq: u64) -> Probe {
        Probe {
            ledger: ledger.clone(),
            seq,
            _live: Counted::new(seq),
        }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.ledger.mark(self.seq);
    }
}

/// A small PRNG (xorshift64*), seeded per round and task, so a run can be repeated.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Named counts of what a part of a round did, summed over the rounds.
type Counts = Vec<(&'static str, u64)>;

/// Adds `counts` to `totals`, keeping the order in which names first appear.
fn add(totals: &mut Counts, counts: Counts) {
    for (name, n) in counts {
        match totals.iter_mut().find(|(t, _)| *t == name) {
            Some((_, total)) => *total += n,
            None => totals.push((name, n)),
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut builder = goro::Builder::new();
    if let Some(n) = args.workers {
        builder = builder.worker_threads(n);
    }
    let rt = builder.build().expect("could not start a goro runtime");
    let dir = std::env::temp_dir().join(format!("goro-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("could not create the temporary directory");
    println!(
        "soak: {} workers, rounds for {} s (at least {MIN_ROUNDS})",
        rt.worker_threads(),
        args.secs
    );
    let progress = Arc::new(AtomicU64::new(0));
    start_watchdog(progress.clone());
    let result = rt.block_on(soak(Duration::from_secs(args.secs), &dir, &progress));
    progress.store(u64::MAX, SeqCst); // shutdown: still watched
    drop(rt);
    let _ = std::fs::remove_dir_all(&dir);
    match result {
        Ok(()) => {
            println!("soak passed");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("soak FAILED: {failure}");
            ExitCode::FAILURE
        }
    }
}

/// Aborts the process if `progress` (the rounds completed) stands still for
/// [`ROUND_DEADLINE`]: a hang must fail, not stall the caller.
fn start_watchdog(progress: Arc<AtomicU64>) {
    std::thread::Builder::new()
        .name("soak-watchdog".into())
        .spawn(move || {
            let (mut seen, mut since) = (progress.load(SeqCst), Instant::now());
            loop {
                std::thread::sleep(Duration::from_millis(100));
                let now = progress.load(SeqCst);
                if now != seen {
                    (seen, since) = (now, Instant::now());
                } else if since.elapsed() > ROUND_DEADLINE {
                    let when = match now {
                        u64::MAX => "the runtime's shutdown".to_string(),
                        done => format!("round {}", done + 1),
                    };
                    eprintln!(
                        "soak FAILED: hang: {when} did not end within {ROUND_DEADLINE:?}; \
                         parts still running: {:?}",
                        running()
                    );
                    std::process::abort();
                }
            }
        })
        .expect("could not start the watchdog thread");
}

/// Runs rounds until `secs` have passed (and at least [`MIN_ROUNDS`]), then prints the
/// totals and checks the memory.
async fn soak(secs: Duration, dir: &Path, progress: &AtomicU64) -> Result<(), String> {
    let start = Instant::now();
    let (mut totals, mut warm_rss, mut peak_rss) = (Counts::new(), None, 0);
    let (mut round, mut slowest, mut reported) = (0, Duration::ZERO, Instant::now());
    while round < MIN_ROUNDS || start.elapsed() < secs {
        round += 1;
        let began = Instant::now();
        add(&mut totals, run_round(round, dir).await?);
        progress.store(round, SeqCst);
        slowest = slowest.max(began.elapsed());
        let rss = common::rss_kib();
        if round == WARM_UP_ROUND {
            warm_rss = rss;
        }
        peak_rss = peak_rss.max(rss.unwrap_or(0));
        if reported.elapsed() >= REPORT_EVERY {
            reported = Instant::now();
            println!(
                "{:5.1} s: {round} rounds, slowest {:.0} ms, RSS {} KiB",
                start.elapsed().as_secs_f64(),
                slowest.as_secs_f64() * 1e3,
                common::show(rss)
            );
        }
    }
    println!(
        "{round} rounds in {:.1} s (slowest {:.0} ms); totals:",
        start.elapsed().as_secs_f64(),
        slowest.as_secs_f64() * 1e3
    );
    for (name, n) in &totals {
        println!("  {name:32} {n:>12}");
    }
    println!("RSS peak {peak_rss} KiB");
    check_memory(warm_rss, common::rss_kib())?;
    println!(
        "live tasks {}, live counted values {}",
        goro::num_tasks(),
        LIVE.load(SeqCst)
    );
    Ok(())
}

/// Fails if the resident memory at the end grew past the bound over the warm-up's.
fn check_memory(warm: Option<usize>, end: Option<usize>) -> Result<(), String> {
    let (Some(warm), Some(end)) = (warm, end) else {
        println!("RSS: not known here (no /proc), not checked");
        return Ok(());
    };
    let limit = warm * RSS_FACTOR + RSS_SLACK_KIB;
    println!("RSS after warm-up (round {WARM_UP_ROUND}) {warm} KiB, at the end {end} KiB (limit {limit} KiB)");
    if end > limit {
        return Err(format!(
            "memory grew: RSS {end} KiB at the end, {warm} KiB after warm-up (limit {limit} KiB)"
        ));
    }
    Ok(())
}

/// One round: every part at once, each in a task of its own; then nothing may be left.
async fn run_round(round: u64, dir: &Path) -> Result<Counts, String> {
    let seed = round << 32;
    let mut parts: JoinSet<Result<Counts, String>> = JoinSet::new();
    parts.spawn(part("spawn storm", spawn_storm(seed)));
    let unbuffered = channel_traffic("unbuffered", Some(0), seed + 1);
    parts.spawn(part("unbuffered channel", unbuffered));
    let buffered = channel_traffic("buffered", Some(16), seed + 2);
    parts.spawn(part("buffered channel", buffered));
    let unbounded = channel_traffic("unbounded", None, seed + 3);
    parts.spawn(part("unbounded channel", unbounded));
    parts.spawn(part("select", select_traffic(seed + 4)));
    parts.spawn(part("timers", timers(seed + 5)));
    parts.spawn(part("tcp echo", tcp_echo(seed + 6)));
    parts.spawn(part("aborts", aborts(seed + 7)));
    parts.spawn(part("blocking", blocking(seed + 8, dir.to_path_buf())));
    let (mut counts, mut failures) = (Counts::new(), Vec::new());
    while let Some(part) = parts.join_next().await {
        match part {
            Ok(Ok(c)) => add(&mut counts, c),
            Ok(Err(failure)) => failures.push(failure),
            Err(e) => failures.push(format!("a part of the round ended abnormally: {e}")),
        }
    }
    if let Err(leak) = settle().await {
        failures.push(leak);
    }
    if failures.is_empty() {
        Ok(counts)
    } else {
        Err(format!("round {round}: {}", failures.join("; ")))
    }
}

/// Runs one part of a round, listed in [`RUNNING`] while it runs.
async fn part(
    name: &'static str,
    work: impl Future<Output = Result<Counts, String>>,
) -> Result<Counts, String> {
    running().push(name);
    let result = work.await;
    running().retain(|&n| n != name);
    result
}

/// The parts of the round still running (the watchdog names them).
fn running() -> std::sync::MutexGuard<'static, Vec<&'static str>> {
    RUNNING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Waits (up to [`SETTLE_LIMIT`]) for every counted value and every task to be gone.
async fn settle() -> Result<(), String> {
    let start = Instant::now();
    loop {
        let (live, tasks) = (LIVE.load(SeqCst), goro::num_tasks());
        if live == 0 && tasks == 0 {
            return Ok(());
        }
        if start.elapsed() > SETTLE_LIMIT {
            return Err(format!(
                "leak: {live} counted values and {tasks} tasks still alive {SETTLE_LIMIT:?} after the round"
            ));
        }
        sleep(Duration::from_millis(1)).await;
    }
}

/// Thousands of short tasks, then a `TaskGroup` with a limit.
async fn spawn_storm(seed: u64) -> Result<Counts, String> {
    let ledger = Ledger::new(STORM);
    let mut set = JoinSet::new();
    for i in 0..STORM {
        set.spawn(storm_task(i, seed));
    }
    while let Some(done) = set.join_next().await {
        ledger.record(done.map_err(|e| format!("spawn storm: a task failed: {e}"))?);
    }
    let spawned = ledger.check("spawn storm")?;
    let members = limited_group().await?;
    Ok(vec![
        ("spawn storm tasks", spawned),
        ("task group members", members),
    ])
}

/// One storm task: most return at once, some yield first, some spawn a child and await it,
/// a few block their worker thread for a millisecond.
async fn storm_task(i: u64, seed: u64) -> Counted {
    match Rng::new(seed ^ i).below(4) {
        0 => {
            goro::yield_now().await;
            Counted::new(i)
        }
        1 => goro::spawn(async move { Counted::new(i) })
            .await
            .expect("a child of a storm task failed"),
        _ if i.is_multiple_of(STORM_BLOCKER_EVERY) => {
            std::thread::sleep(Duration::from_millis(1));
            Counted::new(i)
        }
        _ => Counted::new(i),
    }
}

/// [`GROUP_MEMBERS`] members through a group that runs at most [`GROUP_LIMIT`] at once:
/// all complete, and the limit holds.
async fn limited_group() -> Result<u64, String> {
    let group = TaskGroup::<String>::with_limit(GROUP_LIMIT);
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let ledger = Ledger::new(GROUP_MEMBERS);
    for i in 0..GROUP_MEMBERS {
        let (running, peak, ledger) = (running.clone(), peak.clone(), ledger.clone());
        group.spawn(async move {
            let value = Counted::new(i);
            peak.fetch_max(running.fetch_add(1, SeqCst) + 1, SeqCst);
            goro::yield_now().await;
            running.fetch_sub(1, SeqCst);
            ledger.record(value);
            Ok(())
        });
    }
    group.wait().await?;
    let peak = peak.load(SeqCst);
    if peak > GROUP_LIMIT {
        return Err(format!(
            "task group: {peak} members ran at once, limit {GROUP_LIMIT}"
        ));
    }
    ledger.check("task group")
}

/// Producers and consumers on one channel, every operation inside a short `timeout`: an
/// elapsed send sent nothing (the value is made again and resent), an elapsed receive took
/// nothing. Every value must arrive exactly once.
async fn channel_traffic(
    kind: &'static str,
    cap: Option<usize>,
    seed: u64,
) -> Result<Counts, String> {
    let (tx, rx) = match cap {
        Some(cap) => chan::bounded(cap),
        None => chan::unbounded(),
    };
    let ledger = Ledger::new(PRODUCERS * PER_PRODUCER);
    let mut tasks = JoinSet::new();
    for p in 0..PRODUCERS {
        tasks.spawn(produce(tx.clone(), p * PER_PRODUCER, seed ^ (p << 8)));
    }
    drop(tx); // the channel closes when the last producer is done
    for c in 0..CONSUMERS {
        tasks.spawn(consume(rx.clone(), ledger.clone(), seed ^ (c << 16)));
    }
    drop(rx);
    let mut elapsed = 0;
    while let Some(done) = tasks.join_next().await {
        elapsed += done.map_err(|e| format!("{kind} channel: a task failed: {e}"))?;
    }
    let values = ledger.check(&format!("{kind} channel"))?;
    Ok(vec![
        ("channel values", values),
        ("channel timeouts elapsed", elapsed),
    ])
}

/// How long a channel operation may wait: zero (one in [`ZERO_WAIT_EVERY`]) or up to
/// [`CHAN_WAIT_US`].
fn op_wait(rng: &mut Rng) -> Duration {
    if rng.below(ZERO_WAIT_EVERY) == 0 {
        return Duration::ZERO;
    }
    Duration::from_micros(rng.below(CHAN_WAIT_US))
}

/// Sends `PER_PRODUCER` values numbered from `first`; returns how many sends timed out.
async fn produce(tx: Sender<Counted>, first: u64, seed: u64) -> u64 {
    let mut rng = Rng::new(seed);
    let mut elapsed = 0;
    for seq in first..first + PER_PRODUCER {
        loop {
            let wait = op_wait(&mut rng);
            match timeout(wait, tx.send(Counted::new(seq))).await {
                Ok(Ok(())) => break,
                Ok(Err(_closed)) => return elapsed, // cannot happen: the ledger would say
                Err(_) => elapsed += 1,
            }
        }
    }
    elapsed
}

/// Receives until the channel is closed and empty; returns how many receives timed out.
async fn consume(rx: Receiver<Counted>, ledger: Arc<Ledger>, seed: u64) -> u64 {
    let mut rng = Rng::new(seed);
    let mut elapsed = 0;
    loop {
        let wait = op_wait(&mut rng);
        match timeout(wait, rx.recv()).await {
            Ok(Some(value)) => ledger.record(value),
            Ok(None) => return elapsed,
            Err(_) => elapsed += 1,
        }
    }
}

/// Two channels, one unbuffered and one with a slot, fed and drained by `select!` loops
/// with a timer arm: each value is offered to both send arms, so it arrives twice if more
/// than one arm commits, and not at all if a losing receive arm kept it.
async fn select_traffic(seed: u64) -> Result<Counts, String> {
    let (a_tx, a_rx) = chan::bounded(0);
    let (b_tx, b_rx) = chan::bounded(1);
    let ledger = Ledger::new(SELECT_PRODUCERS * SELECT_PER_PRODUCER);
    let mut tasks = JoinSet::new();
    for p in 0..SELECT_PRODUCERS {
        let (a, b) = (a_tx.clone(), b_tx.clone());
        tasks.spawn(select_produce(
            a,
            b,
            p * SELECT_PER_PRODUCER,
            seed ^ (p << 8),
        ));
    }
    drop((a_tx, b_tx));
    for c in 0..SELECT_CONSUMERS {
        let (a, b) = (a_rx.clone(), b_rx.clone());
        tasks.spawn(select_consume(a, b, ledger.clone(), seed ^ (c << 16)));
    }
    drop((a_rx, b_rx));
    let mut timer_arms = 0;
    while let Some(done) = tasks.join_next().await {
        timer_arms += done.map_err(|e| format!("select: a task failed: {e}"))?;
    }
    let values = ledger.check("select")?;
    Ok(vec![
        ("select values", values),
        ("select timer arms taken", timer_arms),
    ])
}

/// Offers each value to two send arms and a timer; returns how often the timer won.
async fn select_produce(a: Sender<Counted>, b: Sender<Counted>, first: u64, seed: u64) -> u64 {
    let mut rng = Rng::new(seed);
    let mut timer_arms = 0;
    for seq in first..first + SELECT_PER_PRODUCER {
        loop {
            let wait = op_wait(&mut rng);
            let sent = goro::select! {
                r = a.send(Counted::new(seq)) => r.is_ok(),
                r = b.send(Counted::new(seq)) => r.is_ok(),
                _ = sleep(wait) => {
                    timer_arms += 1;
                    continue;
                }
            };
            if !sent {
                return timer_arms; // closed: cannot happen, the ledger would say
            }
            break;
        }
    }
    timer_arms
}

/// Receives from either channel, or times out, until one is closed and empty; then drains
/// both. Returns how often the timer won.
async fn select_consume(
    a: Receiver<Counted>,
    b: Receiver<Counted>,
    ledger: Arc<Ledger>,
    seed: u64,
) -> u64 {
    let mut rng = Rng::new(seed);
    let mut timer_arms = 0;
    loop {
        let wait = op_wait(&mut rng);
        let got = goro::select! {
            v = a.recv() => v,
            v = b.recv() => v,
            _ = goro::time::after(wait).recv() => {
                timer_arms += 1;
                continue;
            }
        };
        match got {
            Some(value) => ledger.record(value),
            None => break,
        }
    }
    while let Some(value) = a.recv().await {
        ledger.record(value);
    }
    while let Some(value) = b.recv().await {
        ledger.record(value);
    }
    timer_arms
}

/// Sleeps that must not fire early, an interval, timeouts that fire and timeouts cancelled.
async fn timers(seed: u64) -> Result<Counts, String> {
    let mut sleepers = JoinSet::new();
    for i in 0..SLEEPERS {
        let d = Duration::from_millis(Rng::new(seed ^ i).below(MAX_SLEEP_MS + 1));
        sleepers.spawn(async move {
            let _value = Counted::new(i);
            let start = Instant::now();
            sleep(d).await;
            start.elapsed() >= d
        });
    }
    let fired = firing_timeouts().await?;
    let cancelled = cancelled_timeouts().await?;
    let ticks = interval_ticks().await?;
    let mut on_time = 0;
    while let Some(done) = sleepers.join_next().await {
        if !done.map_err(|e| format!("timers: a sleeper failed: {e}"))? {
            return Err("timers: a sleep ended before its duration".into());
        }
        on_time += 1;
    }
    Ok(vec![
        ("sleeps", on_time),
        ("timeouts fired", fired),
        ("timeouts cancelled", cancelled),
        ("interval ticks", ticks),
    ])
}

/// Timeouts around futures that never complete, side by side: each must fire.
async fn firing_timeouts() -> Result<u64, String> {
    let mut set = JoinSet::new();
    for i in 0..FIRING_TIMEOUTS {
        set.spawn(async move {
            let value = Counted::new(i);
            let wait = std::future::pending::<()>();
            (
                timeout(Duration::from_millis(1 + i % 3), wait)
                    .await
                    .is_err(),
                value,
            )
        });
    }
    let mut fired = 0;
    while let Some(done) = set.join_next().await {
        if !done
            .map_err(|e| format!("timers: a timeout task failed: {e}"))?
            .0
        {
            return Err("timers: a timeout around a pending future did not fire".into());
        }
        fired += 1;
    }
    Ok(fired)
}

/// Timeouts of an hour around futures that finish at once: each long timer is cancelled
/// (and must not stay in the timer wheel: the memory check would see it).
async fn cancelled_timeouts() -> Result<u64, String> {
    for i in 0..CANCELLED_TIMEOUTS {
        let work = async move {
            goro::yield_now().await;
            Counted::new(i)
        };
        match timeout(HOUR, work).await {
            Ok(value) if value.seq == i => {}
            _ => return Err("timers: a timeout of an hour fired early".into()),
        }
    }
    Ok(CANCELLED_TIMEOUTS)
}

/// [`TICKS`] ticks of an interval: each a whole number of periods after the last.
async fn interval_ticks() -> Result<u64, String> {
    let mut ticker = goro::time::interval(TICK);
    let mut last = ticker.tick().await;
    for _ in 1..TICKS {
        let now = ticker.tick().await;
        let gap = now - last;
        if gap < TICK || gap.as_nanos() % TICK.as_nanos() != 0 {
            return Err(format!(
                "timers: interval ticked {gap:?} apart, period {TICK:?}"
            ));
        }
        last = now;
    }
    Ok(u64::from(TICKS))
}

/// TCP echo over 127.0.0.1: clients send pseudo-random bytes and check every byte that
/// comes back; idle clients wait to read and are aborted.
async fn tcp_echo(seed: u64) -> Result<Counts, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("tcp: bind: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("tcp: local_addr: {e}"))?;
    let server = goro::spawn(serve(listener, ECHO_CONNS + IDLE_CONNS));
    let mut clients = JoinSet::new();
    for c in 0..ECHO_CONNS {
        clients.spawn(echo_client(addr, seed ^ (c << 8)));
    }
    let idle = idle_clients(addr).await?;
    let mut sent = 0;
    while let Some(done) = clients.join_next().await {
        sent += done.map_err(|e| format!("tcp: a client failed: {e}"))??;
    }
    for client in &idle {
        client.abort();
    }
    for client in idle {
        if !client.await.is_err_and(|e| e.is_cancelled()) {
            return Err("tcp: an idle client was not cancelled by abort".into());
        }
    }
    let echoed = server
        .await
        .map_err(|e| format!("tcp: the server failed: {e}"))??;
    if echoed != sent {
        return Err(format!(
            "tcp: clients sent {sent} bytes, the server echoed {echoed}"
        ));
    }
    Ok(vec![
        ("tcp connections", ECHO_CONNS + IDLE_CONNS),
        ("tcp bytes echoed", echoed),
    ])
}

/// Accepts `n` connections, each echoed by a task of its own; returns the bytes echoed.
async fn serve(listener: TcpListener, n: u64) -> Result<u64, String> {
    let mut conns = JoinSet::new();
    for _ in 0..n {
        let (stream, _) = listener
            .accept()
            .await
            .map_err(|e| format!("tcp: accept: {e}"))?;
        conns.spawn(echo(stream));
    }
    let mut echoed = 0;
    while let Some(done) = conns.join_next().await {
        echoed += done
            .map_err(|e| format!("tcp: an echo task failed: {e}"))?
            .map_err(|e| format!("tcp: echo: {e}"))?;
    }
    Ok(echoed)
}

/// Echoes until the peer shuts down its side; returns the bytes echoed.
async fn echo(mut stream: TcpStream) -> io::Result<u64> {
    let mut buf = vec![0; 4096];
    let mut echoed = 0;
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(echoed);
        }
        stream.write_all(&buf[..n]).await?;
        echoed += n as u64;
    }
}

/// The bytes client `seed` sends: a pseudo-random length and content.
fn payload(seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let len = 1 + rng.below(MAX_ECHO_BYTES);
    (0..len).map(|_| rng.next() as u8).collect()
}

/// Sends its payload in pseudo-random pieces from one task while reading the echo in
/// another, and compares every byte; returns the bytes sent.
async fn echo_client(addr: SocketAddr, seed: u64) -> Result<u64, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("tcp: connect: {e}"))?;
    let (mut rd, mut wr) = stream.into_split();
    let data = Arc::new(payload(seed));
    let to_send = data.clone();
    let writer = goro::spawn(async move {
        let mut rng = Rng::new(seed ^ 1);
        let mut rest = &to_send[..];
        while !rest.is_empty() {
            let n = (1 + rng.below(8192) as usize).min(rest.len());
            wr.write_all(&rest[..n]).await?;
            rest = &rest[n..];
        }
        wr.close().await // the server reads EOF and ends the connection
    });
    let mut back = Vec::with_capacity(data.len());
    rd.read_to_end(&mut back)
        .await
        .map_err(|e| format!("tcp: read: {e}"))?;
    writer
        .await
        .map_err(|e| format!("tcp: a writer failed: {e}"))?
        .map_err(|e| format!("tcp: write: {e}"))?;
    if let Some(at) = (0..data.len().min(back.len())).find(|&i| data[i] != back[i]) {
        return Err(format!("tcp: echoed byte {at} differs"));
    }
    if back.len() != data.len() {
        return Err(format!(
            "tcp: sent {} bytes, {} came back",
            data.len(),
            back.len()
        ));
    }
    Ok(data.len() as u64)
}

/// Connections that wait to read what never comes; returned once all are connected, to be
/// aborted (dropping the stream ends the server's side).
async fn idle_clients(addr: SocketAddr) -> Result<Vec<JoinHandle<()>>, String> {
    let (connected_tx, connected) = chan::unbounded();
    let clients: Vec<_> = (0..IDLE_CONNS)
        .map(|i| {
            let connected_tx = connected_tx.clone();
            goro::spawn(async move {
                let _value = Counted::new(i);
                let mut stream = TcpStream::connect(addr).await;
                let _ = connected_tx.try_send(stream.is_ok());
                if let Ok(stream) = &mut stream {
                    let _ = stream.read(&mut [0; 1]).await;
                }
                std::future::pending::<()>().await;
            })
        })
        .collect();
    for _ in 0..IDLE_CONNS {
        if connected.recv().await != Some(true) {
            return Err("tcp: an idle client could not connect".into());
        }
    }
    Ok(clients)
}

/// Tasks aborted while sleeping, running, yielding or waiting on a channel; a dropped
/// `JoinSet`; a failing `TaskGroup`; tasks aborted after they finished. Each aborted future
/// must be dropped exactly once.
async fn aborts(seed: u64) -> Result<Counts, String> {
    let aborted = abort_handles(seed).await?;
    let dropped_set = drop_join_set().await?;
    let group = failing_group().await?;
    let late = abort_finished().await?;
    Ok(vec![
        ("aborted tasks", aborted),
        ("dropped JoinSet members", dropped_set),
        ("failed TaskGroup members", group),
        ("aborted after finishing", late),
    ])
}

/// A task to be aborted: says it started, then sleeps, spins, yields or waits on a channel
/// for ever.
async fn victim(kind: u64, probe: Probe, started: Sender<()>, never: Receiver<Counted>) {
    let _probe = probe;
    let _ = started.try_send(());
    match kind {
        0 => sleep(HOUR).await,
        1 => loop {
            goro::yield_now().await;
        },
        2 => loop {
            std::hint::black_box((0..1_000u64).sum::<u64>());
            goro::yield_now().await;
        },
        _ => {
            let _ = never.recv().await; // no value ever comes, and the sender lives on
            std::future::pending::<()>().await;
        }
    }
}

/// [`ABORTED`] victims, aborted once all have started: each handle reports the cancel and
/// each future has been dropped, once, by the time it does.
async fn abort_handles(seed: u64) -> Result<u64, String> {
    let ledger = Ledger::new(ABORTED);
    let (started_tx, started) = chan::unbounded();
    let (_never_tx, never) = chan::bounded::<Counted>(0);
    let handles: Vec<_> = (0..ABORTED)
        .map(|i| {
            let kind = Rng::new(seed ^ i).below(4);
            let probe = Probe::new(&ledger, i);
            goro::spawn(victim(kind, probe, started_tx.clone(), never.clone()))
        })
        .collect();
    for _ in 0..ABORTED {
        started.recv().await;
    }
    for handle in &handles {
        handle.abort();
    }
    for handle in handles {
        if !handle.await.is_err_and(|e| e.is_cancelled()) {
            return Err("aborts: an aborted task's handle did not report the cancel".into());
        }
    }
    ledger.check("aborts: futures dropped after abort")
}

/// A `JoinSet` of sleeping members dropped: every member is aborted and dropped once.
async fn drop_join_set() -> Result<u64, String> {
    let ledger = Ledger::new(SET_DROPPED);
    let (started_tx, started) = chan::unbounded();
    let mut set = JoinSet::new();
    for i in 0..SET_DROPPED {
        let (probe, started_tx) = (Probe::new(&ledger, i), started_tx.clone());
        set.spawn(async move {
            let _probe = probe;
            let _ = started_tx.try_send(());
            sleep(HOUR).await;
        });
    }
    for _ in 0..SET_DROPPED {
        started.recv().await;
    }
    drop(set);
    let start = Instant::now();
    while ledger.count() < SET_DROPPED && start.elapsed() < SETTLE_LIMIT {
        sleep(Duration::from_millis(1)).await;
    }
    ledger.check("aborts: members of a dropped JoinSet")
}

/// A `TaskGroup` whose one failing member aborts the others: `wait` returns the error once
/// every member has ended, each dropped once.
async fn failing_group() -> Result<u64, String> {
    let ledger = Ledger::new(GROUP_ABORTED);
    let group = TaskGroup::<u64>::new();
    for i in 0..GROUP_ABORTED {
        let probe = Probe::new(&ledger, i);
        group.spawn(async move {
            let _probe = probe;
            sleep(HOUR).await;
            Ok(())
        });
    }
    group.spawn(async {
        sleep(Duration::from_millis(1)).await;
        Err(7)
    });
    if group.wait().await != Err(7) {
        return Err("aborts: a failing TaskGroup did not return its error".into());
    }
    ledger.check("aborts: members of a failed TaskGroup")
}

/// Tasks aborted after they finished: abort changes nothing, the output is there.
async fn abort_finished() -> Result<u64, String> {
    for i in 0..ABORTED_LATE {
        let handle = goro::spawn(async move { Counted::new(i) });
        while !handle.is_finished() {
            goro::yield_now().await;
        }
        handle.abort();
        match handle.await {
            Ok(value) if value.seq == i => {}
            _ => return Err("aborts: abort after the end lost the task's output".into()),
        }
    }
    Ok(ABORTED_LATE)
}

/// `spawn_blocking` jobs, and files written, read back and removed with `goro::fs`.
async fn blocking(seed: u64, dir: PathBuf) -> Result<Counts, String> {
    let ledger = Ledger::new(BLOCKING_JOBS);
    let mut jobs = JoinSet::new();
    for i in 0..BLOCKING_JOBS {
        jobs.spawn_blocking(move || {
            std::thread::sleep(Duration::from_micros(200));
            Counted::new(i)
        });
    }
    let mut files = JoinSet::new();
    for f in 0..FILES {
        files.spawn(file_round_trip(dir.join(format!("{seed:x}-{f}")), seed ^ f));
    }
    while let Some(done) = jobs.join_next().await {
        ledger.record(done.map_err(|e| format!("blocking: a job failed: {e}"))?);
    }
    let mut bytes = 0;
    while let Some(done) = files.join_next().await {
        bytes += done.map_err(|e| format!("fs: a task failed: {e}"))??;
    }
    let left = count_entries(&dir).await?;
    if left != 0 {
        return Err(format!(
            "fs: {left} files left in the directory after removal"
        ));
    }
    Ok(vec![
        ("blocking jobs", ledger.check("blocking jobs")?),
        ("file bytes written and read", bytes),
    ])
}

/// Writes pseudo-random bytes to `path`, reads them back, compares, removes the file.
async fn file_round_trip(path: PathBuf, seed: u64) -> Result<u64, String> {
    let mut rng = Rng::new(seed);
    let data: Vec<u8> = (0..FILE_BYTES).map(|_| rng.next() as u8).collect();
    let fail = |what: &str, e: io::Error| format!("fs: {what} {}: {e}", path.display());
    goro::fs::write(&path, &data)
        .await
        .map_err(|e| fail("write", e))?;
    let back = goro::fs::read(&path).await.map_err(|e| fail("read", e))?;
    goro::fs::remove_file(&path)
        .await
        .map_err(|e| fail("remove", e))?;
    if back != data {
        return Err(format!(
            "fs: {} read back differs from what was written",
            path.display()
        ));
    }
    Ok(data.len() as u64)
}

/// The number of entries in `dir` (rounds run one after another, so none may be left).
async fn count_entries(dir: &Path) -> Result<u64, String> {
    let mut entries = goro::fs::read_dir(dir)
        .await
        .map_err(|e| format!("fs: read_dir: {e}"))?;
    let mut n = 0;
    while let Some(_entry) = entries
        .next_entry()
        .await
        .map_err(|e| format!("fs: read_dir: {e}"))?
    {
        n += 1;
    }
    Ok(n)
}
