//! Writing to a closed peer returns an error and never raises SIGPIPE, even when SIGPIPE has
//! its default action (kill the process), as in a C host that has not ignored it the way
//! Rust's `main` does. In its own test binary: it changes a process-wide signal disposition.

mod common;

use std::io::{self, IoSlice};

use common::run;
use futures_lite::AsyncWriteExt;
use goro_net::{TcpListener, TcpStream, UnixStream};

fn restore_default_sigpipe() {
    // SAFETY: `signal` with SIG_DFL installs no handler code; it is safe to call from any
    // thread, and nothing in this process relies on SIGPIPE being ignored.
    let previous = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_ne!(previous, libc::SIG_ERR);
}

fn closed_pipe_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
    )
}

/// Writes (plain or vectored) until the write fails; returns the error.
async fn write_until_error(
    mut w: impl futures_lite::AsyncWrite + Unpin,
    vectored: bool,
) -> io::Error {
    let chunk = [3u8; 4096];
    for _ in 0..10_000 {
        let r = if vectored {
            let bufs = [IoSlice::new(&chunk), IoSlice::new(&chunk)];
            w.write_vectored(&bufs[..]).await
        } else {
            w.write(&chunk).await
        };
        if let Err(e) = r {
            return e;
        }
        goro_runtime::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    panic!("writes to a closed peer kept succeeding");
}

#[test]
fn writes_to_a_closed_tcp_peer_return_epipe_with_sigpipe_at_its_default() {
    restore_default_sigpipe();
    run(2, 30, async {
        for vectored in [false, true] {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            drop(listener.accept().await.unwrap());
            let e = write_until_error(client, vectored).await;
            assert!(closed_pipe_error(&e), "vectored {vectored}: {e}");
        }
    });
}

#[test]
fn writes_to_a_closed_unix_peer_return_epipe_with_sigpipe_at_its_default() {
    restore_default_sigpipe();
    run(2, 30, async {
        for vectored in [false, true] {
            let (a, b) = UnixStream::pair().unwrap();
            drop(b);
            let e = write_until_error(a, vectored).await;
            assert!(closed_pipe_error(&e), "vectored {vectored}: {e}");
        }
    });
}
