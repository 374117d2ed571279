//! The Go column: building the Go program of `benches/go/` where `go` is installed, and the
//! command that runs it as a child.
//!
//! Go is optional. Without `go` on `PATH` the harness runs as before and the column shows
//! `–`; with it, every workload Go can express also runs in Go ([`Workload::in_go`]). The
//! program follows the child protocol of [`crate::child`]: `PROGRAM --child WORKLOAD go
//! ALLOCATOR COUNT REPEAT` measures once and prints `goro-bench-result ALLOCATOR WORKLOAD go
//! VALUE`. The sizes come from the plan, so Go runs exactly what the Rust runtimes run; the
//! allocator only names the table the number goes in (Go has its own). `GOMAXPROCS` is set to
//! the workers the Rust runtimes get ([`Workload::workers`]: 1 in the `_1worker` rows).

use std::fs;
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
    /// Builds the `.go` files of the folder `source` (one `package main`, no module) into the
    /// executable `out`; `Ok(None)` when `go` is not on `PATH`.
    ///
    /// # Errors
    ///
    /// `go` is there but `source` cannot be listed or has no `.go` file, or the build fails.
    pub fn build(source: &Path, out: &Path) -> io::Result<Option<GoProgram>> {
        let version = match Command::new(GO).arg("version").output() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io::Error::other(format!("cannot run `{GO} version`: {e}"))),
            Ok(out) => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        };
        let files = go_files(source)?;
        // The files, not the folder: without a go.mod, `go build FOLDER` refuses in module
        // mode, while a list of files is built as one package.
        let status = Command::new(GO)
            .arg("build")
            .arg("-o")
            .arg(out)
            .args(&files)
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

    /// The command that measures `w` once in Go, for the table of allocator `a`, on a
    /// machine of `cores` logical cores: `GOMAXPROCS` is the workers the Rust runtimes get.
    pub fn command(&self, w: Workload, a: Allocator, mode: Mode, cores: usize) -> Command {
        let size = w.size(mode);
        let workers = w.workers(cores);
        let mut command = Command::new(&self.exe);
        command
            .args([CHILD_FLAG, w.name(), Contender::Go.name(), a.name()])
            .args([size.count.to_string(), size.repeat.to_string()])
            .env("GOMAXPROCS", workers.to_string());
        command
    }
}

/// The `.go` files of `folder`, sorted.
fn go_files(folder: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(folder)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "go") {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(io::Error::other(format!(
            "no .go file in {}",
            folder.display()
        )));
    }
    files.sort();
    Ok(files)
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

    #[test]
    fn one_worker_rows_get_one_proc() {
        let go = GoProgram {
            exe: PathBuf::from("/t/go"),
            version: "go version go1.19".into(),
        };
        let command = go.command(
            Workload::PingPongCap0OneWorker,
            Allocator::System,
            Mode::Quick,
            2,
        );
        let args: Vec<_> = command.get_args().map(|a| a.to_string_lossy()).collect();
        assert_eq!(
            args,
            [
                "--child",
                "ping_pong_cap0_1worker",
                "go",
                "system",
                "20000",
                "1"
            ]
        );
        let env: Vec<_> = command.get_envs().collect();
        assert_eq!(env, [("GOMAXPROCS".as_ref(), Some("1".as_ref()))]);
    }

    #[test]
    fn every_workload_with_a_go_version_is_in_the_go_program() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("go");
        let mut source = String::new();
        for file in go_files(&dir).unwrap() {
            source.push_str(&fs::read_to_string(file).unwrap());
        }
        for w in Workload::ALL {
            let entry = format!("\"{}\":", w.name());
            assert_eq!(
                source.contains(&entry),
                w.in_go(),
                "{w}: in_go() says {}, the Go program's table disagrees",
                w.in_go()
            );
        }
    }

    #[test]
    fn a_folder_without_go_files_is_an_error() {
        let empty = std::env::temp_dir().join(format!("goro-bench-no-go-{}", std::process::id()));
        fs::create_dir_all(&empty).unwrap();
        let listed = go_files(&empty);
        fs::remove_dir(&empty).unwrap();
        assert!(listed.is_err());
    }
}
