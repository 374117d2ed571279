//! [`Async<T>`]: any non-blocking file descriptor on the reactor.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_lite::io::{AsyncRead, AsyncWrite};
use goro_runtime::reactor::{Interest, Io, Registered};

/// An I/O object that owns a file descriptor (a socket, a pipe, a terminal), registered with
/// the current runtime's reactor so that tasks wait for it without blocking a thread.
///
/// Dropping an `Async` deregisters the descriptor before closing it, so a descriptor number
/// reused by a new socket never receives an event meant for the old one.
///
/// # After its runtime shuts down
///
/// The descriptor belongs to the reactor of the runtime it was created on, and nobody
/// watches it once that runtime is dropped. From then on every operation that could wait
/// (reads, writes, `accept`, `connect`, [`readable`](Async::readable),
/// [`writable`](Async::writable), the `*_with` calls, and the ones already waiting) returns
/// at once an error of kind [`io::ErrorKind::Other`] saying that the socket's runtime was
/// shut down, whichever runtime polls it. Create sockets on the runtime that will use them.
///
/// It implements [`AsyncRead`]/[`AsyncWrite`] when `&T` implements [`Read`]/[`Write`], both
/// by value and through `&Async<T>`, so one task can read while another writes.
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use goro::net::Async;
///
/// # goro::block_on(async {
/// let (a, mut b) = UnixStream::pair()?;
/// let a = Async::new(a)?; // now non-blocking, and registered
/// b.write_all(b"ping")?;
/// let mut buf = [0; 4];
/// let n = a.read_with(|mut s| s.read(&mut buf)).await?;
/// assert_eq!(&buf[..n], b"ping");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
///
/// # Cancel safety
///
/// Its `AsyncRead`/`AsyncWrite` polls make at most one successful `read`/`write` call on `T`
/// each, and return `Pending` only after `T` said `WouldBlock`: futures-lite's one-shot
/// `read`, `write`, `flush` futures are cancel safe on it, while its looping helpers
/// (`read_exact`, `read_line`, `read_to_string`, `write_all`) keep their progress in the
/// future and lose it when dropped (see [`crate::TcpStream`]).
pub struct Async<T: AsFd> {
    /// The object and its reactor registration.
    io: Registered<T>,
}

impl<T: AsFd> Async<T> {
    /// Puts `io` in non-blocking mode and registers it with the current runtime's reactor (the
    /// global runtime's outside any).
    ///
    /// ```
    /// # goro::block_on(async {
    /// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// let a = goro::net::Async::new(a)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// If the descriptor cannot be made non-blocking or polled (a regular file, for one).
    pub fn new(io: T) -> io::Result<Async<T>> {
        crate::socket::set_nonblocking(&io)?;
        Async::new_nonblocking(io)
    }

    /// Registers `io`, already non-blocking.
    pub(crate) fn new_nonblocking(io: T) -> io::Result<Async<T>> {
        Ok(Async {
            io: Registered::new(io)?,
        })
    }

    /// The I/O object.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// let a = goro::net::Async::new(a)?;
    /// assert!(a.get_ref().peer_addr().is_ok());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn get_ref(&self) -> &T {
        self.io.get_ref()
    }

    /// Deregisters the descriptor and gives the object back, still in non-blocking mode.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// let a = goro::net::Async::new(a)?.into_inner()?;
    /// a.set_nonblocking(false)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// If the OS poller fails to remove the descriptor.
    pub fn into_inner(self) -> io::Result<T> {
        self.io.into_inner()
    }

    /// Waits until the object may be read (or accepted on). Any number of tasks may wait.
    ///
    /// ```
    /// use std::io::Write;
    /// # goro::block_on(async {
    /// let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
    /// let a = goro::net::Async::new(a)?;
    /// b.write_all(b"x")?;
    /// a.readable().await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// If the OS poller fails to arm the descriptor, or the runtime it was created on was
    /// shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: readiness is a state of the descriptor, not an event handed to one waiter;
    /// a dropped future takes none of it, and every waiter is woken by the same event.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.readable().await
    }

    /// Waits until the object may be written. Any number of tasks may wait.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// let a = goro::net::Async::new(a)?;
    /// a.writable().await?; // an empty socket buffer
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// If the OS poller fails to arm the descriptor, or the runtime it was created on was
    /// shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`readable`](Async::readable).
    pub async fn writable(&self) -> io::Result<()> {
        self.io.writable().await
    }

    /// Polls for read readiness; only the task of the most recent call is woken.
    ///
    /// # Errors
    ///
    /// If the OS poller fails to arm the descriptor, or the runtime was shut down.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(Interest::Read, cx)
    }

    /// Polls for write readiness; only the task of the most recent call is woken.
    ///
    /// # Errors
    ///
    /// If the OS poller fails to arm the descriptor, or the runtime was shut down.
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(Interest::Write, cx)
    }

    /// Runs the non-blocking read-side operation `op` until it does not return `WouldBlock`,
    /// waiting for read readiness in between. Any number of tasks may wait at once. Each poll
    /// takes one unit of the task's cooperative budget.
    ///
    /// ```
    /// use std::io::Write;
    /// # goro::block_on(async {
    /// let (a, mut b) = std::os::unix::net::UnixDatagram::pair()?;
    /// let a = goro::net::Async::new(a)?;
    /// b.send(b"abc")?;
    /// let mut buf = [0; 8];
    /// let n = a.read_with(|s| s.recv(&mut buf)).await?; // any read-side call
    /// assert_eq!(&buf[..n], b"abc");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Whatever `op` returns other than `WouldBlock`; an error of kind `Other`, without
    /// running `op`, if the runtime the object was created on was shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe if `op` does nothing when it returns `WouldBlock`, which holds for every
    /// single non-blocking system call (`read`, `recv`, `recv_from`, `accept`, `peek`). The
    /// future calls `op` only while being polled, and completes in the same poll as the first
    /// call that does not return `WouldBlock`: a future dropped before it completed has seen
    /// nothing but `WouldBlock`. An `op` that does some work and then reports `WouldBlock`
    /// (several reads in a loop, say) loses that work on every retry, dropped or not.
    pub fn read_with<R, F>(&self, op: F) -> Io<'_, T, F>
    where
        F: FnMut(&T) -> io::Result<R>,
    {
        self.io.io(Interest::Read, op)
    }

    /// Runs the non-blocking write-side operation `op` until it does not return
    /// `WouldBlock`, waiting for write readiness in between. Any number of tasks may wait.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// # goro::block_on(async {
    /// let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
    /// let a = goro::net::Async::new(a)?;
    /// a.write_with(|mut s| s.write(b"hi")).await?;
    /// let mut buf = [0; 2];
    /// b.read_exact(&mut buf)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Whatever `op` returns other than `WouldBlock`; an error of kind `Other`, without
    /// running `op`, if the runtime the object was created on was shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe if `op` does nothing when it returns `WouldBlock` (every single
    /// non-blocking `write`, `send`, `send_to` call): as for [`Async::read_with`], a future
    /// dropped before it completed has seen nothing but `WouldBlock`, so it wrote nothing.
    pub fn write_with<R, F>(&self, op: F) -> Io<'_, T, F>
    where
        F: FnMut(&T) -> io::Result<R>,
    {
        self.io.io(Interest::Write, op)
    }

    /// Poll-style [`Async::read_with`]: only the task of the most recent call is woken.
    ///
    /// # Errors
    ///
    /// Whatever `op` returns other than `WouldBlock`; an error of kind `Other`, without
    /// running `op`, if the runtime the object was created on was shut down.
    pub fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.io.poll_io(Interest::Read, cx, op)
    }

    /// Poll-style [`Async::write_with`]: only the task of the most recent call is woken.
    ///
    /// # Errors
    ///
    /// Whatever `op` returns other than `WouldBlock`; an error of kind `Other`, without
    /// running `op`, if the runtime the object was created on was shut down.
    pub fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.io.poll_io(Interest::Write, cx, op)
    }
}

impl<T: AsFd> Async<T> {
    /// Poll-style read into memory that need not be initialised: one `read(2)` on the
    /// descriptor, waiting for read readiness while it would block. Buffers handed out
    /// uninitialised (hyper's read buffer, a `Vec`'s spare capacity) are filled without being
    /// zeroed first.
    ///
    /// On `Ready(Ok(n))` the first `n` elements of `buf` are initialised (`n <= buf.len()`;
    /// `0` is end of file): code that tracks initialisation may rely on it. The call goes to
    /// the descriptor itself, not through `T`'s `Read`, which is the same for the sockets,
    /// pipes and terminals `Async` wraps.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::mem::MaybeUninit;
    ///
    /// # goro::block_on(async {
    /// let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
    /// let a = goro::net::Async::new(a)?;
    /// b.write_all(b"ping")?;
    /// let mut buf = [MaybeUninit::<u8>::uninit(); 16];
    /// let n = std::future::poll_fn(|cx| a.poll_read_uninit(cx, &mut buf)).await?;
    /// assert_eq!(n, 4);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// What `read(2)` reports other than `EAGAIN`.
    pub fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        // rustix reads into `MaybeUninit` memory safely and hands back the part `read` filled.
        self.poll_read_with(cx, |io| Ok(rustix::io::read(io, &mut *buf)?.0.len()))
    }
}

impl<T: AsFd> AsFd for Async<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<T: AsFd> AsRawFd for Async<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_fd().as_raw_fd()
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Async").field("io", self.get_ref()).finish()
    }
}

/// `AsyncRead::poll_read` for any `Async<T>` whose `&T` reads.
pub(crate) fn poll_read<T: AsFd>(
    io: &Async<T>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>>
where
    for<'a> &'a T: Read,
{
    io.poll_read_with(cx, |mut t| t.read(buf))
}

/// `AsyncRead::poll_read_vectored` for any `Async<T>` whose `&T` reads.
pub(crate) fn poll_read_vectored<T: AsFd>(
    io: &Async<T>,
    cx: &mut Context<'_>,
    bufs: &mut [IoSliceMut<'_>],
) -> Poll<io::Result<usize>>
where
    for<'a> &'a T: Read,
{
    io.poll_read_with(cx, |mut t| t.read_vectored(bufs))
}

impl<T: AsFd> AsyncRead for Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        poll_read(&self, cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        poll_read_vectored(&self, cx, bufs)
    }
}

impl<T: AsFd> AsyncRead for &Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        poll_read(&self, cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        poll_read_vectored(&self, cx, bufs)
    }
}

fn poll_write<T: AsFd>(io: &Async<T>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>
where
    for<'a> &'a T: Write,
{
    io.poll_write_with(cx, |mut t| t.write(buf))
}

fn poll_write_vectored<T: AsFd>(
    io: &Async<T>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>>
where
    for<'a> &'a T: Write,
{
    io.poll_write_with(cx, |mut t| t.write_vectored(bufs))
}

fn poll_flush<T: AsFd>(io: &Async<T>, cx: &mut Context<'_>) -> Poll<io::Result<()>>
where
    for<'a> &'a T: Write,
{
    io.poll_write_with(cx, |mut t| t.flush())
}

/// Writes go through `T`'s own [`Write`]: for std's sockets, `write` cannot raise SIGPIPE
/// (std sends with MSG_NOSIGNAL) but `write_vectored` can. goro's own [`crate::TcpStream`]
/// and [`crate::UnixStream`] send vectored writes with MSG_NOSIGNAL too.
impl<T: AsFd> AsyncWrite for Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        poll_write(&self, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        poll_write_vectored(&self, cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_flush(&self, cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_flush(&self, cx)
    }
}

impl<T: AsFd> AsyncWrite for &Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        poll_write(&self, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        poll_write_vectored(&self, cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_flush(&self, cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_flush(&self, cx)
    }
}
