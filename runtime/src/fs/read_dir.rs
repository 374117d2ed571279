//! [`read_dir`]: a directory's entries, fetched [`READ_DIR_BATCH`] at a time by blocking jobs.
//!
//! A [`ReadDir`] holds std's directory iterator and the entries read ahead of the caller, or
//! a blocking job that has both and is reading the next batch; an entry is handed out only
//! from the batch, so a dropped `next_entry` loses nothing: the job's batch is taken back by
//! the next call.

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

use super::{asyncify, pool_error};
use crate::task::JoinHandle;

/// How many directory entries one blocking job of a [`ReadDir`] reads: enough that listing a
/// large directory costs few thread hops, few enough that the first entries come back soon.
pub const READ_DIR_BATCH: usize = 32;

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
