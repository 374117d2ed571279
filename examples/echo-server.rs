//! A TCP echo server: one task per connection, as Go's one goroutine per connection.
//!
//! Every connection gets back what it sends. When a connection closes the server prints what
//! it echoed; when `accept` fails (out of file descriptors: EMFILE) it backs off, 5 ms
//! doubling up to 1 s, instead of spinning on the error.
//!
//! Run it with `cargo run --release --example echo-server [ADDR]` (default 127.0.0.1:7000),
//! then talk to it with `nc 127.0.0.1 7000`, with
//! `python3 -c 'import socket; s=socket.create_connection(("127.0.0.1",7000)); s.sendall(b"hi"); print(s.recv(2))'`,
//! or with the `echo-client` example. Stop it with Ctrl-C.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use goro::io::{AsyncReadExt, AsyncWriteExt};
use goro::net::{TcpListener, TcpStream};

/// Where the server listens unless told otherwise.
const DEFAULT_ADDR: &str = "127.0.0.1:7000";

/// The first back-off after a failed accept; it doubles on each failure in a row.
const FIRST_BACKOFF: Duration = Duration::from_millis(5);

/// The longest back-off (Go's `net/http` uses the same bounds).
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Connections open right now.
static OPEN: AtomicUsize = AtomicUsize::new(0);

#[goro::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| DEFAULT_ADDR.into());
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("echo-server listening on {}", listener.local_addr()?);
    let mut backoff = FIRST_BACKOFF;
    loop {
        match listener.accept().await {
            Ok((conn, peer)) => {
                backoff = FIRST_BACKOFF;
                goro::spawn(echo(conn, peer));
            }
            Err(e) => {
                // EMFILE and friends: the connection stays queued; retry after a pause.
                eprintln!("accept: {e}; retrying in {backoff:?}");
                goro::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Echoes one connection until the peer closes it, then reports.
async fn echo(mut conn: TcpStream, peer: std::net::SocketAddr) {
    let open = OPEN.fetch_add(1, Ordering::Relaxed) + 1;
    let start = Instant::now();
    let _ = conn.set_nodelay(true);
    let mut buf = vec![0; 16 * 1024];
    let mut echoed = 0u64;
    let outcome = loop {
        match conn.read(&mut buf).await {
            Ok(0) => break "closed".to_string(),
            Ok(n) => match conn.write_all(&buf[..n]).await {
                Ok(()) => echoed += n as u64,
                Err(e) => break format!("write failed: {e}"),
            },
            Err(e) => break format!("read failed: {e}"),
        }
    };
    OPEN.fetch_sub(1, Ordering::Relaxed);
    println!(
        "{peer}: {outcome} after {:.3?}, {echoed} bytes echoed ({open} connections were open)",
        start.elapsed()
    );
}
