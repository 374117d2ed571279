//! Concept 13, the network poller: a thousand connections wait on a handful of threads.
//!
//! Go: goroutines blocked in `http.Get` park on the netpoller. goro: an echo server and 1,000
//! concurrent client connections in one process on 127.0.0.1, every socket waiting in goro's
//! reactor (`goro::net::TcpListener`, `TcpStream`).
//!
//! Run: `cargo run --release --example network-poller`
//!
//! What to look for: round trips completed, the OS threads the process used meanwhile, and
//! connections per thread. The seed's program prints two sentences and opens no connection;
//! this one opens 2,000 sockets (both ends of 1,000 connections) and counts the threads.
//!
//! The gotcha, a blocking read inside a task: a `std::net::TcpStream::read` pins the worker it
//! runs on until data arrives. On a 1-worker runtime, a timer task that should tick every
//! 10 ms stalls for the whole blocking read; the same read through `goro::net` (or moved to
//! `spawn_blocking`) stalls nothing.

mod common;

use std::io::Read;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use goro::io::{AsyncReadExt, AsyncWriteExt};
use goro::net::{TcpListener, TcpStream};

/// Concurrent client connections.
const CONNECTIONS: usize = 1_000;
/// Round trips per connection.
const ROUND_TRIPS: usize = 10;
/// How long the peer in the gotcha waits before it writes.
const PEER_DELAY: Duration = Duration::from_millis(300);

async fn echo_server(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((mut conn, _)) => {
                goro::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = conn.read(&mut buf).await {
                        if n == 0 || conn.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
            Err(e) => {
                eprintln!("accept: {e}; retrying in 10 ms");
                goro::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn client(addr: SocketAddr) -> std::io::Result<usize> {
    let mut conn = TcpStream::connect(addr).await?;
    let mut buf = [0u8; 8];
    for i in 0..ROUND_TRIPS as u64 {
        conn.write_all(&i.to_le_bytes()).await?;
        conn.read_exact(&mut buf).await?;
        assert_eq!(u64::from_le_bytes(buf), i, "the echo changed the bytes");
    }
    Ok(ROUND_TRIPS)
}

/// The poller part: 1,000 connections on the default runtime.
fn many_connections() {
    let (done, threads, wall) = goro::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        goro::spawn(echo_server(listener));
        let start = Instant::now();
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|_| goro::spawn(client(addr)))
            .collect();
        // Let them all connect and start talking, then count threads.
        goro::time::sleep(Duration::from_millis(20)).await;
        let threads = common::os_threads();
        let mut done = 0;
        for c in clients {
            match c.await.unwrap() {
                Ok(n) => done += n,
                Err(e) => eprintln!("a client failed: {e}"),
            }
        }
        (done, threads, start.elapsed())
    });
    println!(
        "{CONNECTIONS} connections x {ROUND_TRIPS} round trips through an echo server, one process"
    );
    common::table(
        &[
            "round trips done",
            "wall",
            "OS threads",
            "connections per thread",
        ],
        &[vec![
            done.to_string(),
            common::ms(wall),
            common::show(threads),
            threads.map_or("?".into(), |t| {
                format!("{:.0}", 2.0 * CONNECTIONS as f64 / t as f64)
            }),
        ]],
    );
}

/// A timer task ticking every 10 ms on a 1-worker runtime while another task reads a socket
/// whose peer writes after PEER_DELAY; returns the longest gap between ticks.
fn longest_tick_gap(blocking_read: bool) -> Duration {
    let rt = common::runtime(1);
    rt.block_on(rt.spawn(async move {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            std::thread::sleep(PEER_DELAY);
            std::io::Write::write_all(&mut conn, b"x").unwrap();
        });
        let started = Instant::now();
        let ticker = goro::spawn(async move {
            let mut worst = Duration::ZERO;
            let mut last = started;
            for _ in 0..(PEER_DELAY.as_millis() / 10 + 10) {
                goro::time::sleep(Duration::from_millis(10)).await;
                worst = worst.max(last.elapsed());
                last = Instant::now();
            }
            worst
        });
        // Let the ticker run before the read starts.
        goro::time::sleep(Duration::from_millis(25)).await;
        let mut byte = [0u8; 1];
        if blocking_read {
            let mut conn = std::net::TcpStream::connect(addr).unwrap();
            conn.read_exact(&mut byte).unwrap(); // blocks the worker: the ticker cannot run
        } else {
            let mut conn = TcpStream::connect(addr).await.unwrap();
            conn.read_exact(&mut byte).await.unwrap(); // parks the task in the poller
        }
        peer.join().unwrap();
        ticker.await.unwrap()
    }))
    .unwrap()
}

fn main() {
    many_connections();
    println!("\ngotcha: a 10 ms ticker on 1 worker while a task reads a socket whose peer waits {PEER_DELAY:?}");
    let blocked = longest_tick_gap(true);
    let parked = longest_tick_gap(false);
    common::table(
        &["the read", "longest gap between 10 ms ticks"],
        &[
            vec![
                "std::net (blocks the worker)".into(),
                format!("{blocked:?}"),
            ],
            vec![
                "goro::net (waits in the poller)".into(),
                format!("{parked:?}"),
            ],
        ],
    );
}
