//! What the seed-concept examples measure about their own process (Linux `/proc`), and a
//! table printer. Shared by the examples with `mod common;`; not an example itself.

#![allow(dead_code)]

use std::time::Duration;

/// The process's OS thread count (`Threads:` of `/proc/self/status`), if known.
pub fn os_threads() -> Option<usize> {
    status_field("Threads:")
}

/// The process's resident memory in KiB (`VmRSS:` of `/proc/self/status`), if known.
pub fn rss_kib() -> Option<usize> {
    status_field("VmRSS:")
}

/// CPU time (user + system) this process has used so far, every thread included, also
/// threads that have exited.
pub fn cpu_time() -> Option<Duration> {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Some(Duration::new(t.tv_sec as u64, t.tv_nsec as u32))
}

fn status_field(name: &str) -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

/// Formats an optional count for printing ("?" where `/proc` is missing).
pub fn show(value: Option<usize>) -> String {
    value.map_or_else(|| "?".to_string(), |v| v.to_string())
}

/// The machine's hardware threads.
pub fn hardware_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The worker count goro's default runtime gets here (`GORO_MAXPROCS`, else the hardware
/// threads), read from a runtime built the same way.
pub fn default_workers() -> usize {
    goro::Builder::new()
        .build()
        .map_or(0, |rt| rt.worker_threads())
}

/// A runtime with `workers` worker threads.
pub fn runtime(workers: usize) -> goro::Runtime {
    goro::Builder::new()
        .worker_threads(workers)
        .build()
        .expect("could not start a goro runtime")
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// Nanoseconds per operation.
pub fn ns_per(d: Duration, ops: usize) -> f64 {
    d.as_secs_f64() * 1e9 / ops as f64
}

/// Prints rows under a header, each column padded to its widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("  {}", padded.join("  ").trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    line(widths.iter().map(|w| "-".repeat(*w)).collect());
    for row in rows {
        line(row.clone());
    }
}
