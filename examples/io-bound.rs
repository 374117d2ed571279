//! Concept 9, IO-bound work: what bounds it is how many requests are in flight, not how many
//! workers run them.
//!
//! Go: 50 goroutines each sleeping 100 ms stand for network calls. goro: real HTTP requests
//! to a local server the program starts (hyper on goro through `goro::hyper::serve`, each
//! reply delayed 50 ms), sent by hyper's client over goro's `TcpStream`, with N in flight at
//! once: N = the worker count (a CPU-sized pool), then 100, then 1,000.
//!
//! Run: `cargo run --release --example io-bound`
//!
//! What to look for: for each number in flight, the requests done, the wall time against the
//! ideal (requests / in flight x 50 ms), and requests per second. The workers are the same in
//! every row; only the requests in flight change, and the throughput follows them. The seed
//! sleeps instead of doing IO; this program does the IO.
//!
//! The gotcha, a CPU-sized pool for IO work, is the first row: with as many requests in
//! flight as workers, the workers sit idle waiting on the network.

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use goro::hyper::Io;
use goro::net::{TcpListener, TcpStream};
use goro::sync::Context;
use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};

/// How long the server waits before each reply.
const REPLY_DELAY: Duration = Duration::from_millis(50);
/// Rounds of requests per in-flight slot (each slot is one keep-alive connection).
const ROUNDS: usize = 10;

type Error = Box<dyn std::error::Error + Send + Sync>;

async fn start_server() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let slow = service_fn(|_: Request<Incoming>| async {
        goro::time::sleep(REPLY_DELAY).await;
        Ok::<_, Infallible>(Response::new("done".to_string()))
    });
    goro::spawn(goro::hyper::serve(listener, slow, Context::background()));
    Ok(addr)
}

/// One in-flight slot: a connection that sends ROUNDS requests one after the other.
async fn slot(addr: SocketAddr) -> Result<usize, Error> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(Io::new(stream)).await?;
    goro::spawn(async move {
        if let Err(e) = conn.await {
            eprintln!("connection: {e:?}");
        }
    });
    for _ in 0..ROUNDS {
        let req = Request::get("/")
            .header("host", "localhost")
            .body(Empty::<Bytes>::new())?;
        // The connection takes the next request only once it has finished the last one.
        sender.ready().await?;
        let res = sender.send_request(req).await?;
        assert_eq!(res.status(), 200);
        res.into_body().collect().await?;
    }
    Ok(ROUNDS)
}

async fn run(addr: SocketAddr, in_flight: usize) -> (usize, usize, Duration) {
    let start = Instant::now();
    let slots: Vec<_> = (0..in_flight).map(|_| goro::spawn(slot(addr))).collect();
    let (mut done, mut failed) = (0, 0);
    for s in slots {
        match s.await.unwrap() {
            Ok(n) => done += n,
            Err(e) => {
                failed += 1;
                eprintln!("a connection failed: {e}");
            }
        }
    }
    (done, failed, start.elapsed())
}

#[goro::main]
async fn main() {
    let workers = common::default_workers();
    let addr = start_server()
        .await
        .expect("could not start the local server");
    println!("io-bound: HTTP requests to a local server that replies after {REPLY_DELAY:?}");
    println!("workers: {workers}; each in-flight slot sends {ROUNDS} requests in turn\n");
    let mut rows = Vec::new();
    for in_flight in [workers, 100, 1_000] {
        let (done, failed, wall) = run(addr, in_flight).await;
        let ideal = REPLY_DELAY * ROUNDS as u32;
        rows.push(vec![
            if in_flight == workers {
                format!("{in_flight} (= workers)")
            } else {
                in_flight.to_string()
            },
            done.to_string(),
            failed.to_string(),
            common::ms(wall),
            common::ms(ideal),
            format!("{:.0}", done as f64 / wall.as_secs_f64()),
        ]);
    }
    common::table(
        &[
            "in flight",
            "requests",
            "failed connections",
            "wall",
            "ideal",
            "requests/s",
        ],
        &rows,
    );
}
