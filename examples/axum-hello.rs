//! An axum `Router` served by goro: `goro::hyper::serve` accepts, runs one task per
//! connection, and drains gracefully when its `Context` is cancelled.
//!
//! Routes: `GET /` (text), `GET /hello/{name}` (JSON), `POST /shutdown` (cancels the
//! server's context: requests in flight finish, then the program exits).
//!
//! Run it with `cargo run --example axum-hello --features hyper -- [--port P] [--seconds N]`
//! (port 3000 by default; `--port 0` picks a free one; with `--seconds N` it stops by itself
//! after N seconds), then:
//!
//! ```text
//! curl http://127.0.0.1:3000/hello/gopher
//! curl -X POST http://127.0.0.1:3000/shutdown
//! ```
//!
//! goro has no signal handling yet, so Ctrl-C ends the process without a drain.
//!
//! axum is used with its default features off (plus `json`): no tokio runtime, no
//! `axum::serve`. Its `Router` is a `tower::Service`; hyper-util's `TowerToHyperService`
//! (hyper-util with only its `service` feature) makes it the hyper `Service` that
//! `goro::hyper::serve` takes.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::Path;
use axum::routing::{get, post};
use axum::{Json, Router};
use goro::net::TcpListener;
use goro::sync::{CancelFn, Context};
use hyper_util::service::TowerToHyperService;

/// Where the server listens unless `--port` says otherwise.
const DEFAULT_PORT: u16 = 3000;

/// The application: `cancel` stops the server (the `/shutdown` route); `served` counts the
/// requests answered.
pub fn router(cancel: CancelFn, served: Arc<AtomicUsize>) -> Router {
    let count = move || {
        served.fetch_add(1, Ordering::Relaxed);
    };
    let (c1, c2, c3) = (count.clone(), count.clone(), count);
    Router::new()
        .route(
            "/",
            get(move || async move {
                c1();
                "hello from axum on goro\n"
            }),
        )
        .route(
            "/hello/{name}",
            get(move |Path(name): Path<String>| async move {
                c2();
                Json(serde_json::json!({ "hello": name, "runtime": "goro" }))
            }),
        )
        .route(
            "/shutdown",
            post(move || async move {
                c3();
                cancel.cancel();
                "shutting down\n"
            }),
        )
}

/// `--port P` and `--seconds N` from the command line.
fn args() -> Result<(u16, Option<u64>), String> {
    let mut port = DEFAULT_PORT;
    let mut seconds = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--port" => port = value.parse().map_err(|e| format!("--port {value}: {e}"))?,
            "--seconds" => {
                seconds = Some(
                    value
                        .parse()
                        .map_err(|e| format!("--seconds {value}: {e}"))?,
                )
            }
            _ => return Err(format!("unknown argument {arg}; try --port P --seconds N")),
        }
    }
    Ok((port, seconds))
}

#[goro::main]
async fn main() -> io::Result<()> {
    let (port, seconds) = args().map_err(io::Error::other)?;
    let (ctx, cancel) = match seconds {
        Some(s) => Context::background().with_timeout(Duration::from_secs(s)),
        None => Context::background().with_cancel(),
    };
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let served = Arc::new(AtomicUsize::new(0));
    let app = TowerToHyperService::new(router(cancel, served.clone()));
    let start = Instant::now();
    goro::hyper::serve(listener, app, ctx.clone()).await?;
    println!(
        "stopped ({}) after {:.1?}: {} requests served",
        ctx.err().map_or("?".to_string(), |e| e.to_string()),
        start.elapsed(),
        served.load(Ordering::Relaxed)
    );
    Ok(())
}
