//! goro::fs: std's file operations on the blocking pool; `File`'s buffering, seeks, errors
//! and the last write of a dropped `File`.

mod common;

use std::collections::HashSet;
use std::io::{ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_lite::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use futures_lite::StreamExt;
use goro_runtime::block_on;
use goro_runtime::fs::{self, File};

use common::{eventually, watchdog};

/// A fresh directory under the system's temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("goro-fs-test-{}-{n}-{test}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create the test directory");
        TempDir(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `len` bytes that differ from their neighbours, so a misplaced chunk shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn free_functions_round_trip() {
    watchdog(60, || {
        let dir = TempDir::new("round-trip");
        block_on(async {
            let a = dir.join("a.txt");
            fs::write(&a, "hello").await.unwrap();
            assert_eq!(fs::read(&a).await.unwrap(), b"hello");
            assert_eq!(fs::read_to_string(&a).await.unwrap(), "hello");
            assert!(fs::try_exists(&a).await.unwrap());
            assert_eq!(fs::metadata(&a).await.unwrap().len(), 5);

            let b = dir.join("b.txt");
            assert_eq!(fs::copy(&a, &b).await.unwrap(), 5);
            assert_eq!(fs::read(&b).await.unwrap(), b"hello");

            let c = dir.join("c.txt");
            fs::rename(&b, &c).await.unwrap();
            assert!(!fs::try_exists(&b).await.unwrap());
            assert_eq!(fs::read(&c).await.unwrap(), b"hello");

            let d = dir.join("d.txt");
            fs::hard_link(&c, &d).await.unwrap();
            assert_eq!(fs::read(&d).await.unwrap(), b"hello");

            let link = dir.join("link");
            std::os::unix::fs::symlink(&a, &link).unwrap();
            assert_eq!(fs::read_link(&link).await.unwrap(), a);
            assert!(fs::symlink_metadata(&link).await.unwrap().is_symlink());
            assert!(fs::metadata(&link).await.unwrap().is_file());
            assert_eq!(
                fs::canonicalize(&link).await.unwrap(),
                std::fs::canonicalize(&a).unwrap()
            );

            use std::os::unix::fs::PermissionsExt;
            let perm = std::fs::Permissions::from_mode(0o640);
            fs::set_permissions(&a, perm).await.unwrap();
            let mode = fs::metadata(&a).await.unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o640);

            let sub = dir.join("x/y/z");
            fs::create_dir_all(&sub).await.unwrap();
            fs::create_dir(sub.join("w")).await.unwrap();
            let again = fs::create_dir(sub.join("w")).await.unwrap_err();
            assert_eq!(again.kind(), ErrorKind::AlreadyExists);
            fs::remove_dir(sub.join("w")).await.unwrap();
            fs::write(sub.join("f"), "f").await.unwrap();
            fs::remove_dir_all(dir.join("x")).await.unwrap();
            assert!(!fs::try_exists(dir.join("x")).await.unwrap());

            for path in [&a, &c, &d, &link] {
                fs::remove_file(path).await.unwrap();
                assert!(!fs::try_exists(path).await.unwrap());
            }
        });
    });
}

#[test]
fn a_vanished_path_is_not_found() {
    watchdog(60, || {
        let dir = TempDir::new("vanished");
        block_on(async {
            let path = dir.join("gone");
            fs::write(&path, "x").await.unwrap();
            fs::remove_file(&path).await.unwrap();
            let kinds = [
                fs::read(&path).await.unwrap_err().kind(),
                fs::metadata(&path).await.unwrap_err().kind(),
                fs::remove_file(&path).await.unwrap_err().kind(),
                fs::rename(&path, dir.join("y")).await.unwrap_err().kind(),
                File::open(&path).await.unwrap_err().kind(),
                fs::read_dir(&path).await.unwrap_err().kind(),
                fs::canonicalize(&path).await.unwrap_err().kind(),
            ];
            assert!(kinds.iter().all(|k| *k == ErrorKind::NotFound), "{kinds:?}");
            assert!(!fs::try_exists(&path).await.unwrap());
        });
    });
}

#[test]
fn a_directory_is_not_a_file() {
    watchdog(60, || {
        let dir = TempDir::new("dir-as-file");
        block_on(async {
            let err = File::create(&dir.0).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::IsADirectory);
            // Opening a directory read-only succeeds on Unix; reading it fails.
            let mut file = File::open(&dir.0).await.unwrap();
            let err = file.read(&mut [0; 16]).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::IsADirectory);
            assert_eq!(
                fs::read(&dir.0).await.unwrap_err().kind(),
                ErrorKind::IsADirectory
            );
        });
    });
}

#[test]
fn permission_errors_pass_through() {
    watchdog(60, || {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new("perm");
        let path = dir.join("locked");
        std::fs::write(&path, "x").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::File::open(&path).is_ok() {
            return; // root (or a capability) ignores file modes: nothing to check
        }
        block_on(async {
            let err = File::open(&path).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::PermissionDenied);
            let err = fs::read(&path).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        });
    });
}

#[test]
fn read_dir_lists_each_of_100_files_once() {
    watchdog(60, || {
        let dir = TempDir::new("read-dir");
        let expected: HashSet<String> = (0..100).map(|i| format!("file-{i:03}")).collect();
        for name in &expected {
            std::fs::write(dir.join(name), name).unwrap();
        }
        block_on(async {
            let mut entries = fs::read_dir(&dir.0).await.unwrap();
            let mut seen = Vec::new();
            while let Some(entry) = entries.next_entry().await.unwrap() {
                assert_eq!(entry.path(), dir.join(entry.file_name().to_str().unwrap()));
                seen.push(entry.file_name().into_string().unwrap());
            }
            assert!(entries.next_entry().await.unwrap().is_none(), "ends once");
            assert_eq!(seen.len(), 100, "each entry once");
            assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), expected);

            // The same through the Stream impl, with metadata for one entry.
            let entries: Vec<_> = fs::read_dir(&dir.0)
                .await
                .unwrap()
                .try_collect::<_, _, Vec<_>>()
                .await
                .unwrap();
            assert_eq!(entries.len(), 100);
            let names: HashSet<String> = entries
                .iter()
                .map(|e| e.file_name().into_string().unwrap())
                .collect();
            assert_eq!(names, expected);
            assert!(entries[0].file_type().await.unwrap().is_file());
            assert_eq!(entries[0].metadata().await.unwrap().len(), 8);
        });
    });
}

#[test]
fn a_cancelled_next_entry_loses_no_entry() {
    watchdog(60, || {
        let dir = TempDir::new("read-dir-cancel");
        let expected: HashSet<String> = (0..100).map(|i| format!("e{i}")).collect();
        for name in &expected {
            std::fs::write(dir.join(name), "").unwrap();
        }
        block_on(async {
            let mut entries = fs::read_dir(&dir.0).await.unwrap();
            let (mut seen, mut cancelled) = (Vec::new(), 0);
            loop {
                // Poll each call once, and drop it if it waits for a batch.
                let entry = match futures_lite::future::poll_once(entries.next_entry()).await {
                    Some(entry) => entry.unwrap(),
                    None => {
                        cancelled += 1;
                        entries.next_entry().await.unwrap()
                    }
                };
                let Some(entry) = entry else { break };
                seen.push(entry.file_name().into_string().unwrap());
            }
            assert!(cancelled > 0, "no call ever waited for a batch");
            assert_eq!(seen.len(), 100, "each entry once");
            assert_eq!(seen.into_iter().collect::<HashSet<_>>(), expected);
        });
    });
}

#[test]
fn file_round_trips_1_mib_in_odd_chunks() {
    watchdog(120, || {
        let dir = TempDir::new("one-mib");
        let path = dir.join("big");
        let data = pattern(1 << 20);
        block_on(async {
            let mut file = File::create(&path).await.unwrap();
            for chunk in data.chunks(7919) {
                file.write_all(chunk).await.unwrap();
            }
            file.close().await.unwrap();
            assert_eq!(fs::read(&path).await.unwrap(), data);

            let mut file = File::open(&path).await.unwrap();
            let mut back = Vec::with_capacity(data.len());
            let mut piece = [0; 4093];
            loop {
                let n = file.read(&mut piece).await.unwrap();
                if n == 0 {
                    break;
                }
                back.extend_from_slice(&piece[..n]);
            }
            assert_eq!(back.len(), data.len());
            assert!(back == data, "byte-exact");
        });
    });
}

#[test]
fn seeks_and_set_len() {
    watchdog(60, || {
        let dir = TempDir::new("seek");
        let path = dir.join("f");
        let data = pattern(200_000);
        block_on(async {
            let mut file = File::options()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)
                .await
                .unwrap();
            file.write_all(&data).await.unwrap();
            assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 200_000);
            assert_eq!(file.seek(SeekFrom::Start(100_000)).await.unwrap(), 100_000);
            let mut buf = [0; 10];
            file.read_exact(&mut buf).await.unwrap();
            assert_eq!(buf, data[100_000..100_010]);
            // The read ran ahead; the position is still where the reader stands.
            assert_eq!(file.seek(SeekFrom::Current(5)).await.unwrap(), 100_015);
            file.read_exact(&mut buf).await.unwrap();
            assert_eq!(buf, data[100_015..100_025]);
            assert_eq!(file.seek(SeekFrom::End(-3)).await.unwrap(), 199_997);
            let mut tail = Vec::new();
            file.read_to_end(&mut tail).await.unwrap();
            assert_eq!(tail, data[199_997..]);

            file.set_len(1000).await.unwrap();
            assert_eq!(file.metadata().await.unwrap().len(), 1000);
            assert_eq!(file.seek(SeekFrom::End(0)).await.unwrap(), 1000);
            file.set_len(5000).await.unwrap();
            let all = fs::read(&path).await.unwrap();
            assert_eq!(all.len(), 5000);
            assert_eq!(all[..1000], data[..1000]);
            assert!(all[1000..].iter().all(|b| *b == 0));
        });
    });
}

#[test]
fn a_write_after_a_read_lands_where_the_reader_stands() {
    watchdog(60, || {
        let dir = TempDir::new("read-then-write");
        let path = dir.join("f");
        std::fs::write(&path, "0123456789").unwrap();
        block_on(async {
            let mut file = File::options()
                .read(true)
                .write(true)
                .open(&path)
                .await
                .unwrap();
            let mut three = [0; 3];
            file.read_exact(&mut three).await.unwrap(); // reads all ten ahead
            assert_eq!(&three, b"012");
            file.write_all(b"abc").await.unwrap();
            file.flush().await.unwrap();
            assert_eq!(fs::read(&path).await.unwrap(), b"012abc6789");
            let mut rest = String::new();
            file.read_to_string(&mut rest).await.unwrap();
            assert_eq!(rest, "6789");

            // into_std gives the std file at the same position.
            file.seek(SeekFrom::Start(1)).await.unwrap();
            file.read_exact(&mut three).await.unwrap();
            let mut std = file.into_std().await.unwrap();
            let mut next = String::new();
            std::io::Read::read_to_string(&mut std, &mut next).unwrap();
            assert_eq!(next, "bc6789");
        });
    });
}

#[test]
fn writes_are_visible_after_flush() {
    watchdog(60, || {
        let dir = TempDir::new("flush");
        let path = dir.join("f");
        block_on(async {
            let mut file = File::create(&path).await.unwrap();
            file.write_all(b"buffered").await.unwrap();
            // Below MAX_BUF nothing has gone to the OS yet: documented behaviour.
            assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
            file.flush().await.unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), b"buffered");
            file.write_all(b" more").await.unwrap();
            file.sync_data().await.unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), b"buffered more");
        });
    });
}

#[test]
fn a_file_removed_after_open_is_still_readable() {
    watchdog(60, || {
        let dir = TempDir::new("unlinked");
        let path = dir.join("f");
        let data = pattern(100_000);
        std::fs::write(&path, &data).unwrap();
        block_on(async {
            let mut file = File::open(&path).await.unwrap();
            fs::remove_file(&path).await.unwrap();
            assert!(!fs::try_exists(&path).await.unwrap());
            let mut back = Vec::new();
            file.read_to_end(&mut back).await.unwrap();
            assert!(back == data);
        });
    });
}

#[test]
fn dropping_a_file_with_unflushed_writes_still_writes_them() {
    watchdog(60, || {
        let dir = TempDir::new("drop");
        let path = dir.join("f");
        let data = pattern(MAX + 12_345);
        block_on(async {
            let mut file = File::create(&path).await.unwrap();
            file.write_all(&data).await.unwrap(); // one full buffer in flight, the rest held
            drop(file);
        });
        let landed = eventually(Duration::from_secs(20), || {
            std::fs::read(&path).is_ok_and(|on_disk| on_disk == data)
        });
        assert!(landed, "the dropped File's writes never reached the file");
    });
}

const MAX: usize = goro_runtime::fs::MAX_BUF;

#[test]
fn unflushed_writes_survive_a_runtime_shutting_down() {
    watchdog(60, || {
        let dir = TempDir::new("drop-shutdown");
        let path = dir.join("f");
        let rt = goro_runtime::Builder::new()
            .worker_threads(1)
            .max_blocking_threads(1)
            .build()
            .unwrap();
        // Hold the only blocking thread, so the last write stays queued.
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let _blocker = rt.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            let _ = release_rx.recv();
        });
        started_rx.recv().unwrap();
        rt.block_on(async {
            let mut file = File::from_std(std::fs::File::create(&path).unwrap());
            file.write_all(b"last words").await.unwrap();
            drop(file); // queues the last write behind the blocker
        });
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"",
            "not written before shutdown"
        );
        drop(rt); // drops the queued job: its drop writes the data
        assert_eq!(std::fs::read(&path).unwrap(), b"last words");
        release_tx.send(()).unwrap();
    });
}

#[test]
fn no_blocking_thread_is_an_io_error_and_loses_no_write() {
    watchdog(60, || {
        let dir = TempDir::new("no-thread");
        let path = dir.join("f");
        std::fs::write(&path, "x").unwrap();
        let rt = goro_runtime::Builder::new()
            .worker_threads(1)
            .blocking_spawn_hook(|| Err(std::io::Error::from_raw_os_error(11)))
            .build()
            .unwrap();
        rt.block_on(async {
            let err = fs::read(&path).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::WouldBlock, "EAGAIN's kind: {err}");
            assert!(err.to_string().contains("thread"), "{err}");
            let err = fs::read_dir(&dir.0).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::WouldBlock);

            let mut file = File::from_std(std::fs::File::create(&path).unwrap());
            file.write_all(b"kept").await.unwrap();
            let err = file.flush().await.unwrap_err(); // the job never ran
            assert_eq!(err.kind(), ErrorKind::WouldBlock);
            file.write_all(b"also kept").await.unwrap();
            drop(file); // no thread for the last write: the drop writes it itself
        });
        assert_eq!(std::fs::read(&path).unwrap(), b"also kept");
    });
}

#[test]
fn a_failed_write_is_reported_by_flush() {
    watchdog(60, || {
        if !Path::new("/dev/full").exists() {
            return;
        }
        block_on(async {
            let mut full = File::options().write(true).open("/dev/full").await.unwrap();
            full.write_all(b"no room").await.unwrap(); // buffered
            let err = full.flush().await.unwrap_err();
            assert_eq!(err.raw_os_error(), Some(28), "ENOSPC: {err}");
            // A write of a full buffer fails in the background: the next call says so.
            let err = async {
                full.write_all(&pattern(3 * MAX)).await?;
                full.flush().await
            }
            .await
            .unwrap_err();
            assert_eq!(err.raw_os_error(), Some(28), "ENOSPC: {err}");
        });
    });
}

#[test]
fn a_cancelled_read_loses_no_bytes() {
    watchdog(60, || {
        let dir = TempDir::new("cancel");
        let path = dir.join("f");
        let data = pattern(3 * MAX + 17);
        std::fs::write(&path, &data).unwrap();
        block_on(async {
            let mut file = File::open(&path).await.unwrap();
            let mut back = Vec::new();
            let mut piece = [0; 1000];
            let mut cancelled = 0;
            loop {
                // Poll each read once, and drop it if it is still waiting for its job.
                let first = futures_lite::future::poll_once(file.read(&mut piece)).await;
                let n = match first {
                    Some(n) => n.unwrap(),
                    None => {
                        cancelled += 1;
                        file.read(&mut piece).await.unwrap()
                    }
                };
                if n == 0 {
                    break;
                }
                back.extend_from_slice(&piece[..n]);
            }
            assert!(cancelled > 0, "no read was ever pending");
            assert!(back == data, "byte-exact after {cancelled} cancelled reads");
        });
    });
}

/// Set in the child process of [`a_failed_last_write_is_reported_on_stderr`].
const LAST_WRITE_CHILD: &str = "GORO_FS_LAST_WRITE_CHILD";

#[test]
fn a_failed_last_write_is_reported_on_stderr() {
    // Idle with bytes buffered at the drop: the drop starts the last write.
    last_write_child("a_failed_last_write_is_reported_on_stderr", 7);
}

#[test]
fn a_failed_write_in_flight_at_drop_is_reported_on_stderr() {
    // A full buffer's write job still in flight at the drop.
    last_write_child(
        "a_failed_write_in_flight_at_drop_is_reported_on_stderr",
        MAX,
    );
}

/// Drops a `File` on /dev/full holding `len` unwritten bytes, in a child process, and
/// checks that the child reports the failed write on its standard error.
fn last_write_child(test: &str, len: usize) {
    if !Path::new("/dev/full").exists() {
        return;
    }
    if std::env::var_os(LAST_WRITE_CHILD).is_some() {
        // The child: drop a File whose last write must fail, then wait to be killed.
        block_on(async {
            let mut full = File::options().write(true).open("/dev/full").await.unwrap();
            full.write_all(&pattern(len)).await.unwrap();
        });
        std::thread::sleep(Duration::from_secs(60));
        return;
    }
    watchdog(60, || {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env(LAST_WRITE_CHILD, "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start the child test process");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx.send(line);
            }
        });
        let mut seen = Vec::new();
        let reported = loop {
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) if line.contains("unflushed data: writing it failed") => break true,
                Ok(line) => seen.push(line),
                Err(_) => break false,
            }
        };
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            reported,
            "no report of the failed last write; stderr: {seen:?}"
        );
    });
}
