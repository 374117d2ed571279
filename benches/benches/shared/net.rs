//! The net workloads, written once against [`Net`] (each runtime's TCP sockets), and the
//! helper process of `idle_conns`.
//!
//! Server and clients run in the same measured process, on 127.0.0.1, with TCP_NODELAY set
//! on both ends of every connection (Go sets it by default). `benches/go/net.go` is the same
//! protocol in Go. Like the other workloads, each checks its own result (byte counts, echo
//! contents, connection counts, EOFs) and panics when it is wrong, and runs its timed part in
//! spawned tasks; the child's watchdog bounds them in time.
//!
//! The workloads need each runtime's socket types, which [`AsyncRuntime`] does not have;
//! rather than add them to the bound of every workload, [`run`] finds the concrete runtime.

use std::any::Any;
use std::fs;
use std::future::Future;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4};
use std::process::{self, Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt as _, AsyncWriteExt as _};
use goro_benches::child::HOLD_FLAG;
use goro_benches::machine::{rss_bytes, thread_count};
use goro_benches::plan::{Size, CHURN_CLIENTS, ECHO_MESSAGE, IDLE_SETTLE, STREAM_CHUNK};
use goro_benches::{Latch, Workload};

use super::contenders::{AsyncRuntime, Goro};
#[cfg(not(feature = "goro-only"))]
use super::contenders::{Smol, Tokio};

/// Where every listener binds: the loopback address, a port the OS picks.
const LOOPBACK: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0));

/// `idle_conns`: how long the measured process waits for all connections to be accepted
/// and parked; 10k sequential connects take about a second here, 60 s means something is
/// stuck, and the failure says how far it got (before the 120 s watchdog would).
const IDLE_ACCEPT_LIMIT: Duration = Duration::from_secs(60);

/// `idle_conns`: how often the measured process checks how many tasks are parked.
const IDLE_POLL: Duration = Duration::from_millis(1);

/// `idle_conns`: the helper connects this many sockets, then waits until the server has
/// parked them before it connects more. Fewer than the smallest listen backlog of the
/// runtimes compared (tokio's and smol's are 128 here), so the accept queue never
/// overflows; when it did, a dropped SYN cost its connect a 1 s retransmission.
const HOLD_BATCH: usize = 100;

/// `idle_conns` helper: the longest one connect may take; a full backlog costs a SYN
/// retransmission (1 s, then 3 s), more means the server is gone.
const HOLD_CONNECT_LIMIT: Duration = Duration::from_secs(10);

/// `idle_conns`: bytes each parked task asks `read` for.
const IDLE_READ: usize = 64;

/// Bytes in a GiB, the unit of `tcp_stream`.
const GIB: f64 = (1u64 << 30) as f64;

/// A runtime's TCP sockets, as the net workloads use them.
pub trait Net: AsyncRuntime {
    /// A listening socket.
    type Listener: Send + Sync + 'static;
    /// A connected socket.
    type Stream: Send + 'static;

    /// Binds a listener to `addr`.
    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send;

    /// The address `listener` is bound to.
    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr>;

    /// Waits for a connection and accepts it.
    fn accept(listener: &Self::Listener) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// Connects to `addr`.
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// Sets TCP_NODELAY.
    fn set_nodelay(stream: &Self::Stream) -> io::Result<()>;

    /// Reads what is there, up to `buf.len()` bytes; 0 at EOF.
    fn read(
        stream: &mut Self::Stream,
        buf: &mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send;

    /// Reads exactly `buf.len()` bytes.
    fn read_exact(
        stream: &mut Self::Stream,
        buf: &mut [u8],
    ) -> impl Future<Output = io::Result<()>> + Send;

    /// Writes all of `buf`.
    fn write_all(
        stream: &mut Self::Stream,
        buf: &[u8],
    ) -> impl Future<Output = io::Result<()>> + Send;

    /// Shuts down the write side: the peer reads EOF.
    fn shutdown_write(stream: &mut Self::Stream) -> impl Future<Output = io::Result<()>> + Send;
}

impl Net for Goro {
    type Listener = goro::net::TcpListener;
    type Stream = goro::net::TcpStream;

    async fn bind(addr: SocketAddr) -> io::Result<Self::Listener> {
        goro::net::TcpListener::bind(addr).await
    }

    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr> {
        listener.local_addr()
    }

    async fn accept(listener: &Self::Listener) -> io::Result<Self::Stream> {
        Ok(listener.accept().await?.0)
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self::Stream> {
        goro::net::TcpStream::connect(addr).await
    }

    fn set_nodelay(stream: &Self::Stream) -> io::Result<()> {
        stream.set_nodelay(true)
    }

    async fn read(stream: &mut Self::Stream, buf: &mut [u8]) -> io::Result<usize> {
        stream.read(buf).await
    }

    async fn read_exact(stream: &mut Self::Stream, buf: &mut [u8]) -> io::Result<()> {
        stream.read_exact(buf).await
    }

    async fn write_all(stream: &mut Self::Stream, buf: &[u8]) -> io::Result<()> {
        stream.write_all(buf).await
    }

    async fn shutdown_write(stream: &mut Self::Stream) -> io::Result<()> {
        stream.shutdown(Shutdown::Write)
    }
}

#[cfg(not(feature = "goro-only"))]
impl Net for Tokio {
    type Listener = tokio::net::TcpListener;
    type Stream = tokio::net::TcpStream;

    async fn bind(addr: SocketAddr) -> io::Result<Self::Listener> {
        tokio::net::TcpListener::bind(addr).await
    }

    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr> {
        listener.local_addr()
    }

    async fn accept(listener: &Self::Listener) -> io::Result<Self::Stream> {
        Ok(listener.accept().await?.0)
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self::Stream> {
        tokio::net::TcpStream::connect(addr).await
    }

    fn set_nodelay(stream: &Self::Stream) -> io::Result<()> {
        stream.set_nodelay(true)
    }

    async fn read(stream: &mut Self::Stream, buf: &mut [u8]) -> io::Result<usize> {
        tokio::io::AsyncReadExt::read(stream, buf).await
    }

    async fn read_exact(stream: &mut Self::Stream, buf: &mut [u8]) -> io::Result<()> {
        tokio::io::AsyncReadExt::read_exact(stream, buf).await?;
        Ok(())
    }

    async fn write_all(stream: &mut Self::Stream, buf: &[u8]) -> io::Result<()> {
        tokio::io::AsyncWriteExt::write_all(stream, buf).await
    }

    async fn shutdown_write(stream: &mut Self::Stream) -> io::Result<()> {
        tokio::io::AsyncWriteExt::shutdown(stream).await
    }
}

#[cfg(not(feature = "goro-only"))]
impl Net for Smol {
    type Listener = smol::net::TcpListener;
    type Stream = smol::net::TcpStream;

    async fn bind(addr: SocketAddr) -> io::Result<Self::Listener> {
        smol::net::TcpListener::bind(addr).await
    }

    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr> {
        listener.local_addr()
    }

    async fn accept(listener: &Self::Listener) -> io::Result<Self::Stream> {
        Ok(listener.accept().await?.0)
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self::Stream> {
        smol::net::TcpStream::connect(addr).await
    }

    fn set_nodelay(stream: &Self::Stream) -> io::Result<()> {
        stream.set_nodelay(true)
    }

    async fn read(stream: &mut Self::Stream, buf: &mut [u8]) -> io::Result<usize> {
        stream.read(buf).await
    }

    async fn read_exact(stream: &mut Self::Stream, buf: &mut [u8]) -> io::Result<()> {
        stream.read_exact(buf).await
    }

    async fn write_all(stream: &mut Self::Stream, buf: &[u8]) -> io::Result<()> {
        stream.write_all(buf).await
    }

    async fn shutdown_write(stream: &mut Self::Stream) -> io::Result<()> {
        stream.shutdown(Shutdown::Write)
    }
}

/// Runs the net workload `workload` of `size` on `rt` and returns the number the report
/// shows.
///
/// # Panics
///
/// If `workload` is not a net workload, or `R` is none of the three runtimes.
pub fn run<R: AsyncRuntime>(rt: &R, workload: Workload, size: Size) -> f64 {
    let rt: &dyn Any = rt;
    if let Some(rt) = rt.downcast_ref::<Goro>() {
        return run_on(rt, workload, size);
    }
    #[cfg(not(feature = "goro-only"))]
    if let Some(rt) = rt.downcast_ref::<Tokio>() {
        return run_on(rt, workload, size);
    }
    #[cfg(not(feature = "goro-only"))]
    if let Some(rt) = rt.downcast_ref::<Smol>() {
        return run_on(rt, workload, size);
    }
    unreachable!("{workload}: this runtime has no sockets here")
}

fn run_on<N: Net>(rt: &N, workload: Workload, size: Size) -> f64 {
    match workload {
        Workload::TcpEcho => tcp_echo(rt, size.count, size.repeat),
        Workload::TcpStream => tcp_stream(rt, size.count),
        Workload::TcpChurn => tcp_churn(rt, size.count),
        Workload::IdleConns => idle_conns(rt, size.count).bytes_per_conn,
        Workload::IdleConnsThreads => idle_conns(rt, size.count).threads as f64,
        _ => unreachable!("{workload} is not a net workload"),
    }
}

/// A listener on [`LOOPBACK`] and its address.
async fn bind<N: Net>(what: &'static str) -> (N::Listener, SocketAddr) {
    let listener = N::bind(LOOPBACK)
        .await
        .unwrap_or_else(|e| panic!("{what}: cannot bind {LOOPBACK}: {e}"));
    let addr = N::local_addr(&listener).unwrap_or_else(|e| panic!("{what}: local_addr: {e}"));
    (listener, addr)
}

/// The next connection of `listener`, with TCP_NODELAY set.
async fn accept<N: Net>(listener: &N::Listener, what: &'static str) -> N::Stream {
    let stream = N::accept(listener)
        .await
        .unwrap_or_else(|e| panic!("{what}: accept: {e}"));
    N::set_nodelay(&stream).unwrap_or_else(|e| panic!("{what}: set_nodelay: {e}"));
    stream
}

/// A connection to `addr`, with TCP_NODELAY set.
async fn connect<N: Net>(addr: SocketAddr, what: &'static str) -> N::Stream {
    let stream = N::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("{what}: connect to {addr}: {e}"));
    N::set_nodelay(&stream).unwrap_or_else(|e| panic!("{what}: set_nodelay: {e}"));
    stream
}

/// `clients` connections × `round_trips` echoes of [`ECHO_MESSAGE`] bytes; thousands of
/// round trips per second, from the first connect to the last client done.
fn tcp_echo<N: Net>(rt: &N, clients: usize, round_trips: usize) -> f64 {
    let echoed = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let (bytes, trips) = (echoed.clone(), done.clone());
    let elapsed = rt.block_on_task(async move {
        let (listener, addr) = bind::<N>("tcp_echo").await;
        let served = Arc::new(Latch::new(clients));
        N::go(serve_echo::<N>(listener, clients, served.clone(), echoed));
        let finished = Arc::new(Latch::new(clients));
        let start = Instant::now();
        for id in 0..clients {
            let (finished, done) = (finished.clone(), done.clone());
            N::go(async move {
                echo_client::<N>(addr, id, round_trips).await;
                done.fetch_add(round_trips, Ordering::Relaxed);
                finished.count_down();
            });
        }
        finished.wait().await;
        let elapsed = start.elapsed();
        // Every server task has seen its client's EOF, so its byte count is final.
        served.wait().await;
        elapsed
    });
    let total = clients * round_trips;
    let trips = trips.load(Ordering::Relaxed);
    assert_eq!(trips, total, "tcp_echo: {trips} of {total} round trips");
    let bytes = bytes.load(Ordering::Relaxed);
    let expected = (total * ECHO_MESSAGE) as u64;
    assert_eq!(bytes, expected, "tcp_echo: the server echoed {bytes} bytes");
    total as f64 / elapsed.as_secs_f64() / 1000.0
}

/// Accepts `conns` connections, each served by its own task echoing until EOF.
async fn serve_echo<N: Net>(
    listener: N::Listener,
    conns: usize,
    served: Arc<Latch>,
    echoed: Arc<AtomicU64>,
) {
    for _ in 0..conns {
        let stream = accept::<N>(&listener, "tcp_echo").await;
        let (served, echoed) = (served.clone(), echoed.clone());
        N::go(async move {
            let bytes = echo::<N>(stream).await;
            echoed.fetch_add(bytes, Ordering::Relaxed);
            served.count_down();
        });
    }
}

/// Reads up to [`ECHO_MESSAGE`] bytes and writes them back, until EOF; the bytes echoed.
async fn echo<N: Net>(mut stream: N::Stream) -> u64 {
    let mut buf = [0u8; ECHO_MESSAGE];
    let mut echoed = 0;
    loop {
        let n = N::read(&mut stream, &mut buf)
            .await
            .unwrap_or_else(|e| panic!("tcp_echo: server read: {e}"));
        if n == 0 {
            return echoed;
        }
        N::write_all(&mut stream, &buf[..n])
            .await
            .unwrap_or_else(|e| panic!("tcp_echo: server write: {e}"));
        echoed += n as u64;
    }
}

/// One client of `tcp_echo`: connects and makes `round_trips` round trips, checking each.
async fn echo_client<N: Net>(addr: SocketAddr, id: usize, round_trips: usize) {
    let mut stream = connect::<N>(addr, "tcp_echo").await;
    let (mut message, mut reply) = ([0u8; ECHO_MESSAGE], [0u8; ECHO_MESSAGE]);
    for i in 0..round_trips {
        fill_message(&mut message, id, i);
        N::write_all(&mut stream, &message)
            .await
            .unwrap_or_else(|e| panic!("tcp_echo: client {id} write: {e}"));
        N::read_exact(&mut stream, &mut reply)
            .await
            .unwrap_or_else(|e| panic!("tcp_echo: client {id} read: {e}"));
        assert!(
            reply == message,
            "tcp_echo: client {id} got a wrong echo at round trip {i}"
        );
    }
}

/// Message `i` of client `id`: both numbers (little-endian u32), then bytes that depend on
/// both and on the position, so a reply from another client or round trip cannot match.
fn fill_message(message: &mut [u8; ECHO_MESSAGE], id: usize, i: usize) {
    message[..4].copy_from_slice(&(id as u32).to_le_bytes());
    message[4..8].copy_from_slice(&(i as u32).to_le_bytes());
    for (k, b) in message.iter_mut().enumerate().skip(8) {
        *b = (k + id + i) as u8;
    }
}

/// `chunks` writes of [`STREAM_CHUNK`] bytes over one connection; GiB/s from connect to the
/// reader's EOF.
fn tcp_stream<N: Net>(rt: &N, chunks: usize) -> f64 {
    let (received, elapsed) = rt.block_on_task(async move {
        let (listener, addr) = bind::<N>("tcp_stream").await;
        let start = Instant::now();
        let reader = N::spawn(async move {
            let stream = accept::<N>(&listener, "tcp_stream").await;
            read_stream::<N>(stream).await
        });
        N::go(write_stream::<N>(addr, chunks));
        let received = reader.await;
        (received, start.elapsed())
    });
    let expected = (chunks * STREAM_CHUNK) as u64;
    assert_eq!(
        received, expected,
        "tcp_stream: read {received} bytes of {expected}"
    );
    received as f64 / GIB / elapsed.as_secs_f64()
}

/// The writer of `tcp_stream`: `chunks` chunks, then a shutdown of the write side. Byte `k`
/// of the stream is `k as u8` (a chunk is a multiple of 256 bytes, so every chunk is alike).
async fn write_stream<N: Net>(addr: SocketAddr, chunks: usize) {
    let mut stream = connect::<N>(addr, "tcp_stream").await;
    let chunk: Vec<u8> = (0..STREAM_CHUNK).map(|k| k as u8).collect();
    for i in 0..chunks {
        N::write_all(&mut stream, &chunk)
            .await
            .unwrap_or_else(|e| panic!("tcp_stream: write of chunk {i}: {e}"));
    }
    N::shutdown_write(&mut stream)
        .await
        .unwrap_or_else(|e| panic!("tcp_stream: shutdown: {e}"));
}

/// The reader of `tcp_stream`: reads until EOF, checking the first and last byte of every
/// read against the stream's pattern; the bytes read.
async fn read_stream<N: Net>(mut stream: N::Stream) -> u64 {
    let mut buf = vec![0u8; STREAM_CHUNK];
    let mut offset = 0u64;
    loop {
        let n = N::read(&mut stream, &mut buf)
            .await
            .unwrap_or_else(|e| panic!("tcp_stream: read at byte {offset}: {e}"));
        if n == 0 {
            return offset;
        }
        let last = offset + n as u64 - 1;
        assert!(
            buf[0] == offset as u8 && buf[n - 1] == last as u8,
            "tcp_stream: bytes {offset}..={last} are not the ones written"
        );
        offset += n as u64;
    }
}

/// `conns` connections from [`CHURN_CLIENTS`] clients, each accepted and dropped at once;
/// thousands of connections per second, counted at the server.
fn tcp_churn<N: Net>(rt: &N, conns: usize) -> f64 {
    assert!(
        conns.is_multiple_of(CHURN_CLIENTS),
        "tcp_churn: {conns} connections do not split evenly among {CHURN_CLIENTS} clients"
    );
    let eofs = Arc::new(AtomicUsize::new(0));
    let seen = eofs.clone();
    let (accepted, elapsed) = rt.block_on_task(async move {
        let (listener, addr) = bind::<N>("tcp_churn").await;
        let start = Instant::now();
        let server = N::spawn(async move {
            for _ in 0..conns {
                drop(accept::<N>(&listener, "tcp_churn").await);
            }
            conns
        });
        let finished = Arc::new(Latch::new(CHURN_CLIENTS));
        for _ in 0..CHURN_CLIENTS {
            let (finished, eofs) = (finished.clone(), eofs.clone());
            N::go(async move {
                churn_client::<N>(addr, conns / CHURN_CLIENTS, &eofs).await;
                finished.count_down();
            });
        }
        let accepted = server.await;
        finished.wait().await;
        (accepted, start.elapsed())
    });
    let eofs = seen.load(Ordering::Relaxed);
    assert_eq!(accepted, conns, "tcp_churn: the server accepted {accepted}");
    assert_eq!(eofs, conns, "tcp_churn: clients saw {eofs} EOFs of {conns}");
    accepted as f64 / elapsed.as_secs_f64() / 1000.0
}

/// One client of `tcp_churn`: `n` times connect, read until EOF (the server closes first),
/// drop.
async fn churn_client<N: Net>(addr: SocketAddr, n: usize, eofs: &AtomicUsize) {
    let mut byte = [0u8; 1];
    for _ in 0..n {
        let mut stream = connect::<N>(addr, "tcp_churn").await;
        let got = N::read(&mut stream, &mut byte)
            .await
            .unwrap_or_else(|e| panic!("tcp_churn: client read: {e}"));
        assert_eq!(got, 0, "tcp_churn: the server sent data instead of closing");
        eofs.fetch_add(1, Ordering::Relaxed);
    }
}

/// What `idle_conns` measures.
struct Idle {
    /// Growth of VmRSS since before the bind, per connection.
    bytes_per_conn: f64,
    /// OS threads of the process.
    threads: usize,
}

/// `n` idle connections from a helper process, each accepted into its own task parked in
/// `read`; RSS growth per connection and the process's threads, [`IDLE_SETTLE`] after the
/// last task is parked. Then the helper exits and every read must end in EOF.
fn idle_conns<N: Net>(rt: &N, n: usize) -> Idle {
    let base = rss_bytes().expect("idle_conns: cannot read RSS");
    let (listener, addr) = rt.block_on_task(bind::<N>("idle_conns"));
    let parked = Arc::new(AtomicUsize::new(0));
    let eofs = Arc::new(AtomicUsize::new(0));
    let ended = Arc::new(Latch::new(n));
    rt.spawn_outside(accept_idle::<N>(
        listener,
        n,
        (parked.clone(), eofs.clone(), ended.clone()),
    ));
    let start = Instant::now();
    let mut helper = Helper::start(addr);
    let mut held = 0;
    while held < n {
        let batch = HOLD_BATCH.min(n - held);
        held = helper.connect(batch);
        wait_until_parked(&parked, held, start, &mut helper);
    }
    let all_parked = start.elapsed();
    thread::sleep(IDLE_SETTLE);
    let rss = rss_bytes().expect("idle_conns: cannot read RSS");
    let threads = thread_count().expect("idle_conns: cannot read the thread count");
    eprintln!(
        "idle_conns: {n} parked after {:.0} ms, RSS {} KiB → {} KiB; {threads} threads: {}",
        all_parked.as_secs_f64() * 1000.0,
        base / 1024,
        rss / 1024,
        thread_names()
    );
    let start = Instant::now();
    helper.release();
    rt.block_on(ended.wait());
    eprintln!(
        "idle_conns: helper gone and every read ended after {:.0} ms",
        start.elapsed().as_secs_f64() * 1000.0
    );
    let eofs = eofs.load(Ordering::Relaxed);
    assert_eq!(eofs, n, "idle_conns: {eofs} of {n} reads ended in EOF");
    assert!(rss > base, "idle_conns: RSS did not grow");
    Idle {
        bytes_per_conn: (rss - base) as f64 / n as f64,
        threads,
    }
}

/// The counters of `idle_conns`: tasks parked, reads that ended in EOF, tasks ended.
type IdleCounters = (Arc<AtomicUsize>, Arc<AtomicUsize>, Arc<Latch>);

/// Accepts `n` connections and gives each a task parked in a [`IDLE_READ`]-byte read.
async fn accept_idle<N: Net>(listener: N::Listener, n: usize, counters: IdleCounters) {
    for _ in 0..n {
        let mut stream = accept::<N>(&listener, "idle_conns").await;
        let (parked, eofs, ended) = counters.clone();
        N::go(async move {
            parked.fetch_add(1, Ordering::Relaxed);
            let mut buf = [0u8; IDLE_READ];
            if let Ok(0) = N::read(&mut stream, &mut buf).await {
                eofs.fetch_add(1, Ordering::Relaxed);
            }
            ended.count_down();
        });
    }
}

/// Waits on this (non-worker) thread until `n` tasks have started, failing if the helper
/// exits first or [`IDLE_ACCEPT_LIMIT`] passes after `start`.
fn wait_until_parked(parked: &AtomicUsize, n: usize, start: Instant, helper: &mut Helper) {
    loop {
        let count = parked.load(Ordering::Relaxed);
        if count == n {
            return;
        }
        if let Some(status) = helper.exited() {
            panic!("idle_conns: the helper exited ({status}) with {count} of {n} parked");
        }
        assert!(
            start.elapsed() < IDLE_ACCEPT_LIMIT,
            "idle_conns: {count} of {n} connections parked after {} s",
            IDLE_ACCEPT_LIMIT.as_secs()
        );
        thread::sleep(IDLE_POLL);
    }
}

/// The names of this process's threads, with counts (`goro-worker-0, main ×2`).
fn thread_names() -> String {
    let mut names: Vec<String> = fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|task| fs::read_to_string(task.path().join("comm")).ok())
        .map(|name| name.trim().to_string())
        .collect();
    names.sort();
    let mut out: Vec<String> = Vec::new();
    for name in names.chunk_by(|a, b| a == b) {
        match name.len() {
            1 => out.push(name[0].clone()),
            n => out.push(format!("{} ×{n}", name[0])),
        }
    }
    out.join(", ")
}

/// The `idle_conns` helper process: this binary run with [`HOLD_FLAG`] (see
/// [`hold_connections`] for what it does).
struct Helper {
    /// The process.
    child: Child,
    /// How many connections to make next; closed to let go of them all.
    stdin: ChildStdin,
    /// Where it says how many connections it holds.
    stdout: BufReader<ChildStdout>,
}

impl Helper {
    /// Starts the helper, which will connect to `addr`.
    fn start(addr: SocketAddr) -> Helper {
        let exe = std::env::current_exe().expect("idle_conns: cannot find this binary");
        let mut child = Command::new(exe)
            .args([HOLD_FLAG, &addr.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("idle_conns: cannot start the helper: {e}"));
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Helper {
            child,
            stdin,
            stdout,
        }
    }

    /// Has the helper connect `n` more sockets; the number it holds now.
    fn connect(&mut self, n: usize) -> usize {
        let asked = writeln!(self.stdin, "{n}").and_then(|()| self.stdin.flush());
        asked.unwrap_or_else(|e| panic!("idle_conns: cannot talk to the helper: {e}"));
        let mut line = String::new();
        let _ = self.stdout.read_line(&mut line);
        let held = line
            .trim()
            .strip_prefix("holding ")
            .and_then(|n| n.parse().ok());
        held.unwrap_or_else(|| panic!("idle_conns: the helper said {line:?}, not `holding N`"))
    }

    /// The helper's exit status, if it has exited.
    fn exited(&mut self) -> Option<process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Closes the helper's standard input, which makes it close every connection and exit,
    /// and checks that it exits cleanly.
    fn release(mut self) {
        drop(self.stdin);
        let status = self
            .child
            .wait()
            .unwrap_or_else(|e| panic!("idle_conns: cannot wait for the helper: {e}"));
        assert!(
            status.success(),
            "idle_conns: the helper ended with {status}"
        );
    }
}

/// The helper's side (`BINARY --hold-connections ADDR`): for each line `N` on standard
/// input, connects `N` more plain std sockets to `to`, one after another, and prints
/// `holding TOTAL`; holds them all until its standard input closes (the measured process
/// lets go, or dies). Exits 1 if a connect fails.
pub fn hold_connections(to: SocketAddr) {
    let mut held = Vec::new();
    let mut stdout = io::stdout().lock();
    for line in io::stdin().lock().lines() {
        let Some(n) = line.ok().and_then(|l| l.trim().parse::<usize>().ok()) else {
            eprintln!("hold-connections: expected a number of connections");
            process::exit(1);
        };
        for _ in 0..n {
            let stream = std::net::TcpStream::connect_timeout(&to, HOLD_CONNECT_LIMIT)
                .and_then(|s| s.set_nodelay(true).map(|()| s));
            match stream {
                Ok(stream) => held.push(stream),
                Err(e) => {
                    eprintln!("hold-connections: connection {} to {to}: {e}", held.len());
                    process::exit(1);
                }
            }
        }
        let _ = writeln!(stdout, "holding {}", held.len());
        let _ = stdout.flush();
    }
}
