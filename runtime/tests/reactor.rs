//! The reactor's sources: readiness in both directions, one-shot re-arming, fd reuse.

mod common;

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use common::{runtime, watchdog};
use futures_lite::future::poll_fn;
use goro_runtime::reactor::{Interest, Registered};

fn pair() -> (Registered<UnixStream>, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    (Registered::new(a).unwrap(), b)
}

async fn read(r: &Registered<UnixStream>, buf: &mut [u8]) -> io::Result<usize> {
    poll_fn(|cx| r.poll_io(Interest::Read, cx, |mut s| s.read(buf))).await
}

#[test]
fn a_reader_waits_for_data_from_another_thread() {
    watchdog(30, || {
        let rt = runtime(2);
        let (a, mut b) = pair();
        let writer = std::thread::spawn(move || {
            for i in 0..100u8 {
                std::thread::sleep(Duration::from_millis(1));
                b.write_all(&[i]).unwrap();
            }
            b
        });
        rt.block_on(async {
            let mut got = Vec::new();
            let mut buf = [0; 16];
            while got.len() < 100 {
                let n = read(&a, &mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, (0..100).collect::<Vec<u8>>());
        });
        let b = writer.join().unwrap();
        drop(b);
        // EOF is an ordinary read of 0 bytes.
        let mut buf = [0; 4];
        assert_eq!(rt.block_on(read(&a, &mut buf)).unwrap(), 0);
    });
}

#[test]
fn reader_and_writer_wait_on_one_socket_at_once() {
    watchdog(30, || {
        let rt = runtime(2);
        let (a, b) = pair();
        let a = std::sync::Arc::new(a);
        // Fill the socket so the writer must wait, while a reader waits too.
        let chunk = vec![7u8; 64 * 1024];
        while rt
            .block_on(poll_fn(|_cx| {
                std::task::Poll::Ready(a.get_ref().write(&chunk))
            }))
            .is_ok()
        {}
        let a2 = a.clone();
        let reader = rt.spawn(async move {
            let mut buf = [0; 1];
            read(&a2, &mut buf).await.map(|_| buf[0])
        });
        let a3 = a.clone();
        let writer = rt.spawn(async move {
            poll_fn(|cx| a3.poll_io(Interest::Write, cx, |mut s| s.write(b"x"))).await
        });
        std::thread::sleep(Duration::from_millis(50));
        let mut b = b;
        // Reply to the reader, then drain so the writer can go on.
        b.write_all(&[42]).unwrap();
        let mut sink = vec![0; 1 << 20];
        b.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        while b.read(&mut sink).is_ok_and(|n| n > 0) {}
        assert_eq!(rt.block_on(reader).unwrap().unwrap(), 42);
        assert_eq!(rt.block_on(writer).unwrap().unwrap(), 1);
    });
}

#[test]
fn a_new_source_on_a_reused_fd_gets_no_stale_event() {
    watchdog(30, || {
        let rt = runtime(1);
        rt.block_on(async {
            for _ in 0..200 {
                let (a, mut b) = pair();
                b.write_all(b"z").unwrap();
                a.readable().await.unwrap();
                drop(a); // deregistered, then closed: the fd number is free
                drop(b);
                let (c, _d) = pair(); // likely the same fd number
                let mut buf = [0; 1];
                let r =
                    goro_runtime::time::timeout(Duration::from_millis(5), read(&c, &mut buf)).await;
                assert!(r.is_err(), "a fresh socket read data it was never sent");
            }
        });
    });
}

#[test]
fn registration_outside_a_runtime_uses_the_global_one() {
    watchdog(30, || {
        let (a, mut b) = pair();
        b.write_all(b"hello").unwrap();
        let mut buf = [0; 5];
        let n = goro_runtime::block_on(read(&a, &mut buf)).unwrap();
        assert_eq!(&buf[..n], b"hello");
        let inner = a.into_inner().unwrap();
        inner.set_nonblocking(false).unwrap();
    });
}

#[test]
fn many_tasks_waiting_to_read_one_socket_are_all_woken() {
    watchdog(30, || {
        let rt = runtime(2);
        let (a, mut b) = pair();
        let a = std::sync::Arc::new(a);
        let waiters: Vec<_> = (0..16)
            .map(|_| {
                let a = a.clone();
                rt.spawn(async move { a.ready(Interest::Read).await })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(50));
        b.write_all(b"!").unwrap();
        for w in waiters {
            rt.block_on(w).unwrap().unwrap();
        }
    });
}

#[test]
fn tasks_sharing_one_socket_each_receive_through_io() {
    watchdog(30, || {
        let rt = runtime(2);
        let (a, mut b) = pair();
        let a = std::sync::Arc::new(a);
        // Eight readers wait at once, each for one byte; every byte reaches exactly one.
        let readers: Vec<_> = (0..8)
            .map(|_| {
                let a = a.clone();
                rt.spawn(async move {
                    let mut buf = [0; 1];
                    a.io(Interest::Read, |mut s| s.read(&mut buf)).await?;
                    io::Result::Ok(buf[0])
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(50));
        for i in 0..8u8 {
            b.write_all(&[i]).unwrap();
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut got: Vec<u8> = readers
            .into_iter()
            .map(|r| rt.block_on(r).unwrap().unwrap())
            .collect();
        got.sort();
        assert_eq!(got, (0..8).collect::<Vec<u8>>());
    });
}

#[test]
fn a_cancelled_waiter_does_not_stop_the_next_one() {
    watchdog(30, || {
        let rt = runtime(1);
        let (a, mut b) = pair();
        rt.block_on(async {
            for _ in 0..100 {
                let r =
                    goro_runtime::time::timeout(Duration::from_millis(1), a.ready(Interest::Read))
                        .await;
                assert!(r.is_err());
            }
            b.write_all(b"?").unwrap();
            let mut buf = [0; 1];
            let n = a
                .io(Interest::Read, |mut s| s.read(&mut buf))
                .await
                .unwrap();
            assert_eq!(n, 1);
        });
    });
}
