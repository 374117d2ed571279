//! `Async<T>` on descriptors goro-net does not wrap itself.

mod common;

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use common::run;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use goro_net::Async;
use goro_runtime::time::timeout;

#[test]
fn a_pipe_is_read_and_written_through_async() {
    run(2, 30, async {
        let (r, w) = std::io::pipe().unwrap();
        let mut r = Async::new(r).unwrap();
        let mut w = Async::new(w).unwrap();
        let writer = goro_runtime::spawn(async move {
            for _ in 0..100 {
                w.write_all(&[7u8; 1000]).await.unwrap();
            }
        });
        let mut got = Vec::new();
        r.read_to_end(&mut got).await.unwrap(); // EOF once the writer is dropped
        writer.await.unwrap();
        assert_eq!(got.len(), 100_000);
    });
}

#[test]
fn readable_and_writable_wait_for_readiness() {
    run(2, 30, async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let a = Async::new(a).unwrap();
        a.writable().await.unwrap();
        let early = timeout(Duration::from_millis(20), a.readable()).await;
        assert!(early.is_err(), "readable before any data");
        b.write_all(b"!").unwrap();
        a.readable().await.unwrap();
        let mut buf = [0; 1];
        a.read_with(|mut s| s.read(&mut buf)).await.unwrap();
        let inner = a.into_inner().unwrap();
        inner.set_nonblocking(false).unwrap();
    });
}

#[test]
fn a_dropped_async_leaves_no_stale_event_for_a_reused_fd() {
    run(1, 30, async {
        for _ in 0..100 {
            let (a, mut b) = UnixStream::pair().unwrap();
            let a = Async::new(a).unwrap();
            // Leave the descriptor armed with a waiter that never completes.
            assert!(
                timeout(Duration::from_millis(1), a.readable())
                    .await
                    .is_err()
            );
            let fd = a.as_raw_fd();
            drop(a); // deregistered, then closed
            b.write_all(b"late").unwrap_or(()); // the old peer's event has nowhere to go
            drop(b);
            let (c, _d) = UnixStream::pair().unwrap();
            let reused = c.as_raw_fd() == fd;
            let c = Async::new(c).unwrap();
            let r = timeout(Duration::from_millis(5), c.readable()).await;
            assert!(
                r.is_err(),
                "a fresh socket (fd reused: {reused}) saw a stale event"
            );
        }
    });
}
