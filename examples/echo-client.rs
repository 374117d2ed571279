//! A TCP echo client: many connections at once, each doing timed round trips.
//!
//! Opens CONNS connections to an echo server, each sends SIZE-byte messages and waits for
//! each echo, ROUNDS times, all concurrently; then prints the round trips per second and how
//! many OS threads the process used for it.
//!
//! Run the server first (`cargo run --release --example echo-server`, or any other echo
//! server, such as `socat TCP-LISTEN:7000,fork EXEC:cat`), then
//! `cargo run --release --example echo-client [ADDR] [CONNS] [ROUNDS] [SIZE]`
//! (defaults: 127.0.0.1:7000, 50 connections, 5000 round trips, 64 bytes).

use std::time::Instant;

use goro::io::{AsyncReadExt, AsyncWriteExt};
use goro::net::TcpStream;

/// The server's address unless told otherwise.
const DEFAULT_ADDR: &str = "127.0.0.1:7000";

fn arg<T: std::str::FromStr>(n: usize, default: T) -> T {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

#[goro::main]
async fn main() -> std::io::Result<()> {
    let addr: String = arg(1, DEFAULT_ADDR.to_string());
    let conns: usize = arg(2, 50);
    let rounds: usize = arg(3, 5000);
    let size: usize = arg(4, 64);
    let start = Instant::now();
    let tasks: Vec<_> = (0..conns)
        .map(|i| {
            let addr = addr.clone();
            goro::spawn(async move {
                let mut conn = TcpStream::connect(addr.as_str()).await?;
                conn.set_nodelay(true)?;
                let msg: Vec<u8> = (0..size).map(|j| (i + j) as u8).collect();
                let mut back = vec![0; size];
                for _ in 0..rounds {
                    conn.write_all(&msg).await?;
                    conn.read_exact(&mut back).await?;
                    if back != msg {
                        return Err(std::io::Error::other("the echo differs"));
                    }
                }
                std::io::Result::Ok(())
            })
        })
        .collect();
    let mut failed = 0;
    for t in tasks {
        if let Err(e) = t.await.expect("client task panicked") {
            eprintln!("connection failed: {e}");
            failed += 1;
        }
    }
    let elapsed = start.elapsed();
    let total = (conns - failed) * rounds;
    println!(
        "{total} round trips of {size} bytes over {} connections in {elapsed:.3?}: \
         {:.0} round trips/s, {} OS threads, {failed} connections failed",
        conns - failed,
        total as f64 / elapsed.as_secs_f64(),
        os_threads(),
    );
    Ok(())
}

/// The number of OS threads of this process, from `/proc/self/status`.
fn os_threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}
