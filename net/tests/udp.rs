//! UDP behaviours.

mod common;

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use common::run;
use goro_net::UdpSocket;

#[test]
fn datagrams_go_to_and_come_from_addresses() {
    run(2, 30, async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind(("127.0.0.1", 0)).await.unwrap();
        a.send_to(b"one", b.local_addr().unwrap()).await.unwrap();
        let mut buf = [0; 16];
        let (n, from) = b.peek_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"one"[..], a.local_addr().unwrap()));
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"one"[..], a.local_addr().unwrap()));
        // A host name for the destination, resolved on the blocking pool.
        let port = a.local_addr().unwrap().port();
        b.send_to(b"two", format!("localhost:{port}"))
            .await
            .unwrap();
        let (n, _) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"two");
    });
}

#[test]
fn a_connected_socket_sends_and_receives_without_addresses() {
    run(2, 30, async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
        a.send(b"ping").await.unwrap();
        let mut buf = [0; 8];
        assert_eq!(b.peek(&mut buf).await.unwrap(), 4);
        assert_eq!(b.recv(&mut buf).await.unwrap(), 4);
        assert_eq!(&buf[..4], b"ping");
    });
}

#[test]
fn a_datagram_to_a_closed_port_is_refused_on_the_next_call() {
    run(2, 30, async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let gone = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = gone.local_addr().unwrap();
        drop(gone);
        a.connect(addr).await.unwrap();
        a.send(b"anyone?").await.unwrap();
        // The ICMP port-unreachable comes back as an error on a later call.
        let mut buf = [0; 8];
        let r = goro_runtime::time::timeout(Duration::from_secs(5), a.recv(&mut buf)).await;
        let err = r.expect("the refusal arrives").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    });
}

#[test]
fn many_tasks_receive_on_one_shared_socket() {
    run(2, 30, async {
        let server = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let addr = server.local_addr().unwrap();
        let receivers: Vec<_> = (0..8)
            .map(|_| {
                let s = server.clone();
                goro_runtime::spawn(async move {
                    let mut buf = [0; 4];
                    s.recv_from(&mut buf).await.unwrap();
                    buf[0]
                })
            })
            .collect();
        goro_runtime::time::sleep(Duration::from_millis(20)).await;
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for i in 0..8u8 {
            client.send_to(&[i], addr).await.unwrap();
        }
        let mut got = Vec::new();
        for r in receivers {
            got.push(r.await.unwrap());
        }
        got.sort();
        assert_eq!(got, (0..8).collect::<Vec<u8>>());
    });
}

#[test]
fn broadcast_and_multicast_options_round_trip() {
    run(2, 30, async {
        let s = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        s.set_broadcast(true).unwrap();
        assert!(s.broadcast().unwrap());
        s.set_multicast_loop_v4(false).unwrap();
        assert!(!s.multicast_loop_v4().unwrap());
        s.set_multicast_ttl_v4(3).unwrap();
        assert_eq!(s.multicast_ttl_v4().unwrap(), 3);
        s.set_ttl(9).unwrap();
        assert_eq!(s.ttl().unwrap(), 9);
        let group = Ipv4Addr::new(239, 255, 42, 1);
        match s.join_multicast_v4(&group, &Ipv4Addr::LOCALHOST) {
            Ok(()) => s.leave_multicast_v4(&group, &Ipv4Addr::LOCALHOST).unwrap(),
            // Some sandboxes have no multicast-capable interface: an error, not a panic.
            Err(e) => eprintln!("join_multicast_v4: {e}"),
        }
        assert!(s.take_error().unwrap().is_none());
        let v6 = UdpSocket::bind("[::1]:0").await;
        if let Ok(v6) = v6 {
            v6.set_multicast_loop_v6(false).unwrap();
            assert!(!v6.multicast_loop_v6().unwrap());
        }
    });
}

#[test]
fn a_multicast_datagram_loops_back_to_a_member() {
    run(2, 30, async {
        let group = Ipv4Addr::new(239, 255, 42, 2);
        let rx = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        if let Err(e) = rx.join_multicast_v4(&group, &Ipv4Addr::UNSPECIFIED) {
            eprintln!("no multicast here ({e}): skipping");
            return;
        }
        let port = rx.local_addr().unwrap().port();
        let tx = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        tx.set_multicast_loop_v4(true).unwrap();
        if let Err(e) = tx.send_to(b"all", (group, port)).await {
            eprintln!("no multicast route here ({e}): skipping");
            return;
        }
        let mut buf = [0; 8];
        match goro_runtime::time::timeout(Duration::from_secs(2), rx.recv_from(&mut buf)).await {
            Ok(r) => assert_eq!(&buf[..r.unwrap().0], b"all"),
            Err(_) => eprintln!("multicast not looped back on this host: skipping"),
        }
    });
}
