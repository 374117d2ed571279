//! The service example as a program: started as a child process, talked to over 127.0.0.1
//! with std's `TcpStream` (several clients at once), and stopped with a real SIGTERM or
//! SIGINT sent to its PID.
//!
//! The example is built once, by cargo, at the first test that needs it (a no-op when
//! `cargo test` has already built it). Every wait has a deadline; a service left running by
//! a failed test is killed by its PID (on a panic, by the guard's drop; on a hang, by the
//! watchdog before it aborts the test process).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// How long any one step may take (start, a request, a shutdown): each takes milliseconds,
/// so this only catches a hang on a loaded machine.
const STEP_DEADLINE: Duration = Duration::from_secs(60);

/// How long a whole test may run before the watchdog kills the service and aborts.
const TEST_DEADLINE: Duration = Duration::from_secs(300);

/// The example's executable, built by cargo on first use (in the profile of this test).
fn service_exe() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "--example", "service", "--message-format=json"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(Stdio::inherit());
        if !cfg!(debug_assertions) {
            cmd.arg("--release");
        }
        let out = cmd.output().expect("cargo runs");
        assert!(out.status.success(), "cargo build --example service failed");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|msg| msg["target"]["name"] == "service")
            .find_map(|msg| msg["executable"].as_str().map(PathBuf::from))
            .expect("cargo reports the example's executable")
    })
}

/// Sends `signal` (`TERM`, `INT`, `KILL`) to `pid` with kill(1).
fn send_signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} {pid} failed");
}

/// A running service: its process, its address, its output so far.
struct Service {
    /// The process (`None` once it has been waited for).
    child: Option<Child>,
    /// Its PID, to signal it.
    pid: u32,
    /// Where it listens.
    addr: SocketAddr,
    /// Its data directory (removed on drop).
    data_dir: PathBuf,
    /// Stdout lines, as they come.
    lines: Receiver<String>,
    /// Stdout lines taken from `lines` so far.
    stdout: Vec<String>,
    /// Everything on stderr (the request log), for failure messages.
    stderr: Arc<Mutex<String>>,
    /// Set when the test is over: disarms the watchdog.
    finished: Arc<AtomicBool>,
}

impl Service {
    /// Starts the service for the test `name` with extra `args`, and waits for its address.
    fn start(name: &str, args: &[&str]) -> Service {
        let data_dir =
            std::env::temp_dir().join(format!("goro-service-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data_dir);
        let mut child = Command::new(service_exe())
            .args(["--port", "0", "--data-dir"])
            .arg(&data_dir)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the service starts");
        let pid = child.id();
        let finished = Arc::new(AtomicBool::new(false));
        watchdog(name, pid, finished.clone());

        let (tx, lines) = mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let (mut pipe, sink) = (child.stderr.take().unwrap(), stderr.clone());
        thread::spawn(move || {
            let mut buf = [0; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });

        let mut service = Service {
            child: Some(child),
            pid,
            addr: "127.0.0.1:0".parse().unwrap(),
            data_dir,
            lines,
            stdout: Vec::new(),
            stderr,
            finished,
        };
        let line = service.wait_for_line("listening on ");
        service.addr = line["listening on ".len()..]
            .parse()
            .unwrap_or_else(|e| panic!("bad address in {line:?}: {e}"));
        service
    }

    /// Waits for a stdout line containing `text` and returns it.
    fn wait_for_line(&mut self, text: &str) -> String {
        if let Some(line) = self.stdout.iter().find(|l| l.contains(text)) {
            return line.clone();
        }
        let deadline = Instant::now() + STEP_DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.stdout.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(e) => panic!(
                    "no line with {text:?} on the service's stdout ({e}); stdout:\n{}\nstderr:\n{}",
                    self.stdout.join("\n"),
                    self.stderr.lock().unwrap()
                ),
            }
        }
    }

    /// Waits for the service to exit; returns its status and whole stdout.
    fn wait_exit(&mut self) -> (ExitStatus, String) {
        let child = self.child.as_mut().expect("not waited for yet");
        let deadline = Instant::now() + STEP_DEADLINE;
        let status = loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the service (pid {}) still runs {STEP_DEADLINE:?} after it was told to stop; stderr:\n{}",
                self.pid,
                self.stderr.lock().unwrap()
            );
            thread::sleep(Duration::from_millis(20));
        };
        self.child = None;
        // Stdout is at its end: the reader thread hangs up once it has sent the last line.
        while let Ok(line) = self.lines.recv_timeout(STEP_DEADLINE) {
            self.stdout.push(line);
        }
        (status, self.stdout.join("\n"))
    }

    /// `GET path`.
    fn get(&self, path: &str) -> Response {
        get(self.addr, path)
    }
}

/// Sends one request (`raw`, as written on the wire) and reads the whole response.
fn request(addr: SocketAddr, raw: &str) -> Response {
    let mut conn = connect(addr).expect("connect to the service");
    conn.write_all(raw.as_bytes()).unwrap();
    read_response(conn)
}

/// `GET path`.
fn get(addr: SocketAddr, path: &str) -> Response {
    request(addr, &format!("GET {path} HTTP/1.0\r\nHost: test\r\n\r\n"))
}

/// `POST path` with `body`.
fn post(addr: SocketAddr, path: &str, body: &str) -> Response {
    request(
        addr,
        &format!(
            "POST {path} HTTP/1.0\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // A failed test: do not leave the service running.
            send_signal(self.pid, "KILL");
            let _ = child.wait();
        }
        self.finished.store(true, Ordering::SeqCst);
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// Kills `pid` and aborts the test process if the test is not `finished` within
/// `TEST_DEADLINE`: a hang fails the run instead of stalling it, and leaves no service behind.
fn watchdog(name: &str, pid: u32, finished: Arc<AtomicBool>) {
    let name = name.to_string();
    thread::spawn(move || {
        let deadline = Instant::now() + TEST_DEADLINE;
        while Instant::now() < deadline {
            if finished.load(Ordering::SeqCst) {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        eprintln!(
            "watchdog: {name} still running after {TEST_DEADLINE:?}: killing {pid}, aborting"
        );
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        std::process::abort();
    });
}

/// A connection with read and write deadlines.
/// Starts `GET /sleep/600000` and reads its streamed head: the request is then in flight, and
/// the rest of the response comes only when it ends.
fn start_ten_minute_request(addr: SocketAddr) -> BufReader<TcpStream> {
    let mut slow = connect(addr).unwrap();
    slow.write_all(b"GET /sleep/600000 HTTP/1.0\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(slow);
    let mut head = String::new();
    while !head.ends_with("sleeping 600000 ms\n") {
        let n = reader.read_line(&mut head).expect("the streamed head");
        assert!(n > 0, "the response ended early: {head:?}");
    }
    reader
}

fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let conn = TcpStream::connect_timeout(&addr, STEP_DEADLINE)?;
    conn.set_read_timeout(Some(STEP_DEADLINE))?;
    conn.set_write_timeout(Some(STEP_DEADLINE))?;
    Ok(conn)
}

/// A response: status, request id, body.
#[derive(Debug)]
struct Response {
    status: u16,
    request_id: u64,
    body: String,
}

/// Reads a response to its end (the service closes each connection after one).
fn read_response(mut conn: impl Read) -> Response {
    let mut raw = String::new();
    conn.read_to_string(&mut raw).expect("read the response");
    parse_response(&raw)
}

fn parse_response(raw: &str) -> Response {
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of head in {raw:?}"));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line in {raw:?}"));
    let request_id = lines
        .find_map(|l| l.strip_prefix("X-Request-Id: "))
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no request id in {raw:?}"));
    Response {
        status,
        request_id,
        body: body.to_string(),
    }
}

#[test]
fn serves_files_and_a_child_process_to_concurrent_clients_with_distinct_request_ids() {
    let mut service = Service::start("requests", &[]);
    let mut ids = Vec::new();

    // Eight clients at once, each appending to and reading back its own file.
    let rounds: Vec<Vec<Response>> = thread::scope(|s| {
        let clients: Vec<_> = (0..8)
            .map(|i| {
                let addr = service.addr;
                s.spawn(move || {
                    let name = format!("/files/client-{i}.txt");
                    let first = post(addr, &name, &format!("hello from {i}\n"));
                    let second = post(addr, &name, "bye\n");
                    let read = get(addr, &name);
                    vec![first, second, read]
                })
            })
            .collect();
        clients.into_iter().map(|c| c.join().unwrap()).collect()
    });
    for (i, responses) in rounds.iter().enumerate() {
        let [first, second, read] = &responses[..] else {
            unreachable!()
        };
        assert_eq!((first.status, second.status), (200, 200), "{responses:?}");
        let hello = format!("hello from {i}\n");
        assert_eq!(
            first.body,
            format!("appended {} bytes to client-{i}.txt\n", hello.len())
        );
        assert_eq!(
            (read.status, read.body.as_str()),
            (200, &*format!("hello from {i}\nbye\n"))
        );
        ids.extend(responses.iter().map(|r| r.request_id));
        let on_disk = std::fs::read_to_string(service.data_dir.join(format!("client-{i}.txt")));
        assert_eq!(on_disk.unwrap(), format!("hello from {i}\nbye\n"));
    }

    let missing = service.get("/files/no-such-file.txt");
    assert_eq!(missing.status, 404, "{missing:?}");
    assert_eq!(missing.body, "no such file: no-such-file.txt\n");
    let escape = service.get("/files/..");
    assert_eq!(escape.status, 400, "{escape:?}");
    let garbage = request(service.addr, "HELLO\r\n\r\n");
    assert_eq!(garbage.status, 400, "{garbage:?}");
    let unknown = service.get("/nowhere");
    assert_eq!(unknown.status, 404, "{unknown:?}");

    // The child process: the service runs `uname -a`, as the test does.
    let uname = service.get("/exec/uname");
    let expected = Command::new("uname").arg("-a").output().unwrap();
    assert_eq!(uname.status, 200, "{uname:?}");
    assert_eq!(uname.body.as_bytes(), expected.stdout);
    let date = service.get("/exec/date");
    assert_eq!(date.status, 200, "{date:?}");
    assert!(date.body.contains("UTC"), "{date:?}");
    let not_allowed = service.get("/exec/rm");
    assert_eq!(not_allowed.status, 404, "{not_allowed:?}");

    let stats = service.get("/stats");
    assert!(stats.body.contains("processes 2\n"), "{stats:?}");
    assert!(stats.body.contains("in_flight 1\n"), "{stats:?}"); // itself

    ids.extend(
        [
            &missing,
            &escape,
            &garbage,
            &unknown,
            &uname,
            &date,
            &not_allowed,
            &stats,
        ]
        .iter()
        .map(|r| r.request_id),
    );
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), ids.len(), "request ids repeat: {ids:?}");

    send_signal(service.pid, "TERM");
    let (status, stdout) = service.wait_exit();
    assert!(status.success(), "exit {status}; stdout:\n{stdout}");
    assert!(stdout.contains("stopped on SIGTERM"), "{stdout}");
    assert!(
        stdout.contains(&format!("{} requests", ids.len())),
        "{stdout}"
    );
    // The log file was flushed at shutdown: every request's id is in it.
    let log = std::fs::read_to_string(service.data_dir.join("service.log")).unwrap();
    for id in &ids {
        assert!(
            log.contains(&format!("req={id} ")),
            "req={id} not in the log:\n{log}"
        );
    }
}

/// The PIDs of `parent`'s children named `name`, from /proc (zombies included: a child
/// leaves the list only once it has been reaped).
#[cfg(target_os = "linux")]
fn children_named(parent: u32, name: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue; // not a process, or gone meanwhile
        };
        // "pid (comm) state ppid ...": comm may hold spaces, so split after its ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let ppid = stat[close + 1..].split_whitespace().nth(1);
        if &stat[open + 1..close] == name && ppid == Some(&*parent.to_string()) {
            found.push(stat[..open].trim().parse().unwrap());
        }
    }
    found
}

#[cfg(target_os = "linux")]
#[test]
fn a_child_process_past_its_timeout_is_killed_and_reaped() {
    let mut service = Service::start("exec-timeout", &[]);
    let addr = service.addr;
    let request = thread::spawn(move || get(addr, "/exec/sleep"));
    let deadline = Instant::now() + STEP_DEADLINE;
    let sleeper = loop {
        if let [pid] = children_named(service.pid, "sleep")[..] {
            break pid;
        }
        assert!(Instant::now() < deadline, "the service never ran sleep");
        thread::sleep(Duration::from_millis(10));
    };
    let response = request.join().unwrap();
    assert_eq!(response.status, 504, "{response:?}");
    assert_eq!(
        response.body,
        "`sleep 600` killed: context deadline exceeded\n"
    );
    // Killed (long before its 600 s) and reaped: no zombie is left behind.
    let deadline = Instant::now() + STEP_DEADLINE;
    while children_named(service.pid, "sleep").contains(&sleeper) {
        assert!(
            Instant::now() < deadline,
            "sleep (pid {sleeper}) outlived its request"
        );
        thread::sleep(Duration::from_millis(10));
    }

    send_signal(service.pid, "TERM");
    let (status, stdout) = service.wait_exit();
    assert!(status.success(), "exit {status}; stdout:\n{stdout}");
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_and_refuses_new_connections() {
    let mut service = Service::start("drain", &["--drain", "120"]);
    // A slow client: the head and half the body now, the rest after the signal.
    let mut slow = connect(service.addr).unwrap();
    slow.write_all(b"POST /files/slow.txt HTTP/1.0\r\nContent-Length: 10\r\n\r\nhello")
        .unwrap();
    // The service is serving it once its in-flight count holds it besides the `/stats` call.
    let deadline = Instant::now() + STEP_DEADLINE;
    while !service.get("/stats").body.contains("in_flight 2\n") {
        assert!(Instant::now() < deadline, "the slow request never started");
        thread::sleep(Duration::from_millis(10));
    }

    send_signal(service.pid, "TERM");
    let line = service.wait_for_line("stopped accepting");
    assert!(line.starts_with("SIGTERM:"), "{line}");
    assert!(line.contains("draining 1 request"), "{line}");
    let refused = connect(service.addr).map(|_| ()).unwrap_err();
    assert_eq!(
        refused.kind(),
        std::io::ErrorKind::ConnectionRefused,
        "{refused}"
    );

    slow.write_all(b"world").unwrap();
    let response = read_response(slow);
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.body, "appended 10 bytes to slow.txt\n");
    let data_dir = service.data_dir.clone();
    assert_eq!(
        std::fs::read_to_string(data_dir.join("slow.txt")).unwrap(),
        "helloworld"
    );

    let (status, stdout) = service.wait_exit();
    assert!(status.success(), "exit {status}; stdout:\n{stdout}");
    assert!(stdout.contains("stopped on SIGTERM"), "{stdout}");
    assert!(stdout.contains(", 0 cut off,"), "{stdout}");
}

#[test]
fn a_request_that_outlasts_the_drain_is_cancelled_through_its_context() {
    let mut service = Service::start("hard-stop", &["--drain", "0.2"]);
    // A ten-minute request: only its context's cancellation can end it.
    let mut reader = start_ten_minute_request(service.addr);

    send_signal(service.pid, "INT");
    let line = service.wait_for_line("stopped accepting");
    assert!(line.starts_with("SIGINT:"), "{line}");
    let mut rest = String::new();
    reader
        .read_to_string(&mut rest)
        .expect("the rest of the response");
    assert!(
        rest.starts_with("cut off after ") && rest.ends_with(": context canceled\n"),
        "{rest:?}"
    );

    let (status, stdout) = service.wait_exit();
    assert!(status.success(), "exit {status}; stdout:\n{stdout}");
    assert!(
        stdout.contains("drain time up: cancelling 1 request(s)"),
        "{stdout}"
    );
    assert!(stdout.contains("stopped on SIGINT"), "{stdout}");
    assert!(stdout.contains(", 1 cut off,"), "{stdout}");
}

#[test]
fn a_second_signal_ends_the_drain_at_once() {
    let mut service = Service::start("second-signal", &["--drain", "600"]);
    let mut reader = start_ten_minute_request(service.addr);

    send_signal(service.pid, "TERM");
    service.wait_for_line("stopped accepting");
    send_signal(service.pid, "INT");
    let (status, stdout) = service.wait_exit();
    assert_eq!(status.code(), Some(1), "{status}; stdout:\n{stdout}");
    assert!(stdout.contains("SIGINT again: exiting"), "{stdout}");
    assert!(!stdout.contains("stopped on"), "{stdout}");
    let mut rest = String::new();
    reader
        .read_to_string(&mut rest)
        .expect("the end of the connection");
    assert_eq!(rest, "", "the request was not cut off through its context");
}

#[test]
fn a_silent_client_is_answered_408_at_its_request_deadline() {
    let mut service = Service::start("request-timeout", &["--request-timeout", "0.3"]);
    let mut silent = connect(service.addr).unwrap();
    silent.write_all(b"GET /stats HTTP/1.0\r\n").unwrap(); // and never the end of the head
    let response = read_response(silent);
    assert_eq!(response.status, 408, "{response:?}");
    assert_eq!(response.body, "context deadline exceeded\n");

    send_signal(service.pid, "TERM");
    let (status, stdout) = service.wait_exit();
    assert!(status.success(), "exit {status}; stdout:\n{stdout}");
    assert!(stdout.contains("1 requests {408: 1}"), "{stdout}");
}

#[test]
fn a_bad_command_line_is_a_usage_error() {
    let mut child = Command::new(service_exe())
        .args(["--port", "http"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the service runs");
    let deadline = Instant::now() + STEP_DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            send_signal(child.id(), "KILL");
            let _ = child.wait();
            panic!("the service ran on with a bad command line");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(2), "{status}: {stderr}");
    assert!(stderr.contains("bad port \"http\""), "{stderr}");
}
