//! Sockets that outlive their runtime: once the runtime they were created on is dropped,
//! nobody drives its poller, so every operation that could wait must fail at once with a
//! clear error instead of waiting for ever. In its own test binary: a hang here trips the
//! watchdog, which aborts the process.

mod common;

use std::io;
use std::sync::mpsc;
use std::time::Duration;

use common::{runtime, watchdog};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use goro_net::{TcpListener, TcpStream, UdpSocket};

/// How long each test may take before the watchdog aborts the process.
const LIMIT_SECS: u64 = 30;

/// Asserts that `r` is the error of a socket whose runtime was shut down.
#[track_caller]
fn assert_shut_down<T: std::fmt::Debug>(r: io::Result<T>, what: &str) {
    let e = r.expect_err(what);
    assert_eq!(e.kind(), io::ErrorKind::Other, "{what}: {e}");
    assert!(
        e.to_string().contains("runtime was shut down"),
        "{what}: {e}"
    );
}

/// A listener and both ends of a connection, all created on `rt`.
fn tcp_on(rt: &goro_runtime::Runtime) -> (TcpListener, TcpStream, TcpStream) {
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (listener, client, server)
    })
}

#[test]
fn tcp_operations_fail_at_once_after_the_runtime_is_dropped() {
    watchdog(LIMIT_SECS, || {
        let rt = runtime(2);
        let (listener, mut client, server) = tcp_on(&rt);
        drop(rt);
        // From the global runtime.
        goro_runtime::block_on(async {
            assert_shut_down(listener.accept().await, "accept");
            let mut buf = [0; 8];
            assert_shut_down(client.read(&mut buf).await, "read");
            assert_shut_down(client.write(b"x").await, "write"); // would not even block
            assert_shut_down(client.peek(&mut buf).await, "peek");
            assert_shut_down(server.readable().await, "readable");
            assert_shut_down(server.writable().await, "writable");
        });
        // From another runtime, and from a task on it.
        let other = runtime(1);
        other.block_on(async {
            let mut buf = [0; 8];
            assert_shut_down((&server).read(&mut buf).await, "read on another runtime");
        });
        let task = other.spawn(async move { listener.accept().await.map(|_| ()) });
        assert_shut_down(other.block_on(task).unwrap(), "accept in a task");
    });
}

#[test]
fn a_task_waiting_on_the_socket_is_woken_with_the_error() {
    watchdog(LIMIT_SECS, || {
        let rt = runtime(1);
        let (listener, client, _server) = tcp_on(&rt);
        let other = runtime(1);
        let (tx, rx) = mpsc::channel();
        let waiting = other.spawn(async move {
            let accept = listener.accept();
            let read = async {
                let mut buf = [0; 8];
                (&client).read(&mut buf).await
            };
            tx.send(()).unwrap();
            // Both wait in `rt`'s reactor: nothing is coming.
            let (a, r) = futures_lite::future::zip(accept, read).await;
            (a.map(|_| ()), r)
        });
        rx.recv().unwrap();
        // Give the task time to park (it fails either way: parked, it is woken by the
        // shutdown; not yet parked, it sees the shutdown at its first poll).
        std::thread::sleep(Duration::from_millis(50));
        drop(rt);
        let (accepted, read) = other.block_on(waiting).unwrap();
        assert_shut_down(accepted, "a waiting accept");
        assert_shut_down(read, "a waiting read");
    });
}

#[test]
fn udp_operations_fail_at_once_after_the_runtime_is_dropped() {
    watchdog(LIMIT_SECS, || {
        let rt = runtime(1);
        let (a, b) = rt.block_on(async {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            (a, b)
        });
        let b_addr = b.local_addr().unwrap();
        drop(rt);
        goro_runtime::block_on(async {
            let mut buf = [0; 8];
            assert_shut_down(a.send_to(b"x", b_addr).await, "send_to");
            assert_shut_down(b.recv_from(&mut buf).await, "recv_from");
            assert_shut_down(a.connect(b_addr).await, "connect");
            assert_shut_down(b.recv(&mut buf).await, "recv");
        });
    });
}

#[test]
fn connecting_inside_a_dropped_runtime_fails_at_once() {
    watchdog(LIMIT_SECS, || {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let rt = runtime(1);
        // A blocking call outlives its runtime's drop and still has that runtime as its own.
        let (started_tx, started_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (out_tx, out_rx) = mpsc::channel();
        drop(rt.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            go_rx.recv().unwrap();
            let r = futures_lite::future::block_on(TcpStream::connect(addr));
            out_tx.send(r.map(|_| ())).unwrap();
        }));
        // The job is running before the runtime goes (queued jobs are dropped).
        started_rx.recv().unwrap();
        drop(rt);
        go_tx.send(()).unwrap();
        assert_shut_down(out_rx.recv().unwrap(), "connect");
    });
}
