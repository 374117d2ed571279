//! Concept 15, IO made CPU-bound for the OS: thousands of waits become a few busy threads.
//!
//! Go: 1,000 goroutines in `time.Sleep(10ms)` on `GOMAXPROCS` threads. goro: 1,000 tasks in
//! `goro::time::sleep`, beside 1,000 OS threads doing the same `std::thread::sleep`.
//!
//! Run: `cargo run --release --example io-to-cpu`
//!
//! What to look for: wall time, the OS threads in use, and the CPU time the process spent
//! (user + system, from `/proc/self/stat`) for each way of waiting. The seed prints
//! `GOMAXPROCS` and asserts the OS "sees busy threads"; this program measures the threads and
//! the CPU time they cost.
//!
//! The gotcha, worker count for IO-heavy services: an echo workload (TCP round trips on
//! 127.0.0.1) on 1 worker and on one per hardware thread, round trips per second for each.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use goro::io::{AsyncReadExt, AsyncWriteExt};
use goro::net::{TcpListener, TcpStream};

/// Concurrent waiters.
const WAITERS: usize = 1_000;
/// How long each waits.
const WAIT: Duration = Duration::from_millis(10);
/// Echo connections and round trips per connection in the gotcha.
const CONNECTIONS: usize = 64;
const ROUND_TRIPS: usize = 500;

struct Cost {
    wall: Duration,
    threads: Option<usize>,
    cpu: Option<Duration>,
}

fn tasks() -> Cost {
    let rt = common::runtime(common::hardware_threads());
    let cpu_before = common::cpu_time();
    let start = Instant::now();
    let threads = rt.block_on(async {
        let waiters: Vec<_> = (0..WAITERS)
            .map(|_| goro::spawn(goro::time::sleep(WAIT)))
            .collect();
        let threads = common::os_threads();
        for w in waiters {
            w.await.unwrap();
        }
        threads
    });
    Cost {
        wall: start.elapsed(),
        threads,
        cpu: common::cpu_time()
            .zip(cpu_before)
            .map(|(a, b)| a.saturating_sub(b)),
    }
}

fn threads() -> Cost {
    let cpu_before = common::cpu_time();
    let start = Instant::now();
    let waiters: Vec<_> = (0..WAITERS)
        .map(|_| std::thread::spawn(|| std::thread::sleep(WAIT)))
        .collect();
    let threads = common::os_threads();
    for w in waiters {
        w.join().unwrap();
    }
    Cost {
        wall: start.elapsed(),
        threads,
        cpu: common::cpu_time()
            .zip(cpu_before)
            .map(|(a, b)| a.saturating_sub(b)),
    }
}

async fn echo_workload() -> usize {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let server = goro::spawn(async move {
        for _ in 0..CONNECTIONS {
            let (mut conn, _) = listener.accept().await.unwrap();
            goro::spawn(async move {
                let mut buf = [0u8; 32];
                while let Ok(n) = conn.read(&mut buf).await {
                    if n == 0 || conn.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            goro::spawn(async move {
                let mut conn = TcpStream::connect(addr).await.unwrap();
                conn.set_nodelay(true).unwrap();
                let mut buf = [0u8; 16];
                for _ in 0..ROUND_TRIPS {
                    conn.write_all(&[7u8; 16]).await.unwrap();
                    conn.read_exact(&mut buf).await.unwrap();
                }
                ROUND_TRIPS
            })
        })
        .collect();
    let mut done = 0;
    for c in clients {
        done += c.await.unwrap();
    }
    server.await.unwrap();
    done
}

fn main() {
    println!("io-to-cpu: {WAITERS} waits of {WAIT:?} each\n");
    let rows: Vec<Vec<String>> = [("goro tasks", tasks()), ("OS threads", threads())]
        .into_iter()
        .map(|(name, c)| {
            vec![
                format!("{WAITERS} {name}"),
                common::ms(c.wall),
                common::show(c.threads),
                c.cpu.map_or("?".into(), common::ms),
            ]
        })
        .collect();
    common::table(
        &["waiting as", "wall", "OS threads", "CPU time (user+sys)"],
        &rows,
    );

    let n = common::hardware_threads();
    println!("\ngotcha: {CONNECTIONS} echo connections x {ROUND_TRIPS} round trips of 16 bytes");
    let mut rows = Vec::new();
    for workers in [1, n] {
        let rt = common::runtime(workers);
        let start = Instant::now();
        let done = rt.block_on(echo_workload());
        let wall = start.elapsed();
        rows.push(vec![
            workers.to_string(),
            done.to_string(),
            common::ms(wall),
            format!("{:.0}", done as f64 / wall.as_secs_f64()),
        ]);
    }
    common::table(&["workers", "round trips", "wall", "round trips/s"], &rows);
}
