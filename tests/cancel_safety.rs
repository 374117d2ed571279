//! Cancel safety across goro's crates: operations used as `select!` arms that keep losing to
//! another arm lose nothing (no byte, connection, datagram, tick, task output or error), and
//! the pinned-future pattern of `select!`'s docs reads every line whole while another arm
//! wins round after round.

use std::pin::pin;
use std::time::{Duration, Instant};

use futures_lite::future::{self, poll_once};
use futures_lite::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use goro::net::{TcpListener, TcpStream, UdpSocket, UnixStream};
use goro::sync::{chan, Context};
use goro::time::{interval, sleep, timeout};

mod common;
use common::run;

/// The `i`th byte of the test streams: not periodic in any chunk size used here.
fn pattern(i: usize) -> u8 {
    (i * 7 % 251) as u8
}

#[test]
fn tcp_reads_that_lose_select_races_lose_no_byte() {
    run(60, async {
        const LEN: usize = 256 * 1024;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let writer = goro::spawn(async move {
            let data: Vec<u8> = (0..LEN).map(pattern).collect();
            for piece in data.chunks(1000) {
                client.write_all(piece).await.unwrap();
                goro::yield_now().await; // arrive in pieces, so reads keep waiting
            }
            client.close().await.unwrap();
        });
        let (mut received, mut lost) = (Vec::with_capacity(LEN), 0u64);
        let mut buf = [0; 4096];
        loop {
            goro::select! {
                n = server.read(&mut buf) => match n.unwrap() {
                    0 => break,
                    n => received.extend_from_slice(&buf[..n]),
                },
                _ = future::ready(()) => lost += 1,
            }
        }
        writer.await.unwrap();
        assert_eq!(received.len(), LEN);
        assert!(received.iter().enumerate().all(|(i, &b)| b == pattern(i)));
        assert!(lost > 0, "the read arm never lost a race");
    });
}

#[test]
fn accepts_that_lose_select_races_lose_no_connection() {
    run(60, async {
        const CLIENTS: u8 = 20;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        for id in 0..CLIENTS {
            goro::spawn(async move {
                let mut c = TcpStream::connect(addr).await.unwrap();
                c.write_all(&[id]).await.unwrap();
                c.close().await.unwrap();
            });
        }
        let mut ids = Vec::new();
        while ids.len() < usize::from(CLIENTS) {
            goro::select! {
                conn = listener.accept() => {
                    let (mut conn, _) = conn.unwrap();
                    let mut id = [0];
                    conn.read_exact(&mut id).await.unwrap();
                    ids.push(id[0]);
                }
                _ = future::ready(()) => {}
            }
        }
        ids.sort_unstable();
        assert_eq!(ids, (0..CLIENTS).collect::<Vec<_>>());
    });
}

#[test]
fn udp_receives_that_lose_select_races_lose_no_datagram() {
    run(60, async {
        // Few and small enough that the loopback receive buffer never overflows.
        const DATAGRAMS: u32 = 50;
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let to = b.local_addr().unwrap();
        let sender = goro::spawn(async move {
            for i in 0..DATAGRAMS {
                a.send_to(&i.to_be_bytes(), to).await.unwrap();
                goro::yield_now().await;
            }
        });
        let mut got = Vec::new();
        let mut buf = [0; 16];
        while got.len() < DATAGRAMS as usize {
            goro::select! {
                r = b.recv_from(&mut buf) => {
                    let (n, _) = r.unwrap();
                    got.push(u32::from_be_bytes(buf[..n].try_into().unwrap()));
                }
                _ = future::ready(()) => {}
            }
        }
        sender.await.unwrap();
        assert_eq!(got, (0..DATAGRAMS).collect::<Vec<_>>());
    });
}

#[test]
fn a_tick_dropped_after_its_deadline_passed_is_not_consumed() {
    run(30, async {
        let period = Duration::from_millis(50);
        let before = Instant::now();
        let mut ticker = interval(period);
        let after = Instant::now();
        {
            let mut tick = pin!(ticker.tick());
            assert!(
                poll_once(&mut tick).await.is_none(),
                "the first tick is not due"
            );
            sleep(period * 2).await; // the deadline passes and the timer fires...
        } // ...and the tick future is dropped without being polled again
        let first = timeout(Duration::from_secs(10), ticker.tick())
            .await
            .expect("the due tick comes at once");
        // The first scheduled instant, not the one after it.
        assert!(first >= before + period && first <= after + period);
    });
}

#[test]
fn a_join_handle_polled_by_losing_arms_keeps_its_output() {
    run(30, async {
        let (release, gate) = chan::bounded::<()>(0);
        let mut handle = goro::spawn(async move {
            let _ = gate.recv().await;
            42
        });
        let mut rounds = 0;
        let out = loop {
            goro::select! {
                out = &mut handle => break out,
                _ = future::ready(()) => {
                    rounds += 1;
                    if rounds == 100 {
                        release.close(); // the task may finish now, during later rounds
                    }
                }
            }
        };
        assert_eq!(out.unwrap(), 42);
    });
}

#[test]
fn a_task_group_wait_that_loses_keeps_the_first_error() {
    run(30, async {
        let (release, gate) = chan::bounded::<()>(0);
        let group = goro::TaskGroup::new();
        group.spawn(async move {
            let _ = gate.recv().await;
            Err("member failed")
        });
        let mut rounds = 0;
        let result = loop {
            goro::select! {
                r = group.wait() => break r,
                _ = future::ready(()) => {
                    rounds += 1;
                    if rounds == 100 {
                        release.close();
                    }
                }
            }
        };
        assert_eq!(result, Err("member failed"));
    });
}

#[test]
fn context_done_that_loses_still_sees_the_cancellation() {
    run(30, async {
        let (ctx, cancel) = Context::background().with_cancel();
        let mut rounds = 0;
        loop {
            goro::select! {
                _ = ctx.done() => break,
                _ = future::ready(()) => {
                    rounds += 1;
                    if rounds == 100 {
                        cancel.cancel();
                    }
                }
            }
        }
        assert!(rounds >= 100);
        assert!(ctx.err().is_some());
    });
}

#[test]
fn a_pinned_sleep_keeps_its_deadline_across_rounds_another_arm_wins() {
    run(30, async {
        let start = Instant::now();
        let mut deadline = pin!(sleep(Duration::from_millis(30)));
        let mut rounds = 0u64;
        loop {
            goro::select! {
                _ = &mut deadline => break,
                _ = goro::yield_now() => rounds += 1,
            }
        }
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert!(rounds > 0);
    });
}

#[test]
fn a_pinned_read_line_loses_nothing_while_another_arm_wins_repeatedly() {
    run(60, async {
        const LINES: usize = 100;
        let (reader, mut writer) = UnixStream::pair().unwrap();
        let expected: Vec<String> = (0..LINES)
            .map(|i| format!("line {i} of {LINES}\n"))
            .collect();
        let sent = expected.clone();
        let producer = goro::spawn(async move {
            for line in sent {
                // Every line arrives in pieces, paced so that `read_line` has read part of
                // a line and waits for the rest while the other arm wins, again and again.
                for piece in line.as_bytes().chunks(4) {
                    writer.write_all(piece).await.unwrap();
                    sleep(Duration::from_millis(1)).await;
                }
            }
        });
        // Another source that always has something: it wins every round it is polled first.
        let (events_tx, events) = chan::unbounded::<u32>();
        let feeder = goro::spawn(async move {
            for i in 0.. {
                if events_tx.send(i).await.is_err() {
                    break;
                }
                goro::yield_now().await;
            }
        });
        let mut reader = BufReader::new(reader);
        let (mut lines, mut handled) = (Vec::new(), 0u64);
        while lines.len() < LINES {
            let mut line = String::new();
            let n = {
                let mut read_line = pin!(reader.read_line(&mut line));
                loop {
                    goro::select! {
                        n = &mut read_line => break n.unwrap(),
                        e = events.recv() => {
                            e.unwrap();
                            handled += 1;
                        }
                    }
                }
            };
            assert_ne!(n, 0, "the stream ended early");
            lines.push(line);
        }
        drop(events); // stops the feeder
        producer.await.unwrap();
        feeder.await.unwrap();
        assert_eq!(lines, expected);
        assert!(handled > 0, "the other arm never won");
    });
}
