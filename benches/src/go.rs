//! The Go column: building `benches/go/net.go` where `go` is installed, and the command that
//! runs it as a child.
//!
//! Go is optional. Without `go` on `PATH` the harness runs as before and the column shows
//! `–`; with it, the net workloads also run in Go ([`Workload::is_net`]). The program follows
//! the child protocol of [`crate::child`]: `PROGRAM --child WORKLOAD go ALLOCATOR COUNT
//! REPEAT` measures once and prints `goro-bench-result ALLOCATOR WORKLOAD go VALUE`. The sizes
//! come from the plan, so Go runs exactly what the Rust runtimes run; the allocator only names
//! the table the number goes in (Go has its own). `GOMAXPROCS` is set to the workers the Rust
//! runtimes get.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::child::CHILD_FLAG;
use crate::plan::{Allocator, Contender, Mode, Workload};

/// The Go toolchain's command.
const GO: &str = "go";

/// The Go program, built.
#[derive(Debug, Clone)]
pub struct GoProgram {
    /// The executable `go build` wrote.
    exe: PathBuf,
    /// What `go version` said, for the report.
    version: String,
}

impl GoProgram {
    /// Builds `source` (a single-file `package main`) into the executable `out`; `Ok(None)`
    /// when `go` is not on `PATH`.
    ///
    /// # Errors
    ///
    /// `go` is there but the build fails.
    pub fn build(source: &Path, out: &Path) -> io::Result<Option<GoProgram>> {
        let version = match Command::new(GO).arg("version").output() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io::Error::other(format!("cannot run `{GO} version`: {e}"))),
            Ok(out) => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        };
        let status = Command::new(GO)
            .arg("build")
            .arg("-o")
            .arg(out)
            .arg(source)
            // The installed toolchain, never one downloaded for a `go` line of a go.mod.
            .env("GOTOOLCHAIN", "local")
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .status()?;
        if !status.success() {
            return Err(io::Error::other(format!(
                "`{GO} build {}` failed: {status}",
                source.display()
            )));
        }
        Ok(Some(GoProgram {
            exe: out.to_path_buf(),
            version,
        }))
    }

    /// What `go version` said, e.g. `go version go1.19.8 linux/amd64`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The command that measures `w` once in Go, for the table of allocator `a`, with
    /// `workers` as `GOMAXPROCS`.
    pub fn command(&self, w: Workload, a: Allocator, mode: Mode, workers: usize) -> Command {
        let size = w.size(mode);
        let mut command = Command::new(&self.exe);
        command
            .args([CHILD_FLAG, w.name(), Contender::Go.name(), a.name()])
            .args([size.count.to_string(), size.repeat.to_string()])
            .env("GOMAXPROCS", workers.to_string());
        command
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_passes_the_plan_sizes_and_the_workers() {
        let go = GoProgram {
            exe: PathBuf::from("/t/net-go"),
            version: "go version go1.19".into(),
        };
        let command = go.command(Workload::TcpEcho, Allocator::Mimalloc, Mode::Full, 2);
        let args: Vec<_> = command.get_args().map(|a| a.to_string_lossy()).collect();
        assert_eq!(
            args,
            ["--child", "tcp_echo", "go", "mimalloc", "50", "5000"]
        );
        let env: Vec<_> = command.get_envs().collect();
        assert_eq!(env, [("GOMAXPROCS".as_ref(), Some("2".as_ref()))]);
    }
}
