//! Unix socket behaviours.

mod common;

use std::io::{self, Read, Write};
use std::net::Shutdown;

use common::{run, temp_dir};
use futures_lite::{AsyncReadExt, AsyncWriteExt, StreamExt};
use goro_net::{UnixDatagram, UnixListener, UnixStream};

#[test]
fn a_listener_and_a_stream_echo() {
    let dir = temp_dir("echo");
    let path = dir.join("s.sock");
    run(2, 30, async {
        let listener = UnixListener::bind(&path).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
        let server = goro_runtime::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            conn.read_to_end(&mut buf).await.unwrap();
            conn.write_all(&buf).await.unwrap();
        });
        let mut client = UnixStream::connect(&path).await.unwrap();
        client.write_all(b"over unix").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut back = String::new();
        client.read_to_string(&mut back).await.unwrap();
        assert_eq!(back, "over unix");
        server.await.unwrap();
    });
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_pair_carries_vectored_writes() {
    run(2, 30, async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let bufs = [io::IoSlice::new(b"ab"), io::IoSlice::new(b"cd")];
        assert_eq!(a.write_vectored(&bufs[..]).await.unwrap(), 4);
        drop(a);
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"abcd");
    });
}

#[test]
fn connecting_to_a_missing_or_dead_socket_is_an_error() {
    let dir = temp_dir("dead");
    run(2, 30, async {
        let err = UnixStream::connect(dir.join("nothing")).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let path = dir.join("dead.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        let err = UnixStream::connect(&path).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    });
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_std_peer_in_a_plain_thread_talks_to_a_goro_listener() {
    let dir = temp_dir("std");
    let path = dir.join("s.sock");
    run(2, 30, async {
        let listener = UnixListener::bind(&path).unwrap();
        let p = path.clone();
        let peer = std::thread::spawn(move || {
            let mut s = std::os::unix::net::UnixStream::connect(p).unwrap();
            s.write_all(b"hi").unwrap();
            let mut buf = [0; 2];
            s.read_exact(&mut buf).unwrap();
            buf
        });
        let mut conn = listener.incoming().next().await.unwrap().unwrap();
        let mut buf = [0; 2];
        conn.read_exact(&mut buf).await.unwrap();
        conn.write_all(b"yo").await.unwrap();
        assert_eq!(&peer.join().unwrap(), b"yo");
    });
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn datagrams_go_between_bound_paths() {
    let dir = temp_dir("dgram");
    run(2, 30, async {
        let a = UnixDatagram::bind(dir.join("a")).unwrap();
        let b = UnixDatagram::bind(dir.join("b")).unwrap();
        a.send_to(b"to b", dir.join("b")).await.unwrap();
        let mut buf = [0; 8];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"to b");
        assert_eq!(from.as_pathname(), Some(dir.join("a").as_path()));
        // An unbound socket connected to a path.
        let c = UnixDatagram::unbound().unwrap();
        c.connect(dir.join("b")).unwrap();
        c.send(b"anon").await.unwrap();
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"anon");
        let (p, q) = UnixDatagram::pair().unwrap();
        p.send(b"x").await.unwrap();
        assert_eq!(q.recv(&mut buf).await.unwrap(), 1);
        assert!(p.peer_addr().is_ok());
        p.shutdown(Shutdown::Both).unwrap();
    });
    std::fs::remove_dir_all(dir).unwrap();
}
