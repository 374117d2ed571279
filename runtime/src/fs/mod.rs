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
//! - Every free function ([`read`], [`write()`], [`metadata`], ...) is one blocking job: one
//!   hop to a blocking thread and back. [`read`] and [`write()`] move the whole file in that
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
mod read_dir;

use std::io;
use std::path::{Path, PathBuf};

use crate::task::JoinError;

pub use file::{File, OpenOptions, MAX_BUF};
pub use read_dir::{read_dir, DirEntry, NextEntry, ReadDir, READ_DIR_BATCH};

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
