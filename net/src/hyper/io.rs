//! [`Io<T>`]: goro's streams (and any futures-io stream) as hyper's `Read` and `Write`.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use ::hyper::rt::ReadBufCursor;
use futures_lite::io::{AsyncRead, AsyncWrite};

use super::uninit::{self, ReadUninit};

/// The most a zero-filling [`Io`] reads at once: its scratch buffer grows to this size at
/// most (zeroed once, as it grows) and stays with the connection. hyper's reads start at
/// 8 KiB and rarely ask for more than 64 KiB.
const ZERO_FILL_MAX: usize = 64 * 1024;

/// A stream with hyper's IO traits: [`hyper::rt::Read`] and [`hyper::rt::Write`] (like
/// hyper-util's `TokioIo`, for goro).
///
/// - [`Io::new`] takes a goro stream ([`TcpStream`](crate::TcpStream),
///   [`UnixStream`](crate::UnixStream), ... see [`ReadUninit`]): reads go straight into
///   hyper's buffer, uninitialised memory included, with nothing zeroed, and writes are
///   vectored (hyper sends a response's head and body in one `sendmsg`).
/// - [`Io::with_zero_fill`] takes any futures-io stream (a TLS stream, say), whose
///   `poll_read` needs initialised memory: it reads into a scratch buffer of its own, zeroed
///   once as it grows (to at most 64 KiB), and copies what it read into hyper's buffer.
///
/// ```
/// use goro::hyper::Io;
/// use goro::net::{TcpListener, TcpStream};
///
/// # goro::block_on(async {
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let stream = TcpStream::connect(listener.local_addr()?).await?;
/// let io = Io::new(stream); // ready for hyper::client::conn::http1::handshake(io)
/// assert!(io.get_ref().peer_addr().is_ok());
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct Io<T> {
    /// The stream.
    inner: T,
    /// How reads fill hyper's buffer.
    read: ReadPath<T>,
    /// Whether `poll_write_vectored` writes more than the first buffer at once.
    vectored: bool,
}

/// [`uninit::poll_fill`] for one stream type.
type FillFn<T> = fn(Pin<&mut T>, &mut Context<'_>, &mut ReadBufCursor<'_>) -> Poll<io::Result<()>>;

/// How an [`Io`] reads.
enum ReadPath<T> {
    /// Straight into hyper's buffer (only [`Io::new`] builds this, from a [`ReadUninit`]).
    Uninit(FillFn<T>),
    /// Through a scratch buffer, zeroed once as it grows.
    ZeroFill(Vec<u8>),
}

impl<T: ReadUninit> Io<T> {
    /// Wraps a goro stream: reads fill hyper's buffer without zeroing it.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let (a, _b) = goro::net::UnixStream::pair()?;
    /// let io = goro::hyper::Io::new(a);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn new(inner: T) -> Io<T> {
        Io {
            inner,
            read: ReadPath::Uninit(uninit::poll_fill::<T>),
            // Every goro stream writes vectors with one `sendmsg`/`writev`.
            vectored: true,
        }
    }
}

impl<T> Io<T> {
    /// Wraps any futures-io stream: each read goes into a scratch buffer of the `Io`'s own
    /// (zeroed once, as it grows to at most 64 KiB) and is copied into hyper's buffer.
    ///
    /// ```
    /// use goro::io::Cursor;
    ///
    /// let io = goro::hyper::Io::with_zero_fill(Cursor::new(b"GET / HTTP/1.1\r\n\r\n".to_vec()));
    /// ```
    pub fn with_zero_fill(inner: T) -> Io<T> {
        Io {
            inner,
            read: ReadPath::ZeroFill(Vec::new()),
            vectored: false,
        }
    }

    /// The stream.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let (a, _b) = goro::net::UnixStream::pair()?;
    /// let io = goro::hyper::Io::new(a);
    /// assert!(io.get_ref().peer_addr().is_ok());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The stream, mutably.
    ///
    /// ```
    /// # goro::block_on(async {
    /// let (a, _b) = goro::net::UnixStream::pair()?;
    /// let mut io = goro::hyper::Io::new(a);
    /// let _stream: &mut goro::net::UnixStream = io.get_mut();
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// The stream back (bytes hyper had buffered stay with hyper).
    ///
    /// ```
    /// # goro::block_on(async {
    /// let (a, _b) = goro::net::UnixStream::pair()?;
    /// let a = goro::hyper::Io::new(a).into_inner();
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

/// Reads through `scratch`: only the part of it never used before is zeroed.
fn poll_zero_fill<T: AsyncRead + Unpin>(
    inner: &mut T,
    scratch: &mut Vec<u8>,
    cx: &mut Context<'_>,
    buf: &mut ReadBufCursor<'_>,
) -> Poll<io::Result<()>> {
    let want = buf.remaining().min(ZERO_FILL_MAX);
    if scratch.len() < want {
        scratch.resize(want, 0);
    }
    let n = ready!(Pin::new(inner).poll_read(cx, &mut scratch[..want]))?;
    // `min`: a reader claiming more than it was given does not make `put_slice` panic.
    buf.put_slice(&scratch[..n.min(want)]);
    Poll::Ready(Ok(()))
}

impl<T: AsyncRead + Unpin> ::hyper::rt::Read for Io<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let mut buf = buf;
        let this = self.get_mut();
        match &mut this.read {
            ReadPath::Uninit(fill) => fill(Pin::new(&mut this.inner), cx, &mut buf),
            ReadPath::ZeroFill(scratch) => poll_zero_fill(&mut this.inner, scratch, cx, &mut buf),
        }
    }
}

impl<T: AsyncWrite + Unpin> ::hyper::rt::Write for Io<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
}

impl<T: fmt::Debug> fmt::Debug for Io<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let read = match self.read {
            ReadPath::Uninit(_) => "uninit",
            ReadPath::ZeroFill(_) => "zero-fill",
        };
        f.debug_struct("Io")
            .field("inner", &self.inner)
            .field("read", &read)
            .finish()
    }
}
