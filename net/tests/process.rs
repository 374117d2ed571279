//! Child processes: output, status, pipes, kill, kill_on_drop, reaping without a thread per
//! child. Every process here is one the test started, ended by its PID.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use goro::io::{AsyncReadExt, AsyncWriteExt};
use goro::process::Command;

/// Whether `pid` is gone (reaped: no zombie left), waiting up to 10 s for it.
fn reaped(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            // The state follows the command name in parentheses; 'X' is dead, being removed.
            Ok(stat)
                if stat
                    .rsplit(')')
                    .next()
                    .unwrap()
                    .trim_start()
                    .starts_with('X') =>
            {
                return true;
            }
            Ok(_) => {}
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn echo_output() {
    common::run(2, 10, async {
        let out = Command::new("echo").arg("hello").output().await.unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout, b"hello\n");
        assert!(out.stderr.is_empty());
    });
}

#[test]
fn exit_code() {
    common::run(2, 10, async {
        let status = Command::new("sh")
            .args(["-c", "exit 3"])
            .status()
            .await
            .unwrap();
        assert_eq!(status.code(), Some(3));
        let out = Command::new("sh")
            .args(["-c", "echo err >&2; exit 4"])
            .output()
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(4));
        assert_eq!(out.stderr, b"err\n");
    });
}

#[test]
fn env_and_dir() {
    common::run(2, 10, async {
        let out = Command::new("sh")
            .args(["-c", "echo $A-$HOME; pwd"])
            .env_clear()
            .envs([("A", "1")])
            .env("HOME", "x")
            .env_remove("HOME")
            .current_dir("/")
            .output()
            .await
            .unwrap();
        assert_eq!(out.stdout, b"1-\n/\n");
    });
}

#[test]
fn cat_round_trip_one_mib() {
    common::run(2, 30, async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let sent = data.clone();
        // Both directions at once: cat's pipes are far smaller than 1 MiB.
        let writer = goro::spawn(async move {
            stdin.write_all(&sent).await.unwrap();
            // Dropping stdin closes it: cat sees end of file.
        });
        let mut got = Vec::new();
        stdout.read_to_end(&mut got).await.unwrap();
        writer.await.unwrap();
        assert!(
            got == data,
            "round trip changed the data ({} bytes back)",
            got.len()
        );
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn output_readable_after_exit() {
    common::run(2, 10, async {
        let mut child = Command::new("sh")
            .args(["-c", "echo early; echo late >&2"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Reap first: the pipes keep what the child wrote.
        assert!(child.wait().await.unwrap().success());
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .await
            .unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .await
            .unwrap();
        assert_eq!((out.as_str(), err.as_str()), ("early\n", "late\n"));
    });
}

#[test]
fn missing_program_is_not_found() {
    common::run(2, 10, async {
        let err = Command::new("/nonexistent/goro-no-such-program")
            .spawn()
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        let err = Command::new("goro-no-such-program-anywhere")
            .output()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    });
}

#[test]
fn kill_ends_a_child_that_ignores_sigterm() {
    common::run(2, 20, async {
        let mut child = Command::new("sh")
            // An ignored signal stays ignored across exec: `sleep` itself ignores SIGTERM.
            .args(["-c", "trap '' TERM; echo ready; exec sleep 30"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait for the trap to be set.
        let mut stdout = child.stdout.take().unwrap();
        let mut line = [0; 6];
        stdout.read_exact(&mut line).await.unwrap();
        let pid = child.id();
        rustix::process::kill_process(
            rustix::process::Pid::from_raw(pid as i32).unwrap(),
            rustix::process::Signal::TERM,
        )
        .unwrap();
        goro::time::sleep(Duration::from_millis(50)).await;
        assert!(child.try_wait().unwrap().is_none(), "SIGTERM is ignored");
        child.kill().await.unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(status.signal(), Some(9));
        assert!(child.try_wait().unwrap().is_some());
        // A second kill of a reaped child is a no-op.
        child.start_kill().unwrap();
        let mut rest = Vec::new();
        stdout.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    });
}

#[test]
fn wait_is_cancel_safe() {
    common::run(2, 20, async {
        let mut child = Command::new("sh")
            .args(["-c", "sleep 0.2; exit 5"])
            .spawn()
            .unwrap();
        // A wait dropped before the child ends loses nothing.
        let early = goro::time::timeout(Duration::from_millis(1), child.wait()).await;
        assert!(early.is_err());
        assert_eq!(child.wait().await.unwrap().code(), Some(5));
        // Nor one that ends: the status stays.
        assert_eq!(child.wait().await.unwrap().code(), Some(5));
    });
}

#[test]
fn kill_on_drop_kills() {
    common::run(2, 20, async {
        let child = Command::new("sleep")
            .arg("30")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.id();
        drop(child);
        assert!(reaped(pid), "sleep {pid} still there or a zombie");
    });
}

#[test]
fn kill_on_drop_of_output_future() {
    common::run(2, 20, async {
        // The child's PID comes from a file the shell writes before it becomes `sleep`.
        let dir = common::temp_dir("process-output-drop");
        let file = dir.join("pid");
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "echo $$ > \"$0\"; exec sleep 30",
            file.to_str().unwrap(),
        ])
        .kill_on_drop(true);
        let read_pid = async {
            loop {
                if let Ok(pid) = std::fs::read_to_string(&file)
                    .unwrap_or_default()
                    .trim()
                    .parse()
                {
                    // `exec` follows the write at once; give it a moment either way.
                    goro::time::sleep(Duration::from_millis(20)).await;
                    return Ok(pid);
                }
                goro::time::sleep(Duration::from_millis(5)).await;
            }
        };
        let output = async { Err(cmd.output().await) };
        // The output future loses the race and is dropped here.
        let pid: u32 = futures_lite::future::or(read_pid, output).await.unwrap();
        assert!(reaped(pid), "{pid} still there or a zombie");
        std::fs::remove_dir_all(&dir).unwrap();
    });
}

#[test]
fn dropped_child_is_reaped() {
    common::run(2, 20, async {
        let child = Command::new("sh")
            .args(["-c", "sleep 0.1"])
            .spawn()
            .unwrap();
        let pid = child.id();
        drop(child);
        assert!(reaped(pid), "{pid} left as a zombie");
    });
}

#[test]
fn hundred_children_no_thread_each() {
    common::run(2, 60, async {
        let before = common::os_threads();
        let mut group = Vec::new();
        let mut pids = Vec::new();
        let mut most = before;
        for _ in 0..100 {
            let mut child = Command::new("true").spawn().unwrap();
            pids.push(child.id());
            group.push(goro::spawn(async move { child.wait().await.unwrap() }));
            most = most.max(common::os_threads());
        }
        for h in group {
            assert!(h.await.unwrap().success());
        }
        most = most.max(common::os_threads());
        for pid in pids {
            assert!(reaped(pid), "{pid} left as a zombie");
        }
        assert!(
            most <= before + 8,
            "threads grew from {before} to {most} for 100 children"
        );
    });
}

/// `output` with a piped stdin closes it before reading: a child that reads its input to the
/// end (`cat`) finishes instead of waiting forever for more.
#[test]
fn output_closes_a_piped_stdin() {
    common::in_own_process("output_closes_a_piped_stdin", 30, || {
        common::run(2, 20, async {
            let out = Command::new("cat")
                .stdin(Stdio::piped())
                .kill_on_drop(true)
                .output()
                .await
                .unwrap();
            assert!(out.status.success());
            assert!(out.stdout.is_empty());
        });
    });
}
