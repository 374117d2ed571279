//! [`File`]: an open file whose reads and writes go through a buffer to the blocking pool,
//! one job at a time.
//!
//! A `File` is either idle, holding its buffer, or busy: one blocking job has the buffer and
//! a share of the std file, and every operation first waits for that job to give the buffer
//! back. The buffer holds either read-ahead (bytes read from the OS and not yet handed out)
//! or writes not yet made, never both: the OS position is the file's position plus the
//! read-ahead, so an operation that must see the true position (a write, a seek, `set_len`)
//! first drops the read-ahead and has its job move the OS position back over it.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures_lite::io::{AsyncRead, AsyncSeek, AsyncWrite};

use super::{asyncify, pool_error};
use crate::task::JoinHandle;

/// The most a [`File`] reads ahead in one blocking job, and the most it buffers before its
/// writes go out in one job: large enough that a file read or written in small pieces costs
/// one thread hop per 64 KiB, small enough to be cheap to copy.
pub const MAX_BUF: usize = 64 * 1024;

/// An open file on goro's blocking pool: tokio's `File`, with futures-io's [`AsyncRead`],
/// [`AsyncWrite`] and [`AsyncSeek`] (their methods come from `goro::io`'s extension traits).
///
/// ```
/// use goro::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, SeekFrom};
///
/// goro::block_on(async {
///     let path = std::env::temp_dir().join(format!("goro-file-doc-{}", std::process::id()));
///     let mut file = goro::fs::File::options()
///         .read(true).write(true).create(true).truncate(true)
///         .open(&path).await?;
///     file.write_all(b"hello, world").await?;
///     file.seek(SeekFrom::Start(7)).await?; // flushes the write first
///     let mut word = String::new();
///     file.read_to_string(&mut word).await?;
///     assert_eq!(word, "world");
///     goro::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
///
/// # Buffering: when data reaches the file
///
/// Writes are buffered: `write` copies into the `File`'s buffer and returns; the bytes are
/// written to the OS by one blocking job when the buffer holds [`MAX_BUF`] bytes, or when
/// the `File` is flushed: [`flush`](futures_lite::AsyncWriteExt::flush),
/// [`close`](futures_lite::AsyncWriteExt::close), a seek, [`set_len`](File::set_len),
/// [`sync_all`](File::sync_all), [`sync_data`](File::sync_data), a read,
/// [`into_std`](File::into_std). Until then another reader of the file does not see them,
/// and [`metadata`](File::metadata) does not count them. Flush before you expect the data
/// elsewhere; `flush` gives the error of a failed write.
///
/// An error of a write made in the background (a full buffer) is returned by the next
/// operation on the `File`; the bytes of that write are dropped, as std's `BufWriter` does.
/// The same holds when the blocking pool cannot start a thread for a job that was to write
/// buffered bytes: the operation fails with the OS error, and those bytes are dropped with
/// it.
///
/// # Dropping a `File`
///
/// Dropping a `File` that holds unflushed writes starts a last blocking job that writes them
/// and then closes the file, as tokio's `File` does; the drop itself does not wait. The
/// write cannot be lost by the pool: if the pool cannot start a thread for it, or the
/// runtime shuts down before it runs, the thread that drops the job writes the data itself.
/// If that last write fails, nobody is left to return the error to, so it is printed to
/// standard error (never dropped in silence). A write in flight at the drop (a full buffer)
/// finishes on its own, and its error, if any, is printed in the same way. Flush (or
/// `close`) before dropping to get the error as a value and to know the data is there.
///
/// # Reading
///
/// A read that finds the buffer empty runs one blocking job that reads up to [`MAX_BUF`]
/// bytes ahead, and hands them out from the buffer over the next reads. The `File`'s own
/// position is where the reader stands; the OS position of the descriptor is ahead of it by
/// the unread bytes until a write, a seek, `set_len`, a sync or `into_std` moves it back (a
/// descriptor shared with another process sees the OS position). On a file that cannot
/// seek (a FIFO), that move fails with the seek's error: there, do not write after a read.
///
/// # What each operation costs
///
/// A job is one hop to a blocking thread and back.
///
/// - `open`, `create`, `OpenOptions::open`, `metadata`: one job each.
/// - `read`: none while the read-ahead lasts, then one job that writes any buffered bytes
///   and reads up to 64 KiB: reading a file of `n` bytes in any piece size costs
///   `1 + n / 65536` jobs (integer division; the last finds the end).
/// - `write`: none until the buffer holds 64 KiB, then one job that writes it (in the
///   background): `n` bytes cost `n / 65536` jobs, plus one for the rest at `flush`.
/// - `flush`, `close`: one job if bytes are buffered, none otherwise.
/// - a seek, `set_len`, `sync_all`, `sync_data`: one job each, which also writes any
///   buffered bytes first (a seek costs a job even for `SeekFrom::Current(0)`).
/// - `into_std`: one job if bytes are buffered or read-ahead must be given back, else none.
/// - dropping: one job if bytes are buffered, else none.
///
/// # Busy
///
/// One blocking job at a time: while one is in flight (a read, a write, a seek), the next
/// operation waits for it before it starts. An operation whose future is dropped leaves its
/// job running; the next operation waits for it and sees its effect.
pub struct File {
    /// The open file, shared with the job in flight.
    std: Arc<std::fs::File>,
    /// Idle with the buffer, or busy with the job that has it.
    state: State,
}

/// Whether a [`File`] has its buffer.
enum State {
    /// Here, no job in flight.
    Idle(Buf),
    /// A blocking job has the buffer; it does `Op`.
    Busy(Op, JoinHandle<Done>),
}

/// What a blocking job of a [`File`] does after it has written any pending bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// Nothing more: a flush.
    Flush,
    /// Fill the buffer with read-ahead.
    Read,
    /// Seek the file.
    Seek(SeekFrom),
    /// Truncate or extend the file.
    SetLen(u64),
    /// `fsync`.
    SyncAll,
    /// `fdatasync`.
    SyncData,
}

/// A [`File`]'s buffer: read-ahead or pending writes.
#[derive(Debug, Default)]
struct Buf {
    /// Read-ahead (handed out from `pos`) or, when `dirty`, bytes not yet written.
    bytes: Vec<u8>,
    /// How much of the read-ahead has been handed out.
    pos: usize,
    /// `bytes` holds writes not yet made.
    dirty: bool,
    /// Read-ahead dropped since the last job: the OS position is this far past the file's.
    rewind: u64,
}

/// What a blocking job gives back.
struct Done {
    /// The buffer, back from the job.
    buf: Buf,
    /// The operation's result: bytes read, the new position, or 0.
    result: io::Result<u64>,
    /// The job had pending bytes to write (and `result` is that write's error, if any).
    wrote: bool,
}

impl Buf {
    /// Read-ahead not yet handed out.
    fn unread(&self) -> &[u8] {
        if self.dirty {
            &[]
        } else {
            &self.bytes[self.pos..]
        }
    }

    /// Drops the read-ahead; the next job moves the OS position back over it.
    fn drop_read_ahead(&mut self) {
        if !self.dirty {
            self.rewind += (self.bytes.len() - self.pos) as u64;
            self.bytes.clear();
            self.pos = 0;
        }
    }

    /// On a blocking thread: moves the OS position back over dropped read-ahead, then writes
    /// the pending bytes. The buffer is empty afterwards, whatever the outcome.
    fn settle(&mut self, file: &std::fs::File) -> io::Result<()> {
        let rewind = std::mem::take(&mut self.rewind);
        let pending = std::mem::take(&mut self.dirty);
        let moved = match rewind {
            0 => Ok(()),
            n => (&*file).seek(SeekFrom::Current(-(n as i64))).map(drop),
        };
        let written = match (&moved, pending) {
            (Ok(()), true) => (&*file).write_all(&self.bytes),
            _ => Ok(()),
        };
        self.bytes.clear();
        self.pos = 0;
        moved.and(written)
    }

    /// On a blocking thread: reads up to [`MAX_BUF`] bytes ahead; gives how many.
    fn fill(&mut self, file: &std::fs::File) -> io::Result<u64> {
        self.bytes.resize(MAX_BUF, 0);
        self.pos = 0;
        let n = loop {
            match (&*file).read(&mut self.bytes) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        self.bytes.truncate(*n.as_ref().unwrap_or(&0));
        n.map(|n| n as u64)
    }
}

/// A blocking job: pending writes first, then `op`.
fn run(file: &std::fs::File, mut buf: Buf, op: Op) -> Done {
    let wrote = buf.dirty && !buf.bytes.is_empty();
    let result = buf.settle(file).and_then(|()| match op {
        Op::Flush => Ok(0),
        Op::Read => buf.fill(file),
        Op::Seek(pos) => (&*file).seek(pos),
        Op::SetLen(len) => file.set_len(len).map(|()| 0),
        Op::SyncAll => file.sync_all().map(|()| 0),
        Op::SyncData => file.sync_data().map(|()| 0),
    });
    Done { buf, result, wrote }
}

/// The unflushed writes of a dropped [`File`]: written when this is dropped, on whichever
/// thread drops it (a blocking thread, or the one that drops a job the pool could not run).
struct LastWrite {
    /// The file to write to.
    file: Arc<std::fs::File>,
    /// The writes.
    buf: Buf,
}

impl Drop for LastWrite {
    fn drop(&mut self) {
        if let Err(e) = self.buf.settle(&self.file) {
            report_lost_write(&e);
        }
    }
}

/// Says on standard error that a dropped `File`'s last write failed: nobody is left to
/// return the error to.
fn report_lost_write(e: &io::Error) {
    eprintln!("goro::fs::File dropped with unflushed data: writing it failed: {e}");
}

impl File {
    /// Opens a file for reading: std's [`std::fs::File::open`] on the blocking pool (Go's
    /// `os.Open`).
    ///
    /// ```
    /// use goro::io::AsyncReadExt;
    ///
    /// goro::block_on(async {
    ///     let mut file = goro::fs::File::open("Cargo.toml").await?;
    ///     let mut text = String::new();
    ///     file.read_to_string(&mut text).await?;
    ///     assert!(text.contains("[package]"));
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::open`] (`NotFound`, `PermissionDenied`, ...).
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        asyncify(move || std::fs::File::open(path))
            .await
            .map(File::from_std)
    }

    /// Creates a file for writing, truncating it if it exists: std's
    /// [`std::fs::File::create`] on the blocking pool (Go's `os.Create`).
    ///
    /// ```
    /// use goro::io::AsyncWriteExt;
    ///
    /// goro::block_on(async {
    ///     let path = std::env::temp_dir().join(format!("goro-file-create-{}", std::process::id()));
    ///     let mut file = goro::fs::File::create(&path).await?;
    ///     file.write_all(b"data").await?;
    ///     file.close().await?;
    ///     assert_eq!(goro::fs::read(&path).await?, b"data");
    ///     goro::fs::remove_file(&path).await
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::create`] (`IsADirectory`, `PermissionDenied`, ...).
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        asyncify(move || std::fs::File::create(path))
            .await
            .map(File::from_std)
    }

    /// A blank [`OpenOptions`]: `File::options().append(true).open(path)`.
    ///
    /// ```
    /// goro::block_on(async {
    ///     let file = goro::fs::File::options().read(true).open("Cargo.toml").await?;
    ///     assert!(file.metadata().await?.is_file());
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps a std file. Its position is where the std file's was.
    ///
    /// ```
    /// goro::block_on(async {
    ///     let std = std::fs::File::open("Cargo.toml")?;
    ///     let file = goro::fs::File::from_std(std);
    ///     assert!(file.metadata().await?.len() > 0);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn from_std(file: std::fs::File) -> File {
        File {
            std: Arc::new(file),
            state: State::Idle(Buf::default()),
        }
    }

    /// The std file, after writing any buffered bytes and moving its position back over any
    /// read-ahead, so that it stands where this `File` stood.
    ///
    /// ```
    /// use std::io::Read;
    /// use goro::io::AsyncReadExt;
    ///
    /// goro::block_on(async {
    ///     let mut file = goro::fs::File::open("Cargo.toml").await?;
    ///     let mut first = [0; 9];
    ///     file.read_exact(&mut first).await?; // reads up to 64 KiB ahead
    ///     let mut std = file.into_std().await?;
    ///     let mut next = [0; 1];
    ///     std.read_exact(&mut next)?; // the byte after the first nine
    ///     assert_eq!(&first, b"[package]");
    ///     assert_eq!(&next, b"\n");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// The error of writing the buffered bytes or of moving the position, or of an earlier
    /// background write not yet reported; the file is closed then.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the `File` (see [Dropping a `File`](File#dropping-a-file)).
    pub async fn into_std(mut self) -> io::Result<std::fs::File> {
        poll_fn(|cx| self.poll_settle(cx)).await?;
        let std = self.std.clone();
        drop(self); // idle and clean: drops its share of the file, nothing more
        Arc::try_unwrap(std).or_else(|shared| shared.try_clone())
    }

    /// The file's metadata: std's [`std::fs::File::metadata`] on the blocking pool. Bytes
    /// still in the write buffer are not counted in its length: flush first.
    ///
    /// ```
    /// goro::block_on(async {
    ///     let file = goro::fs::File::open("Cargo.toml").await?;
    ///     assert!(file.metadata().await?.len() > 0);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::metadata`].
    pub async fn metadata(&self) -> io::Result<std::fs::Metadata> {
        let file = self.std.clone();
        asyncify(move || file.metadata()).await
    }

    /// Truncates or extends the file to `size` bytes, after writing any buffered bytes:
    /// std's [`std::fs::File::set_len`] on the blocking pool, one job for both. The
    /// position does not move; the file must be open for writing.
    ///
    /// ```
    /// use goro::io::AsyncWriteExt;
    ///
    /// goro::block_on(async {
    ///     let path = std::env::temp_dir().join(format!("goro-file-setlen-{}", std::process::id()));
    ///     let mut file = goro::fs::File::create(&path).await?;
    ///     file.write_all(b"hello, world").await?;
    ///     file.set_len(5).await?;
    ///     assert_eq!(goro::fs::read(&path).await?, b"hello");
    ///     goro::fs::remove_file(&path).await
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::set_len`], or of writing the buffered bytes.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the job goes on after the future is dropped, and the file's length
    /// changes; the next operation on the `File` waits for it.
    pub async fn set_len(&mut self, size: u64) -> io::Result<()> {
        poll_fn(|cx| self.poll_op(cx, Op::SetLen(size)))
            .await
            .map(drop)
    }

    /// Writes any buffered bytes, then waits until the file's data and metadata are on the
    /// device: std's [`std::fs::File::sync_all`] (`fsync`) on the blocking pool, one job.
    ///
    /// ```
    /// use goro::io::AsyncWriteExt;
    ///
    /// goro::block_on(async {
    ///     let path = std::env::temp_dir().join(format!("goro-file-sync-{}", std::process::id()));
    ///     let mut file = goro::fs::File::create(&path).await?;
    ///     file.write_all(b"durable").await?;
    ///     file.sync_all().await?;
    ///     goro::fs::remove_file(&path).await
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::sync_all`], or of writing the buffered bytes.
    ///
    /// # Cancel safety
    ///
    /// The job goes on after the future is dropped; the next operation waits for it.
    pub async fn sync_all(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_op(cx, Op::SyncAll)).await.map(drop)
    }

    /// As [`File::sync_all`], without waiting for metadata the data does not need
    /// (`fdatasync`): std's [`std::fs::File::sync_data`] on the blocking pool, one job.
    ///
    /// ```
    /// use goro::io::AsyncWriteExt;
    ///
    /// goro::block_on(async {
    ///     let path = std::env::temp_dir().join(format!("goro-file-sdata-{}", std::process::id()));
    ///     let mut file = goro::fs::File::create(&path).await?;
    ///     file.write_all(b"durable").await?;
    ///     file.sync_data().await?;
    ///     goro::fs::remove_file(&path).await
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::File::sync_data`], or of writing the buffered bytes.
    ///
    /// # Cancel safety
    ///
    /// As [`File::sync_all`].
    pub async fn sync_data(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_op(cx, Op::SyncData)).await.map(drop)
    }

    /// Waits for the job in flight, if any, and takes its buffer back: `Some` with the
    /// job's operation and result when one finished, `None` when none was in flight.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<(Op, u64)>>> {
        let State::Busy(op, job) = &mut self.state else {
            return Poll::Ready(Ok(None));
        };
        let op = *op;
        let (buf, result) = match ready!(Pin::new(job).poll(cx)) {
            Ok(done) => (done.buf, done.result),
            Err(e) => (Buf::default(), Err(pool_error(e))),
        };
        self.state = State::Idle(buf);
        Poll::Ready(result.map(|n| Some((op, n))))
    }

    /// The buffer of an idle `File` (after `poll_idle` gave `Ready(Ok(_))`).
    fn buf(&mut self) -> &mut Buf {
        match &mut self.state {
            State::Idle(buf) => buf,
            State::Busy(..) => unreachable!("File::buf while a job is in flight"),
        }
    }

    /// Hands the buffer to a new blocking job doing `op`.
    fn start(&mut self, op: Op) {
        let State::Idle(buf) = std::mem::replace(&mut self.state, State::Idle(Buf::default()))
        else {
            unreachable!("File::start while a job is in flight")
        };
        let file = self.std.clone();
        self.state = State::Busy(op, crate::spawn_blocking(move || run(&file, buf, op)));
    }

    /// Runs `op` in a job of its own (after the pending writes) and gives its result.
    fn poll_op(&mut self, cx: &mut Context<'_>, op: Op) -> Poll<io::Result<u64>> {
        loop {
            if let Some((done, n)) = ready!(self.poll_idle(cx))? {
                if done == op {
                    return Poll::Ready(Ok(n));
                }
            }
            self.buf().drop_read_ahead();
            self.start(op);
        }
    }

    /// Writes the pending bytes and moves the OS position back over read-ahead.
    fn poll_settle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.poll_idle(cx))?;
            let buf = self.buf();
            buf.drop_read_ahead();
            if !buf.dirty && buf.rewind == 0 {
                return Poll::Ready(Ok(()));
            }
            self.start(Op::Flush);
        }
    }
}

/// # Cancel safety
///
/// A read that returned `Pending` and is then dropped leaves its job running: the job reads
/// up to 64 KiB ahead into the `File`'s buffer, and the next read hands those bytes out, so
/// no byte is lost or skipped. The OS file position moves on by what the job read (seen by
/// a duplicate of the descriptor), but the `File`'s own position does not: its seeks and
/// writes account for the read-ahead.
impl AsyncRead for File {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            let done = ready!(self.poll_idle(cx))?;
            let buf = self.buf();
            let unread = buf.unread();
            if !unread.is_empty() || out.is_empty() {
                let n = unread.len().min(out.len());
                out[..n].copy_from_slice(&unread[..n]);
                buf.pos += n;
                return Poll::Ready(Ok(n));
            }
            if let Some((Op::Read, _)) = done {
                return Poll::Ready(Ok(0)); // a read job found nothing: end of file
            }
            self.start(Op::Read);
        }
    }
}

/// # Cancel safety
///
/// `write` only copies into the buffer (and, when that fills it, starts a job writing it),
/// so a `write` whose future is dropped either buffered its bytes and returned, or did
/// nothing. `flush` and `close` start a job that writes the buffer: dropped, the job still
/// writes it, and the next operation reports its error.
impl AsyncWrite for File {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            ready!(self.poll_idle(cx))?;
            let buf = self.buf();
            buf.drop_read_ahead();
            buf.dirty = true;
            let room = MAX_BUF - buf.bytes.len();
            if room > 0 {
                let n = room.min(data.len());
                buf.bytes.extend_from_slice(&data[..n]);
                if buf.bytes.len() == MAX_BUF {
                    self.start(Op::Flush); // full: out in the background
                }
                return Poll::Ready(Ok(n));
            }
            self.start(Op::Flush);
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.poll_idle(cx))?;
            if !self.buf().dirty {
                return Poll::Ready(Ok(()));
            }
            self.start(Op::Flush);
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

/// A seek writes the pending bytes first (one job for both).
///
/// # Cancel safety
///
/// Not cancel safe: a seek whose future is dropped still moves the position, and the next
/// operation waits for it; a later seek to the same `SeekFrom` that finds that job finished
/// takes its result instead of seeking again.
impl AsyncSeek for File {
    fn poll_seek(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        self.poll_op(cx, Op::Seek(pos))
    }
}

impl Drop for File {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.state, State::Idle(Buf::default())) {
            State::Idle(buf) if buf.dirty => {
                let last = LastWrite {
                    file: self.std.clone(),
                    buf,
                };
                drop(crate::spawn_blocking(move || drop(last)));
            }
            State::Idle(_) => {}
            State::Busy(_, job) => {
                drop(crate::spawn(async move {
                    if let Ok(Done {
                        wrote: true,
                        result: Err(e),
                        ..
                    }) = job.await
                    {
                        report_lost_write(&e);
                    }
                }));
            }
        }
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("File");
        s.field("std", &self.std);
        match &self.state {
            State::Idle(buf) => s.field("buffered", &buf.bytes.len()),
            State::Busy(op, _) => s.field("busy", op),
        };
        s.finish()
    }
}

/// Options for opening a file, as std's [`std::fs::OpenOptions`]: `open` runs on the
/// blocking pool (Go's `os.OpenFile`).
///
/// ```
/// use goro::io::AsyncWriteExt;
///
/// goro::block_on(async {
///     let path = std::env::temp_dir().join(format!("goro-openopts-{}", std::process::id()));
///     let mut log = goro::fs::OpenOptions::new()
///         .create(true)
///         .append(true)
///         .mode(0o600)
///         .open(&path)
///         .await?;
///     log.write_all(b"line\n").await?;
///     log.close().await?;
///     goro::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions(std::fs::OpenOptions);

impl OpenOptions {
    /// All options off: set at least one of `read`, `write`, `append`.
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.0.read(read);
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.0.write(write);
        self
    }

    /// Open for writing at the end: every write goes to the end of the file.
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.0.append(append);
        self
    }

    /// Truncate an existing file to length 0 (needs `write`).
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.0.truncate(truncate);
        self
    }

    /// Create the file if it does not exist (needs `write` or `append`).
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.0.create(create);
        self
    }

    /// Create the file, failing with `AlreadyExists` if it exists (needs `write` or
    /// `append`).
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.0.create_new(create_new);
        self
    }

    /// The permission bits of a file this creates (before the umask); 0o666 by default.
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::mode(&mut self.0, mode);
        self
    }

    /// Extra `open(2)` flags (`libc::O_NOFOLLOW`, ...); the access mode bits are ignored.
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut self.0, flags);
        self
    }

    /// Opens `path` with these options: std's [`std::fs::OpenOptions::open`] on the
    /// blocking pool.
    ///
    /// ```
    /// goro::block_on(async {
    ///     let missing = goro::fs::OpenOptions::new().read(true).open("no/such/file").await;
    ///     assert_eq!(missing.unwrap_err().kind(), std::io::ErrorKind::NotFound);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`std::fs::OpenOptions::open`]: `NotFound`, `AlreadyExists` (`create_new`),
    /// `IsADirectory` (a directory opened for writing), `PermissionDenied`,
    /// `InvalidInput` (no access mode, or `truncate` without `write`).
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let (options, path) = (self.0.clone(), path.as_ref().to_owned());
        asyncify(move || options.open(path))
            .await
            .map(File::from_std)
    }
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl From<std::fs::OpenOptions> for OpenOptions {
    fn from(options: std::fs::OpenOptions) -> OpenOptions {
        OpenOptions(options)
    }
}
