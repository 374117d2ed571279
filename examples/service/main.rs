//! service: a small Go-style network service on goro alone, the shape of a Go `main` that
//! serves until SIGTERM and then shuts down gracefully.
//!
//! ```text
//! cargo run --example service -- [--port N] [--data-dir DIR] [--drain SECS] [--request-timeout SECS]
//! ```
//!
//! It listens on 127.0.0.1 (port `--port`, else `$PORT`, else 0: any free port) and prints
//! `listening on ADDR`. The protocol is a minimal HTTP/1.0, one request per connection, so
//! curl and nc both work:
//!
//! ```text
//! curl -i 127.0.0.1:PORT/files/notes.txt -d 'hello'   # POST: append to DIR/notes.txt
//! curl -i 127.0.0.1:PORT/files/notes.txt              # GET: read it (404 if missing)
//! curl -i 127.0.0.1:PORT/exec/uname                   # run `uname -a` (or /exec/date)
//! curl -i 127.0.0.1:PORT/exec/sleep                   # `sleep 600`, killed after 5 s: 504
//! curl -i 127.0.0.1:PORT/sleep/3000                   # a slow request that streams
//! curl -i 127.0.0.1:PORT/stats                        # the counters
//! printf 'GET /stats HTTP/1.0\r\n\r\n' | nc 127.0.0.1 PORT
//! kill -TERM <pid>                                    # or Ctrl-C: a graceful shutdown
//! ```
//!
//! What it shows, with its Go counterpart:
//!
//! - `#[goro::main]` and a root `Context` cancelled by SIGTERM or SIGINT (Go's
//!   `signal.NotifyContext`); `ctx.signal()` says which one came.
//! - One task per connection (`go serve(conn)`), kept in a `JoinSet` so the shutdown can
//!   wait for them: on the signal the listener closes (new connections are refused), the
//!   requests in flight get `--drain` seconds (10) to finish, then their contexts are
//!   cancelled (the hard stop) and what is still running is aborted. A second signal
//!   during the drain ends the process at once, with exit code 1.
//! - Per-request values: each connection gets a request id in its `Context`
//!   (`ctx.with_value`, Go's `context.WithValue`), read deep down by the logging helper and
//!   by the response writer (`X-Request-Id`); a per-request deadline (`with_timeout`,
//!   `--request-timeout`, 30 s).
//! - Files through `goro::fs` (in `--data-dir`, default `service-data`), a child process
//!   through `goro::process` (`kill_on_drop` and a timeout), counters under
//!   `goro::sync::Mutex`, and a log file (`DIR/service.log`) owned by one task that is fed by
//!   a channel and flushed and synced at shutdown.
//!
//! On shutdown it prints the signal and a summary, and exits with 0.
//!
//! Modules: `http` (request parsing, responses), `handlers` (the endpoints and the shared
//! state), `log` (the request-scoped logger).

mod handlers;
mod http;
mod log;

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::io::BufReader;
use goro::net::{TcpListener, TcpStream};
use goro::signal::{Signal, Signals};
use goro::sync::{Context, ContextError, Mutex};
use goro::{JoinError, JoinSet};

use handlers::{route, until_done, App, Stats};
use http::{read_request, respond, BadRequest};
use log::{log, Logger, LOGGER, REQUEST_ID};

/// The log file's name in the data directory.
const LOG_FILE: &str = "service.log";

/// After the hard stop cancels the requests still running, how long they get to notice it
/// before they are aborted.
const HARD_STOP_GRACE: Duration = Duration::from_secs(5);

/// The first back-off after a failed accept (out of descriptors: EMFILE); it doubles on each
/// failure in a row.
const FIRST_BACKOFF: Duration = Duration::from_millis(5);

/// The longest back-off (Go's `net/http` uses the same bounds).
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// The exit code when a second signal cut the drain short.
const FORCED_EXIT: u8 = 1;

/// The exit code of a bad command line.
const USAGE_ERROR: u8 = 2;

/// The next request id (ids start at 1).
static NEXT_REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// The command line.
#[derive(Debug)]
struct Args {
    /// The port on 127.0.0.1; 0 for any free one.
    port: u16,
    /// Where files (and the log) live.
    data_dir: PathBuf,
    /// How long in-flight requests may take to finish after the signal.
    drain: Duration,
    /// The deadline of each request.
    request_timeout: Duration,
}

#[goro::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("service: {e}\nusage: service [--port N] [--data-dir DIR] [--drain SECS] [--request-timeout SECS]");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("service: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Serves until SIGTERM or SIGINT, then drains and reports.
async fn run(args: Args) -> io::Result<()> {
    // Done when a signal comes: the cue to stop accepting.
    let (shutdown, stop_signals) =
        Context::background().with_signals(&[Signal::Terminate, Signal::Interrupt])?;
    goro::fs::create_dir_all(&args.data_dir).await?;
    let (logger, log_writer) = Logger::open(&args.data_dir.join(LOG_FILE)).await?;
    // The requests' parent. Not `shutdown`: a signal must let them finish (as Go's
    // `srv.Shutdown` does); this one is cancelled only when the drain time is up.
    let (serving, hard_stop) = Context::background().with_cancel();
    let serving = serving.with_value(&LOGGER, logger.clone());
    let app = Arc::new(App {
        data_dir: args.data_dir.clone(),
        stats: Mutex::new(Stats::default()),
    });

    let started = Instant::now();
    let listener = TcpListener::bind(("127.0.0.1", args.port)).await?;
    println!("listening on {}", listener.local_addr()?);
    let mut conns = accept_until(&shutdown, &listener, &app, &serving, args.request_timeout).await;

    drop(listener); // new connections are refused from here on
    let signal = shutdown
        .signal()
        .map_or("cancelled".to_string(), |s| s.to_string());
    exit_on_second_signal()?;
    let in_flight = app.stats.lock().await.in_flight;
    println!(
        "{signal}: stopped accepting; draining {in_flight} request(s) in flight, for at most {:?}",
        args.drain
    );
    let cut_off = drain(&mut conns, args.drain, &hard_stop).await;

    logger.close();
    let log_lines = match log_writer.await {
        Ok(Ok(n)) => n.to_string(),
        Ok(Err(e)) => format!("? (the log failed: {e})"),
        Err(e) => format!("? (the log task failed: {e})"),
    };
    stop_signals.cancel();
    let stats = app.stats.lock().await;
    println!(
        "stopped on {signal} after {:.1?}: {} requests {:?}, {cut_off} cut off, {} bytes appended, {} processes run, {log_lines} lines logged to {}",
        started.elapsed(),
        stats.requests(),
        stats.by_status,
        stats.appended,
        stats.processes,
        args.data_dir.join(LOG_FILE).display(),
    );
    Ok(())
}

/// Accepts connections, one task each, until `shutdown` is done; returns the tasks still
/// running.
async fn accept_until(
    shutdown: &Context,
    listener: &TcpListener,
    app: &Arc<App>,
    serving: &Context,
    request_timeout: Duration,
) -> JoinSet<()> {
    let mut conns = JoinSet::new();
    let mut backoff = FIRST_BACKOFF;
    loop {
        let accepted = goro::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.done() => return conns,
        };
        match accepted {
            Ok((stream, peer)) => {
                backoff = FIRST_BACKOFF;
                let conn = serve_conn(app.clone(), serving.clone(), stream, peer, request_timeout);
                conns.spawn(conn);
            }
            Err(e) => {
                // EMFILE leaves the connection queued: retrying at once would spin.
                eprintln!("accept: {e}; retrying in {backoff:?}");
                let _ = until_done(shutdown, goro::time::sleep(backoff)).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
        while let Some(ended) = conns.try_join_next() {
            report(ended); // reap the connections that are done, as we go
        }
    }
}

/// From now on, a second SIGTERM or Ctrl-C ends the process at once, without waiting for the
/// drain (the first one's handler stays installed, so without this it would do nothing).
fn exit_on_second_signal() -> io::Result<()> {
    let mut again = Signals::new(&[Signal::Terminate, Signal::Interrupt])?;
    goro::spawn(async move {
        if let Some(signal) = again.recv().await {
            println!("{signal} again: exiting without waiting for the drain");
            std::process::exit(FORCED_EXIT.into());
        }
    });
    Ok(())
}

/// Waits for the connections to end, for at most `within`; then cancels the requests'
/// context, gives them `HARD_STOP_GRACE` and aborts the rest. Returns how many were still
/// running at the hard stop.
async fn drain(
    conns: &mut JoinSet<()>,
    within: Duration,
    hard_stop: &goro::sync::CancelFn,
) -> usize {
    let finished = goro::time::timeout(within, join_all(conns)).await;
    if finished.is_ok() {
        return 0;
    }
    let cut_off = conns.len();
    println!("drain time up: cancelling {cut_off} request(s)");
    hard_stop.cancel();
    if goro::time::timeout(HARD_STOP_GRACE, join_all(conns))
        .await
        .is_err()
    {
        println!(
            "aborting {} request(s) that ignored the cancellation",
            conns.len()
        );
        conns.shutdown().await;
    }
    cut_off
}

/// Joins every connection task, reporting the ones that panicked.
async fn join_all(conns: &mut JoinSet<()>) {
    while let Some(ended) = conns.join_next().await {
        report(ended);
    }
}

/// Prints a connection task that did not end normally (a panic in a handler).
fn report(ended: Result<(), JoinError>) {
    if let Err(e) = ended {
        eprintln!("a connection task failed: {e}");
    }
}

/// Serves one connection: one request, under a context that carries its id and deadline.
async fn serve_conn(
    app: Arc<App>,
    serving: Context,
    stream: TcpStream,
    peer: SocketAddr,
    timeout: Duration,
) {
    let id = NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed);
    let (ctx, _cancel) = serving.with_value(&REQUEST_ID, id).with_timeout(timeout);
    app.stats.lock().await.in_flight += 1;
    let start = Instant::now();
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let answered = match until_done(&ctx, read_request(&mut reader)).await {
        Ok(Ok(req)) => {
            log(&ctx, format_args!("{peer} {} {}", req.method, req.path));
            route(&app, &ctx, &req, &mut write).await
        }
        Ok(Err(BadRequest(status, why))) => {
            log(&ctx, format_args!("{peer} bad request: {why}"));
            respond(&mut write, &ctx, status, format!("{why}\n").as_bytes())
                .await
                .map(|()| status)
        }
        Err(e) => {
            let status = if e == ContextError::DeadlineExceeded {
                408
            } else {
                503
            };
            respond(&mut write, &ctx, status, format!("{e}\n").as_bytes())
                .await
                .map(|()| status)
        }
    };
    let status = answered.unwrap_or_else(|e| {
        log(&ctx, format_args!("{peer} writing the response: {e}"));
        0
    });
    log(
        &ctx,
        format_args!("{peer} -> {status} in {:.1?}", start.elapsed()),
    );
    let mut stats = app.stats.lock().await;
    stats.in_flight -= 1;
    *stats.by_status.entry(status).or_default() += 1;
}

/// Parses the options (`--port` falls back to `$PORT`, then 0).
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        port: match std::env::var("PORT") {
            Ok(port) => port.parse().map_err(|_| format!("bad $PORT {port:?}"))?,
            Err(_) => 0,
        },
        data_dir: PathBuf::from("service-data"),
        drain: Duration::from_secs(10),
        request_timeout: Duration::from_secs(30),
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let secs = || {
            value
                .parse::<f64>()
                .ok()
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
                .ok_or_else(|| format!("bad {flag} {value:?}: seconds expected"))
        };
        match flag.as_str() {
            "--port" => parsed.port = value.parse().map_err(|_| format!("bad port {value:?}"))?,
            "--data-dir" => parsed.data_dir = PathBuf::from(&value),
            "--drain" => parsed.drain = secs()?,
            "--request-timeout" => parsed.request_timeout = secs()?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(parsed)
}
