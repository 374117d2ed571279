//! Cancel safety of goro-net's operations: each one is started, left waiting, and dropped;
//! then the connection, bytes or datagram it was waiting for is still there for the next
//! operation. Where it matters, the event the dropped future was waiting for arrives before
//! the drop, so the future was woken and never polled again: the hardest case.

mod common;

use std::io::{Read, Write};
use std::os::unix::net as std_unix;
use std::time::Duration;

use common::{run, temp_dir};
use futures_lite::future::poll_once;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use goro_net::{Async, TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream};
use goro_runtime::time::{sleep, timeout};

/// Long enough for the reactor to deliver an event that is already on its way; correctness
/// never depends on it (the tests pass whether or not the event was delivered in time).
const EVENT_DELAY: Duration = Duration::from_millis(20);

/// Generous bound for an operation that must complete at once.
const BOUND: Duration = Duration::from_secs(10);

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

#[test]
fn tcp_accept_dropped_while_waiting_leaves_the_connection_to_the_next_accept() {
    run(2, 30, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut accept = Box::pin(listener.accept());
        assert!(
            poll_once(&mut accept).await.is_none(),
            "nothing to accept yet"
        );
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        sleep(EVENT_DELAY).await; // the waiting accept is woken...
        drop(accept); // ...and dropped instead of polled
        let (_, peer) = timeout(BOUND, listener.accept())
            .await
            .expect("the connection is still there")
            .unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
    });
}

#[test]
fn tcp_read_dropped_while_waiting_reads_nothing() {
    run(2, 30, async {
        let (mut client, server) = tcp_pair().await;
        let mut buf = [0; 64];
        let mut reader = &server;
        let mut read = Box::pin(reader.read(&mut buf));
        assert!(poll_once(&mut read).await.is_none(), "no data yet");
        client.write_all(b"hello").await.unwrap();
        sleep(EVENT_DELAY).await;
        drop(read);
        let mut got = [0; 5];
        timeout(BOUND, (&server).read_exact(&mut got))
            .await
            .expect("the bytes are still there")
            .unwrap();
        assert_eq!(&got, b"hello");
    });
}

#[test]
fn tcp_peek_and_readable_dropped_while_waiting_consume_nothing() {
    run(2, 30, async {
        let (mut client, server) = tcp_pair().await;
        let mut buf = [0; 64];
        let mut peek = Box::pin(server.peek(&mut buf));
        assert!(poll_once(&mut peek).await.is_none());
        let mut readable = Box::pin(server.readable());
        assert!(poll_once(&mut readable).await.is_none());
        client.write_all(b"abc").await.unwrap();
        sleep(EVENT_DELAY).await;
        drop((peek, readable));
        timeout(BOUND, server.readable())
            .await
            .expect("readiness was not consumed")
            .unwrap();
        let mut got = [0; 3];
        timeout(BOUND, (&server).read_exact(&mut got))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&got, b"abc");
    });
}

/// Fills the socket buffer through `writer` until a write has to wait, drops that write, and
/// checks that the peer receives exactly the bytes of the writes that completed.
async fn write_dropped_while_waiting_writes_nothing<W, R>(mut writer: W, mut reader: R)
where
    W: futures_lite::AsyncWrite + Unpin,
    R: futures_lite::AsyncRead + Unpin + Send + 'static,
{
    // Nobody reads yet: the writes fill the socket buffers until one has to wait.
    let chunk = vec![0xAA; 64 * 1024];
    let mut written = 0;
    // Stops at the first write that waits: it is dropped by `poll_once`.
    while let Some(n) = poll_once(writer.write(&chunk)).await {
        written += n.unwrap();
        assert!(
            written <= 64 << 20,
            "64 MiB written without the socket filling up"
        );
    }
    writer.close().await.unwrap();
    let drain = goro_runtime::spawn(async move {
        let mut all = Vec::new();
        reader.read_to_end(&mut all).await.unwrap();
        all.len()
    });
    let received = timeout(Duration::from_secs(20), drain)
        .await
        .expect("drained in time")
        .unwrap();
    assert_eq!(received, written, "a dropped write sent bytes");
}

#[test]
fn tcp_write_dropped_while_waiting_writes_nothing() {
    run(2, 60, async {
        let (client, server) = tcp_pair().await;
        write_dropped_while_waiting_writes_nothing(client, server).await;
    });
}

#[test]
fn unix_write_dropped_while_waiting_writes_nothing() {
    run(2, 60, async {
        let (a, b) = UnixStream::pair().unwrap();
        write_dropped_while_waiting_writes_nothing(a, b).await;
    });
}

#[test]
fn udp_recv_from_and_recv_dropped_while_waiting_leave_the_datagram() {
    run(2, 30, async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = [0; 16];
        let mut recv_from = Box::pin(b.recv_from(&mut buf));
        assert!(poll_once(&mut recv_from).await.is_none());
        a.send_to(b"one", b.local_addr().unwrap()).await.unwrap();
        sleep(EVENT_DELAY).await;
        drop(recv_from);
        let mut got = [0; 16];
        let (n, from) = timeout(BOUND, b.recv_from(&mut got))
            .await
            .expect("the datagram is still there")
            .unwrap();
        assert_eq!((&got[..n], from), (&b"one"[..], a.local_addr().unwrap()));

        b.connect(a.local_addr().unwrap()).await.unwrap();
        let mut recv = Box::pin(b.recv(&mut buf));
        assert!(poll_once(&mut recv).await.is_none());
        a.send_to(b"two", b.local_addr().unwrap()).await.unwrap();
        sleep(EVENT_DELAY).await;
        drop(recv);
        let n = timeout(BOUND, b.recv(&mut got)).await.unwrap().unwrap();
        assert_eq!(&got[..n], b"two");
    });
}

#[test]
fn unix_accept_and_read_dropped_while_waiting_lose_nothing() {
    run(2, 30, async {
        let dir = temp_dir("cancel");
        let path = dir.join("s");
        let listener = UnixListener::bind(&path).unwrap();
        let mut accept = Box::pin(listener.accept());
        assert!(poll_once(&mut accept).await.is_none());
        let mut client = UnixStream::connect(&path).await.unwrap();
        sleep(EVENT_DELAY).await;
        drop(accept);
        let (server, _) = timeout(BOUND, listener.accept())
            .await
            .expect("the connection is still there")
            .unwrap();

        let mut buf = [0; 16];
        let mut reader = &server;
        let mut read = Box::pin(reader.read(&mut buf));
        assert!(poll_once(&mut read).await.is_none());
        client.write_all(b"unix").await.unwrap();
        sleep(EVENT_DELAY).await;
        drop(read);
        let mut got = [0; 4];
        timeout(BOUND, (&server).read_exact(&mut got))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&got, b"unix");
        std::fs::remove_dir_all(&dir).unwrap();
    });
}

#[test]
fn unix_datagram_recv_and_recv_from_dropped_while_waiting_leave_the_datagram() {
    run(2, 30, async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let mut buf = [0; 16];
        let mut recv = Box::pin(b.recv(&mut buf));
        assert!(poll_once(&mut recv).await.is_none());
        a.send(b"first").await.unwrap();
        sleep(EVENT_DELAY).await;
        drop(recv);
        let mut recv_from = Box::pin(b.recv_from(&mut buf));
        let (n, _) = timeout(BOUND, &mut recv_from).await.unwrap().unwrap();
        drop(recv_from);
        assert_eq!(&buf[..n], b"first");

        let mut recv_from = Box::pin(b.recv_from(&mut buf));
        assert!(poll_once(&mut recv_from).await.is_none());
        a.send(b"second").await.unwrap();
        sleep(EVENT_DELAY).await;
        drop(recv_from);
        let n = timeout(BOUND, b.recv(&mut buf)).await.unwrap().unwrap();
        assert_eq!(&buf[..n], b"second");
    });
}

#[test]
fn async_read_with_and_readable_dropped_while_waiting_consume_nothing() {
    run(2, 30, async {
        let (a, mut b) = std_unix::UnixStream::pair().unwrap();
        let a = Async::new(a).unwrap();
        let mut buf = [0; 16];
        let mut read = Box::pin(a.read_with(|mut s| s.read(&mut buf)));
        assert!(poll_once(&mut read).await.is_none());
        let mut readable = Box::pin(a.readable());
        assert!(poll_once(&mut readable).await.is_none());
        b.write_all(b"fd").unwrap();
        sleep(EVENT_DELAY).await;
        drop((read, readable));
        timeout(BOUND, a.readable()).await.unwrap().unwrap();
        let mut got = [0; 16];
        let n = timeout(BOUND, a.read_with(|mut s| s.read(&mut got)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&got[..n], b"fd");
    });
}

#[test]
fn unix_datagram_send_dropped_while_the_peer_queue_is_full_sends_nothing() {
    run(2, 60, async {
        let (a, b) = UnixDatagram::pair().unwrap();
        // Nobody receives yet: sends fill the peer's queue until one has to wait.
        let mut sent = 0u32;
        while let Some(r) = poll_once(a.send(&sent.to_be_bytes())).await {
            r.unwrap();
            sent += 1;
            assert!(sent < 1_000_000, "the peer's queue never filled up");
        }
        // Datagram number `sent` waited and was dropped: it must never arrive.
        let mut buf = [0; 8];
        for expected in 0..sent {
            let n = timeout(BOUND, b.recv(&mut buf)).await.unwrap().unwrap();
            assert_eq!(buf[..n], expected.to_be_bytes());
        }
        assert!(
            poll_once(b.recv(&mut buf)).await.is_none(),
            "a dropped send delivered its datagram"
        );
    });
}

#[test]
fn async_write_with_dropped_while_waiting_writes_nothing() {
    run(2, 60, async {
        let (a, b) = std_unix::UnixStream::pair().unwrap();
        let a = Async::new(a).unwrap();
        let chunk = vec![0x55; 64 * 1024];
        let mut written = 0;
        while let Some(n) = poll_once(a.write_with(|mut s| s.write(&chunk))).await {
            written += n.unwrap();
            assert!(
                written <= 64 << 20,
                "64 MiB written without the socket filling up"
            );
        }
        drop(a); // closes the writing end: the reader sees EOF after the written bytes
        let received = goro_runtime::spawn_blocking(move || {
            let mut all = Vec::new();
            (&b).read_to_end(&mut all).unwrap();
            all.len()
        });
        let received = timeout(Duration::from_secs(20), received)
            .await
            .expect("drained in time")
            .unwrap();
        assert_eq!(received, written, "a dropped write_with sent bytes");
    });
}
