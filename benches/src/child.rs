//! One measurement in one child process: how the parent starts it, how the child reports,
//! and the time limits that turn a hang into a failure.
//!
//! # Protocol
//!
//! The parent runs `BINARY --child WORKLOAD RUNTIME` (the binary decides the allocator)
//! with the parent's environment, so quick mode carries over. The child measures once and
//! prints one line `goro-bench-result ALLOCATOR WORKLOAD RUNTIME VALUE` on stdout, then
//! exits 0. Anything else — a non-zero exit, a signal, a missing or mismatched line — is a
//! failure, reported with the end of the child's stderr. The child aborts itself after
//! [`WATCHDOG`]; the parent kills it after [`PARENT_LIMIT`] in case even that fails.

use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::plan::{Allocator, Contender, Workload};

/// The first argument that makes a bench binary a child.
pub const CHILD_FLAG: &str = "--child";

/// The first argument that makes a bench binary the `idle_conns` helper, which holds the
/// client ends of the idle connections in a process of their own (see [`Invocation`]).
pub const HOLD_FLAG: &str = "--hold-connections";

/// The first word of the child's result line.
pub const RESULT_PREFIX: &str = "goro-bench-result";

/// A child aborts itself after this long. The slowest healthy measurement (1M tasks parked,
/// then dropped) takes a few seconds on 2 cores; 120 s means only a hang gets here.
pub const WATCHDOG: Duration = Duration::from_secs(120);

/// The parent kills a child after this long: the child's own watchdog plus time for it to
/// abort and dump core.
pub const PARENT_LIMIT: Duration = Duration::from_secs(150);

/// How often the parent checks whether a child has exited; short against any measurement.
const EXIT_POLL: Duration = Duration::from_millis(10);

/// How much of a failed child's stderr the report keeps.
const STDERR_TAIL_LINES: usize = 12;

/// The machine counts as quiet when other processes keep less than this fraction of all
/// CPUs busy: on 2 cores, 15% is a shell or an editor, a compiler is 50% or more.
pub const QUIET_BELOW: f64 = 0.15;

/// How long each look at the machine's CPU use lasts: long enough to average over a
/// scheduler tick or two, short against a run of ~150 measurements.
const QUIET_WINDOW: Duration = Duration::from_millis(250);

/// How long the parent waits for a quiet machine before measuring anyway (and marking the
/// sample): a build next door may run for minutes, and the run must still end.
pub const QUIET_MAX_WAIT: Duration = Duration::from_secs(5);

/// Waits until other processes leave the CPUs nearly idle ([`QUIET_BELOW`]), at most
/// [`QUIET_MAX_WAIT`]; returns the busy fraction seen last (`None` without `/proc/stat`).
pub fn wait_for_quiet() -> Option<f64> {
    let start = Instant::now();
    loop {
        let busy = crate::machine::cpu_busy(QUIET_WINDOW)?;
        if busy < QUIET_BELOW || start.elapsed() >= QUIET_MAX_WAIT {
            return Some(busy);
        }
    }
}

/// What a bench binary was asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invocation {
    /// No `--child`: be the parent (or, for the mimalloc binary, explain and exit).
    Parent,
    /// `--child WORKLOAD RUNTIME`: measure once.
    Child(Workload, Contender),
    /// `--hold-connections ADDR`: for each line `N` on standard input, connect `N` more
    /// plain sockets to `ADDR` and print `holding TOTAL`; hold them all until standard input
    /// closes. `idle_conns` starts this helper so that the measured process holds only the
    /// server ends: both ends of 10k connections would exceed the descriptor limit of one
    /// process.
    HoldConnections(SocketAddr),
}

/// Reads the command-line arguments (without the program name). Arguments cargo adds, such
/// as `--bench`, are ignored.
///
/// # Errors
///
/// `--child` followed by an unknown workload or runtime.
///
/// ```
/// use goro_benches::child::{parse_args, Invocation};
/// use goro_benches::{Contender, Workload};
///
/// assert_eq!(parse_args(["--bench"]).unwrap(), Invocation::Parent);
/// assert_eq!(parse_args(["--child", "sleepers", "smol"]).unwrap(),
///            Invocation::Child(Workload::Sleepers, Contender::Smol));
/// assert!(parse_args(["--child", "sleepers"]).is_err());
/// assert_eq!(parse_args(["--hold-connections", "127.0.0.1:9"]).unwrap(),
///            Invocation::HoldConnections("127.0.0.1:9".parse().unwrap()));
/// ```
pub fn parse_args<I, S>(args: I) -> Result<Invocation, String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_string()).collect();
    if let Some(at) = args.iter().position(|a| a == HOLD_FLAG) {
        return parse_hold(&args[at + 1..]);
    }
    let Some(at) = args.iter().position(|a| a == CHILD_FLAG) else {
        return Ok(Invocation::Parent);
    };
    let usage = || format!("usage: {CHILD_FLAG} WORKLOAD RUNTIME");
    let workload = args.get(at + 1).ok_or_else(usage)?;
    let runtime = args.get(at + 2).ok_or_else(usage)?;
    let workload =
        Workload::parse(workload).ok_or_else(|| format!("no workload named `{workload}`"))?;
    let runtime =
        Contender::parse(runtime).ok_or_else(|| format!("no runtime named `{runtime}`"))?;
    Ok(Invocation::Child(workload, runtime))
}

/// The argument after [`HOLD_FLAG`]: an address.
fn parse_hold(args: &[String]) -> Result<Invocation, String> {
    let addr = args.first().and_then(|a| a.parse().ok());
    let addr = addr.ok_or_else(|| format!("usage: {HOLD_FLAG} ADDR"))?;
    Ok(Invocation::HoldConnections(addr))
}

/// The line a child prints for its measurement.
///
/// ```
/// use goro_benches::child::result_line;
/// use goro_benches::{Allocator, Contender, Workload};
///
/// assert_eq!(result_line(Allocator::System, Workload::YieldMany, Contender::Goro, 51.5),
///            "goro-bench-result system yield_many goro 51.5");
/// ```
pub fn result_line(a: Allocator, w: Workload, c: Contender, value: f64) -> String {
    format!("{RESULT_PREFIX} {a} {w} {c} {value}")
}

/// Finds the result line in a child's stdout and checks it answers the question asked.
///
/// # Errors
///
/// No result line, one for another measurement, or a value that is not a finite number.
pub fn parse_result(stdout: &str, a: Allocator, w: Workload, c: Contender) -> Result<f64, String> {
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with(RESULT_PREFIX))
        .ok_or("the child printed no result line")?;
    let expected = result_line(a, w, c, 0.0);
    let expected_head = expected.rsplit_once(' ').map_or("", |(head, _)| head);
    let (head, value) = line.rsplit_once(' ').ok_or("malformed result line")?;
    if head != expected_head {
        return Err(format!(
            "expected `{expected_head} …`, the child said `{line}`"
        ));
    }
    let value: f64 = value
        .parse()
        .map_err(|_| format!("result `{value}` is not a number"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!(
            "result {value} is not a finite non-negative number"
        ));
    }
    Ok(value)
}

/// Runs one child measurement of `exe` and returns its value.
///
/// # Errors
///
/// A description of the failure: spawn error, time limit, exit status or signal, protocol
/// mismatch; with the end of the child's stderr.
pub fn run(exe: &Path, a: Allocator, w: Workload, c: Contender) -> Result<f64, String> {
    let mut command = Command::new(exe);
    command.args([CHILD_FLAG, w.name(), c.name()]);
    run_command(command, a, w, c)
}

/// Runs `command` as the child that measures `w` on `c` and `a` (a program other than the
/// bench binaries, such as the Go one, that follows the same protocol) and returns its value.
///
/// # Errors
///
/// As [`run`].
pub fn run_command(
    mut command: Command,
    a: Allocator,
    w: Workload,
    c: Contender,
) -> Result<f64, String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait_with_limit(&mut child, PARENT_LIMIT);
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let failed = |why: String| Err(format!("{why}; stderr ends with:\n{}", tail(&stderr)));
    match status {
        Err(why) => failed(why),
        Ok(status) if !status.success() => failed(describe_exit(status)),
        Ok(_) => parse_result(&stdout, a, w, c).or_else(failed),
    }
}

/// Reads a pipe to its end on another thread, so a chatty child cannot block on a full pipe.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    })
}

/// Waits for `child`, killing it after `limit`.
fn wait_with_limit(child: &mut Child, limit: Duration) -> Result<ExitStatus, String> {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "killed after {} s without finishing",
                    limit.as_secs()
                ));
            }
            Ok(None) => thread::sleep(EXIT_POLL),
            Err(e) => return Err(format!("cannot wait for the child: {e}")),
        }
    }
}

fn describe_exit(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(6)) => "aborted (SIGABRT: a panic, a failed check or the watchdog)".into(),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => format!("ended with {status}"),
    }
}

/// The last [`STDERR_TAIL_LINES`] lines of `text`, indented.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(STDERR_TAIL_LINES);
    if lines.is_empty() {
        return "    (nothing)".into();
    }
    lines[from..]
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_is_taken_from_the_matching_line() {
        let out = "noise\ngoro-bench-result mimalloc sleepers tokio 101.25\n";
        let v = parse_result(
            out,
            Allocator::Mimalloc,
            Workload::Sleepers,
            Contender::Tokio,
        );
        assert_eq!(v, Ok(101.25));
    }

    #[test]
    fn result_for_another_question_is_rejected() {
        let out = "goro-bench-result system sleepers tokio 101\n";
        let v = parse_result(
            out,
            Allocator::Mimalloc,
            Workload::Sleepers,
            Contender::Tokio,
        );
        assert!(v.unwrap_err().contains("expected"));
    }

    #[test]
    fn missing_result_is_rejected() {
        let v = parse_result("", Allocator::System, Workload::SpawnMany, Contender::Goro);
        assert!(v.is_err());
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let text: String = (0..20).map(|i| format!("line {i}\n")).collect();
        let t = tail(&text);
        assert!(t.starts_with("    line 8"));
        assert!(t.ends_with("line 19"));
    }
}
