//! Every seed-concept example builds (release), runs to its end within a time limit, and prints
//! what it measured; where a relation holds on any machine, however loaded, it is checked.
//!
//! It builds the examples in a target directory of its own (`target/examples-test`), so it
//! can run while cargo holds the main one. It takes a few minutes, so a plain `cargo test`
//! skips it; CI runs it:
//!
//! ```sh
//! cargo test -p goro-rt --test examples -- --ignored
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The seed's 21 concepts, in its order.
const SEED_EXAMPLES: [&str; 21] = [
    "concurrency",
    "parallelism",
    "os-scheduler",
    "time-slice",
    "cpu-vs-io",
    "scheduler-period",
    "context-switch",
    "cpu-bound",
    "io-bound",
    "logical-processor",
    "machine",
    "goroutine",
    "network-poller",
    "work-stealing",
    "io-to-cpu",
    "spawn",
    "synchronization",
    "orchestration",
    "waitgroup",
    "data-races",
    "right-primitive",
];

/// How long one example may run (each takes seconds; this is for a loaded machine).
const RUN_LIMIT: Duration = Duration::from_secs(180);

fn build_examples() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = root.join("target").join("examples-test");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--release",
            "--examples",
            "-p",
            "goro-rt",
            "--features",
            "hyper",
        ])
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .expect("run cargo build");
    assert!(status.success(), "building the examples failed");
    target.join("release").join("examples")
}

/// Runs one example binary; returns its standard output. Fails on a non-zero exit or a hang.
fn run(dir: &Path, name: &str) -> String {
    let mut child = Command::new(dir.join(name))
        .env_remove("GORO_MAXPROCS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{name}: could not start: {e}"));
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if start.elapsed() > RUN_LIMIT {
            let _ = child.kill(); // our own child, by PID
            let _ = child.wait();
            panic!("{name}: still running after {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name}: exit {}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The first number (digits, one optional dot) after `marker` on the line holding it.
fn number_after(out: &str, marker: &str) -> f64 {
    let line = out
        .lines()
        .find(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("no line with {marker:?} in:\n{out}"));
    let rest = &line[line.find(marker).unwrap() + marker.len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number after {marker:?} in {line:?}"))
}

/// The whitespace-separated cells of the first line that starts (after spaces) with `first`.
fn row<'a>(out: &'a str, first: &str) -> Vec<&'a str> {
    out.lines()
        .map(str::trim_start)
        .find(|l| l.starts_with(first))
        .unwrap_or_else(|| panic!("no row starting {first:?} in:\n{out}"))
        .split_whitespace()
        .collect()
}

/// A `Duration`'s `Debug` text (`200.1ms`, `3.2µs`, `1.5s`) in milliseconds.
fn duration_ms(text: &str) -> f64 {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or_else(|| panic!("no unit in {text:?}"));
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().unwrap_or_else(|_| panic!("{text:?}"));
    value
        * match unit {
            "ns" => 1e-6,
            "µs" => 1e-3,
            "ms" => 1.0,
            "s" => 1e3,
            _ => panic!("unit {unit:?} in {text:?}"),
        }
}

/// Checks the relations that hold on any machine; `out` is the example's output.
fn check(name: &str, out: &str) {
    match name {
        "concurrency" => {
            assert!(number_after(out, "over 200 runs:") >= 1.0);
        }
        "os-scheduler" => {
            // 10,000 sleeps of 100 ms overlap: far below 10 x 100 ms, let alone 1,000 s.
            let cells = row(out, "10000 goro tasks");
            let wall: f64 = cells[3].parse().expect("wall ms");
            assert!(wall < 1_000.0, "10k sleepers took {wall} ms");
        }
        "context-switch" => {
            assert_eq!(row(out, "goro::sync::Mutex").last(), Some(&"1000000"));
        }
        "cpu-bound" => {
            assert_eq!(
                out.matches("matches").count(),
                3,
                "a layout's product was wrong"
            );
        }
        "io-bound" => {
            for in_flight in ["100 ", "1000 "] {
                let cells = row(out, in_flight);
                assert_eq!(cells[2], "0", "failed connections at {in_flight}in flight");
            }
        }
        "goroutine" => {
            let cells = row(out, "1000000  none");
            let per_task: f64 = cells[cells.len() - 2].parse().expect("bytes per task");
            assert!(per_task < 2048.0, "{per_task} bytes per parked task");
        }
        "network-poller" => {
            assert_eq!(row(out, "10000")[0], "10000", "round trips lost");
        }
        "synchronization" => {
            assert!(out.contains("every value right: true"));
        }
        "orchestration" => {
            assert!(out.contains("sum 338350, expected 338350"));
            assert!(out.contains("is_closed() = false"));
            assert!(out.contains("goro reported after"), "{out}");
            assert!(out.contains("all tasks are asleep - deadlock!"), "{out}");
        }
        "waitgroup" => {
            assert_eq!(row(out, "before spawn (correct)")[3], "0");
        }
        "data-races" => {
            let fix = row(out, "under one guard (the fix)");
            assert_eq!(fix[fix.len() - 2..], ["50", "0"]);
        }
        "right-primitive" => {
            assert!(out.contains("the initialiser ran 1 time(s)"));
            assert!(out.contains("it ran 1 time(s)"));
        }
        "machine" => {
            // The stall of a task queued behind a worker blocked for 200 ms, per
            // (workers, monitor) row.
            let stalls: Vec<f64> = out
                .lines()
                .filter(|l| l.contains("(std::thread::sleep in the task)"))
                .map(|l| duration_ms(l.split_whitespace().last().expect("a duration")))
                .collect();
            assert_eq!(stalls.len(), 3, "{out}");
            assert!(
                stalls[0] >= 150.0,
                "one worker, monitor off: {} ms\n{out}",
                stalls[0]
            );
            assert!(
                stalls[1] < 180.0,
                "one worker, monitor on: {} ms\n{out}",
                stalls[1]
            );
            assert!(stalls[2] < 180.0, "two workers: {} ms\n{out}", stalls[2]);
            assert!(out.contains("the monitor reported:"), "{out}");
            assert!(out.contains("held worker 0 for"), "{out}");
        }
        "work-stealing" => {
            assert!(out.contains("tasks stolen"));
        }
        _ => {}
    }
}

#[test]
#[ignore = "builds every example in release and runs each: `cargo test -p goro-rt --test examples -- --ignored`"]
fn every_seed_example_runs_and_prints_its_measurements() {
    let dir = build_examples();
    let mut failures = Vec::new();
    for name in SEED_EXAMPLES {
        let started = Instant::now();
        let result = std::panic::catch_unwind(|| {
            let out = run(&dir, name);
            assert!(
                out.lines()
                    .filter(|l| l.chars().any(|c| c.is_ascii_digit()))
                    .count()
                    >= 2,
                "{name} printed no measurements:\n{out}"
            );
            check(name, &out);
        });
        eprintln!("{name}: {:?} in {:?}", result.is_ok(), started.elapsed());
        if result.is_err() {
            failures.push(name);
        }
    }
    assert!(failures.is_empty(), "examples that failed: {failures:?}");
}
