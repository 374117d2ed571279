//! Facts about this machine and process: CPU, kernel, memory, load, toolchain, RSS.
//!
//! Linux only: everything is read from `/proc` or from a command's output. A fact that
//! cannot be read is reported as `unknown` rather than failing the run; the RSS and thread
//! count the workloads measure are the exception, and their errors are returned.

use std::fs;
use std::io;
use std::path::Path;
use std::process::Command;

/// Placeholder for a fact that could not be read.
pub const UNKNOWN: &str = "unknown";

/// The resident set size of this process in bytes (`VmRSS` of `/proc/self/status`).
///
/// ```
/// assert!(goro_benches::machine::rss_bytes().unwrap() > 0);
/// ```
///
/// # Errors
///
/// If `/proc/self/status` cannot be read or has no `VmRSS` line.
pub fn rss_bytes() -> io::Result<u64> {
    let status = fs::read_to_string("/proc/self/status")?;
    parse_vm_rss(&status).ok_or_else(|| io::Error::other("no VmRSS line in /proc/self/status"))
}

/// The `VmRSS` of a `/proc/PID/status` text, in bytes.
fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The number of OS threads of this process (`Threads` of `/proc/self/status`).
///
/// ```
/// assert!(goro_benches::machine::thread_count().unwrap() >= 1);
/// ```
///
/// # Errors
///
/// If `/proc/self/status` cannot be read or has no `Threads` line.
pub fn thread_count() -> io::Result<usize> {
    let status = fs::read_to_string("/proc/self/status")?;
    parse_threads(&status).ok_or_else(|| io::Error::other("no Threads line in /proc/self/status"))
}

/// The `Threads` of a `/proc/PID/status` text.
fn parse_threads(status: &str) -> Option<usize> {
    let line = status.lines().find(|l| l.starts_with("Threads:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Cumulative CPU time of the whole machine from the `cpu` line of a `/proc/stat` text, as
/// `(busy, total)` clock ticks; idle and iowait are the only non-busy states.
fn parse_cpu_ticks(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is
    // already counted in user and nice, so only the first eight add up to the total.
    let total: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3)? + ticks.get(4).unwrap_or(&0);
    Some((total - idle, total))
}

/// The fraction (0 to 1) of all CPUs busy during `window`, whoever used them: before a
/// measurement, while this process is idle, it is the load of everything else.
pub fn cpu_busy(window: std::time::Duration) -> Option<f64> {
    let read = || parse_cpu_ticks(&fs::read_to_string("/proc/stat").ok()?);
    let (busy0, total0) = read()?;
    std::thread::sleep(window);
    let (busy1, total1) = read()?;
    let total = total1.checked_sub(total0).filter(|&t| t > 0)?;
    Some(busy1.saturating_sub(busy0) as f64 / total as f64)
}

/// The CPU model name of the first processor in `/proc/cpuinfo`.
pub fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| UNKNOWN.into())
}

/// The number of logical CPUs this process may run on.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Total memory from `/proc/meminfo`, in GiB with one decimal.
pub fn memory_total() -> String {
    fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(format!("{:.1} GiB", kib / (1024.0 * 1024.0)))
        })
        .unwrap_or_else(|| UNKNOWN.into())
}

/// The kernel, `Linux X.Y.Z`, from `/proc/version` (without the compiler details).
pub fn kernel() -> String {
    fs::read_to_string("/proc/version")
        .ok()
        .and_then(|v| {
            let mut words = v.split_whitespace();
            let (os, _, release) = (words.next()?, words.next()?, words.next()?);
            Some(format!("{os} {release}"))
        })
        .unwrap_or_else(|| UNKNOWN.into())
}

/// The 1, 5 and 15 minute load averages from `/proc/loadavg`.
pub fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|v| v.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| UNKNOWN.into())
}

/// The first line `program args…` prints, if it runs and succeeds.
pub fn command_line(program: &str, args: &[&str], dir: Option<&Path>) -> Option<String> {
    let mut command = Command::new(program);
    command.args(args);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let out = command.output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().next().map(|l| l.trim().to_string())
}

/// `rustc --version` of the toolchain cargo used (`RUSTC` if set, else `rustc`).
pub fn rustc_version() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    command_line(&rustc, &["--version"], None).unwrap_or_else(|| UNKNOWN.into())
}

/// The C library's name and version (`getconf GNU_LIBC_VERSION`), e.g. `glibc 2.41`.
pub fn libc_version() -> String {
    command_line("getconf", &["GNU_LIBC_VERSION"], None).unwrap_or_else(|| UNKNOWN.into())
}

/// The current UTC date and time, `YYYY-MM-DD HH:MM UTC`.
pub fn date_utc() -> String {
    command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"], None).unwrap_or_else(|| UNKNOWN.into())
}

/// The git revision of the checkout at `dir`, with `+ uncommitted changes` when dirty.
pub fn git_revision(dir: &Path) -> String {
    let Some(rev) = command_line("git", &["rev-parse", "--short", "HEAD"], Some(dir)) else {
        return UNKNOWN.into();
    };
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .current_dir(dir)
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    if dirty {
        format!("{rev} + uncommitted changes")
    } else {
        rev
    }
}

/// The version of package `name` in a `Cargo.lock` text (the first entry, if several).
///
/// ```
/// let lock = "[[package]]\nname = \"tokio\"\nversion = \"1.54.1\"\n";
/// assert_eq!(goro_benches::machine::lock_version(lock, "tokio").as_deref(), Some("1.54.1"));
/// assert_eq!(goro_benches::machine::lock_version(lock, "smol"), None);
/// ```
pub fn lock_version(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    lines.find(|l| l.trim() == wanted)?;
    let version = lines.next()?.trim().strip_prefix("version = ")?;
    Some(version.trim_matches('"').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_rss_is_read_in_bytes() {
        let status = "Name:\tx\nVmPeak:\t  9 kB\nVmRSS:\t    1234 kB\nThreads: 1\n";
        assert_eq!(parse_vm_rss(status), Some(1234 * 1024));
        assert_eq!(parse_vm_rss("Name: x\n"), None);
    }

    #[test]
    fn threads_are_read_as_a_count() {
        let status = "Name:\tx\nVmRSS:\t    1234 kB\nThreads:\t7\n";
        assert_eq!(parse_threads(status), Some(7));
        assert_eq!(parse_threads("Name: x\n"), None);
    }

    #[test]
    fn cpu_ticks_leave_out_idle_and_guest_time() {
        let stat = "cpu  10 0 5 80 5 0 0 0 7 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n";
        assert_eq!(parse_cpu_ticks(stat), Some((15, 100)));
    }

    #[test]
    fn lock_version_skips_similar_names() {
        let lock = "[[package]]\nname = \"tokio-macros\"\nversion = \"2.0.0\"\n\n\
                    [[package]]\nname = \"tokio\"\nversion = \"1.2.3\"\n";
        assert_eq!(lock_version(lock, "tokio").as_deref(), Some("1.2.3"));
    }
}
