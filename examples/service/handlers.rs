//! The endpoints. Each takes the request's `Context`, so each sees the request's deadline
//! (and the hard stop of a shutdown) and logs with its request id.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use goro::io::{AsyncWrite, AsyncWriteExt};
use goro::process::Command;
use goro::sync::{Context, ContextError, Mutex};

use crate::http::{respond, write_head, Request};
use crate::log::log;

/// How long a child process may run before it is killed and the request answered with 504.
const EXEC_TIMEOUT: Duration = Duration::from_secs(5);

/// The commands `/exec/NAME` may run: a fixed list, never a command from the request.
/// `sleep` outlives `EXEC_TIMEOUT`, to see the timeout kill it.
const COMMANDS: &[(&str, &str, &[&str])] = &[
    ("uname", "uname", &["-a"]),
    ("date", "date", &["-u"]),
    ("sleep", "sleep", &["600"]),
];

/// What the service shares between its connections.
#[derive(Debug)]
pub struct App {
    /// Where `/files/NAME` reads and appends.
    pub data_dir: PathBuf,
    /// Counters, under goro's Mutex (a task that waits for it parks; its worker runs others).
    pub stats: Mutex<Stats>,
}

/// What the service has done so far (served at `/stats`, printed at shutdown).
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests answered (or failed), by status; 0 for a connection that got no answer.
    pub by_status: BTreeMap<u16, u64>,
    /// Connections being served right now.
    pub in_flight: u64,
    /// Bytes appended to files.
    pub appended: u64,
    /// Child processes run.
    pub processes: u64,
}

impl Stats {
    /// All requests counted so far.
    pub fn requests(&self) -> u64 {
        self.by_status.values().sum()
    }
}

/// Runs `fut` until it completes or `ctx` is done, whichever is first (Go's `select` on the
/// work and `<-ctx.Done()`). A `fut` that loses is dropped.
pub async fn until_done<T>(ctx: &Context, fut: impl Future<Output = T>) -> Result<T, ContextError> {
    goro::select! {
        v = fut => Ok(v),
        _ = ctx.done() => Err(ctx.err().unwrap_or(ContextError::Canceled)),
    }
}

/// Answers `req` on `out`; returns the status sent.
pub async fn route<W: AsyncWrite + Unpin>(
    app: &App,
    ctx: &Context,
    req: &Request,
    out: &mut W,
) -> io::Result<u16> {
    let path = req.path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (status, body) = match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["files", name]) => read_file(app, ctx, name).await,
        ("POST" | "PUT", ["files", name]) => append_file(app, ctx, name, &req.body).await,
        ("GET", ["exec", name]) => exec(app, ctx, name).await,
        ("GET", ["sleep", ms]) => return sleep(ctx, ms, out).await,
        ("GET", ["stats"]) => (200, stats(app).await),
        (_, ["files", _] | ["exec", _] | ["sleep", _] | ["stats"]) => {
            (405, format!("{} not allowed on {path}\n", req.method))
        }
        _ => (404, format!("no route for {path}\n")),
    };
    respond(out, ctx, status, body.as_bytes()).await?;
    Ok(status)
}

/// A file name inside the data directory: no path separators, no leading dot.
fn file_path(app: &App, name: &str) -> Result<PathBuf, (u16, String)> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !ok {
        return Err((
            400,
            format!("bad file name {name:?}: use letters, digits, - _ .\n"),
        ));
    }
    Ok(app.data_dir.join(name))
}

/// `GET /files/NAME`: the file's contents; 404 if there is none.
async fn read_file(app: &App, ctx: &Context, name: &str) -> (u16, String) {
    let path = match file_path(app, name) {
        Ok(path) => path,
        Err(bad) => return bad,
    };
    match goro::fs::read_to_string(&path).await {
        Ok(text) => (200, text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => (404, format!("no such file: {name}\n")),
        Err(e) => {
            log(ctx, format_args!("reading {}: {e}", path.display()));
            (500, format!("cannot read {name}: {e}\n"))
        }
    }
}

/// `POST /files/NAME`: appends the body to the file, creating it.
async fn append_file(app: &App, ctx: &Context, name: &str, body: &[u8]) -> (u16, String) {
    let path = match file_path(app, name) {
        Ok(path) => path,
        Err(bad) => return bad,
    };
    let appended = async {
        let mut file = goro::fs::File::options()
            .create(true)
            .append(true)
            .open(&path)
            .await?;
        file.write_all(body).await?;
        file.flush().await // a goro File buffers: flush to see the error here
    };
    match appended.await {
        Ok(()) => {
            app.stats.lock().await.appended += body.len() as u64;
            (200, format!("appended {} bytes to {name}\n", body.len()))
        }
        Err(e) => {
            log(ctx, format_args!("appending to {}: {e}", path.display()));
            (500, format!("cannot append to {name}: {e}\n"))
        }
    }
}

/// `GET /exec/NAME`: runs one of `COMMANDS` and answers with its output. The child is
/// killed if it outlives `EXEC_TIMEOUT` or the request (the output future is dropped with
/// `kill_on_drop` set).
async fn exec(app: &App, ctx: &Context, name: &str) -> (u16, String) {
    let Some(&(_, program, args)) = COMMANDS.iter().find(|(n, _, _)| *n == name) else {
        let names: Vec<&str> = COMMANDS.iter().map(|c| c.0).collect();
        return (404, format!("no command {name:?}; try one of {names:?}\n"));
    };
    let (ctx, _cancel) = ctx.with_timeout(EXEC_TIMEOUT);
    let mut cmd = Command::new(program);
    cmd.args(args).kill_on_drop(true);
    app.stats.lock().await.processes += 1;
    let command = format!("{program} {}", args.join(" "));
    log(&ctx, format_args!("running `{command}`"));
    match until_done(&ctx, cmd.output()).await {
        Ok(Ok(out)) if out.status.success() => (200, String::from_utf8_lossy(&out.stdout).into()),
        Ok(Ok(out)) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            (
                500,
                format!("`{command}` failed ({}): {stderr}", out.status),
            )
        }
        Ok(Err(e)) => (500, format!("cannot run `{command}`: {e}\n")),
        Err(e) => (504, format!("`{command}` killed: {e}\n")),
    }
}

/// `GET /sleep/MS`: a slow request that streams. The head goes out at once, then a line when
/// the time is up, or when the request's context ends first (its deadline, or the hard stop
/// of a shutdown whose drain time ran out).
async fn sleep<W: AsyncWrite + Unpin>(ctx: &Context, ms: &str, out: &mut W) -> io::Result<u16> {
    let Ok(ms) = ms.parse::<u64>() else {
        respond(out, ctx, 400, format!("bad duration {ms:?}\n").as_bytes()).await?;
        return Ok(400);
    };
    write_head(out, ctx, 200, None).await?;
    out.write_all(format!("sleeping {ms} ms\n").as_bytes())
        .await?;
    out.flush().await?;
    let start = Instant::now();
    let line = match until_done(ctx, goro::time::sleep(Duration::from_millis(ms))).await {
        Ok(()) => format!("slept {ms} ms\n"),
        Err(e) => format!("cut off after {:?}: {e}\n", start.elapsed()),
    };
    log(ctx, line.trim_end());
    out.write_all(line.as_bytes()).await?;
    out.flush().await?;
    Ok(200)
}

/// `GET /stats`: the counters, one per line, and the runtime's live tasks.
async fn stats(app: &App) -> String {
    let stats = app.stats.lock().await;
    let mut text = format!(
        "requests {}\nin_flight {}\nappended_bytes {}\nprocesses {}\ntasks {}\n",
        stats.requests(),
        stats.in_flight,
        stats.appended,
        stats.processes,
        goro::num_tasks(), // Go's runtime.NumGoroutine()
    );
    for (status, n) in &stats.by_status {
        text += &format!("status_{status} {n}\n");
    }
    text
}
