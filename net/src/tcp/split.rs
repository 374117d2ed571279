//! The owned halves of a [`TcpStream`], for a reader task and a writer task.

use std::error::Error;
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_lite::io::{AsyncRead, AsyncWrite};

use crate::TcpStream;

pub(crate) fn split(stream: Arc<TcpStream>) -> (OwnedReadHalf, OwnedWriteHalf) {
    (
        OwnedReadHalf {
            stream: stream.clone(),
        },
        OwnedWriteHalf {
            stream,
            shutdown_on_drop: true,
        },
    )
}

/// The read half of a [`TcpStream`], from [`TcpStream::into_split`].
///
/// ```
/// use goro::io::{AsyncReadExt, AsyncWriteExt};
///
/// # goro::block_on(async {
/// # let listener = goro::net::TcpListener::bind("127.0.0.1:0").await?;
/// let (mut rd, mut wr) = goro::net::TcpStream::connect(listener.local_addr()?).await?.into_split();
/// let (mut server, _) = listener.accept().await?;
/// server.write_all(b"hi").await?;
/// let mut buf = [0; 2];
/// rd.read_exact(&mut buf).await?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct OwnedReadHalf {
    /// The stream, shared with the write half.
    stream: Arc<TcpStream>,
}

/// The write half of a [`TcpStream`], from [`TcpStream::into_split`]. Dropping or closing it
/// shuts down the write side of the connection: the peer reads EOF.
///
/// ```
/// use goro::io::{AsyncReadExt, AsyncWriteExt};
///
/// # goro::block_on(async {
/// # let listener = goro::net::TcpListener::bind("127.0.0.1:0").await?;
/// let (_rd, mut wr) = goro::net::TcpStream::connect(listener.local_addr()?).await?.into_split();
/// let (mut server, _) = listener.accept().await?;
/// wr.write_all(b"bye").await?;
/// drop(wr); // FIN
/// let mut got = String::new();
/// server.read_to_string(&mut got).await?;
/// assert_eq!(got, "bye");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct OwnedWriteHalf {
    /// The stream, shared with the read half.
    stream: Arc<TcpStream>,
    /// Whether dropping this half shuts down the write side (false once closed or reunited).
    shutdown_on_drop: bool,
}

/// The error of [`OwnedReadHalf::reunite`] with halves of two different streams: gives both
/// back.
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl OwnedReadHalf {
    /// Puts the halves back together into the stream they came from.
    ///
    /// ```
    /// # goro::block_on(async {
    /// # let listener = goro::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = goro::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let (rd, wr) = stream.into_split();
    /// let stream = rd.reunite(wr).expect("halves of one stream");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// [`ReuniteError`] if the halves come from different streams.
    pub fn reunite(self, mut other: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        if !Arc::ptr_eq(&self.stream, &other.stream) {
            return Err(ReuniteError(self, other));
        }
        other.shutdown_on_drop = false;
        drop(other);
        Ok(Arc::try_unwrap(self.stream).expect("the two halves held the only references"))
    }

    /// The address of the remote end.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::peer_addr`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// The address of the local end.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }

    /// Receives data without consuming it; see [`TcpStream::peek`].
    ///
    /// # Errors
    ///
    /// As [`TcpStream::peek`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`TcpStream::peek`]. Reads and writes on the halves are cancel safe
    /// exactly as on the [`TcpStream`] itself (see its docs).
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.peek(buf).await
    }

    /// Poll-style read into memory that need not be initialised (hyper's read buffer, a
    /// `Vec`'s spare capacity): nothing is zeroed first. See [`Async::poll_read_uninit`](crate::Async::poll_read_uninit).
    ///
    /// On `Ready(Ok(n))` the first `n` elements of `buf` are initialised (`n <= buf.len()`,
    /// `0` at end of stream): code that tracks initialisation may rely on it.
    ///
    /// # Errors
    ///
    /// What `read(2)` reports other than `EAGAIN` (a reset connection, for one).
    pub fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read_uninit(cx, buf)
    }
}

impl OwnedWriteHalf {
    /// The address of the remote end.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::peer_addr`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// The address of the local end.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            let _ = self.stream.shutdown(Shutdown::Write);
        }
    }
}

impl AsyncRead for OwnedReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read_ref(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read_vectored_ref(cx, bufs)
    }
}

impl AsyncWrite for OwnedWriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_ref(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_vectored_ref(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let res = self.stream.shutdown(Shutdown::Write);
        self.shutdown_on_drop = false;
        Poll::Ready(res)
    }
}

impl fmt::Debug for OwnedReadHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedReadHalf")
            .field("stream", &self.stream)
            .finish()
    }
}

impl fmt::Debug for OwnedWriteHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedWriteHalf")
            .field("stream", &self.stream)
            .finish()
    }
}

impl fmt::Debug for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReuniteError").finish_non_exhaustive()
    }
}

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves of different streams")
    }
}

impl Error for ReuniteError {}
