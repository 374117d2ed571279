//! goro beside tokio and smol: regenerates `BENCHMARKS.md` at the workspace root.
//!
//! ```sh
//! cargo bench -p goro-rt-benches --bench compare                        # full run, 5–10 minutes
//! GORO_BENCH_QUICK=1 cargo bench -p goro-rt-benches --bench compare     # smoke test
//! GORO_BENCH_ONLY=sleepers,yield_many cargo bench -p goro-rt-benches --bench compare
//! ```
//!
//! This binary is the parent. It builds itself and `compare_mimalloc` with one cargo call,
//! and goro's children (`src/bin/`, the same workloads built with goro alone, so that cargo
//! does not unify goro's dependencies with smol's: see `src/artifacts.rs`) with another,
//! then for each repetition, workload, runtime and allocator runs one child process (for
//! tokio and smol this binary on the system allocator, `compare_mimalloc` on mimalloc; for
//! goro `goro-bench-child` and `goro-bench-child-mimalloc`) and collects its
//! number. Full runs write `BENCHMARKS.md`, keeping its hand-written notes; quick or
//! filtered runs only print the tables, unless `GORO_BENCH_OUT` names a file to write.
//! A failed measurement is reported in the tables and makes the run exit non-zero.
//!
//! A single measurement can be run by hand with the binary cargo built, e.g.
//! `target/release/deps/compare-HASH --child sleepers smol` or
//! `target/release/goro-bench-child --child sleepers goro`.

#[path = "shared/mod.rs"]
mod shared;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use goro_benches::artifacts::{self, Executables};
use goro_benches::child::{parse_args, Invocation};
use goro_benches::go::GoProgram;
use goro_benches::machine::{self, lock_version};
use goro_benches::plan::{select_workloads, ONLY_ENV};
use goro_benches::report::{self, format_number, Facts, Results, Sample};
use goro_benches::{child, Allocator, Contender, Mode, Workload};

/// The command that regenerates `BENCHMARKS.md`, as the report shows it.
const COMMAND: &str = "cargo bench -p goro-rt-benches --bench compare";

/// Environment variable naming a file to write the report to instead of `BENCHMARKS.md`;
/// set, it is written even in quick or filtered runs.
const OUT_ENV: &str = "GORO_BENCH_OUT";

/// The peer crates whose versions the report lists (read from `Cargo.lock`).
const PEER_CRATES: [&str; 7] = [
    "tokio",
    "smol",
    "async-executor",
    "async-io",
    "blocking",
    "async-channel",
    "async-lock",
];

fn main() {
    match parse_args(std::env::args().skip(1)) {
        Ok(Invocation::Child(workload, runtime)) => {
            shared::child_main(Allocator::System, workload, runtime)
        }
        Ok(Invocation::Parent) => {
            if let Err(why) = parent() {
                eprintln!("compare: {why}");
                std::process::exit(1);
            }
        }
        Err(usage) => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
        Ok(Invocation::HoldConnections(to)) => shared::hold_connections(to),
    }
}

/// The workspace root (the bench package lives in its `benches/` folder).
fn workspace_root() -> PathBuf {
    let package = Path::new(env!("CARGO_MANIFEST_DIR"));
    package.parent().unwrap_or(package).to_path_buf()
}

fn parent() -> Result<(), String> {
    let mode = Mode::from_env();
    let workloads = select_workloads(std::env::var(ONLY_ENV).ok().as_deref())?;
    let started = Instant::now();
    let (date, load_before) = (machine::date_utc(), machine::load_average());
    eprintln!("compare: building the child binaries (tokio and smol; goro alone), each on the system allocator and mimalloc");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let exes = artifacts::build(&manifest).map_err(|e| e.to_string())?;
    let go = build_go(&exes, &workloads)?;
    let results = run_all(&exes, go.as_ref(), mode, &workloads);
    let facts = Facts {
        command: COMMAND.into(),
        date,
        load_before,
        load_after: machine::load_average(),
        duration: started.elapsed(),
        mode,
        go: go_fact(go.as_ref(), &workloads),
        ..machine_facts()
    };
    let generated = report::render(&facts, &results);
    println!("{generated}");
    write_report(&generated, mode, workloads.len() == Workload::ALL.len())?;
    match results.failures().len() {
        0 => Ok(()),
        n => Err(format!(
            "{n} measurement(s) failed; see the Failures section"
        )),
    }
}

/// Builds the Go program (`go/`) next to the bench binaries, if a workload with a Go version
/// is selected and `go` is installed.
fn build_go(exes: &Executables, workloads: &[Workload]) -> Result<Option<GoProgram>, String> {
    let Some(dir) = exes.dir() else {
        return Ok(None);
    };
    if !workloads.iter().any(|w| w.in_go()) {
        return Ok(None);
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("go");
    eprintln!(
        "compare: building {} if `go` is installed",
        source.display()
    );
    GoProgram::build(&source, &dir.join("goro-bench-go")).map_err(|e| e.to_string())
}

/// What the report says about Go.
fn go_fact(go: Option<&GoProgram>, workloads: &[Workload]) -> String {
    match go {
        Some(go) => go.version().to_string(),
        None if workloads.iter().any(|w| w.in_go()) => {
            "not installed (`go` is not on PATH): the go column is empty".into()
        }
        None => "not needed (no workload with a Go version selected)".into(),
    }
}

/// Runs one child: `c`'s measurement of `w` on allocator `a`, with the bench binary `exe`
/// or, for Go, the Go program.
fn run_child(
    exe: &Path,
    go: Option<&GoProgram>,
    mode: Mode,
    (w, c, a): (Workload, Contender, Allocator),
) -> Result<f64, String> {
    match (c, go) {
        (Contender::Go, Some(go)) => {
            child::run_command(go.command(w, a, mode, machine::cores()), a, w, c)
        }
        _ => child::run(exe, a, w, c),
    }
}

/// Runs every child: repetitions outermost, allocators innermost, so that a slow stretch
/// of the shared machine lands on every runtime and allocator alike. Go runs only the
/// workloads it can express, and only where it is installed.
fn run_all(
    exes: &Executables,
    go: Option<&GoProgram>,
    mode: Mode,
    workloads: &[Workload],
) -> Results {
    let mut results = Results::new();
    let reps = mode.reps();
    for rep in 1..=reps {
        for &w in workloads {
            for c in Contender::ALL {
                if c == Contender::Go && (go.is_none() || !w.in_go()) {
                    continue;
                }
                for a in Allocator::ALL {
                    let exe = exes.for_child(c, a);
                    let background = child::wait_for_quiet();
                    let start = Instant::now();
                    let value = run_child(exe, go, mode, (w, c, a));
                    let shown = match &value {
                        Ok(v) => format!("{} {}", format_number(*v), w.unit()),
                        Err(why) => format!("FAILED: {why}"),
                    };
                    let busy = background.map_or(-1.0, |b| b * 100.0);
                    eprintln!(
                        "[{rep}/{reps}] {w:<22} {c:<5} {a:<8} {shown}  ({:.1} s, others used {busy:.0}% CPU before)",
                        start.elapsed().as_secs_f64()
                    );
                    results.record(w, c, a, Sample { value, background });
                }
            }
        }
    }
    results
}

/// Facts that do not depend on the run.
fn machine_facts() -> Facts {
    let lock = fs::read_to_string(workspace_root().join("Cargo.lock")).unwrap_or_default();
    let version = |name: &str| lock_version(&lock, name).unwrap_or_else(|| machine::UNKNOWN.into());
    let peers = PEER_CRATES
        .iter()
        .map(|name| format!("{name} {}", version(name)))
        .collect::<Vec<_>>()
        .join(", ");
    let allocators = vec![
        (
            Allocator::System,
            format!("{} malloc (Rust's `System`)", machine::libc_version()),
        ),
        (
            Allocator::Mimalloc,
            format!(
                "mimalloc crate {} (libmimalloc-sys {}), as `#[global_allocator]`",
                version("mimalloc"),
                version("libmimalloc-sys")
            ),
        ),
    ];
    Facts {
        command: String::new(),
        date: String::new(),
        revision: machine::git_revision(&workspace_root()),
        cpu: machine::cpu_model(),
        cores: machine::cores(),
        workers: machine::cores(),
        memory: machine::memory_total(),
        kernel: machine::kernel(),
        rustc: machine::rustc_version(),
        allocators,
        peers,
        go: String::new(),
        load_before: String::new(),
        load_after: String::new(),
        mode: Mode::Full,
        duration: Default::default(),
    }
}

/// Writes the report where it belongs: `GORO_BENCH_OUT` if set, else `BENCHMARKS.md` for a
/// complete full run, else nowhere.
fn write_report(generated: &str, mode: Mode, complete: bool) -> Result<(), String> {
    let path = match std::env::var_os(OUT_ENV) {
        Some(path) => PathBuf::from(path),
        None if mode == Mode::Full && complete => workspace_root().join("BENCHMARKS.md"),
        None => {
            eprintln!("compare: quick or filtered run; BENCHMARKS.md left unchanged");
            return Ok(());
        }
    };
    let previous = fs::read_to_string(&path).ok();
    let text = report::splice(generated, previous.as_deref());
    fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("compare: wrote {}", path.display());
    Ok(())
}
