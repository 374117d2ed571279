//! http-fetch: a concurrent HTTP/HTTPS fetcher on goro, hyper and rustls — "one goroutine
//! per request", with Go's coordination tools.
//!
//! ```text
//! cargo run --release --example http-fetch                       # offline demo
//! cargo run --release --example http-fetch -- [OPTIONS] [URL...]
//! cargo run --release --example http-fetch -- -c 16 -o pages -f urls.txt
//! ```
//!
//! With no URL it runs a demo that needs no network: a local server (hyper on goro, through
//! `goro::hyper::serve` on 127.0.0.1:0) with endpoints of varied latency, size and framing
//! and a redirect; all are fetched at once, and the sum of their latencies is set against
//! the wall time the whole run took.
//!
//! What it shows:
//!
//! - a `TaskGroup` with a limit runs at most `-c` fetches at once (Go's errgroup with
//!   `SetLimit`), each a goro task;
//! - each fetch sends its result over a channel to the one task that prints, as results
//!   come in;
//! - each URL runs under a `Context` whose deadline is `--timeout`;
//! - hyper's HTTP/1.1 client on `goro::net::TcpStream` (through `goro::hyper::Io`), with a
//!   small keep-alive pool per scheme + host + port; HTTPS through futures-rustls (rustls
//!   with `ring`), trusting webpki-roots' Mozilla roots plus `--cacert`.
//!
//! Output: one line per URL as it completes (status, body bytes, time, URL, or the error),
//! then a summary: ok, failed, bytes, wall time, and connections opened against requests
//! sent, which shows the reuse. A URL is ok when its final response has a status below 400
//! (and its body was saved, with `-o`). Exit code: 0 if every URL was ok, 1 if any was not,
//! 2 for a usage error (bad option, unreadable `-f` or `--cacert`, unusable `-o`).
//!
//! goro has no signal handling yet, so Ctrl-C ends the program at once, as it would any
//! program: lines printed so far stay, bodies being saved may be cut short.
//!
//! Modules: `cli` (the options), `fetch` (one URL: pool, connect, TLS, redirects, timeout),
//! `tls` (the rustls client), `output` (lines, summary, progress bar, file names), `demo`
//! (the local server).

mod cli;
mod demo;
mod fetch;
mod output;
mod tls;

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use goro::sync::chan;
use goro::TaskGroup;

use cli::Args;
use fetch::Fetcher;
use output::{Outcome, Summary, UniqueNames};

/// Results that may wait for the printer: enough that fetches rarely wait for it, and a
/// fixed size whatever `-c` is (a channel allocates its buffer up front).
const RESULT_QUEUE: usize = 64;

/// The exit code of a usage error (clap's own, for bad options, is the same).
const USAGE_ERROR: u8 = 2;

#[goro::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("http-fetch: {e}");
            ExitCode::from(USAGE_ERROR)
        }
    }
}

/// Runs the fetcher (or the demo). `Ok(true)` if every URL was ok; `Err` for a usage error.
async fn run(args: Args) -> Result<bool, String> {
    let tls = tls::connector(args.cacert.as_deref())?;
    let mut urls = args.urls.clone();
    if let Some(file) = &args.file {
        let listed = cli::read_url_list(file).map_err(|e| format!("-f {}: {e}", file.display()))?;
        if listed.is_empty() && urls.is_empty() {
            return Err(format!("-f {}: no URL in it", file.display()));
        }
        urls.extend(listed);
    }
    if let Some(dir) = &args.output_dir {
        std::fs::create_dir_all(dir).map_err(|e| format!("-o {}: {e}", dir.display()))?;
    }
    let fetcher = Arc::new(Fetcher::new(
        args.method.clone(),
        args.timeout,
        args.max_redirects,
        tls,
    ));
    if !urls.is_empty() {
        let summary = fetch_all(urls, &fetcher, args.concurrency, args.output_dir).await;
        return Ok(summary.failed == 0);
    }
    let server = demo::Server::start()
        .await
        .map_err(|e| format!("the demo server: {e}"))?;
    let urls = server.urls();
    println!(
        "demo: {} URLs of a local server at http://{} (hyper on goro), all at once",
        urls.len(),
        server.addr
    );
    let summary = fetch_all(urls, &fetcher, args.concurrency, args.output_dir).await;
    server
        .stop()
        .await
        .map_err(|e| format!("the demo server: {e}"))?;
    Ok(summary.failed == 0)
}

/// Fetches `urls` with at most `concurrency` in flight, printing a line for each as it
/// completes and the summary at the end.
async fn fetch_all(
    urls: Vec<String>,
    fetcher: &Arc<Fetcher>,
    concurrency: usize,
    output_dir: Option<PathBuf>,
) -> Summary {
    let start = Instant::now();
    let total = urls.len();
    let targets = save_targets(&urls, output_dir.as_deref());
    let group = TaskGroup::<Infallible>::with_limit(concurrency);
    // Bounded: a printer that falls behind slows the fetches instead of queueing lines.
    let (tx, rx) = chan::bounded::<Outcome>(RESULT_QUEUE.min(concurrency));
    for (url, target) in urls.into_iter().zip(targets) {
        let (tx, fetcher) = (tx.clone(), fetcher.clone());
        group.spawn(async move {
            let outcome = fetch_one(&fetcher, url, target).await;
            // The printer outlives every member: the channel is open.
            let _ = tx.send(outcome).await;
            Ok(())
        });
    }
    drop(tx); // the channel closes when the last member is done

    let bar = output::progress(total);
    let mut summary = Summary::default();
    while let Some(outcome) = rx.recv().await {
        output::print_line(&bar, &outcome.line());
        summary.add(&outcome);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let _ = group.wait().await;
    println!(
        "{}",
        summary.lines(start.elapsed(), fetcher.connections(), fetcher.requests())
    );
    summary
}

/// Fetches one URL and, if it has a save target and came back ok, writes its body there.
async fn fetch_one(fetcher: &Fetcher, url: String, target: Option<PathBuf>) -> Outcome {
    let start = Instant::now();
    let result = fetcher.fetch(&url, target.is_some()).await;
    let elapsed = start.elapsed();
    let mut outcome = Outcome {
        url,
        result,
        elapsed,
        saved: None,
    };
    let (Some(path), Ok(fetched)) = (target, &mut outcome.result) else {
        return outcome;
    };
    if fetched.status.as_u16() >= 400 {
        return outcome;
    }
    let body = fetched.body.take().unwrap_or_default();
    // goro has no async files yet: the write runs on the blocking pool.
    let shown = path.display().to_string();
    let written = goro::spawn_blocking(move || std::fs::write(&path, body)).await;
    outcome.saved = Some(match written {
        Ok(Ok(())) => Ok(shown),
        Ok(Err(e)) => Err(format!("{shown}: {e}")),
        Err(e) => Err(format!("{shown}: {e}")),
    });
    outcome
}

/// Where each URL's body goes with `-o DIR`: `DIR/<name from the URL>`, names made unique
/// in the order of the list (so a run names its files the same way every time). `None` for
/// a URL that will fail to parse, and for every URL without `-o`.
fn save_targets(urls: &[String], dir: Option<&Path>) -> Vec<Option<PathBuf>> {
    let Some(dir) = dir else {
        return vec![None; urls.len()];
    };
    let mut names = UniqueNames::default();
    urls.iter()
        .map(|url| {
            let url = fetch::parse(url).ok()?;
            Some(dir.join(names.claim(output::file_name(&url))))
        })
        .collect()
}
