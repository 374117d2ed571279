//! Building the child binaries and finding their paths.
//!
//! Two cargo calls: one builds the bench targets `compare` and `compare_mimalloc` (one per
//! allocator), whose children run tokio and smol; the other builds goro's children,
//! `goro-bench-child` and `goro-bench-child-mimalloc`, with the `goro-only` feature, so that
//! goro is built as a program using goro alone builds it. In one call with smol, cargo would
//! unify the features of the crates both runtimes use (see `benches/Cargo.toml`). Each call
//! builds its pair from the same sources even if the tree changes while `cargo bench` runs;
//! cargo's JSON messages say where each executable is. Cargo is reached through the `CARGO`
//! variable it sets for the programs it runs.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::plan::{Allocator, Contender};

/// The executables of one harness run: for each allocator, the peers' and goro's.
#[derive(Debug, Clone)]
pub struct Executables {
    /// `compare`, `compare_mimalloc`: tokio and smol (and the parent itself).
    peers: BTreeMap<Allocator, PathBuf>,
    /// `goro-bench-child`, `goro-bench-child-mimalloc`.
    goro: BTreeMap<Allocator, PathBuf>,
}

impl Executables {
    /// The binary that measures `contender` on `allocator` (Go has its own program).
    pub fn for_child(&self, contender: Contender, allocator: Allocator) -> &Path {
        let set = match contender {
            Contender::Goro => &self.goro,
            _ => &self.peers,
        };
        &set[&allocator]
    }

    /// The directory the bench binaries were built in.
    pub fn dir(&self) -> Option<&Path> {
        self.peers.values().next().and_then(|exe| exe.parent())
    }
}

/// Builds every child binary of the package at `manifest` (a `Cargo.toml`) with the bench
/// profile.
///
/// # Errors
///
/// If cargo cannot be started, fails, or does not name an executable for every target.
pub fn build(manifest: &Path) -> io::Result<Executables> {
    let peers = cargo_build(manifest, &["bench", "--no-run"], "--bench", |a| {
        a.bench_target()
    })?;
    let goro = cargo_build(
        manifest,
        &["build", "--profile", "bench", "--features", "goro-only"],
        "--bin",
        Allocator::goro_target,
    )?;
    Ok(Executables { peers, goro })
}

/// One cargo call building `target(a)` (a `kind` target: `--bench`, `--bin`) for every
/// allocator `a`.
fn cargo_build(
    manifest: &Path,
    args: &[&str],
    kind: &str,
    target: impl Fn(Allocator) -> &'static str,
) -> io::Result<BTreeMap<Allocator, PathBuf>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(&cargo);
    command
        .args(args)
        .arg("--message-format=json-render-diagnostics");
    command.arg("--manifest-path").arg(manifest);
    for a in Allocator::ALL {
        command.args([kind, target(a)]);
    }
    let out = command.stderr(Stdio::inherit()).output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "`{cargo} {}` failed: {}",
            args.join(" "),
            out.status
        )));
    }
    let found = executables(&String::from_utf8_lossy(&out.stdout));
    let mut paths = BTreeMap::new();
    for a in Allocator::ALL {
        let path = found.get(target(a)).ok_or_else(|| {
            io::Error::other(format!("cargo built no executable for `{}`", target(a)))
        })?;
        paths.insert(a, path.clone());
    }
    Ok(paths)
}

/// Target name → executable, from cargo's `--message-format=json` output.
///
/// ```
/// let line = r#"{"reason":"compiler-artifact","target":{"kind":["bench"],"name":"compare","src_path":"/x"},"executable":"/t/compare-1","fresh":true}"#;
/// let found = goro_benches::artifacts::executables(line);
/// assert_eq!(found["compare"].to_str(), Some("/t/compare-1"));
/// ```
pub fn executables(json_lines: &str) -> BTreeMap<String, PathBuf> {
    json_lines
        .lines()
        .filter(|l| l.contains(r#""reason":"compiler-artifact""#))
        .filter_map(|l| {
            let target = &l[l.find(r#""target":{"#)?..];
            let name = string_after(target, r#""name":""#)?;
            let exe = string_after(l, r#""executable":""#)?;
            Some((name.to_string(), PathBuf::from(exe)))
        })
        .collect()
}

/// The JSON string value that starts right after `key` (which ends with the opening quote).
/// Paths and target names hold no escaped quotes, so the next quote ends the value.
fn string_after<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let start = text.find(key)? + key.len();
    let len = text[start..].find('"')?;
    Some(&text[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_without_executables_are_skipped() {
        let out = concat!(
            r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"goro"},"executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"kind":["bench"],"name":"compare_mimalloc"},"executable":"/t/m-2"}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        let found = executables(out);
        assert_eq!(found.len(), 1);
        assert_eq!(found["compare_mimalloc"], PathBuf::from("/t/m-2"));
    }
}
