//! What is measured: the workloads with their sizes, units and goro's targets, the runtimes
//! compared, and the allocators they run on.

use std::fmt;
use std::time::Duration;

/// Environment variable that selects quick mode: one repetition, workloads scaled down
/// [`QUICK_DIVISOR`] times, `BENCHMARKS.md` left alone. For smoke-testing the harness.
pub const QUICK_ENV: &str = "GORO_BENCH_QUICK";

/// Environment variable with a comma-separated list of workload names to run (default: all).
/// A filtered run prints its table but does not overwrite `BENCHMARKS.md`.
pub const ONLY_ENV: &str = "GORO_BENCH_ONLY";

/// Repetitions of every measurement in a full run: the fewest that give a median which one
/// disturbed run (the machine is shared) cannot move.
pub const FULL_REPS: usize = 3;

/// How much quick mode shrinks task counts: small enough for a smoke test of a minute or
/// two, large enough that every code path (queue overflow, stealing, timers) still runs.
pub const QUICK_DIVISOR: usize = 10;

/// How long each task of `sleepers` sleeps. It is the ideal wall time, so it is not scaled
/// down in quick mode.
pub const SLEEP: Duration = Duration::from_millis(100);

/// `blocking_pool`: blocking calls kept in flight at once, as a server would with a full
/// accept queue; more than any runtime's worker count, so the pool must grow.
pub const BLOCKING_IN_FLIGHT: usize = 64;

/// `mpmc`: tasks sending into the one channel.
pub const MPMC_PRODUCERS: usize = 4;

/// `mpmc`: tasks receiving from the one channel.
pub const MPMC_CONSUMERS: usize = 4;

/// `mpmc`: the channel's capacity. Small against the 1M values, so producers do wait on a full
/// buffer and consumers on an empty one, as in a pipeline stage; not 0 or 1, which the
/// `ping_pong` rows measure.
pub const MPMC_CAPACITY: usize = 64;

/// `cpu_parallel`: the matrices are `MATRIX_SIZE × MATRIX_SIZE` f64, one task per row of the
/// product (~90k multiply-adds per task: coarse enough that scheduling costs little).
pub const MATRIX_SIZE: usize = 300;

/// What the four ping_pong rows share, for their descriptions.
const PING_PONG: &str = "two tasks pass a counter back and forth 200k times over a pair of \
    channels (one each way), one of them incrementing it, every reply checked; time per round \
    trip";

/// The peers' ping_pong numbers measured earlier on this machine (not by this harness).
const PING_PONG_EARLIER: &str = "Earlier on this machine, across workers: tokio 638, smol 615, \
    Go 531 ns";

/// The peers' one-worker ping_pong numbers measured earlier on this machine.
const PING_PONG_ONE_EARLIER: &str = "Earlier on this machine, on one worker: tokio 348, smol \
    517, Go 468 ns";
/// `tcp_echo`: bytes per message, each way; a small request, so the round trips measure the
/// runtimes' wake-ups and syscalls, not copying.
pub const ECHO_MESSAGE: usize = 64;

/// `mutex_long`: the steps of work done while holding the lock (a dependent multiply-add,
/// about a microsecond in all).
pub const MUTEX_LONG_WORK: u64 = 1000;

/// `tcp_stream`: bytes per write and per read buffer (1 GiB is 16,384 of them).
pub const STREAM_CHUNK: usize = 64 * 1024;

/// `tcp_churn`: client tasks connecting at once, each making its share of the connections
/// one after another; below every runtime's listen backlog (smol's is 128).
pub const CHURN_CLIENTS: usize = 50;

/// `idle_conns`: how long the measured process waits, once every connection is accepted and
/// its task parked in `read`, before it reads its RSS and thread count: long enough for the
/// last tasks to be polled and for idle workers to park.
pub const IDLE_SETTLE: Duration = Duration::from_millis(200);

/// `idle_conns_threads`: the threads a measured child has besides the runtime's: the main
/// thread (inside `block_on`) and the harness's watchdog.
pub const HARNESS_THREADS: usize = 2;

/// Full run or smoke test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Full sizes, [`FULL_REPS`] repetitions; writes `BENCHMARKS.md`.
    Full,
    /// Sizes divided by [`QUICK_DIVISOR`], one repetition.
    Quick,
}

impl Mode {
    /// Quick when [`QUICK_ENV`] is set to anything but empty or `0`.
    ///
    /// ```
    /// use goro_benches::Mode;
    ///
    /// assert_eq!(Mode::from_env_value(Some("1")), Mode::Quick);
    /// assert_eq!(Mode::from_env_value(Some("0")), Mode::Full);
    /// assert_eq!(Mode::from_env_value(None), Mode::Full);
    /// ```
    pub fn from_env_value(value: Option<&str>) -> Mode {
        match value {
            Some(v) if !v.is_empty() && v != "0" => Mode::Quick,
            _ => Mode::Full,
        }
    }

    /// The mode selected by this process's environment.
    pub fn from_env() -> Mode {
        Mode::from_env_value(std::env::var(QUICK_ENV).ok().as_deref())
    }

    /// Repetitions of each measurement.
    pub fn reps(self) -> usize {
        match self {
            Mode::Full => FULL_REPS,
            Mode::Quick => 1,
        }
    }

    fn scale(self, full: usize) -> usize {
        match self {
            Mode::Full => full,
            Mode::Quick => (full / QUICK_DIVISOR).max(1),
        }
    }
}

/// One workload: the same program written for every runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Workload {
    /// 1M tiny tasks spawned from a task; ns per task.
    SpawnMany,
    /// 200k tiny tasks spawned from a plain thread; ns per task.
    SpawnRemote,
    /// 200 tasks × 1000 `yield_now`; ns per yield.
    YieldMany,
    /// Each task spawns the next, 1000 deep, 200 chains one after the other; ns per hop.
    ChainedSpawn,
    /// 100k tasks sleep 100 ms each; wall ms from the first spawn to the last wake.
    Sleepers,
    /// RSS growth per task with 1M tasks parked forever; bytes per task.
    IdleMemory,
    /// 1000 tiny file reads on the blocking pool, 64 in flight; ns per call.
    BlockingPool,
    /// 300×300 f64 matmul, one task per row; speedup over the sequential loop.
    CpuParallel,
    /// Two tasks pass a value back and forth over two channels of capacity 0 (the peers have
    /// none: they use capacity 1); ns per round trip.
    PingPongCap0,
    /// The same over two channels of capacity 1.
    PingPongCap1,
    /// [`Workload::PingPongCap0`] with every runtime on one worker thread.
    PingPongCap0OneWorker,
    /// [`Workload::PingPongCap1`] with every runtime on one worker thread.
    PingPongCap1OneWorker,
    /// [`MPMC_PRODUCERS`] × [`MPMC_CONSUMERS`] tasks pass 1M values through one channel;
    /// millions of values per second.
    Mpmc,
    /// 8 tasks × 200k lock/unlock of one mutex; ns per lock.
    MutexContention,
    /// 8 tasks × 20k locks of one mutex, each held for about a microsecond of work; ns per
    /// lock.
    MutexLong,
    /// 100k tasks spawned and waited for; ns per task.
    WaitGroup,
    /// 1M selects over two channels that always have a value; ns per select.
    Select2,
    /// RSS growth per task with 1M tasks each parked in `recv` on its own bounded(1) channel;
    /// bytes per task.
    ChanMemory,
    /// 50 connections × 5k round trips of 64 bytes on 127.0.0.1; thousands of round trips
    /// per second.
    TcpEcho,
    /// 1 GiB over one connection on 127.0.0.1; GiB per second.
    TcpStream,
    /// Connect, accept and close, 10k times from 50 clients; thousands of connections per
    /// second.
    TcpChurn,
    /// 10k idle connections, each with a task parked in `read`; RSS growth per connection.
    IdleConns,
    /// The same 10k idle connections; the OS threads of the process.
    IdleConnsThreads,
}

/// How many of what a workload runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    /// Tasks (spawn_many, spawn_remote, sleepers, idle_memory, yield_many, mutex_contention,
    /// waitgroup, chan_memory), chain depth (chained_spawn), calls (blocking_pool), matrix rows
    /// (cpu_parallel), round trips (ping_pong), values (mpmc) or selects (select2).
    pub count: usize,
    /// Yields per task (yield_many), chains (chained_spawn), timed rounds (cpu_parallel),
    /// locks per task (mutex_contention); 1 elsewhere.
    pub repeat: usize,
}

impl Workload {
    /// Every workload, in table order.
    pub const ALL: [Workload; 23] = [
        Workload::SpawnMany,
        Workload::SpawnRemote,
        Workload::YieldMany,
        Workload::ChainedSpawn,
        Workload::Sleepers,
        Workload::IdleMemory,
        Workload::BlockingPool,
        Workload::CpuParallel,
        Workload::PingPongCap0,
        Workload::PingPongCap1,
        Workload::PingPongCap0OneWorker,
        Workload::PingPongCap1OneWorker,
        Workload::Mpmc,
        Workload::MutexContention,
        Workload::MutexLong,
        Workload::WaitGroup,
        Workload::Select2,
        Workload::ChanMemory,
        Workload::TcpEcho,
        Workload::TcpStream,
        Workload::TcpChurn,
        Workload::IdleConns,
        Workload::IdleConnsThreads,
    ];

    /// The snake_case name used on the command line and in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Workload::SpawnMany => "spawn_many",
            Workload::SpawnRemote => "spawn_remote",
            Workload::YieldMany => "yield_many",
            Workload::ChainedSpawn => "chained_spawn",
            Workload::Sleepers => "sleepers",
            Workload::IdleMemory => "idle_memory",
            Workload::BlockingPool => "blocking_pool",
            Workload::CpuParallel => "cpu_parallel",
            Workload::PingPongCap0 => "ping_pong_cap0",
            Workload::PingPongCap1 => "ping_pong_cap1",
            Workload::PingPongCap0OneWorker => "ping_pong_cap0_1worker",
            Workload::PingPongCap1OneWorker => "ping_pong_cap1_1worker",
            Workload::Mpmc => "mpmc",
            Workload::MutexContention => "mutex_contention",
            Workload::MutexLong => "mutex_long",
            Workload::WaitGroup => "waitgroup",
            Workload::Select2 => "select2",
            Workload::ChanMemory => "chan_memory",
            Workload::TcpEcho => "tcp_echo",
            Workload::TcpStream => "tcp_stream",
            Workload::TcpChurn => "tcp_churn",
            Workload::IdleConns => "idle_conns",
            Workload::IdleConnsThreads => "idle_conns_threads",
        }
    }

    /// The workload called `name`.
    pub fn parse(name: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == name)
    }

    /// The unit of the number the workload reports.
    pub fn unit(self) -> &'static str {
        match self {
            Workload::SpawnMany | Workload::SpawnRemote | Workload::WaitGroup => "ns/task",
            Workload::YieldMany => "ns/yield",
            Workload::ChainedSpawn => "ns/hop",
            Workload::Sleepers => "ms wall",
            Workload::IdleMemory | Workload::ChanMemory => "bytes/task",
            Workload::BlockingPool => "ns/call",
            Workload::CpuParallel => "× speedup",
            Workload::PingPongCap0 | Workload::PingPongCap0OneWorker => {
                "ns/round trip (tokio, smol: cap 1)"
            }
            Workload::PingPongCap1 | Workload::PingPongCap1OneWorker => "ns/round trip",
            Workload::Mpmc => "M values/s",
            Workload::MutexContention | Workload::MutexLong => "ns/lock",
            Workload::Select2 => "ns/select",
            Workload::TcpEcho => "k round trips/s",
            Workload::TcpStream => "GiB/s",
            Workload::TcpChurn => "k connections/s",
            Workload::IdleConns => "bytes/conn",
            Workload::IdleConnsThreads => "threads",
        }
    }

    /// Whether a bigger number is better (the speedup and the throughputs).
    pub fn higher_is_better(self) -> bool {
        matches!(self, Workload::CpuParallel | Workload::Mpmc) || self.is_throughput()
    }

    /// The worker threads each runtime gets for this workload: one for the `_1worker` rows,
    /// `cores` (one per logical core) for the others.
    ///
    /// ```
    /// use goro_benches::Workload;
    ///
    /// assert_eq!(Workload::PingPongCap0OneWorker.workers(2), 1);
    /// assert_eq!(Workload::PingPongCap0.workers(2), 2);
    /// ```
    pub fn workers(self, cores: usize) -> usize {
        match self {
            Workload::PingPongCap0OneWorker | Workload::PingPongCap1OneWorker => 1,
            _ => cores,
        }
    }

    /// The capacity of the ping_pong rows' channels, as goro gets it (peers get at least 1).
    pub fn ping_pong_capacity(self) -> Option<usize> {
        match self {
            Workload::PingPongCap0 | Workload::PingPongCap0OneWorker => Some(0),
            Workload::PingPongCap1 | Workload::PingPongCap1OneWorker => Some(1),
            _ => None,
        }
    }

    /// The size of the workload in `mode`.
    ///
    /// ```
    /// use goro_benches::{Mode, Workload};
    ///
    /// assert_eq!(Workload::SpawnMany.size(Mode::Full).count, 1_000_000);
    /// assert_eq!(Workload::SpawnMany.size(Mode::Quick).count, 100_000);
    /// ```
    pub fn size(self, mode: Mode) -> Size {
        let (count, repeat) = match self {
            Workload::SpawnMany | Workload::IdleMemory | Workload::ChanMemory => {
                (mode.scale(1_000_000), 1)
            }
            Workload::SpawnRemote => (mode.scale(200_000), 1),
            Workload::YieldMany => (200, mode.scale(1000)),
            Workload::ChainedSpawn => (1000, mode.scale(200)),
            Workload::Sleepers => (mode.scale(100_000), 1),
            Workload::BlockingPool => (mode.scale(1000), 1),
            Workload::CpuParallel => (MATRIX_SIZE, mode.scale(10)),
            Workload::PingPongCap0
            | Workload::PingPongCap1
            | Workload::PingPongCap0OneWorker
            | Workload::PingPongCap1OneWorker => (mode.scale(200_000), 1),
            Workload::Mpmc | Workload::Select2 => (mode.scale(1_000_000), 1),
            Workload::MutexContention => (8, mode.scale(200_000)),
            Workload::MutexLong => (8, mode.scale(20_000)),
            Workload::WaitGroup => (mode.scale(100_000), 1),
            Workload::TcpEcho => (50, mode.scale(5000)),
            Workload::TcpStream => (mode.scale(16_384), 1),
            Workload::TcpChurn | Workload::IdleConns | Workload::IdleConnsThreads => {
                (mode.scale(10_000), 1)
            }
        };
        Size { count, repeat }
    }

    /// What the workload does, in one sentence for the report.
    pub fn description(self) -> String {
        match self {
            Workload::SpawnMany => "1M tiny tasks spawned from a task (detached; a countdown \
                latch counts them; Go: goroutines, an atomic countdown closing a channel); time \
                from the first spawn to the last completion per task"
                .into(),
            Workload::SpawnRemote => "200k tiny tasks spawned from a plain thread outside the \
                runtime; time until all completed, per task. No Go version: Go runs no code \
                outside its scheduler, so every `go` statement is a spawn from a goroutine \
                (`spawn_many`)"
                .into(),
            Workload::YieldMany => "200 tasks each yield 1000 times (Go: `runtime.Gosched`); \
                total time per yield"
                .into(),
            Workload::ChainedSpawn => "each task spawns the next, 1000 deep; 200 such chains \
                one after another; time per hop"
                .into(),
            Workload::Sleepers => format!(
                "100k tasks sleep {} ms each (Go: `time.Sleep` in goroutines); wall ms from the \
                 first spawn to the last wake (ideal: {}); a task woken early fails the run",
                SLEEP.as_millis(),
                SLEEP.as_millis()
            ),
            Workload::IdleMemory => "1M tasks that never wake (`pending()`; Go: goroutines in \
                `select {}`); growth of VmRSS (/proc/self/status) per task"
                .into(),
            Workload::BlockingPool => format!(
                "1000 reads of a 32-byte file through spawn_blocking, {BLOCKING_IN_FLIGHT} in \
                 flight, on a cold pool (threads start on demand); time per call. No Go version: \
                 Go has no blocking pool (a goroutine makes the call itself and the scheduler \
                 hands its P to another thread if the call blocks long), so Go's number would \
                 time the read alone, not a handoff to another thread"
            ),
            Workload::CpuParallel => format!(
                "{MATRIX_SIZE}×{MATRIX_SIZE} f64 matmul, one task per row (Go: a goroutine per \
                 row and a `sync.WaitGroup`), result checked bit for bit; sequential time / \
                 parallel time over 10 alternating rounds"
            ),
            Workload::PingPongCap0 => format!(
                "{PING_PONG}. goro's and Go's channels are unbuffered (`bounded(0)`, \
                 `make(chan int)`); tokio and smol have no capacity 0 and use capacity 1 \
                 (`mpsc::channel(1)`, `async_channel::bounded(1)`). {PING_PONG_EARLIER}"
            ),
            Workload::PingPongCap1 => format!(
                "{PING_PONG}. Channels of capacity 1 (goro `bounded(1)`, tokio `mpsc::channel(1)`, \
                 smol `async_channel::bounded(1)`, Go `make(chan int, 1)`). {PING_PONG_EARLIER}"
            ),
            Workload::PingPongCap0OneWorker => format!(
                "`ping_pong_cap0` with every runtime on one worker thread (tokio: multi-thread \
                 runtime with 1 worker, not `current_thread`, to stay like for like; Go: \
                 `GOMAXPROCS=1`). {PING_PONG_ONE_EARLIER}"
            ),
            Workload::PingPongCap1OneWorker => format!(
                "`ping_pong_cap1` with every runtime on one worker thread. {PING_PONG_ONE_EARLIER}"
            ),
            Workload::Mpmc => format!(
                "{MPMC_PRODUCERS} producer tasks send 250k values each into one channel of \
                 capacity {MPMC_CAPACITY}, {MPMC_CONSUMERS} consumer tasks receive them until it \
                 closes; every value checked to arrive exactly once; millions of values per \
                 second. tokio's `mpsc::Receiver` has one owner, so its consumers share it \
                 behind a `tokio::sync::Mutex` (the tokio idiom); goro's and async-channel's \
                 receivers are cloned; Go's channels are many-to-many and the last producer \
                 closes it"
            ),
            Workload::MutexContention => "8 tasks each lock one mutex 200k times and add 1 to \
                the counter it guards (goro `sync::Mutex`, tokio `sync::Mutex`, which hands the \
                lock over fairly, smol `async_lock::Mutex`, Go `sync.Mutex`); the total is \
                checked; time per \
                lock. Earlier on this machine: tokio 256, smol 98, Go 27.5 ns"
                .into(),
            Workload::MutexLong => format!(
                "`mutex_contention` with a long critical section: 8 tasks each lock one mutex \
                 20k times and, holding it, run {MUTEX_LONG_WORK} steps of a dependent \
                 multiply-add on the value it guards (about a microsecond; Go: the same loop); \
                 the result is checked; time per lock. With the lock held this long, spinning \
                 for it cannot pay: this row keeps a spin that wins `mutex_contention` honest"
            ),
            Workload::WaitGroup => "100k tiny tasks spawned from a task and waited for, each \
                counted; time from the first spawn until the wait returns, per task. goro: \
                `WaitGroup` (`add(n)` once, `done()` in each task); tokio: an atomic countdown \
                and a `Notify` the last task fires; smol: each task holds a clone of an \
                `async_channel` sender and the waiter receives until the channel closes (the \
                fastest of each peer's idioms, see `benches/shared/locks.rs`); Go: \
                `sync.WaitGroup` (`Add(n)` once, `Done()` in each). Earlier on this \
                machine: tokio 1457, smol 450, Go 316 ns"
                .into(),
            Workload::Select2 => "one task selects 1M times over two channels prefilled with \
                1M values each, so both are ready at every select (goro `select!`, tokio \
                `tokio::select!`, smol `futures_lite::future::race`, Go `select`: all four pick \
                among ready arms at random); every value checked to arrive once and in order; \
                time per \
                select"
                .into(),
            Workload::ChanMemory => "1M tasks each create a bounded(1) channel (Go: \
                `make(chan uint64, 1)`), keep its sender and wait in `recv` for ever; growth of \
                VmRSS per task. Earlier on this \
                machine: tokio 447, smol 1132, Go 2842 bytes"
                .into(),
            Workload::TcpEcho => format!(
                "50 client tasks each connect to a server in the same process on 127.0.0.1 \
                 (one task per accepted connection, echoing what it reads, nodelay on both \
                 ends) and make 5,000 round trips of {ECHO_MESSAGE} bytes, every reply \
                 checked; round trips per second from the first connect to the last client \
                 done. Earlier on this machine: tokio 85.3k, smol 70.4k, Go 79.8k"
            ),
            Workload::TcpStream => format!(
                "one connection on 127.0.0.1: a task writes 16,384 chunks of {} KiB (1 GiB) \
                 and shuts down its write side, another reads into a {} KiB buffer until EOF \
                 and checks the byte count and a byte pattern; GiB per second from connect \
                 to EOF",
                STREAM_CHUNK / 1024,
                STREAM_CHUNK / 1024
            ),
            Workload::TcpChurn => format!(
                "{CHURN_CLIENTS} client tasks make 200 connections each, one after another, \
                 to a fresh listener on 127.0.0.1 whose accept loop drops each connection at \
                 once; each client reads until EOF (the server closes first, so client ports \
                 stay out of TIME_WAIT) and drops its end; 10k connections counted at the \
                 server, per second"
            ),
            Workload::IdleConns => format!(
                "10k connections from a helper process (10k plain std sockets, connected one \
                 after another), each accepted into its own task parked in a 64-byte `read`; \
                 {} ms after the last one is parked, growth of VmRSS since before the bind, \
                 per connection. Every read is checked to end in EOF when the helper exits",
                IDLE_SETTLE.as_millis()
            ),
            Workload::IdleConnsThreads => format!(
                "the OS threads (`Threads:` of /proc/self/status) of the `idle_conns` process \
                 at the moment it reads its RSS; {HARNESS_THREADS} of them are the \
                 harness's (main thread, watchdog; Go's process has no watchdog thread), \
                 the rest are the runtime's"
            ),
        }
    }

    /// goro's target for this workload.
    pub fn target(self) -> Target {
        match self {
            Workload::Sleepers => Target::AtMost(120.0),
            Workload::IdleMemory => Target::AtMost(128.0),
            Workload::ChanMemory => Target::AtMost(256.0),
            Workload::CpuParallel => Target::AtLeast(1.9),
            Workload::Mpmc => Target::AtLeastTimesBestPeer(1.25),
            Workload::TcpEcho | Workload::TcpStream | Workload::TcpChurn => {
                Target::AtLeastTimesBestPeer(1.1)
            }
            // The workers and the harness's own threads; no blocking thread is in use while
            // every task is parked in `read`.
            Workload::IdleConnsThreads => {
                Target::AtMost((crate::machine::cores() + HARNESS_THREADS) as f64)
            }
            _ => Target::TimesBestPeer(0.8),
        }
    }
}

impl Workload {
    /// Whether the number is a rate over sockets, where more is better.
    fn is_throughput(self) -> bool {
        matches!(
            self,
            Workload::TcpEcho | Workload::TcpStream | Workload::TcpChurn
        )
    }

    /// Whether the workload also runs in Go (`benches/go/`, where `go` is installed). Two do
    /// not, as Go cannot express them: `spawn_remote` spawns from a thread outside the
    /// runtime, and Go runs no code outside its scheduler (every `go` statement runs on a P,
    /// which would make it `spawn_many`); `blocking_pool` hands calls to a pool of blocking
    /// threads, and Go has none (a goroutine makes the blocking call itself, so the number
    /// would be the read alone, not a handoff).
    ///
    /// ```
    /// use goro_benches::Workload;
    ///
    /// assert!(Workload::TcpEcho.in_go());
    /// assert!(Workload::Select2.in_go());
    /// assert!(!Workload::BlockingPool.in_go());
    /// ```
    pub fn in_go(self) -> bool {
        !matches!(self, Workload::SpawnRemote | Workload::BlockingPool)
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What goro's number must be for a workload to meet its target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// At most this fraction of the best (lowest) peer number.
    TimesBestPeer(f64),
    /// At least this multiple of the best (highest) peer number.
    AtLeastTimesBestPeer(f64),
    /// At most this absolute number.
    AtMost(f64),
    /// At least this absolute number.
    AtLeast(f64),
}

impl Target {
    /// The target as the report shows it.
    ///
    /// ```
    /// use goro_benches::Target;
    ///
    /// assert_eq!(Target::TimesBestPeer(0.8).describe(), "≤ 0.8 × best peer");
    /// assert_eq!(Target::AtLeast(1.9).describe(), "≥ 1.9");
    /// ```
    pub fn describe(self) -> String {
        match self {
            Target::TimesBestPeer(f) => format!("≤ {f} × best peer"),
            Target::AtLeastTimesBestPeer(f) => format!("≥ {f} × best peer"),
            Target::AtMost(v) => format!("≤ {v}"),
            Target::AtLeast(v) => format!("≥ {v}"),
        }
    }

    /// Whether goro's number meets the target, given the peers' numbers that exist;
    /// `None` when goro's number, or every peer number a relative target needs, is missing.
    ///
    /// ```
    /// use goro_benches::Target;
    ///
    /// let t = Target::TimesBestPeer(0.8);
    /// assert_eq!(t.met(Some(80.0), &[Some(100.0), Some(200.0)]), Some(true));
    /// assert_eq!(t.met(Some(81.0), &[Some(100.0), Some(200.0)]), Some(false));
    /// assert_eq!(t.met(Some(81.0), &[None, None]), None);
    /// ```
    pub fn met(self, goro: Option<f64>, peers: &[Option<f64>]) -> Option<bool> {
        let goro = goro?;
        match self {
            Target::TimesBestPeer(f) => {
                let best = peers.iter().flatten().copied().reduce(f64::min)?;
                Some(goro <= f * best)
            }
            Target::AtLeastTimesBestPeer(f) => {
                let best = peers.iter().flatten().copied().reduce(f64::max)?;
                Some(goro >= f * best)
            }
            Target::AtMost(v) => Some(goro <= v),
            Target::AtLeast(v) => Some(goro >= v),
        }
    }
}

/// A runtime in the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Contender {
    /// This project.
    Goro,
    /// tokio's multi-thread runtime.
    Tokio,
    /// smol: `async-executor` run on N threads, `async-io` timers, the `blocking` pool.
    Smol,
    /// Go's runtime (goroutines, its channels, `sync` and netpoller), on the workloads it can
    /// express ([`Workload::in_go`]), measured by the program of `benches/go/` where `go` is
    /// installed; the bench binaries never run it.
    Go,
}

impl Contender {
    /// Every runtime, in table order.
    pub const ALL: [Contender; 4] = [
        Contender::Goro,
        Contender::Tokio,
        Contender::Smol,
        Contender::Go,
    ];

    /// The runtimes goro is compared with, in table order.
    pub const PEERS: [Contender; 3] = [Contender::Tokio, Contender::Smol, Contender::Go];

    /// The runtime's name.
    pub fn name(self) -> &'static str {
        match self {
            Contender::Goro => "goro",
            Contender::Tokio => "tokio",
            Contender::Smol => "smol",
            Contender::Go => "go",
        }
    }

    /// The runtime called `name`.
    pub fn parse(name: &str) -> Option<Contender> {
        Contender::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for Contender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The global allocator every runtime of one child process runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Allocator {
    /// The platform's malloc (glibc here), Rust's default.
    System,
    /// mimalloc through the `mimalloc` crate.
    Mimalloc,
}

impl Allocator {
    /// Every allocator, in report order.
    pub const ALL: [Allocator; 2] = [Allocator::System, Allocator::Mimalloc];

    /// The allocator's name.
    pub fn name(self) -> &'static str {
        match self {
            Allocator::System => "system",
            Allocator::Mimalloc => "mimalloc",
        }
    }

    /// The allocator called `name`.
    pub fn parse(name: &str) -> Option<Allocator> {
        Allocator::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The bench target whose binary runs tokio and smol on this allocator.
    pub fn bench_target(self) -> &'static str {
        match self {
            Allocator::System => "compare",
            Allocator::Mimalloc => "compare_mimalloc",
        }
    }

    /// The binary (built with the `goro-only` feature) that runs goro on this allocator.
    pub fn goro_target(self) -> &'static str {
        match self {
            Allocator::System => "goro-bench-child",
            Allocator::Mimalloc => "goro-bench-child-mimalloc",
        }
    }
}

impl fmt::Display for Allocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The workloads selected by [`ONLY_ENV`]; all of them when it is unset or empty.
///
/// # Errors
///
/// The first name that is not a workload.
///
/// ```
/// use goro_benches::plan::select_workloads;
/// use goro_benches::Workload;
///
/// assert_eq!(select_workloads(Some("sleepers, yield_many")).unwrap(),
///            vec![Workload::YieldMany, Workload::Sleepers]);
/// assert!(select_workloads(Some("nap")).is_err());
/// ```
pub fn select_workloads(only: Option<&str>) -> Result<Vec<Workload>, String> {
    let Some(only) = only.filter(|s| !s.trim().is_empty()) else {
        return Ok(Workload::ALL.to_vec());
    };
    let mut chosen = Vec::new();
    for name in only.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        chosen.push(Workload::parse(name).ok_or_else(|| format!("no workload named `{name}`"))?);
    }
    Ok(Workload::ALL
        .into_iter()
        .filter(|w| chosen.contains(w))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for w in Workload::ALL {
            assert_eq!(Workload::parse(w.name()), Some(w));
        }
        for c in Contender::ALL {
            assert_eq!(Contender::parse(c.name()), Some(c));
        }
        for a in Allocator::ALL {
            assert_eq!(Allocator::parse(a.name()), Some(a));
        }
    }

    #[test]
    fn quick_mode_shrinks_counts_but_not_the_sleep() {
        assert_eq!(Workload::Sleepers.size(Mode::Quick).count, 10_000);
        assert_eq!(
            Workload::YieldMany.size(Mode::Quick),
            Size {
                count: 200,
                repeat: 100
            }
        );
        assert_eq!(Workload::CpuParallel.size(Mode::Quick).count, MATRIX_SIZE);
    }

    #[test]
    fn throughput_target_is_relative_to_the_fastest_peer() {
        let t = Workload::TcpEcho.target();
        assert_eq!(t.met(Some(93.9), &[Some(85.3), Some(70.4)]), Some(true));
        assert_eq!(t.met(Some(93.8), &[Some(85.3), Some(70.4)]), Some(false));
        assert!(Workload::TcpEcho.higher_is_better());
        assert!(!Workload::IdleConns.higher_is_better());
        let t = Workload::Mpmc.target();
        assert_eq!(t.met(Some(12.5), &[Some(10.0), Some(4.0)]), Some(true));
        assert_eq!(t.met(Some(12.4), &[Some(10.0), Some(4.0)]), Some(false));
        assert!(Workload::Mpmc.higher_is_better());
    }

    #[test]
    fn only_the_one_worker_rows_shrink_the_runtime() {
        let one: Vec<_> = Workload::ALL
            .into_iter()
            .filter(|w| w.workers(2) == 1)
            .collect();
        assert_eq!(
            one,
            [
                Workload::PingPongCap0OneWorker,
                Workload::PingPongCap1OneWorker
            ]
        );
    }

    #[test]
    fn speedup_target_wants_more() {
        assert_eq!(Target::AtLeast(1.9).met(Some(1.95), &[]), Some(true));
        assert_eq!(Target::AtLeast(1.9).met(Some(1.5), &[]), Some(false));
    }
}
