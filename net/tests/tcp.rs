//! TCP behaviours: connect, accept, reads and writes, half-close, faults.

mod common;

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::run;
use futures_lite::{AsyncReadExt, AsyncWriteExt, StreamExt};
use goro_net::{TcpListener, TcpStream};
use goro_runtime::time::{sleep, timeout};

async fn connected_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// An address on which nothing listens (a port just freed).
fn closed_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

#[test]
fn a_client_and_a_server_echo_many_messages() {
    run(2, 30, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = goro_runtime::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = [0; 64];
            loop {
                let n = conn.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                conn.write_all(&buf[..n]).await.unwrap();
            }
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.set_nodelay(true).unwrap();
        for i in 0..1000u32 {
            let msg = i.to_le_bytes();
            client.write_all(&msg).await.unwrap();
            let mut back = [0; 4];
            client.read_exact(&mut back).await.unwrap();
            assert_eq!(back, msg);
        }
        client.close().await.unwrap();
        server.await.unwrap();
    });
}

#[test]
fn connect_resolves_a_host_name() {
    run(2, 30, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let stream = TcpStream::connect(format!("localhost:{port}"))
            .await
            .unwrap();
        assert_eq!(stream.peer_addr().unwrap().port(), port);
        let addrs: Vec<_> = goro_net::lookup_host(("localhost", port))
            .await
            .unwrap()
            .collect();
        assert!(
            addrs
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == port)
        );
    });
}

#[test]
fn connect_tries_each_address_in_order_until_one_connects() {
    run(2, 30, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let good = listener.local_addr().unwrap();
        let addrs = [closed_port(), closed_port(), good];
        let stream = TcpStream::connect(&addrs[..]).await.unwrap();
        assert_eq!(stream.peer_addr().unwrap(), good);
    });
}

#[test]
fn connection_refused_is_an_error() {
    run(2, 30, async {
        let err = TcpStream::connect(closed_port()).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    });
}

#[test]
fn an_unresolvable_host_is_an_error() {
    run(2, 60, async {
        let err = TcpStream::connect("no-such-host.invalid:80")
            .await
            .unwrap_err();
        assert_ne!(err.kind(), io::ErrorKind::WouldBlock, "{err}");
        let err = goro_net::lookup_host("no port here").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    });
}

#[test]
fn a_connect_timeout_cancels_a_stuck_handshake_without_blocking_the_worker() {
    // A listener whose accept queue is full drops new SYNs: connects to it hang.
    run(1, 60, async {
        let fd = rustix::net::socket(
            rustix::net::AddressFamily::INET,
            rustix::net::SocketType::STREAM,
            None,
        )
        .unwrap();
        rustix::net::bind(&fd, &"127.0.0.1:0".parse::<SocketAddr>().unwrap()).unwrap();
        rustix::net::listen(&fd, 0).unwrap();
        let listener = std::net::TcpListener::from(fd);
        let addr = listener.local_addr().unwrap();
        let mut held = Vec::new();
        let mut timed_out = false;
        for _ in 0..16 {
            // A timer on the same (single) worker must keep firing meanwhile.
            let ticker = goro_runtime::spawn(async {
                let start = Instant::now();
                sleep(Duration::from_millis(10)).await;
                start.elapsed()
            });
            // A worker blocked by the connect would hold the 10 ms ticker for the whole
            // 2 s timeout.
            match timeout(Duration::from_secs(2), TcpStream::connect(addr)).await {
                Ok(conn) => held.push(conn.unwrap()),
                Err(_) => {
                    timed_out = true;
                    let ticked = ticker.await.unwrap();
                    assert!(
                        ticked < Duration::from_millis(1500),
                        "ticker took {ticked:?}"
                    );
                    break;
                }
            }
        }
        assert!(timed_out, "every connect completed: the queue never filled");
        drop(listener);
    });
}

#[test]
fn a_peer_reset_is_an_error_on_read() {
    run(2, 30, async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (peer, _) = listener.accept().unwrap();
        client.write_all(b"unread").await.unwrap();
        sleep(Duration::from_millis(20)).await;
        drop(peer); // closing with unread data sends RST
        let mut buf = [0; 8];
        let err = client.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    });
}

#[test]
fn writing_after_the_peer_closed_is_an_error() {
    run(2, 30, async {
        let (mut client, server) = connected_pair().await;
        drop(server);
        let chunk = [1u8; 1024];
        let err = loop {
            match client.write(&chunk).await {
                Ok(_) => sleep(Duration::from_millis(1)).await,
                Err(e) => break e,
            }
        };
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
            ),
            "{err}"
        );
    });
}

#[test]
fn a_half_closed_connection_still_carries_the_reply() {
    run(2, 30, async {
        let (mut client, mut server) = connected_pair().await;
        client.write_all(b"request").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut req = Vec::new();
        server.read_to_end(&mut req).await.unwrap(); // EOF after the request
        assert_eq!(req, b"request");
        server.write_all(b"reply").await.unwrap();
        drop(server);
        let mut reply = Vec::new();
        client.read_to_end(&mut reply).await.unwrap();
        assert_eq!(reply, b"reply");
    });
}

#[test]
fn peek_leaves_the_data_for_the_next_read() {
    run(2, 30, async {
        let (mut client, mut server) = connected_pair().await;
        client.write_all(b"abcd").await.unwrap();
        let mut buf = [0; 4];
        let mut seen = 0;
        while seen < 4 {
            seen = server.peek(&mut buf).await.unwrap();
        }
        assert_eq!(&buf, b"abcd");
        let mut again = [0; 4];
        server.read_exact(&mut again).await.unwrap();
        assert_eq!(&again, b"abcd");
    });
}

#[test]
fn split_halves_read_and_write_from_two_tasks() {
    // Both ends send a megabyte while they receive one: each half is owned by its own task,
    // and neither direction can finish unless the other makes progress at the same time.
    run(2, 30, async {
        let (client, server) = connected_pair().await;
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut tasks = Vec::new();
        for stream in [client, server] {
            let (mut rd, mut wr) = stream.into_split();
            let sent = data.clone();
            tasks.push(goro_runtime::spawn(async move {
                wr.write_all(&sent).await.unwrap();
                wr.close().await.unwrap();
                Vec::new()
            }));
            tasks.push(goro_runtime::spawn(async move {
                let mut got = Vec::new();
                rd.read_to_end(&mut got).await.unwrap();
                got
            }));
        }
        for (i, t) in tasks.into_iter().enumerate() {
            let got = t.await.unwrap();
            if i % 2 == 1 {
                assert!(got == data, "a reader got {} bytes", got.len());
            }
        }
    });
}

#[test]
fn dropping_the_write_half_sends_eof_and_halves_reunite() {
    run(2, 30, async {
        let (client, mut server) = connected_pair().await;
        let (rd, wr) = client.into_split();
        let (rd2, wr2) = connected_pair().await.0.into_split();
        let goro_net::ReuniteError(rd, _wr2) = rd.reunite(wr2).unwrap_err();
        drop((rd2, _wr2));
        let client = rd.reunite(wr).unwrap();
        drop(client);
        let mut rest = Vec::new();
        assert_eq!(server.read_to_end(&mut rest).await.unwrap(), 0);
    });
}

#[test]
fn vectored_writes_send_every_buffer() {
    run(2, 30, async {
        let (mut client, mut server) = connected_pair().await;
        let bufs = [
            io::IoSlice::new(b"one "),
            io::IoSlice::new(b"two "),
            io::IoSlice::new(b"three"),
        ];
        let n = client.write_vectored(&bufs[..]).await.unwrap();
        assert_eq!(n, 13);
        drop(client);
        let mut got = String::new();
        server.read_to_string(&mut got).await.unwrap();
        assert_eq!(got, "one two three");
    });
}

#[test]
fn socket_options_round_trip() {
    run(2, 30, async {
        let (client, _server) = connected_pair().await;
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        client.set_nodelay(false).unwrap();
        assert!(!client.nodelay().unwrap());
        client.set_ttl(33).unwrap();
        assert_eq!(client.ttl().unwrap(), 33);
        assert!(client.take_error().unwrap().is_none());
        assert!(format!("{client:?}").contains("TcpStream"));
    });
}

#[test]
fn several_tasks_accept_on_one_listener() {
    run(2, 30, async {
        let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
        let addr = listener.local_addr().unwrap();
        let acceptors: Vec<_> = (0..8)
            .map(|_| {
                let l = listener.clone();
                goro_runtime::spawn(async move { l.accept().await.map(|_| ()) })
            })
            .collect();
        sleep(Duration::from_millis(20)).await;
        let mut clients = Vec::new();
        for _ in 0..8 {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        for a in acceptors {
            a.await.unwrap().unwrap();
        }
    });
}

#[test]
fn incoming_yields_each_connection() {
    run(2, 30, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let clients = goro_runtime::spawn(async move {
            let mut v = Vec::new();
            for _ in 0..5 {
                v.push(TcpStream::connect(addr).await.unwrap());
            }
            v
        });
        let mut incoming = listener.incoming();
        for _ in 0..5 {
            incoming.next().await.unwrap().unwrap();
        }
        clients.await.unwrap();
    });
}

#[test]
fn reading_a_busy_socket_spends_the_budget_so_timers_still_fire() {
    // One worker; the peer keeps the socket full, so reads never wait. The timer task must
    // still run: the reads spend the cooperative budget and yield.
    run(1, 30, async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut peer, _) = listener.accept().unwrap();
        let flood = std::thread::spawn(move || {
            let chunk = [0u8; 64 * 1024];
            while peer.write_all(&chunk).is_ok() {}
        });
        let timer = goro_runtime::spawn(async {
            let start = Instant::now();
            sleep(Duration::from_millis(10)).await;
            start.elapsed()
        });
        let mut buf = [0u8; 64];
        let start = Instant::now();
        while !timer.is_finished() {
            client.read_exact(&mut buf).await.unwrap();
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the timer starved"
            );
        }
        assert!(timer.await.unwrap() < Duration::from_secs(2));
        drop(client);
        flood.join().unwrap();
    });
}

#[test]
fn a_std_peer_in_a_plain_thread_talks_to_goro() {
    run(2, 30, async {
        // goro server, std blocking client.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = std::thread::spawn(move || {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(b"from std").unwrap();
            s.shutdown(Shutdown::Write).unwrap();
            let mut reply = String::new();
            s.read_to_string(&mut reply).unwrap();
            reply
        });
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut got = String::new();
        conn.read_to_string(&mut got).await.unwrap();
        conn.write_all(got.to_uppercase().as_bytes()).await.unwrap();
        drop(conn);
        assert_eq!(client.join().unwrap(), "FROM STD");

        // std blocking server, goro client.
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = std_listener.accept().unwrap();
            let mut buf = [0; 5];
            s.read_exact(&mut buf).unwrap();
            s.write_all(&buf).unwrap();
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(b"hello").await.unwrap();
        let mut back = Vec::new();
        c.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"hello");
        server.join().unwrap();
    });
}

#[test]
fn ipv6_loopback_connections_work() {
    run(2, 30, async {
        let listener = match TcpListener::bind("[::1]:0").await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("no IPv6 loopback here ({e}): skipping");
                return;
            }
        };
        let addr = listener.local_addr().unwrap();
        assert!(addr.is_ipv6());
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut server, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        client.write_all(b"v6").await.unwrap();
        let mut buf = [0; 2];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"v6");
    });
}

#[test]
fn a_host_name_connect_without_a_thread_for_the_lookup_fails_then_recovers() {
    common::in_own_process(
        "a_host_name_connect_without_a_thread_for_the_lookup_fails_then_recovers",
        60,
        || {
            use std::sync::atomic::{AtomicBool, Ordering};
            // The hook stands for the OS refusing threads (EAGAIN at the thread limit).
            let refuse = Arc::new(AtomicBool::new(true));
            let flag = refuse.clone();
            let rt = goro_runtime::Builder::new()
                .worker_threads(1)
                .blocking_spawn_hook(move || match flag.load(Ordering::SeqCst) {
                    true => Err(io::Error::from_raw_os_error(11)),
                    false => Ok(()),
                })
                .build()
                .unwrap();
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let port = listener.local_addr().unwrap().port();
                for err in [
                    TcpStream::connect(("localhost", port)).await.unwrap_err(),
                    goro_net::lookup_host(("localhost", port))
                        .await
                        .unwrap_err(),
                ] {
                    assert_eq!(err.kind(), io::ErrorKind::Other, "{err}");
                    assert!(
                        err.to_string().contains("refused to start a thread"),
                        "{err}"
                    );
                }
                // A numeric address needs no thread.
                TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                refuse.store(false, Ordering::SeqCst);
                TcpStream::connect(("localhost", port)).await.unwrap();
            });
        },
    );
}
