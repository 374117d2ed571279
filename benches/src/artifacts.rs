//! Building the two bench binaries (one per allocator) and finding their paths.
//!
//! The parent asks cargo for both in one call, so both are built from the same sources
//! even if the tree changes while `cargo bench` is running; cargo's JSON messages say where
//! each executable is. Cargo is reached through the `CARGO` variable it sets for the
//! programs it runs.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::plan::Allocator;

/// Builds `compare` and `compare_mimalloc` of the package at `manifest` (a `Cargo.toml`)
/// with the bench profile and returns each allocator's executable.
///
/// # Errors
///
/// If cargo cannot be started, fails, or does not name an executable for both targets.
pub fn build(manifest: &Path) -> io::Result<BTreeMap<Allocator, PathBuf>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(&cargo);
    command.args([
        "bench",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    command.arg("--manifest-path").arg(manifest);
    for a in Allocator::ALL {
        command.args(["--bench", a.bench_target()]);
    }
    let out = command.stderr(Stdio::inherit()).output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "`{cargo} bench --no-run` failed: {}",
            out.status
        )));
    }
    let found = executables(&String::from_utf8_lossy(&out.stdout));
    let mut paths = BTreeMap::new();
    for a in Allocator::ALL {
        let path = found.get(a.bench_target()).ok_or_else(|| {
            io::Error::other(format!(
                "cargo built no executable for `{}`",
                a.bench_target()
            ))
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
