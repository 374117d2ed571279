//! Filling hyper's uninitialised read buffer without zeroing it: the one module of goro-net
//! with `unsafe` code.
//!
//! hyper hands a reader a [`ReadBufCursor`] over memory that may be uninitialised. Reading
//! into it needs two `unsafe` calls, and nothing else:
//!
//! - [`ReadBufCursor::as_mut`] gives the unfilled part as `&mut [MaybeUninit<u8>]`; it is
//!   unsafe because writing `MaybeUninit::uninit()` into bytes hyper already counts as
//!   initialised would de-initialise them. We only pass the slice to `read(2)` (through
//!   rustix, whose `read` takes `&mut [MaybeUninit<u8>]` safely), which writes initialised
//!   bytes or nothing.
//! - [`ReadBufCursor::advance`] marks `n` more bytes as filled (and so initialised); it is
//!   unsafe because those bytes must really be initialised. `n` is the length of the
//!   initialised prefix that rustix returns after the call (the kernel's count), and only
//!   types of this crate can produce it: [`ReadUninit`] is sealed, and each of its
//!   implementations is a goro stream whose `poll_read_uninit` returns exactly that length.
//!   A count larger than the slice is refused anyway, with an error, before `advance`.

#![allow(unsafe_code)]

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use ::hyper::rt::ReadBufCursor;
use futures_lite::io::AsyncRead;

use crate::{Async, OwnedReadHalf, TcpStream, UnixStream};

mod sealed {
    /// Keeps [`super::ReadUninit`] to this crate's types: the `unsafe` in this module relies
    /// on their counts.
    pub trait Sealed {}
}

/// A goro stream that reads into uninitialised memory ([`Io::new`](super::Io::new) takes
/// these).
///
/// On `Ready(Ok(n))`, `poll_read_uninit` has initialised the first `n` elements of `buf`
/// (`n <= buf.len()`, `0` at end of stream). The trait is sealed: only goro's own streams,
/// whose reads go to `read(2)` through rustix, implement it. Wrap any other futures-io
/// stream with [`Io::with_zero_fill`](super::Io::with_zero_fill).
///
/// ```
/// use std::mem::MaybeUninit;
/// use std::pin::Pin;
/// use goro::io::AsyncWriteExt;
/// use goro::net::UnixStream;
/// use goro::hyper::ReadUninit;
///
/// # goro::block_on(async {
/// let (mut a, mut b) = UnixStream::pair()?;
/// a.write_all(b"hello").await?;
/// let mut buf = [MaybeUninit::<u8>::uninit(); 64];
/// let n = std::future::poll_fn(|cx| Pin::new(&mut b).poll_read_uninit(cx, &mut buf)).await?;
/// assert_eq!(n, 5);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub trait ReadUninit: AsyncRead + sealed::Sealed {
    /// Reads into `buf` without requiring it to be initialised.
    ///
    /// # Errors
    ///
    /// What the read reports (a reset connection, for one).
    fn poll_read_uninit(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>>;
}

/// Implements [`ReadUninit`] for a goro stream by its inherent `poll_read_uninit`.
macro_rules! read_uninit {
    ($($ty:ty),* $(,)?) => {$(
        impl sealed::Sealed for $ty {}
        impl ReadUninit for $ty {
            fn poll_read_uninit(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [MaybeUninit<u8>],
            ) -> Poll<io::Result<usize>> {
                (*self).poll_read_uninit(cx, buf)
            }
        }
    )*};
}

read_uninit!(
    TcpStream,
    &TcpStream,
    OwnedReadHalf,
    UnixStream,
    &UnixStream,
    // `Async` over the std descriptors whose `Read` is exactly `read(2)`.
    Async<std::net::TcpStream>,
    Async<std::os::unix::net::UnixStream>,
    Async<std::io::PipeReader>,
);

/// Reads from `io` into the unfilled part of `buf`, without zeroing it first, and marks what
/// the read wrote as filled.
pub(super) fn poll_fill<T: ReadUninit + ?Sized>(
    io: Pin<&mut T>,
    cx: &mut Context<'_>,
    buf: &mut ReadBufCursor<'_>,
) -> Poll<io::Result<()>> {
    // SAFETY: the slice only goes to `poll_read_uninit`, a goro stream's read that writes
    // initialised bytes through rustix's `read` or nothing; it never de-initialises a byte.
    let unfilled = unsafe { buf.as_mut() };
    let len = unfilled.len();
    let n = ready!(io.poll_read_uninit(cx, unfilled))?;
    if n > len {
        return Poll::Ready(Err(io::Error::other(format!(
            "goro: a read reported {n} bytes into a {len}-byte buffer"
        ))));
    }
    // SAFETY: `poll_read_uninit` initialised the first `n` bytes of the unfilled part (see
    // `ReadUninit`: sealed, and every implementation returns rustix's initialised length),
    // and `n` fits in it.
    unsafe { buf.advance(n) };
    Poll::Ready(Ok(()))
}
