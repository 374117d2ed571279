//! The results of a run and the `BENCHMARKS.md` they become.
//!
//! The file has a generated part (command, machine, one table per allocator, misses, raw
//! samples, failures) and, below [`NOTES_MARKER`], notes written by hand. Regenerating
//! replaces the first and keeps the second ([`splice`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::child::QUIET_BELOW;
use crate::plan::{Allocator, Contender, Mode, Workload};
use crate::stats::median;

/// The mark of a sample taken while other processes kept the CPUs busy.
const BUSY_MARK: &str = "†";

/// One repetition of one measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The measured value, or why the child failed.
    pub value: Result<f64, String>,
    /// The fraction of all CPUs other processes kept busy just before the child started
    /// (`None` if unknown): the machine is shared, and the report says how much.
    pub background: Option<f64>,
}

impl Sample {
    /// A sample with no record of the background load.
    ///
    /// ```
    /// let s = goro_benches::report::Sample::of(Ok(1.0));
    /// assert_eq!(s.background, None);
    /// ```
    pub fn of(value: Result<f64, String>) -> Sample {
        Sample {
            value,
            background: None,
        }
    }

    fn busy(&self) -> bool {
        self.background.is_some_and(|b| b >= QUIET_BELOW)
    }
}

/// The line that separates the generated part of `BENCHMARKS.md` from the hand-written notes.
pub const NOTES_MARKER: &str = "<!-- Everything below this line is written by hand and kept \
    when the harness regenerates this file. -->";

/// The notes a new `BENCHMARKS.md` starts with.
const DEFAULT_NOTES: &str = "## Notes\n\n_For the core engineer: what the numbers mean, why \
    goro loses where it loses, what changed since the last run._\n";

/// Every sample of a run, keyed by workload, runtime and allocator.
#[derive(Debug, Default)]
pub struct Results {
    /// The samples of each measurement, in the order they were taken.
    cells: BTreeMap<(Workload, Contender, Allocator), Vec<Sample>>,
}

impl Results {
    /// An empty set of results.
    pub fn new() -> Results {
        Results::default()
    }

    /// Adds one sample.
    pub fn record(&mut self, w: Workload, c: Contender, a: Allocator, sample: Sample) {
        self.cells.entry((w, c, a)).or_default().push(sample);
    }

    /// The samples of one measurement.
    pub fn samples(&self, w: Workload, c: Contender, a: Allocator) -> &[Sample] {
        self.cells.get(&(w, c, a)).map_or(&[], Vec::as_slice)
    }

    /// The median of one measurement; `None` if it has no samples or any of them failed
    /// (a runtime that hangs one time in three has no honest median).
    ///
    /// ```
    /// use goro_benches::report::{Results, Sample};
    /// use goro_benches::{Allocator, Contender, Workload};
    ///
    /// let (w, c, a) = (Workload::SpawnMany, Contender::Goro, Allocator::System);
    /// let mut results = Results::new();
    /// for v in [3.0, 1.0, 2.0] {
    ///     results.record(w, c, a, Sample::of(Ok(v)));
    /// }
    /// assert_eq!(results.median(w, c, a), Some(2.0));
    /// results.record(w, c, a, Sample::of(Err("hung".into())));
    /// assert_eq!(results.median(w, c, a), None);
    /// ```
    pub fn median(&self, w: Workload, c: Contender, a: Allocator) -> Option<f64> {
        let values: Result<Vec<f64>, _> = self
            .samples(w, c, a)
            .iter()
            .map(|s| s.value.clone())
            .collect();
        values.ok().filter(|v| !v.is_empty()).map(|v| median(&v))
    }

    /// Every failed sample: `(workload, runtime, allocator, why)`.
    pub fn failures(&self) -> Vec<(Workload, Contender, Allocator, &str)> {
        let mut out = Vec::new();
        for (&(w, c, a), samples) in &self.cells {
            for why in samples.iter().filter_map(|s| s.value.as_ref().err()) {
                out.push((w, c, a, why.as_str()));
            }
        }
        out
    }

    /// How busy the machine was before the measurements, for the report.
    fn background(&self) -> String {
        let all: Vec<&Sample> = self.cells.values().flatten().collect();
        let seen: Vec<f64> = all.iter().filter_map(|s| s.background).collect();
        if seen.is_empty() {
            return "not measured".into();
        }
        let max = seen.iter().copied().fold(0.0, f64::max);
        let busy = all.iter().filter(|s| s.busy()).count();
        format!(
            "median {:.0}%, max {:.0}% of all CPUs; {busy} of {} measurements started with \
             ≥ {:.0}% in use (marked {BUSY_MARK} in Raw samples)",
            median(&seen) * 100.0,
            max * 100.0,
            all.len(),
            QUIET_BELOW * 100.0
        )
    }

    /// The workloads that have any sample, in table order.
    pub fn workloads(&self) -> Vec<Workload> {
        let mut seen: Vec<Workload> = self.cells.keys().map(|k| k.0).collect();
        seen.dedup();
        seen
    }
}

/// What the report says about the machine and the run.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The command that regenerates the report.
    pub command: String,
    /// When the run started.
    pub date: String,
    /// goro's git revision.
    pub revision: String,
    /// CPU model.
    pub cpu: String,
    /// Logical CPUs available to the process.
    pub cores: usize,
    /// Worker threads given to every runtime.
    pub workers: usize,
    /// Total memory.
    pub memory: String,
    /// Kernel version.
    pub kernel: String,
    /// `rustc --version`.
    pub rustc: String,
    /// What each allocator is, with versions.
    pub allocators: Vec<(Allocator, String)>,
    /// The peers' crate versions.
    pub peers: String,
    /// `go version`, or why the Go column is empty.
    pub go: String,
    /// Load average when the run started: the machine is shared.
    pub load_before: String,
    /// Load average when the run ended.
    pub load_after: String,
    /// Full run or smoke test.
    pub mode: Mode,
    /// How long the whole run took.
    pub duration: Duration,
}

/// A number as the tables show it: three significant digits or more, no exponent.
///
/// ```
/// use goro_benches::report::format_number;
///
/// assert_eq!(format_number(1312.4), "1312");
/// assert_eq!(format_number(49.96), "50.0");
/// assert_eq!(format_number(1.914), "1.91");
/// ```
pub fn format_number(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The median of one measurement as the tables show it: `–` when it was not measured (Go on
/// a workload it cannot express, or not installed), `FAILED` when a repetition failed.
fn cell(results: &Results, w: Workload, c: Contender, a: Allocator) -> String {
    if results.samples(w, c, a).is_empty() {
        return "–".into();
    }
    results
        .median(w, c, a)
        .map_or_else(|| "FAILED".into(), format_number)
}

fn ratio(goro: Option<f64>, peer: Option<f64>) -> String {
    match (goro, peer) {
        (Some(g), Some(p)) if p > 0.0 => format!("{:.2}", g / p),
        _ => "–".into(),
    }
}

/// The table of one allocator: one row per workload with goro, tokio, smol and Go medians,
/// the ratios, the target and whether goro meets it.
///
/// ```
/// use goro_benches::report::{table, Results, Sample};
/// use goro_benches::{Allocator, Contender, Workload};
///
/// let mut r = Results::new();
/// let a = Allocator::System;
/// r.record(Workload::YieldMany, Contender::Goro, a, Sample::of(Ok(40.0)));
/// r.record(Workload::YieldMany, Contender::Tokio, a, Sample::of(Ok(50.0)));
/// r.record(Workload::YieldMany, Contender::Smol, a, Sample::of(Ok(129.0)));
/// let t = table(&r, a);
/// assert!(t.contains("| yield_many | ns/yield | 40.0 | 50.0 | 129 | – | 0.80 | 0.31 | – | ≤ 0.8 × best peer | yes |"));
/// ```
pub fn table(results: &Results, a: Allocator) -> String {
    let mut out = String::from(
        "| workload | unit | goro | tokio | smol | go | goro/tokio | goro/smol | goro/go \
         | target | met? |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n",
    );
    for w in results.workloads() {
        let goro = results.median(w, Contender::Goro, a);
        let peers = Contender::PEERS.map(|c| results.median(w, c, a));
        let met = match w.target().met(goro, &peers) {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "?",
        };
        let [goro_cell, tokio, smol, go] = Contender::ALL.map(|c| cell(results, w, c, a));
        let [to_tokio, to_smol, to_go] = peers.map(|p| ratio(goro, p));
        let _ = writeln!(
            out,
            "| {w} | {} | {goro_cell} | {tokio} | {smol} | {go} | {to_tokio} | {to_smol} \
             | {to_go} | {} | {met} |",
            w.unit(),
            w.target().describe(),
        );
    }
    out
}

/// One line per row where goro misses its target, saying by how much.
fn misses(results: &Results) -> String {
    let mut out = String::new();
    for a in Allocator::ALL {
        for w in results.workloads() {
            let goro = results.median(w, Contender::Goro, a);
            let peers = Contender::PEERS.map(|c| results.median(w, c, a));
            if w.target().met(goro, &peers) != Some(false) {
                continue;
            }
            let goro = goro.unwrap_or_default();
            let _ = writeln!(
                out,
                "- {a}, {w}: goro {} {}, target {}{}",
                format_number(goro),
                w.unit(),
                w.target().describe(),
                best_peer_note(w, peers),
            );
        }
    }
    if out.is_empty() {
        out.push_str("- none\n");
    }
    out
}

/// ` (best peer: NAME VALUE)` for the peers' medians, in [`Contender::PEERS`] order.
fn best_peer_note(w: Workload, peers: [Option<f64>; 3]) -> String {
    let best = Contender::PEERS
        .into_iter()
        .zip(peers)
        .filter_map(|(c, v)| Some((c, v?)))
        .reduce(|x, y| match (x.1 < y.1) != w.higher_is_better() {
            true => x,
            false => y,
        });
    best.map_or_else(String::new, |(c, v)| {
        format!(" (best peer: {c} {})", format_number(v))
    })
}

fn machine_table(f: &Facts, results: &Results) -> String {
    let mut out = String::from("| fact | value |\n|---|---|\n");
    let mut row = |k: &str, v: &str| {
        let _ = writeln!(out, "| {k} | {v} |");
    };
    row("CPU", &f.cpu);
    row(
        "logical cores / workers per runtime",
        &format!("{} / {}", f.cores, f.workers),
    );
    row("memory", &f.memory);
    row("kernel", &f.kernel);
    row("rustc", &f.rustc);
    for (a, what) in &f.allocators {
        row(&format!("allocator `{a}`"), what);
    }
    row("peers", &f.peers);
    row("Go", &f.go);
    row("goro revision", &f.revision);
    row("load average (1/5/15 min) at start", &f.load_before);
    row("load average (1/5/15 min) at end", &f.load_after);
    row(
        "other processes' CPU use before each measurement",
        &results.background(),
    );
    row(
        "run",
        &format!(
            "{} repetition(s), median shown; {} min {} s in all",
            f.mode.reps(),
            f.duration.as_secs() / 60,
            f.duration.as_secs() % 60
        ),
    );
    out
}

fn raw_samples(results: &Results) -> String {
    let mut out = String::from(
        "| workload | allocator | goro | tokio | smol | go |\n|---|---|---|---|---|---|\n",
    );
    for w in results.workloads() {
        for a in Allocator::ALL {
            let cells = Contender::ALL.map(|c| {
                let s: Vec<String> = results
                    .samples(w, c, a)
                    .iter()
                    .map(|s| {
                        let value = s
                            .value
                            .as_ref()
                            .map_or_else(|_| "FAILED".into(), |v| format_number(*v));
                        if s.busy() {
                            format!("{value}{BUSY_MARK}")
                        } else {
                            value
                        }
                    })
                    .collect();
                if s.is_empty() {
                    "–".into()
                } else {
                    s.join(" / ")
                }
            });
            let [goro, tokio, smol, go] = cells;
            let _ = writeln!(out, "| {w} | {a} | {goro} | {tokio} | {smol} | {go} |");
        }
    }
    out
}

fn failures(results: &Results) -> String {
    let list = results.failures();
    if list.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n## Failures\n\n");
    for (w, c, a, why) in list {
        let _ = writeln!(out, "- {w} on {c} ({a}):\n\n```text\n{why}\n```\n");
    }
    out
}

fn how_to_read() -> String {
    let mut out = String::from(
        "Each number is the median of the repetitions; each repetition ran in a fresh \
         process, and the parent interleaved them (repetition → workload → runtime → \
         allocator) so that a slow moment of the shared machine hits every runtime alike. \
         Every runtime gets one worker thread per logical core, except in the `_1worker` rows, \
         where each gets one. The ratios divide goro's number by the peer's: below 1 is better \
         for times, bytes and threads, above 1 for the speedup and the rates (per second). \
         Numbers \"earlier on this machine\" were measured before, outside this harness; the \
         targets compare with the peers as measured here (tokio, smol and, where it ran, Go). \
         `FAILED` means a repetition crashed, hung or failed its own check (see Failures). \
         The `go` column is the same workload written in Go (`benches/go/`: goroutines, Go's \
         channels, `select`, `sync.Mutex`, `sync.WaitGroup`, its netpoller), with the same \
         sizes and checks, run with GOMAXPROCS = workers where `go` is installed; it shows \
         `–` where `go` is not installed and on the two rows Go cannot express \
         (`spawn_remote`, `blocking_pool`: see their descriptions). Go brings its own \
         allocator, so its column in each table is a separate set of runs of the same \
         program.\n\n",
    );
    for w in Workload::ALL {
        let _ = writeln!(out, "- `{w}` ({}): {}.", w.unit(), w.description());
    }
    out
}

/// The generated part of `BENCHMARKS.md`, ending with [`NOTES_MARKER`].
pub fn render(facts: &Facts, results: &Results) -> String {
    let mut out = String::from("# goro beside tokio and smol\n\n");
    if facts.mode == Mode::Quick {
        out.push_str("**Quick mode (smoke test): sizes ÷10, one repetition. Not a result.**\n\n");
    }
    let _ = write!(
        out,
        "Generated on {} by\n\n```sh\n{}\n```\n\n(run from the workspace root; it builds the \
         child binaries, tokio's and smol's in one build and goro's in another, with goro alone \
         in it, as a program using goro is built; runs every measurement and rewrites this file \
         above the notes).\n\n\
         ## Machine\n\n{}\n## How to read\n\n{}\n",
        facts.date,
        facts.command,
        machine_table(facts, results),
        how_to_read()
    );
    for a in Allocator::ALL {
        let _ = write!(out, "## Allocator: {a}\n\n{}\n", table(results, a));
    }
    let _ = write!(
        out,
        "## Rows where goro misses its target\n\n{}\n## Raw samples\n\n<details>\n<summary>\
         every repetition, in run order</summary>\n\n{}\n</details>\n{}\n{NOTES_MARKER}\n\n",
        misses(results),
        raw_samples(results),
        failures(results),
    );
    out
}

/// The new `BENCHMARKS.md`: `generated` followed by the hand-written notes of `previous`
/// (everything after its [`NOTES_MARKER`]), or by a notes template.
///
/// ```
/// use goro_benches::report::{splice, NOTES_MARKER};
///
/// let old = format!("old table\n{NOTES_MARKER}\n\n## Notes\nmine\n");
/// let new = splice(&format!("new table\n{NOTES_MARKER}\n\n"), Some(&old));
/// assert_eq!(new, format!("new table\n{NOTES_MARKER}\n\n## Notes\nmine\n"));
/// ```
pub fn splice(generated: &str, previous: Option<&str>) -> String {
    let kept = previous
        .and_then(|p| p.split_once(NOTES_MARKER))
        .map(|(_, notes)| notes.trim_start_matches('\n'))
        .filter(|notes| !notes.trim().is_empty())
        .unwrap_or(DEFAULT_NOTES);
    format!("{generated}{kept}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(results: &mut Results, w: Workload, a: Allocator, values: [f64; 3]) {
        for (c, v) in Contender::ALL.into_iter().zip(values) {
            results.record(w, c, a, Sample::of(Ok(v)));
        }
    }

    #[test]
    fn table_marks_a_missed_target_and_a_failure() {
        let mut r = Results::new();
        let a = Allocator::Mimalloc;
        full(&mut r, Workload::SpawnMany, a, [500.0, 1312.0, 453.0]);
        r.record(
            Workload::Sleepers,
            Contender::Goro,
            a,
            Sample::of(Err("hung".into())),
        );
        r.record(
            Workload::Sleepers,
            Contender::Tokio,
            a,
            Sample::of(Ok(249.0)),
        );
        r.record(
            Workload::Sleepers,
            Contender::Smol,
            a,
            Sample::of(Ok(153.0)),
        );
        let t = table(&r, a);
        assert!(t.contains("| spawn_many | ns/task | 500 | 1312 | 453 | – | 0.38 | 1.10 | – | ≤ 0.8 × best peer | **no** |"), "{t}");
        assert!(
            t.contains("| sleepers | ms wall | FAILED | 249 | 153 | – | – | – | – | ≤ 120 | ? |"),
            "{t}"
        );
    }

    #[test]
    fn speedup_row_compares_upwards() {
        let mut r = Results::new();
        let a = Allocator::System;
        full(&mut r, Workload::CpuParallel, a, [1.95, 1.91, 1.85]);
        assert!(table(&r, a).contains("| 1.95 | 1.91 | 1.85 | – | 1.02 | 1.05 | – | ≥ 1.9 | yes |"));
        let mut worse = Results::new();
        full(&mut worse, Workload::CpuParallel, a, [1.2, 1.91, 1.85]);
        assert!(misses(&worse).contains("(best peer: tokio 1.91)"));
    }

    #[test]
    fn go_counts_as_a_peer_where_it_was_measured() {
        let mut r = Results::new();
        let (w, a) = (Workload::TcpEcho, Allocator::System);
        full(&mut r, w, a, [90.0, 85.3, 70.4]);
        r.record(w, Contender::Go, a, Sample::of(Ok(79.8)));
        let t = table(&r, a);
        assert!(
            t.contains(
                "| 90.0 | 85.3 | 70.4 | 79.8 | 1.06 | 1.28 | 1.13 | ≥ 1.1 × best peer | **no** |"
            ),
            "{t}"
        );
        assert!(misses(&r).contains("(best peer: tokio 85.3)"));
        assert!(raw_samples(&r).contains("| tcp_echo | system | 90.0 | 85.3 | 70.4 | 79.8 |"));
    }

    #[test]
    fn busy_samples_are_marked_and_counted() {
        let mut r = Results::new();
        let (w, c, a) = (Workload::YieldMany, Contender::Goro, Allocator::System);
        r.record(
            w,
            c,
            a,
            Sample {
                value: Ok(50.0),
                background: Some(0.02),
            },
        );
        r.record(
            w,
            c,
            a,
            Sample {
                value: Ok(90.0),
                background: Some(0.6),
            },
        );
        assert!(raw_samples(&r).contains("| 50.0 / 90.0† |"));
        assert!(r.background().contains("1 of 2 measurements"));
    }

    #[test]
    fn splice_starts_notes_from_the_template() {
        let out = splice("gen\n", None);
        assert!(out.starts_with("gen\n## Notes"));
    }
}
