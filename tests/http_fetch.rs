//! The http-fetch example as a program, against servers goro did not write: python3's
//! `http.server` serving a temporary directory, small python servers for chunked bodies,
//! redirects, garbage, silence and short bodies (`tests/http_fetch/servers.py`), and TLS with
//! a self-signed certificate made by `openssl` and served by python's `ssl` module.
//!
//! The example is built once, by cargo, at the first test that needs it (a no-op when
//! `cargo test` has already built it). A case whose tool (python3, openssl) is missing says
//! so and passes; CI installs both and sets `GORO_TEST_REQUIRE_TOOLS`, which turns a skip into
//! a failure.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

/// How long one run of the fetcher may take before the test kills it and fails: every case
/// finishes in a few seconds, so this only catches a hang.
const RUN_DEADLINE: Duration = Duration::from_secs(120);

/// How long a python server may take to print its port.
const SERVER_START_DEADLINE: Duration = Duration::from_secs(30);

/// Set (to anything) to fail, instead of skip, a case whose tool is missing.
const REQUIRE_TOOLS_ENV: &str = "GORO_TEST_REQUIRE_TOOLS";

/// The fetcher's executable, built by cargo on first use (in the profile of this test).
fn fetcher() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "--example", "http-fetch", "--message-format=json"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(Stdio::inherit());
        if !cfg!(debug_assertions) {
            cmd.arg("--release");
        }
        let out = cmd.output().expect("cargo runs");
        assert!(
            out.status.success(),
            "cargo build --example http-fetch failed"
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        stdout
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|msg| msg["target"]["name"] == "http-fetch")
            .find_map(|msg| msg["executable"].as_str().map(PathBuf::from))
            .expect("cargo reports the example's executable")
    })
}

/// A run of the fetcher: exit code, stdout, stderr.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The result line of `url` (the line that ends a URL's fetch starts its row with the
    /// status or `ERR`, then has the URL after the time).
    fn line(&self, url: &str) -> &str {
        let mut found = self
            .stdout
            .lines()
            .filter(|l| l.split_whitespace().any(|w| w == url));
        let line = found
            .next()
            .unwrap_or_else(|| panic!("no line for {url} in:\n{}", self.stdout));
        assert!(
            found.next().is_none(),
            "two lines for {url}:\n{}",
            self.stdout
        );
        line
    }

    /// The `(status or ERR, bytes)` that `url`'s line starts with.
    fn result(&self, url: &str) -> (String, Option<u64>) {
        let mut words = self.line(url).split_whitespace();
        let status = words.next().unwrap().to_string();
        let bytes = words.next().and_then(|w| w.parse().ok());
        (status, bytes)
    }

    fn summary_numbers(&self) -> (usize, usize) {
        let line = self
            .stdout
            .lines()
            .find(|l| l.contains("connections opened for"))
            .unwrap_or_else(|| panic!("no summary in:\n{}", self.stdout));
        let nums: Vec<usize> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        (nums[0], nums[1])
    }
}

/// Runs the fetcher with `args` (and `stdin`), killing it if it outlives `RUN_DEADLINE`.
fn fetch(args: &[&str], stdin: Option<&str>) -> Run {
    let mut child = Command::new(fetcher())
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the fetcher starts");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(text.as_bytes()).unwrap();
    }
    let out = wait_with_deadline(child, RUN_DEADLINE);
    let run = Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    eprintln!(
        "$ http-fetch {}\n{}{}",
        args.join(" "),
        run.stdout,
        run.stderr
    );
    run
}

/// Waits for `child`'s output; after `deadline`, kills it (by its PID, through `Child`) and
/// fails the test.
fn wait_with_deadline(child: Child, deadline: Duration) -> Output {
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(deadline) {
        Ok(out) => out.expect("the fetcher's output"),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("the fetcher (pid {pid}) still ran after {deadline:?}: killed");
        }
    }
}

/// Whether `tool` runs; if not, says that the test is skipped.
fn have(tool: &str, test: &str) -> bool {
    let runs = |arg: &str| {
        Command::new(tool)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    // python3 knows `--version`, openssl `version`.
    let ok = runs("--version") || runs("version");
    if !ok {
        // CI installs the tools and sets this, so a case can never skip there unseen.
        if std::env::var_os(REQUIRE_TOOLS_ENV).is_some() {
            panic!("{test}: `{tool}` not found, and {REQUIRE_TOOLS_ENV} is set");
        }
        eprintln!("SKIPPED {test}: `{tool}` not found (CI installs it: apt-get install -y {tool})");
    }
    ok
}

/// A python server of `servers.py`, killed (by PID) when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/http_fetch/servers.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(SERVER_START_DEADLINE).unwrap_or_default();
        let Ok(port) = line.trim().parse() else {
            let _ = child.kill();
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            panic!("servers.py {args:?} did not print its port: {line:?} {err}");
        };
        Server { child, port }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Stops the server and returns what it wrote to stderr.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut err = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = pipe.read_to_string(&mut err);
        }
        err
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory of its own under the system's temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("goro-http-fetch-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn str(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Bytes that are not all alike, so a shifted or truncated copy does not compare equal.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i * 7 + i / 251 + seed as usize) as u8)
        .collect()
}

/// A port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn the_offline_demo_fetches_every_endpoint() {
    let run = fetch(&[], None);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let rows: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("200 "))
        .collect();
    assert_eq!(rows.len(), 9, "{}", run.stdout);
    assert!(run.stdout.contains("9 ok, 0 failed"), "{}", run.stdout);
    assert!(run.stdout.contains("1 redirect -> "), "{}", run.stdout);
    assert!(
        run.stdout.contains("sum of per-URL times"),
        "{}",
        run.stdout
    );
}

#[test]
fn files_are_fetched_and_saved_byte_for_byte() {
    if !have("python3", "files_are_fetched_and_saved_byte_for_byte") {
        return;
    }
    let root = TempDir::new("root");
    let small = b"hello from python\n".to_vec();
    let big = pattern(300_000, 3);
    std::fs::write(root.path().join("a.txt"), &small).unwrap();
    std::fs::create_dir(root.path().join("sub")).unwrap();
    std::fs::write(root.path().join("sub/a.txt"), &big).unwrap();
    let server = Server::start(&["files", root.str()]);
    let out = TempDir::new("out");

    let (a, sub_a, missing) = (
        server.url("/a.txt"),
        server.url("/sub/a.txt"),
        server.url("/nope"),
    );
    let run = fetch(&["-o", out.str(), &a, &sub_a, &a, &missing], None);
    assert_eq!(run.code, Some(1), "a 404 fails the run");
    assert_eq!(run.result(&sub_a), ("200".into(), Some(big.len() as u64)));
    assert_eq!(run.result(&missing).0, "404");
    assert!(run.stdout.contains("3 ok, 1 failed"), "{}", run.stdout);

    // Names from the URL, inside DIR; the repeated URL gets a suffix; no file for the 404.
    let p = server.port;
    let saved = |name: &str| std::fs::read(out.path().join(name)).unwrap_or_default();
    assert_eq!(saved(&format!("127.0.0.1_{p}_a.txt")), small);
    assert_eq!(saved(&format!("127.0.0.1_{p}_a-2.txt")), small);
    assert_eq!(saved(&format!("127.0.0.1_{p}_sub_a.txt")), big);
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 3);
}

#[test]
fn two_hundred_urls_with_c_50_all_succeed_over_reused_connections() {
    if !have(
        "python3",
        "two_hundred_urls_with_c_50_all_succeed_over_reused_connections",
    ) {
        return;
    }
    let root = TempDir::new("many");
    for i in 0..20 {
        std::fs::write(
            root.path().join(format!("f{i}")),
            pattern(1000 + i * 100, i as u8),
        )
        .unwrap();
    }
    let server = Server::start(&["files", root.str()]);
    // Through `-f -`, with a comment and blank lines that are skipped.
    let mut list = String::from("# two hundred URLs\n\n");
    let mut expected_bytes = 0;
    for i in 0..200 {
        list.push_str(&format!("{}\n\n", server.url(&format!("/f{}", i % 20))));
        expected_bytes += 1000 + (i % 20) * 100;
    }
    let run = fetch(&["-c", "50", "-f", "-"], Some(&list));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.starts_with("200 ") && l.contains(" B "))
            .count(),
        200
    );
    assert!(
        run.stdout
            .contains(&format!("200 ok, 0 failed, {expected_bytes} body bytes")),
        "{}",
        run.stdout
    );
    let (connections, requests) = run.summary_numbers();
    assert_eq!(requests, 200);
    assert!(
        connections <= 50,
        "at most one connection per fetch in flight: {connections}"
    );
    let accepted = server.stop().lines().filter(|l| *l == "conn").count();
    assert_eq!(
        accepted, connections,
        "the server saw the connections the fetcher counted"
    );
}

#[test]
fn chunked_bodies_and_redirect_chains_are_followed() {
    if !have("python3", "chunked_bodies_and_redirect_chains_are_followed") {
        return;
    }
    let server = Server::start(&["tricks"]);
    let out = TempDir::new("tricks");
    let (chunked, chain, rel) = (
        server.url("/chunked"),
        server.url("/chain/3"),
        server.url("/rel/a/b"),
    );
    let run = fetch(&["-o", out.str(), &chunked, &chain, &rel], None);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.result(&chunked), ("200".into(), Some(5000)));
    assert!(run
        .line(&chain)
        .contains(&format!("3 redirects -> {}", server.url("/chain/0"))));
    assert!(run
        .line(&rel)
        .contains(&format!("-> {}", server.url("/rel/target?x=1"))));
    let body = std::fs::read(
        out.path()
            .join(format!("127.0.0.1_{}_chunked", server.port)),
    )
    .unwrap();
    let expected: Vec<u8> = (0..5u8).flat_map(|i| vec![b'a' + i; 1000]).collect();
    assert_eq!(body, expected);
}

#[test]
fn a_303_turns_into_get_and_307_308_keep_the_method() {
    if !have(
        "python3",
        "a_303_turns_into_get_and_307_308_keep_the_method",
    ) {
        return;
    }
    let server = Server::start(&["tricks"]);
    let out = TempDir::new("method");
    let urls = ["/303", "/307", "/308"].map(|p| server.url(p));
    let run = fetch(
        &[
            "-X",
            "DELETE",
            "-o",
            out.str(),
            &urls[0],
            &urls[1],
            &urls[2],
        ],
        None,
    );
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let p = server.port;
    let saved = |name: &str| {
        std::fs::read_to_string(out.path().join(format!("127.0.0.1_{p}_{name}"))).unwrap()
    };
    assert_eq!(saved("303"), "GET");
    assert_eq!(saved("307"), "DELETE");
    assert_eq!(saved("308"), "DELETE");
}

#[test]
fn redirect_loops_and_long_chains_stop_at_max_redirects() {
    if !have(
        "python3",
        "redirect_loops_and_long_chains_stop_at_max_redirects",
    ) {
        return;
    }
    let server = Server::start(&["tricks"]);
    let (looping, chain) = (server.url("/loop"), server.url("/chain/3"));
    let run = fetch(&["--max-redirects", "2", &looping, &chain], None);
    assert_eq!(run.code, Some(1));
    for url in [&looping, &chain] {
        assert_eq!(run.result(url).0, "ERR");
        assert!(
            run.line(url).contains("too many redirects: more than 2"),
            "{}",
            run.line(url)
        );
    }
    // The default (5) follows the chain of 3.
    let run = fetch(&[&chain], None);
    assert_eq!(run.code, Some(0));
}

#[test]
fn garbage_and_a_short_body_fail_that_url_only() {
    if !have("python3", "garbage_and_a_short_body_fail_that_url_only") {
        return;
    }
    let (garbage, short, good) = (
        Server::start(&["garbage"]),
        Server::start(&["short"]),
        Server::start(&["tricks"]),
    );
    let (g, s, ok) = (garbage.url("/"), short.url("/"), good.url("/"));
    let run = fetch(&[&g, &s, &ok], None);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.result(&ok).0, "200");
    let (g, s) = (run.line(&g), run.line(&s));
    assert!(
        g.starts_with("ERR") && g.contains("HTTP: invalid HTTP version"),
        "{g}"
    );
    assert!(s.starts_with("ERR") && s.contains("body:"), "{s}");
    assert!(
        s.contains("end of file before message length reached"),
        "{s}"
    );
    assert!(run.stdout.contains("1 ok, 2 failed"), "{}", run.stdout);
}

#[test]
fn a_server_that_never_answers_times_out() {
    if !have("python3", "a_server_that_never_answers_times_out") {
        return;
    }
    let silent = Server::start(&["silent"]);
    let url = silent.url("/");
    let started = Instant::now();
    let run = fetch(&["--timeout", "1", &url], None);
    assert_eq!(run.code, Some(1));
    let line = run.line(&url);
    assert!(
        line.starts_with("ERR") && line.contains("timed out after 1s"),
        "{line}"
    );
    // The run ends at about the timeout, not when the server gives up (it never does); the
    // bound is generous for a loaded machine.
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn connections_the_server_closed_after_a_response_are_not_reused() {
    if !have(
        "python3",
        "connections_the_server_closed_after_a_response_are_not_reused",
    ) {
        return;
    }
    let server = Server::start(&["closing"]);
    let urls: Vec<String> = (0..5).map(|i| server.url(&format!("/{i}"))).collect();
    let mut args = vec!["-c", "1"];
    args.extend(urls.iter().map(String::as_str));
    let run = fetch(&args, None);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    for url in &urls {
        assert_eq!(run.result(url), ("200".into(), Some(3)));
    }
    let (connections, _) = run.summary_numbers();
    assert_eq!(
        connections, 5,
        "one connection per request: the server closes each"
    );
}

#[test]
fn bad_urls_unknown_hosts_and_refused_connections_fail_clearly() {
    if !have(
        "python3",
        "bad_urls_unknown_hosts_and_refused_connections_fail_clearly",
    ) {
        return;
    }
    let good = Server::start(&["tricks"]);
    let ok = good.url("/");
    let refused = format!("http://127.0.0.1:{}/", closed_port());
    // `.invalid` is reserved: it never resolves (RFC 6761).
    let unknown = "http://no-such-host.invalid/";
    let run = fetch(
        &["not-a-url", "ftp://127.0.0.1/x", unknown, &refused, &ok],
        None,
    );
    assert_eq!(run.code, Some(1));
    assert_eq!(run.result(&ok).0, "200");
    assert!(run.line("not-a-url").contains("malformed URL"));
    assert!(run
        .line("ftp://127.0.0.1/x")
        .contains("unsupported scheme \"ftp\""));
    // The resolver says "no such name" at once; one that cannot reach its DNS server may
    // wait past the timeout instead: either way that URL alone fails, with a reason.
    let line = run.line(unknown);
    assert!(
        line.starts_with("ERR")
            && (line.contains("connect to no-such-host.invalid:80") || line.contains("timed out")),
        "{line}"
    );
    assert!(
        run.line(&refused).to_lowercase().contains("refused"),
        "{}",
        run.line(&refused)
    );
    assert!(run.stdout.contains("1 ok, 4 failed"), "{}", run.stdout);
}

#[test]
fn a_huge_concurrency_limit_is_fine() {
    let run = fetch(&["-c", &usize::MAX.to_string(), "not-a-url"], None);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.line("not-a-url").contains("malformed URL"));
}

#[test]
fn usage_errors_exit_with_2() {
    let missing = "/nonexistent/goro-http-fetch-list";
    for args in [
        &["-c", "0", "http://127.0.0.1/"][..],
        &["--no-such-option"],
        &["--timeout", "soon", "http://127.0.0.1/"],
        &["-f", missing],
        &["--cacert", missing, "http://127.0.0.1/"],
    ] {
        let run = fetch(args, None);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.is_empty(), "{args:?} says why");
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    let empty = fetch(&["-f", "-"], Some("# nothing\n\n"));
    assert_eq!(empty.code, Some(2), "{}", empty.stderr);
}

#[test]
fn https_with_a_self_signed_certificate_needs_cacert() {
    let name = "https_with_a_self_signed_certificate_needs_cacert";
    if !have("python3", name) || !have("openssl", name) {
        return;
    }
    let dir = TempDir::new("tls");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let root = TempDir::new("tls-root");
    let body = pattern(70_000, 9);
    std::fs::write(root.path().join("secret.bin"), &body).unwrap();
    let server = Server::start(&[
        "tls",
        cert.to_str().unwrap(),
        key.to_str().unwrap(),
        root.str(),
    ]);
    let url = format!("https://localhost:{}/secret.bin", server.port);

    let run = fetch(&[&url], None);
    assert_eq!(run.code, Some(1));
    let line = run.line(&url);
    assert!(
        line.starts_with("ERR") && line.contains("TLS handshake with localhost"),
        "{line}"
    );
    assert!(line.contains("UnknownIssuer"), "{line}");

    let out = TempDir::new("tls-out");
    let run = fetch(
        &["--cacert", cert.to_str().unwrap(), "-o", out.str(), &url],
        None,
    );
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.result(&url), ("200".into(), Some(body.len() as u64)));
    let saved = std::fs::read(
        out.path()
            .join(format!("localhost_{}_secret.bin", server.port)),
    )
    .unwrap();
    assert_eq!(saved, body);
}
