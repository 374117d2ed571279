//! The child side of the harness, shared by the child binaries through `#[path]`: each
//! binary is built with its own global allocator and runs the same workloads. Built with
//! the `goro-only` feature (goro's children), everything about tokio and smol is left out;
//! the imports only they use are then unused.
#![cfg_attr(feature = "goro-only", allow(unused_imports))]

mod channels;
mod contenders;
mod locks;
mod net;
mod sync_workloads;
mod workloads;

pub use net::hold_connections;

use std::io::Write;
use std::process;
use std::thread;

use goro_benches::child::{parse_args, result_line, Invocation, WATCHDOG};
use goro_benches::{machine, Allocator, Contender, Mode, Workload};

use channels::Channels;
use contenders::Goro;
#[cfg(not(feature = "goro-only"))]
use contenders::{Smol, Tokio};
use locks::Locks;

/// The `main` of a child binary, `name`, whose global allocator is `allocator`: measures as
/// `--child` says, or holds connections for `idle_conns`; run without arguments it only says
/// what it is.
#[allow(dead_code)] // `compare` is the parent and has a `main` of its own
pub fn child_binary_main(allocator: Allocator, name: &str) {
    match parse_args(std::env::args().skip(1)) {
        Ok(Invocation::Child(workload, runtime)) => child_main(allocator, workload, runtime),
        Ok(Invocation::Parent) => eprintln!(
            "{name} is a child of the harness; run \
             `cargo bench -p goro-rt-benches --bench compare` instead"
        ),
        Err(usage) => {
            eprintln!("{usage}");
            process::exit(2);
        }
        Ok(Invocation::HoldConnections(to)) => hold_connections(to),
    }
}

/// Measures `workload` on `runtime` once and prints the result line; the process runs on
/// `allocator` (the caller's global allocator). Any panic, in a task or not, aborts the
/// process, and so does a run longer than [`WATCHDOG`].
pub fn child_main(allocator: Allocator, workload: Workload, runtime: Contender) {
    start_watchdog(workload, runtime);
    abort_on_panic();
    let workers = workload.workers(machine::cores());
    let size = workload.size(Mode::from_env());
    let value = match runtime {
        Contender::Goro => measure::<Goro>(workload, size, workers),
        #[cfg(not(feature = "goro-only"))]
        Contender::Tokio => measure::<Tokio>(workload, size, workers),
        #[cfg(not(feature = "goro-only"))]
        Contender::Smol => measure::<Smol>(workload, size, workers),
        #[cfg(feature = "goro-only")]
        Contender::Tokio | Contender::Smol => {
            eprintln!("this binary measures goro only: {runtime} is measured by `compare`");
            process::exit(2);
        }
        Contender::Go => {
            eprintln!(
                "the go column is measured by the program of benches/go/, not by this binary"
            );
            process::exit(2);
        }
    };
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(
        stdout,
        "{}",
        result_line(allocator, workload, runtime, value)
    );
    let _ = stdout.flush();
}

/// Starts the runtime, measures, then shuts the runtime down (a hang there fails too).
fn measure<R: Locks + Channels>(
    workload: Workload,
    size: goro_benches::plan::Size,
    workers: usize,
) -> f64 {
    let rt = R::start(workers);
    let value = workloads::run(&rt, workload, size, workers);
    // On stderr, so a failure report shows it if the shutdown below hangs or crashes.
    eprintln!(
        "measured {value} {}; shutting the runtime down",
        workload.unit()
    );
    drop(rt);
    value
}

/// Aborts the process after [`WATCHDOG`], so a hang fails the measurement.
fn start_watchdog(workload: Workload, runtime: Contender) {
    let watchdog = thread::Builder::new().name("goro-bench-watchdog".into());
    let started = watchdog.spawn(move || {
        thread::sleep(WATCHDOG);
        eprintln!(
            "watchdog: {workload} on {runtime} still running after {} s; aborting",
            WATCHDOG.as_secs()
        );
        process::abort();
    });
    started.expect("cannot start the watchdog thread");
}

/// Makes every panic, including one inside a runtime's task (which the runtime would catch
/// and turn into a join error nobody awaits), print its message and abort.
fn abort_on_panic() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        // Again as the last line, which the parent's failure report is sure to keep even
        // when a backtrace (RUST_BACKTRACE) came before it.
        eprintln!("child panicked: {info}");
        process::abort();
    }));
}
