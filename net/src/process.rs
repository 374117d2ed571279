//! Child processes whose pipes and exit are awaited on goro's reactor: Go's `os/exec`.
//!
//! [`Command`] mirrors [`std::process::Command`]; [`Command::spawn`] gives a [`Child`] whose
//! `stdin`, `stdout` and `stderr` pipes implement futures-io's `AsyncWrite`/`AsyncRead`, and
//! whose exit is awaited with [`Child::wait`] without blocking a worker.
//!
//! ```
//! use goro::io::{AsyncReadExt, AsyncWriteExt};
//! use goro::process::Command;
//! use std::process::Stdio;
//!
//! # goro::block_on(async {
//! // Go: out, err := exec.Command("echo", "hello").Output()
//! let out = Command::new("echo").arg("hello").output().await?;
//! assert_eq!(out.stdout, b"hello\n");
//!
//! // Go: cmd.StdinPipe, cmd.StdoutPipe, cmd.Start, cmd.Wait
//! let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
//! let mut stdin = child.stdin.take().unwrap();
//! stdin.write_all(b"ping").await?;
//! drop(stdin); // end of input: cat exits
//! let mut text = String::new();
//! child.stdout.take().unwrap().read_to_string(&mut text).await?;
//! assert_eq!(text, "ping");
//! assert!(child.wait().await?.success());
//! # std::io::Result::Ok(()) }).unwrap();
//! ```
//!
//! # How a child's exit is awaited
//!
//! On Linux 5.3 and later, `spawn` opens a pidfd for the child and registers it with the
//! reactor: the pidfd turns readable when the child exits, and `wait` then reaps it with
//! `waitpid`. A thousand children waited on cost a thousand descriptors in the poller and no
//! thread each. No exit can be missed: `wait` asks `waitpid` (non-blocking) before every
//! park, and a pidfd's readability is a state, not an event (it stays readable once the child
//! has exited), so a child that exits between that check and the registration of interest is
//! reported by the poller at once. Where pidfds are not available (an older kernel, a seccomp filter that refuses
//! the call), `wait` polls `try_wait` with a timer whose period doubles from 1 ms up to 100 ms.
//!
//! goro installs no SIGCHLD handler: a signal handler is one per process, so goro's would
//! replace (or be replaced by) that of any other library or of the program itself, and a
//! handler that reaps with `waitpid(-1)` would steal the exit statuses of children that
//! other code spawned.
//!
//! # Reaping
//!
//! A [`Child`] dropped before its exit was seen is reaped in the background: with
//! [`Command::kill_on_drop`] it is sent SIGKILL and waited for on the blocking pool; without
//! it, it keeps running and a task waits for its exit (through the pidfd, so no thread is
//! held; on the polling fallback a blocking-pool thread waits). Either way no zombie is left
//! behind once the child ends, as long as the runtime that spawned it lives.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::process::{ExitStatus, Output, Stdio};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_lite::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use crate::Async;

/// The first and the longest period of the `try_wait` polling used where pidfds are missing.
const POLL_FIRST: Duration = Duration::from_millis(1);
const POLL_MAX: Duration = Duration::from_millis(100);

/// A process builder: [`std::process::Command`] whose children are awaited on goro.
///
/// ```
/// use goro::process::Command;
///
/// # goro::block_on(async {
/// let status = Command::new("sh").args(["-c", "exit 3"]).status().await?;
/// assert_eq!(status.code(), Some(3));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    /// Which of stdin, stdout, stderr the caller chose, so that `output` picks its own
    /// defaults (null, piped, piped) only for the others, as std does.
    stdin_set: bool,
    stdout_set: bool,
    stderr_set: bool,
}

impl Command {
    /// A command that runs `program`, looked up in `PATH` when it has no `/`.
    ///
    /// ```
    /// let cmd = goro::process::Command::new("ls");
    /// ```
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            std: std::process::Command::new(program),
            kill_on_drop: false,
            stdin_set: false,
            stdout_set: false,
            stderr_set: false,
        }
    }

    /// Adds an argument.
    ///
    /// ```
    /// let mut cmd = goro::process::Command::new("ls");
    /// cmd.arg("-l");
    /// ```
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    ///
    /// ```
    /// let mut cmd = goro::process::Command::new("ls");
    /// cmd.args(["-l", "-a"]);
    /// ```
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable of the child.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let out = goro::process::Command::new("sh")
    ///     .args(["-c", "echo $GREETING"])
    ///     .env("GREETING", "hi")
    ///     .output()
    ///     .await?;
    /// assert_eq!(out.stdout, b"hi\n");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn env(&mut self, key: impl AsRef<OsStr>, val: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Sets environment variables of the child.
    ///
    /// ```
    /// let mut cmd = goro::process::Command::new("env");
    /// cmd.envs([("A", "1"), ("B", "2")]);
    /// ```
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    ///
    /// ```
    /// let mut cmd = goro::process::Command::new("env");
    /// cmd.env_remove("HOME");
    /// ```
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what `env` adds afterwards).
    ///
    /// ```
    /// let mut cmd = goro::process::Command::new("env");
    /// cmd.env_clear();
    /// ```
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    ///
    /// ```
    /// let mut cmd = goro::process::Command::new("pwd");
    /// cmd.current_dir("/");
    /// ```
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// Sets the child's standard input (inherited by `spawn` and `status`, null for `output`,
    /// unless set).
    ///
    /// ```
    /// let mut cmd = goro::process::Command::new("cat");
    /// cmd.stdin(std::process::Stdio::piped());
    /// ```
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// Sets the child's standard output (inherited by `spawn` and `status`, captured by
    /// `output`, unless set).
    ///
    /// ```
    /// let mut cmd = goro::process::Command::new("ls");
    /// cmd.stdout(std::process::Stdio::piped());
    /// ```
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self.stdout_set = true;
        self
    }

    /// Sets the child's standard error (inherited by `spawn` and `status`, captured by
    /// `output`, unless set).
    ///
    /// ```
    /// let mut cmd = goro::process::Command::new("ls");
    /// cmd.stderr(std::process::Stdio::null());
    /// ```
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self.stderr_set = true;
        self
    }

    /// Whether a [`Child`] dropped before its exit was seen is killed (SIGKILL), and so also
    /// the child of a dropped `output` or `status` future. Off by default: a dropped child
    /// keeps running, and is reaped in the background when it ends.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let child = goro::process::Command::new("sleep").arg("30").kill_on_drop(true).spawn()?;
    /// drop(child); // sleep is killed and reaped
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn kill_on_drop(&mut self, kill: bool) -> &mut Command {
        self.kill_on_drop = kill;
        self
    }

    /// Starts the child.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let mut child = goro::process::Command::new("true").spawn()?;
    /// assert!(child.wait().await?.success());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// What std's `spawn` returns (`NotFound` for a program that does not exist, ...), or
    /// the error of registering a pipe with the reactor (the child is then killed and reaped).
    pub fn spawn(&mut self) -> io::Result<Child> {
        let mut std = self.std.spawn()?;
        let pipes = (std.stdin.take(), std.stdout.take(), std.stderr.take());
        // pidfd_open cannot name another process: the child is not reaped yet, so its PID is
        // still its own.
        let pidfd = open_pidfd(std.id());
        let mut child = Child {
            stdin: None,
            stdout: None,
            stderr: None,
            reaper: Some(Reaper { std, pidfd }),
            kill_on_drop: true,
        };
        child.stdin = pipes.0.map(|p| pipe(p.into())).transpose()?.map(ChildStdin);
        child.stdout = pipes
            .1
            .map(|p| pipe(p.into()))
            .transpose()?
            .map(ChildStdout);
        child.stderr = pipes
            .2
            .map(|p| pipe(p.into()))
            .transpose()?
            .map(ChildStderr);
        child.kill_on_drop = self.kill_on_drop;
        Ok(child)
    }

    /// Runs the child to its end and collects its output: Go's `cmd.Output()` (with stderr
    /// too). Stdout and stderr are captured and stdin is null, unless set; a piped stdin is
    /// closed at once.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let out = goro::process::Command::new("echo").arg("hello").output().await?;
    /// assert!(out.status.success());
    /// assert_eq!(out.stdout, b"hello\n");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Command::spawn`], or a failed read of the pipes or `waitpid`.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the output read so far; the child is killed if
    /// `kill_on_drop` is set, and is reaped in the background either way.
    pub async fn output(&mut self) -> io::Result<Output> {
        let (stdin_set, stdout_set, stderr_set) =
            (self.stdin_set, self.stdout_set, self.stderr_set);
        if !stdin_set {
            self.std.stdin(Stdio::null());
        }
        if !stdout_set {
            self.std.stdout(Stdio::piped());
        }
        if !stderr_set {
            self.std.stderr(Stdio::piped());
        }
        let spawned = self.spawn();
        // Back to the defaults of `spawn` for the streams the caller did not choose.
        if !stdin_set {
            self.std.stdin(Stdio::inherit());
        }
        if !stdout_set {
            self.std.stdout(Stdio::inherit());
        }
        if !stderr_set {
            self.std.stderr(Stdio::inherit());
        }
        let mut child = spawned?;
        // As std's: a piped stdin is closed, so a child reading its input to the end can finish.
        drop(child.stdin.take());
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let (out, err) = futures_lite::future::try_zip(read_all(stdout), read_all(stderr)).await?;
        let status = child.wait().await?;
        Ok(Output {
            status,
            stdout: out,
            stderr: err,
        })
    }

    /// Runs the child to its end and returns its exit status.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let status = goro::process::Command::new("false").status().await?;
    /// assert_eq!(status.code(), Some(1));
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Command::spawn`], or a failed `waitpid`.
    ///
    /// # Cancel safety
    ///
    /// As [`Command::output`]: a dropped future leaves the child to be reaped in the
    /// background (killed first with `kill_on_drop`).
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }
}

/// Reads a captured pipe to its end (nothing for a pipe that was not captured).
async fn read_all<R: AsyncRead + Unpin>(pipe: Option<R>) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    if let Some(mut pipe) = pipe {
        pipe.read_to_end(&mut buf).await?;
    }
    Ok(buf)
}

/// A pipe end of ours, non-blocking and registered with the reactor.
fn pipe(fd: OwnedFd) -> io::Result<Async<File>> {
    Async::new(File::from(fd))
}

/// The child's pidfd on the reactor, or `None` where pidfds are unavailable.
fn open_pidfd(pid: u32) -> Option<Async<OwnedFd>> {
    let pid = rustix::process::Pid::from_raw(i32::try_from(pid).ok()?)?;
    let fd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()?;
    Async::new(fd).ok()
}

/// What waits for and reaps the child.
#[derive(Debug)]
struct Reaper {
    std: std::process::Child,
    pidfd: Option<Async<OwnedFd>>,
}

impl Reaper {
    async fn wait(&mut self) -> io::Result<ExitStatus> {
        let mut period = POLL_FIRST;
        loop {
            // std keeps the status once reaped, so a wait dropped after this point loses
            // nothing: the next call returns it at once.
            if let Some(status) = self.std.try_wait()? {
                return Ok(status);
            }
            match &self.pidfd {
                Some(fd) => fd.readable().await?,
                None => {
                    goro_runtime::time::sleep(period).await;
                    period = (period * 2).min(POLL_MAX);
                }
            }
        }
    }
}

/// A running (or ended) child process, from [`Command::spawn`].
///
/// Dropping it does not wait for the child: see [`Command::kill_on_drop`] and the module
/// docs on reaping.
///
/// ```
/// # goro::block_on(async {
/// let mut child = goro::process::Command::new("sleep").arg("30").spawn()?;
/// child.kill().await?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct Child {
    /// The writing end of the child's stdin, if it was `Stdio::piped()`.
    pub stdin: Option<ChildStdin>,
    /// The reading end of the child's stdout, if it was `Stdio::piped()`.
    pub stdout: Option<ChildStdout>,
    /// The reading end of the child's stderr, if it was `Stdio::piped()`.
    pub stderr: Option<ChildStderr>,
    /// `None` only once dropped.
    reaper: Option<Reaper>,
    kill_on_drop: bool,
}

impl Child {
    fn reaper(&mut self) -> &mut Reaper {
        self.reaper.as_mut().expect("a live Child has its reaper")
    }

    /// The child's process ID.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let mut child = goro::process::Command::new("true").spawn()?;
    /// assert!(child.id() > 0);
    /// child.wait().await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn id(&self) -> u32 {
        self.reaper
            .as_ref()
            .expect("a live Child has its reaper")
            .std
            .id()
    }

    /// Waits for the child to exit and reaps it: Go's `cmd.Wait()`. Closes the child's stdin
    /// first (if piped and still here), so a child reading it to its end can finish.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let mut child = goro::process::Command::new("sh").args(["-c", "exit 3"]).spawn()?;
    /// assert_eq!(child.wait().await?.code(), Some(3));
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// If `waitpid` fails, or the reactor of the runtime that spawned the child is gone.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the status is kept in the `Child` once reaped, and a dropped `wait` has
    /// taken nothing, so the next `wait` (or `try_wait`) returns it.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        self.reaper().wait().await
    }

    /// The child's exit status if it has exited (reaping it), `None` if it still runs.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let mut child = goro::process::Command::new("sleep").arg("30").spawn()?;
    /// assert!(child.try_wait()?.is_none());
    /// child.kill().await?;
    /// assert!(child.try_wait()?.is_some());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// If `waitpid` fails.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.reaper().std.try_wait()
    }

    /// Sends SIGKILL to the child, without waiting for it to end. Does nothing (and
    /// returns `Ok`) if the child has already been reaped.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let mut child = goro::process::Command::new("sleep").arg("30").spawn()?;
    /// child.start_kill()?;
    /// assert!(!child.wait().await?.success());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// If `kill` fails.
    pub fn start_kill(&mut self) -> io::Result<()> {
        let reaper = self.reaper();
        if reaper.std.try_wait()?.is_some() {
            return Ok(());
        }
        reaper.std.kill()
    }

    /// Sends SIGKILL to the child and waits for it to end: Go's `cmd.Process.Kill()`
    /// followed by `cmd.Wait()`. The status stays available to `wait` and `try_wait`.
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    ///
    /// # goro::block_on(async {
    /// let mut child = goro::process::Command::new("sleep").arg("30").spawn()?;
    /// child.kill().await?;
    /// assert_eq!(child.wait().await?.signal(), Some(9));
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// If `kill` or `waitpid` fails.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the signal is sent in the first poll, and the wait is [`Child::wait`]'s.
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(drop)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let Some(mut reaper) = self.reaper.take() else {
            return;
        };
        if matches!(reaper.std.try_wait(), Ok(Some(_))) {
            return;
        }
        if self.kill_on_drop {
            let _ = reaper.std.kill();
            // SIGKILL cannot be caught: the wait is short.
            drop(goro_runtime::spawn_blocking(move || reaper.std.wait()));
        } else if reaper.pidfd.is_some() {
            drop(goro_runtime::spawn(async move { reaper.wait().await }));
        } else {
            drop(goro_runtime::spawn_blocking(move || reaper.std.wait()));
        }
    }
}

macro_rules! pipe_type {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug)]
        pub struct $name(Async<File>);

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.0.as_fd()
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.0.as_raw_fd()
            }
        }
    };
}

pipe_type!(
    ChildStdin,
    "The writing end of a child's stdin, an `AsyncWrite` on the reactor. Dropping it closes \
     the pipe: the child reads end of file.\n\n```\nuse goro::io::AsyncWriteExt;\n\
     # goro::block_on(async {\nlet mut child = goro::process::Command::new(\"cat\")\n    \
     .stdin(std::process::Stdio::piped())\n    .stdout(std::process::Stdio::null())\n    \
     .spawn()?;\nchild.stdin.take().unwrap().write_all(b\"hi\").await?;\n\
     child.wait().await?;\n# std::io::Result::Ok(()) }).unwrap();\n```"
);
pipe_type!(
    ChildStdout,
    "The reading end of a child's stdout, an `AsyncRead` on the reactor.\n\n```\n\
     use goro::io::AsyncReadExt;\n# goro::block_on(async {\n\
     let mut child = goro::process::Command::new(\"echo\")\n    .arg(\"hi\")\n    \
     .stdout(std::process::Stdio::piped())\n    .spawn()?;\nlet mut s = String::new();\n\
     child.stdout.take().unwrap().read_to_string(&mut s).await?;\nassert_eq!(s, \"hi\\n\");\n\
     child.wait().await?;\n# std::io::Result::Ok(()) }).unwrap();\n```"
);
pipe_type!(
    ChildStderr,
    "The reading end of a child's stderr, an `AsyncRead` on the reactor.\n\n```\n\
     use goro::io::AsyncReadExt;\n# goro::block_on(async {\n\
     let mut child = goro::process::Command::new(\"sh\")\n    .args([\"-c\", \"echo oops >&2\"])\n    \
     .stderr(std::process::Stdio::piped())\n    .spawn()?;\nlet mut s = String::new();\n\
     child.stderr.take().unwrap().read_to_string(&mut s).await?;\nassert_eq!(s, \"oops\\n\");\n\
     child.wait().await?;\n# std::io::Result::Ok(()) }).unwrap();\n```"
);

impl AsyncWrite for ChildStdin {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}

impl AsyncRead for ChildStdout {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncRead for ChildStderr {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fallback for kernels without pidfds: `wait` polls `try_wait` on a timer, and a
    /// dropped child is reaped on the blocking pool.
    #[test]
    fn polling_fallback_waits_and_reaps() {
        let rt = goro_runtime::Builder::new()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(async {
            let mut child = Command::new("sh")
                .args(["-c", "sleep 0.05; exit 7"])
                .spawn()
                .unwrap();
            child.reaper().pidfd = None;
            assert_eq!(child.wait().await.unwrap().code(), Some(7));

            let mut child = Command::new("sh")
                .args(["-c", "sleep 0.05"])
                .spawn()
                .unwrap();
            child.reaper().pidfd = None;
            let pid = child.id();
            drop(child);
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while std::fs::metadata(format!("/proc/{pid}")).is_ok() {
                assert!(std::time::Instant::now() < deadline, "{pid} not reaped");
                goro_runtime::time::sleep(Duration::from_millis(10)).await;
            }
        });
    }
}
