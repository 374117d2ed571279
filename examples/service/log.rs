//! Request-scoped logging: the request id and the logger travel in the `Context`, so any
//! function that has the request's context can log with its id, however deep it sits.
//!
//! One task owns the log file (Go's "share memory by communicating"): `log` hands it a line
//! over an unbounded channel and never waits; `Logger::close` closes the channel, and the
//! task writes what is left, flushes and syncs the file, and ends.

use std::io;
use std::path::Path;

use goro::io::AsyncWriteExt;
use goro::sync::chan::{self, Sender};
use goro::sync::{Context, ContextKey};
use goro::JoinHandle;

/// The id of the request a context belongs to (set per connection in `main`).
pub static REQUEST_ID: ContextKey<u64> = ContextKey::new("request-id");

/// The logger of the service (set once, on the serving context every request derives from).
pub static LOGGER: ContextKey<Logger> = ContextKey::new("logger");

/// The sending side of the log: cheap to clone, one per holder.
#[derive(Debug, Clone)]
pub struct Logger {
    /// Lines for the task that owns the file.
    lines: Sender<String>,
}

impl Logger {
    /// Opens (appending) the log file at `path` and starts the task that writes it. The
    /// task's result is the number of lines written, once the logger is closed.
    pub async fn open(path: &Path) -> io::Result<(Logger, JoinHandle<io::Result<u64>>)> {
        let mut file = goro::fs::File::options()
            .create(true)
            .append(true)
            .open(path)
            .await?;
        let (lines, rx) = chan::unbounded::<String>();
        let writer = goro::spawn(async move {
            let mut written = 0;
            while let Some(line) = rx.recv().await {
                file.write_all(line.as_bytes()).await?;
                written += 1;
            }
            // Closed and drained: nothing more can come, so make it durable.
            file.flush().await?;
            file.sync_all().await?;
            Ok(written)
        });
        Ok((Logger { lines }, writer))
    }

    /// Closes the log: lines already sent are still written, later ones go to stderr only.
    pub fn close(&self) {
        self.lines.close();
    }
}

/// Logs `msg` for the request of `ctx`: to stderr, and to the log file if `ctx` carries a
/// logger. Never waits.
pub fn log(ctx: &Context, msg: impl std::fmt::Display) {
    let line = match ctx.value(&REQUEST_ID) {
        Some(id) => format!("req={id} {msg}\n"),
        None => format!("req=- {msg}\n"),
    };
    eprint!("{line}");
    if let Some(logger) = ctx.value(&LOGGER) {
        let _ = logger.lines.try_send(line); // closed: shutting down, stderr has it
    }
}
