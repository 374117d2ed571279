//! Files and directories: std's file operations, run on the blocking pool so that no worker
//! ever waits on the disk (Go's `os.ReadFile`, `os.WriteFile`, `os.Open`, `os.ReadDir`).
//!
//! ```
//! use goro::io::{AsyncReadExt, AsyncWriteExt};
//!
//! goro::block_on(async {
//!     let dir = std::env::temp_dir().join(format!("goro-fs-doc-{}", std::process::id()));
//!     goro::fs::create_dir_all(&dir).await?;
//!     let path = dir.join("hello.txt");
//!
//!     goro::fs::write(&path, "hello").await?;
//!     assert_eq!(goro::fs::read_to_string(&path).await?, "hello");
//!
//!     let mut file = goro::fs::File::options().append(true).open(&path).await?;
//!     file.write_all(b", world").await?;
//!     file.flush().await?; // written only now: see `File`
//!
//!     let mut text = String::new();
//!     goro::fs::File::open(&path).await?.read_to_string(&mut text).await?;
//!     assert_eq!(text, "hello, world");
//!
//!     let mut entries = goro::fs::read_dir(&dir).await?;
//!     while let Some(entry) = entries.next_entry().await? {
//!         assert_eq!(entry.file_name(), "hello.txt");
//!     }
//!     goro::fs::remove_dir_all(&dir).await
//! })
//! .unwrap();
//! ```
//!
//! # What each call costs
//!
//! The kernel has no readiness notification for regular files, so each operation is a job on
//! the runtime's blocking pool ([`spawn_blocking`](crate::spawn_blocking)): the calling task
//! waits without holding its worker.
//!
//! - Every free function ([`read`], [`write`], [`metadata`], ...) is one blocking job: one
//!   hop to a blocking thread and back. [`read`] and [`write`] move the whole file in that
//!   one job, however large.
//! - [`read_dir`] is one job to open the directory; its [`ReadDir`] then fetches
//!   [`READ_DIR_BATCH`] entries per job, so listing `n` entries costs `2 + n / 32` jobs in
//!   all (integer division; the last job finds the end). [`DirEntry::path`] and
//!   [`DirEntry::file_name`] cost none; [`DirEntry::metadata`] and [`DirEntry::file_type`]
//!   one job each.
//! - A [`File`] buffers: a read job reads up to [`MAX_BUF`] (64 KiB) ahead, so reading a file
//!   in small pieces costs one job per 64 KiB; writes collect in the buffer and go out in one
//!   job per 64 KiB, or when flushed. See [`File`] for what this means for data not yet
//!   flushed, and for the cost of each of its operations.
//!
//! # Errors
//!
//! Errors are std's: the `io::Error` of the underlying `std::fs` call, unchanged (a missing
//! path is `NotFound`, a directory opened for writing `IsADirectory`, and so on). If the
//! blocking pool cannot start a thread (the process is at its thread limit) the call fails
//! with an `io::Error` carrying the OS error, and does nothing; if the runtime is shutting
//! down, with an `io::Error` of kind `Other`.
//!
//! # Cancel safety
//!
//! A blocking call cannot be interrupted. Dropping the future of any function here before it
//! completes does not stop the job: a `write`, `rename` or `remove_file` whose future was
//! dropped may still happen, and its result is lost. Only [`ReadDir::next_entry`] and
//! [`File`]'s reads are cancel safe in the sense that nothing is lost (their details are
//! under each method).

mod file;

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures_lite::Stream;

use crate::task::{JoinError, JoinHandle};

pub use file::{File, OpenOptions, MAX_BUF};

/// How many directory entries one blocking job of a [`ReadDir`] reads: enough that listing a
/// large directory costs few thread hops, few enough that the first entries come back soon.
pub const READ_DIR_BATCH: usize = 32;

/// Runs `f` on the blocking pool and gives its result, a failure of the pool as an io::Error.
async fn asyncify<F, T>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    crate::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(pool_error(e)))
}

/// The io::Error for a blocking job that did not give a result.
fn pool_error(e: JoinError) -> io::Error {
    match e.spawn_error() {
        Some(os) => io::Error::new(os.kind(), e.to_string()),
        None => io::Error::other(e.to_string()),
    }
}

/// Reads a whole file: std's [`std::fs::read`] on the blocking pool (Go's `os.ReadFile`).
///
/// ```
/// goro::block_on(async {
///     let manifest = goro::fs::read("Cargo.toml").await?;
///     assert!(!manifest.is_empty());
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
///
/// # Errors
///
/// Those of [`std::fs::read`] (see also the [module docs](self#errors)).
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read(path)).await
}

/// Reads a whole file as UTF-8: std's [`std::fs::read_to_string`] on the blocking pool.
///
/// ```
/// goro::block_on(async {
///     let manifest = goro::fs::read_to_string("Cargo.toml").await?;
///     assert!(manifest.contains("[package]"));
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
///
/// # Errors
///
/// Those of [`std::fs::read_to_string`]; `InvalidData` if the file is not UTF-8.
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_to_string(path)).await
}

/// Writes a whole file, creating or truncating it: std's [`std::fs::write`] on the blocking
/// pool (Go's `os.WriteFile`). The contents are copied once, to move them to the pool.
///
/// ```
/// goro::block_on(async {
///     let path = std::env::temp_dir().join(format!("goro-fs-write-{}", std::process::id()));
///     goro::fs::write(&path, b"data").await?;
///     assert_eq!(goro::fs::read(&path).await?, b"data");
///     goro::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
///
/// # Errors
///
/// Those of [`std::fs::write`].
///
/// # Cancel safety
///
/// Not cancel safe: once started, the write goes on after its future is dropped.
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let contents = contents.as_ref().to_owned();
    asyncify(move || std::fs::write(path, contents)).await
}

/// Defines an async fn of one path that runs a std::fs function on the blocking pool.
macro_rules! path_fn {
    ($(#[$doc:meta])* $name:ident -> $out:ty) => {
        path_fn! { $(#[$doc])* $name = std::fs::$name, $out }
    };
    ($(#[$doc:meta])* $name:ident = $std:path, $out:ty) => {
        $(#[$doc])*
        pub async fn $name(path: impl AsRef<Path>) -> io::Result<$out> {
            let path = path.as_ref().to_owned();
            asyncify(move || $std(path)).await
        }
    };
}

/// Defines an async fn of two paths that runs a std::fs function on the blocking pool.
macro_rules! two_path_fn {
    ($(#[$doc:meta])* $name:ident -> $out:ty) => {
        $(#[$doc])*
        pub async fn $name(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<$out> {
            let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
            asyncify(move || std::fs::$name(from, to)).await
        }
    };
}

two_path_fn! {
    /// Copies a file's contents and permissions: std's [`std::fs::copy`] on the blocking
    /// pool, one job however large the file. Gives the number of bytes copied.
    ///
    /// ```
    /// goro::block_on(async {
    ///     let dest = std::env::temp_dir().join(format!("goro-fs-copy-{}", std::process::id()));
    ///     let n = goro::fs::copy("Cargo.toml", &dest).await?;
    ///     assert_eq!(n, goro::fs::metadata(&dest).await?.len());
    ///     goro::fs::remove_file(&dest).await
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::copy`].
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the copy goes on after its future is dropped.
    copy -> u64
}

two_path_fn! {
    /// Renames a file or directory, replacing `to` if it exists: std's [`std::fs::rename`]
    /// on the blocking pool (Go's `os.Rename`).
    ///
    /// ```
    /// goro::block_on(async {
    ///     let dir = std::env::temp_dir();
    ///     let (a, b) = (dir.join(format!("goro-fs-ren-a-{}", std::process::id())),
    ///                   dir.join(format!("goro-fs-ren-b-{}", std::process::id())));
    ///     goro::fs::write(&a, "x").await?;
    ///     goro::fs::rename(&a, &b).await?;
    ///     assert!(!goro::fs::try_exists(&a).await?);
    ///     goro::fs::remove_file(&b).await
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::rename`].
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the rename may happen after its future is dropped.
    rename -> ()
}

two_path_fn! {
    /// Makes `to` a new hard link to the file `from`: std's [`std::fs::hard_link`] on the
    /// blocking pool.
    ///
    /// ```
    /// goro::block_on(async {
    ///     let dir = std::env::temp_dir();
    ///     let (a, b) = (dir.join(format!("goro-fs-link-a-{}", std::process::id())),
    ///                   dir.join(format!("goro-fs-link-b-{}", std::process::id())));
    ///     goro::fs::write(&a, "x").await?;
    ///     goro::fs::hard_link(&a, &b).await?;
    ///     assert_eq!(goro::fs::read(&b).await?, b"x");
    ///     goro::fs::remove_file(&a).await?;
    ///     goro::fs::remove_file(&b).await
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::hard_link`] (`AlreadyExists` if `to` exists).
    hard_link -> ()
}

path_fn! {
    /// Removes a file or symbolic link: std's [`std::fs::remove_file`] on the blocking pool
    /// (Go's `os.Remove`). A file still open elsewhere stays readable there until closed.
    ///
    /// ```
    /// goro::block_on(async {
    ///     let path = std::env::temp_dir().join(format!("goro-fs-rm-{}", std::process::id()));
    ///     goro::fs::write(&path, "x").await?;
    ///     goro::fs::remove_file(&path).await?;
    ///     let gone = goro::fs::remove_file(&path).await.unwrap_err();
    ///     assert_eq!(gone.kind(), std::io::ErrorKind::NotFound);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::remove_file`].
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the removal may happen after its future is dropped.
    remove_file -> ()
}

path_fn! {
    /// Removes an empty directory: std's [`std::fs::remove_dir`] on the blocking pool.
    ///
    /// ```
    /// goro::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("goro-fs-rmdir-{}", std::process::id()));
    ///     goro::fs::create_dir(&dir).await?;
    ///     goro::fs::remove_dir(&dir).await
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::remove_dir`] (the directory must be empty).
    remove_dir -> ()
}

path_fn! {
    /// Removes a directory and everything in it: std's [`std::fs::remove_dir_all`] on the
    /// blocking pool, one job for the whole tree (Go's `os.RemoveAll`).
    ///
    /// ```
    /// goro::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("goro-fs-rmall-{}", std::process::id()));
    ///     goro::fs::create_dir_all(dir.join("a/b")).await?;
    ///     goro::fs::remove_dir_all(&dir).await?;
    ///     assert!(!goro::fs::try_exists(&dir).await?);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::remove_dir_all`].
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the removal goes on after its future is dropped.
    remove_dir_all -> ()
}

path_fn! {
    /// Creates a directory: std's [`std::fs::create_dir`] on the blocking pool (Go's
    /// `os.Mkdir`).
    ///
    /// ```
    /// goro::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("goro-fs-mkdir-{}", std::process::id()));
    ///     goro::fs::create_dir(&dir).await?;
    ///     assert!(goro::fs::metadata(&dir).await?.is_dir());
    ///     goro::fs::remove_dir(&dir).await
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::create_dir`] (`AlreadyExists` if it exists).
    create_dir -> ()
}

path_fn! {
    /// Creates a directory and any missing parents: std's [`std::fs::create_dir_all`] on the
    /// blocking pool (Go's `os.MkdirAll`).
    ///
    /// ```
    /// goro::block_on(async {
    ///     let dir = std::env::temp_dir().join(format!("goro-fs-mkdirs-{}", std::process::id()));
    ///     goro::fs::create_dir_all(dir.join("a/b")).await?;
    ///     goro::fs::create_dir_all(dir.join("a/b")).await?; // exists: fine
    ///     goro::fs::remove_dir_all(&dir).await
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::create_dir_all`].
    create_dir_all -> ()
}

path_fn! {
    /// A path's metadata, following symbolic links: std's [`std::fs::metadata`] on the
    /// blocking pool (Go's `os.Stat`).
    ///
    /// ```
    /// goro::block_on(async {
    ///     assert!(goro::fs::metadata("Cargo.toml").await?.is_file());
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::metadata`].
    metadata -> std::fs::Metadata
}

path_fn! {
    /// A path's metadata, not following a final symbolic link: std's
    /// [`std::fs::symlink_metadata`] on the blocking pool (Go's `os.Lstat`).
    ///
    /// ```
    /// goro::block_on(async {
    ///     assert!(goro::fs::symlink_metadata("Cargo.toml").await?.is_file());
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::symlink_metadata`].
    symlink_metadata -> std::fs::Metadata
}

path_fn! {
    /// The absolute path with every symbolic link resolved: std's [`std::fs::canonicalize`]
    /// on the blocking pool.
    ///
    /// ```
    /// goro::block_on(async {
    ///     assert!(goro::fs::canonicalize("Cargo.toml").await?.is_absolute());
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::canonicalize`] (`NotFound` if the path does not exist).
    canonicalize -> PathBuf
}

path_fn! {
    /// Where a symbolic link points: std's [`std::fs::read_link`] on the blocking pool (Go's
    /// `os.Readlink`).
    ///
    /// ```
    /// goro::block_on(async {
    ///     let link = std::env::temp_dir().join(format!("goro-fs-readlink-{}", std::process::id()));
    ///     std::os::unix::fs::symlink("/target", &link)?;
    ///     assert_eq!(goro::fs::read_link(&link).await?, std::path::Path::new("/target"));
    ///     goro::fs::remove_file(&link).await
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::read_link`] (`InvalidInput` if the path is not a link).
    read_link -> PathBuf
}

path_fn! {
    /// Whether a path exists, following symbolic links: std's [`std::fs::exists`] on the
    /// blocking pool. `Ok(false)` for a path that does not exist or a broken link.
    ///
    /// ```
    /// goro::block_on(async {
    ///     assert!(goro::fs::try_exists("Cargo.toml").await?);
    ///     assert!(!goro::fs::try_exists("no/such/file").await?);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::exists`]: when existence cannot be told (a permission denied on
    /// a parent directory).
    try_exists = std::fs::exists, bool
}

/// Changes a file's permissions: std's [`std::fs::set_permissions`] on the blocking pool
/// (Go's `os.Chmod`).
///
/// ```
/// use std::os::unix::fs::PermissionsExt;
///
/// goro::block_on(async {
///     let path = std::env::temp_dir().join(format!("goro-fs-chmod-{}", std::process::id()));
///     goro::fs::write(&path, "x").await?;
///     goro::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).await?;
///     let mode = goro::fs::metadata(&path).await?.permissions().mode();
///     assert_eq!(mode & 0o777, 0o600);
///     goro::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
///
/// # Errors
///
/// Those of [`std::fs::set_permissions`].
pub async fn set_permissions(path: impl AsRef<Path>, perm: std::fs::Permissions) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::set_permissions(path, perm)).await
}

/// Opens a directory to list it: std's [`std::fs::read_dir`] on the blocking pool (Go's
/// `os.ReadDir`, without the sorting). The entries come from [`ReadDir::next_entry`] or as a
/// [`Stream`], [`READ_DIR_BATCH`] per blocking job; `.` and `..` are left out.
///
/// ```
/// use goro::stream::StreamExt;
///
/// goro::block_on(async {
///     let names: Vec<_> = goro::fs::read_dir(".")
///         .await?
///         .map(|entry| entry.map(|e| e.file_name()))
///         .try_collect::<_, _, Vec<_>>()
///         .await?;
///     assert!(names.iter().any(|n| n == "Cargo.toml"));
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
///
/// # Errors
///
/// Those of [`std::fs::read_dir`] (`NotFound`, `NotADirectory`, `PermissionDenied`).
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    let std = asyncify(move || std::fs::read_dir(path)).await?;
    Ok(ReadDir {
        state: DirState::Idle(Some(Batch {
            std,
            entries: VecDeque::with_capacity(READ_DIR_BATCH),
            done: false,
        })),
    })
}

/// The entries of a directory, from [`read_dir`]: [`ReadDir::next_entry`], or a
/// [`Stream`] of `io::Result<DirEntry>`.
///
/// ```
/// goro::block_on(async {
///     let mut entries = goro::fs::read_dir(".").await?;
///     let mut count = 0;
///     while let Some(_entry) = entries.next_entry().await? {
///         count += 1;
///     }
///     assert!(count > 0);
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct ReadDir {
    /// Entries fetched and the directory stream, or the job fetching the next batch.
    state: DirState,
}

/// Where a [`ReadDir`]'s directory stream is.
enum DirState {
    /// Here, with the entries of the last batch not yet handed out; `None` only after a
    /// blocking job failed to give the batch back (the pool could not run it).
    Idle(Option<Batch>),
    /// On the blocking pool, reading the next batch.
    Busy(JoinHandle<Batch>),
}

/// A directory stream and the entries read from it ahead of the caller.
struct Batch {
    /// std's iterator over the directory.
    std: std::fs::ReadDir,
    /// Entries read and not yet handed out, errors included, in order.
    entries: VecDeque<io::Result<std::fs::DirEntry>>,
    /// The iterator has ended: no job needed any more.
    done: bool,
}

impl Batch {
    /// Reads up to [`READ_DIR_BATCH`] entries (on a blocking thread).
    fn fill(mut self) -> Batch {
        for _ in 0..READ_DIR_BATCH {
            match self.std.next() {
                Some(entry) => self.entries.push_back(entry),
                None => {
                    self.done = true;
                    break;
                }
            }
        }
        self
    }
}

impl ReadDir {
    /// The next entry, or `None` after the last.
    ///
    /// ```
    /// goro::block_on(async {
    ///     let mut entries = goro::fs::read_dir(".").await?;
    ///     let first = entries.next_entry().await?.expect("a non-empty directory");
    ///     assert!(first.path().starts_with("."));
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// An error std's iterator gave for one entry; the listing may go on after it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a batch being fetched when the future is dropped is kept, and the next
    /// call hands out its entries; no entry is lost or repeated.
    pub fn next_entry(&mut self) -> NextEntry<'_> {
        NextEntry { dir: self }
    }

    /// Poll-style [`ReadDir::next_entry`]: `Ready(Ok(None))` after the last entry.
    ///
    /// ```
    /// goro::block_on(async {
    ///     let mut entries = goro::fs::read_dir(".").await?;
    ///     let first = std::future::poll_fn(|cx| entries.poll_next_entry(cx)).await?;
    ///     assert!(first.is_some());
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// As [`ReadDir::next_entry`].
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match &mut self.state {
                DirState::Busy(job) => match ready!(Pin::new(job).poll(cx)) {
                    Ok(batch) => self.state = DirState::Idle(Some(batch)),
                    Err(e) => {
                        self.state = DirState::Idle(None);
                        return Poll::Ready(Err(pool_error(e)));
                    }
                },
                DirState::Idle(None) => {
                    return Poll::Ready(Err(io::Error::other(
                        "directory listing lost: a blocking job for it failed earlier",
                    )))
                }
                DirState::Idle(Some(batch)) => {
                    if let Some(entry) = batch.entries.pop_front() {
                        return Poll::Ready(entry.map(|e| Some(DirEntry(Arc::new(e)))));
                    }
                    if batch.done {
                        return Poll::Ready(Ok(None));
                    }
                    let DirState::Idle(Some(batch)) =
                        std::mem::replace(&mut self.state, DirState::Idle(None))
                    else {
                        unreachable!("matched above")
                    };
                    self.state = DirState::Busy(crate::spawn_blocking(move || batch.fill()));
                }
            }
        }
    }
}

impl Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_entry(cx).map(Result::transpose)
    }
}

impl fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let busy = matches!(self.state, DirState::Busy(_));
        f.debug_struct("ReadDir").field("fetching", &busy).finish()
    }
}

/// The future of [`ReadDir::next_entry`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct NextEntry<'a> {
    /// The listing to take the entry from.
    dir: &'a mut ReadDir,
}

impl Future for NextEntry<'_> {
    type Output = io::Result<Option<DirEntry>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.dir.poll_next_entry(cx)
    }
}

/// One entry of a directory listing ([`ReadDir`]): its name and path are at hand; its
/// metadata and type cost a blocking job each.
///
/// ```
/// goro::block_on(async {
///     let mut entries = goro::fs::read_dir(".").await?;
///     while let Some(entry) = entries.next_entry().await? {
///         if entry.file_name() == "Cargo.toml" {
///             assert!(entry.file_type().await?.is_file());
///             assert!(entry.metadata().await?.len() > 0);
///         }
///     }
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct DirEntry(Arc<std::fs::DirEntry>);

impl DirEntry {
    /// The entry's full path: the directory given to [`read_dir`] joined with its name.
    pub fn path(&self) -> PathBuf {
        self.0.path()
    }

    /// The entry's name within its directory.
    pub fn file_name(&self) -> OsString {
        self.0.file_name()
    }

    /// The entry's metadata, not following a symbolic link: std's
    /// [`std::fs::DirEntry::metadata`] on the blocking pool.
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::DirEntry::metadata`] (`NotFound` if the entry has been removed
    /// since it was listed).
    pub async fn metadata(&self) -> io::Result<std::fs::Metadata> {
        let entry = self.0.clone();
        asyncify(move || entry.metadata()).await
    }

    /// The entry's type, not following a symbolic link: std's
    /// [`std::fs::DirEntry::file_type`] on the blocking pool (most file systems answer it
    /// from the listing itself, so the job is short).
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::DirEntry::file_type`].
    pub async fn file_type(&self) -> io::Result<std::fs::FileType> {
        let entry = self.0.clone();
        asyncify(move || entry.file_type()).await
    }
}
