//! Websockets on goro's sockets with async-tungstenite, unchanged: `accept_async` and
//! `client_async` take any stream with the futures-io `AsyncRead`/`AsyncWrite` traits, which
//! goro's `TcpStream` implements. async-tungstenite is built without any runtime feature.

use std::io;
use std::time::Duration;

use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::protocol::CloseFrame;
use async_tungstenite::tungstenite::{self, Message};
use async_tungstenite::WebSocketStream;
use futures_lite::{AsyncReadExt, AsyncWriteExt, StreamExt};
use goro::net::{TcpListener, TcpStream};

mod common;
use common::Watchdog;

/// How many clients talk to the server at once.
const CLIENTS: usize = 8;
/// The size of each client's binary message: larger than a socket buffer.
const BINARY_LEN: usize = 300 * 1024;
/// A bound for one whole test, far above its ideal time: a hang fails in seconds, not never.
const WATCHDOG: Duration = Duration::from_secs(60);
/// A bound for one connection's exchange.
const IO_BOUND: Duration = Duration::from_secs(30);

/// What a server connection saw, for the test to check.
#[derive(Debug, Default)]
struct Seen {
    texts: usize,
    binaries: usize,
    pings: usize,
    close: Option<CloseFrame>,
}

/// One server connection: greet, answer text with upper case and binary reversed, let
/// tungstenite answer pings, and stop when the client closes.
async fn serve(tcp: TcpStream) -> Result<Seen, tungstenite::Error> {
    let mut ws = async_tungstenite::accept_async(tcp).await?;
    ws.send(Message::text("welcome")).await?;
    let mut seen = Seen::default();
    while let Some(msg) = ws.next().await {
        match msg? {
            Message::Text(text) => {
                seen.texts += 1;
                ws.send(Message::text(text.to_uppercase())).await?;
            }
            Message::Binary(data) => {
                seen.binaries += 1;
                let reversed: Vec<u8> = data.iter().rev().copied().collect();
                ws.send(Message::binary(reversed)).await?;
            }
            // tungstenite queues the pong itself and sends it with the next read or write.
            Message::Ping(_) => seen.pings += 1,
            Message::Close(frame) => seen.close = frame,
            other => panic!("unexpected message {other:?}"),
        }
    }
    Ok(seen)
}

/// The next message, which must come within the bound.
async fn next(ws: &mut WebSocketStream<TcpStream>) -> Message {
    goro::time::timeout(IO_BOUND, ws.next())
        .await
        .expect("a message in time")
        .expect("the stream is open")
        .expect("a message, not an error")
}

/// One client: handshake, text and binary round trips, a ping, a clean close.
async fn client(port: u16, n: usize) {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (mut ws, response) = async_tungstenite::client_async("ws://localhost/chat", tcp)
        .await
        .unwrap();
    assert_eq!(response.status(), 101);
    assert_eq!(next(&mut ws).await, Message::text("welcome"));

    ws.send(Message::text(format!("hello from client {n}")))
        .await
        .unwrap();
    assert_eq!(
        next(&mut ws).await,
        Message::text(format!("HELLO FROM CLIENT {n}"))
    );

    let data: Vec<u8> = (0..BINARY_LEN).map(|i| (i * 13 + n) as u8).collect();
    ws.send(Message::binary(data.clone())).await.unwrap();
    let reversed: Vec<u8> = data.into_iter().rev().collect();
    assert_eq!(next(&mut ws).await, Message::binary(reversed));

    let payload = format!("ping {n}").into_bytes();
    ws.send(Message::Ping(payload.clone().into()))
        .await
        .unwrap();
    assert_eq!(next(&mut ws).await, Message::Pong(payload.into()));

    let bye = CloseFrame {
        code: CloseCode::Normal,
        reason: format!("bye from {n}").into(),
    };
    ws.close(Some(bye.clone())).await.unwrap();
    // The server answers the close with its own close frame, then the stream ends.
    match next(&mut ws).await {
        Message::Close(Some(frame)) => assert_eq!(frame, bye),
        other => panic!("expected the server's close, got {other:?}"),
    }
    let end = goro::time::timeout(IO_BOUND, ws.next()).await.unwrap();
    assert!(end.is_none(), "{end:?}");
}

#[goro::test]
async fn websocket_server_and_clients_exchange_messages_concurrently() {
    let _watchdog = Watchdog::arm("websocket exchange", WATCHDOG);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = goro::spawn(async move {
        let mut conns = Vec::new();
        for _ in 0..CLIENTS {
            let (tcp, _) = listener.accept().await.unwrap();
            conns.push(goro::spawn(serve(tcp)));
        }
        let mut seen = Vec::new();
        for conn in conns {
            seen.push(conn.await.unwrap().unwrap());
        }
        seen
    });

    let clients: Vec<_> = (0..CLIENTS).map(|n| goro::spawn(client(port, n))).collect();
    for c in clients {
        goro::time::timeout(IO_BOUND, c)
            .await
            .expect("a client finishes in time")
            .unwrap();
    }
    let seen = goro::time::timeout(IO_BOUND, server)
        .await
        .expect("the server finishes in time")
        .unwrap();
    let mut reasons: Vec<String> = seen
        .iter()
        .map(|s| {
            assert_eq!((s.texts, s.binaries, s.pings), (1, 1, 1), "{s:?}");
            let frame = s.close.as_ref().expect("a close frame from the client");
            assert_eq!(frame.code, CloseCode::Normal);
            frame.reason.to_string()
        })
        .collect();
    reasons.sort();
    let mut expected: Vec<String> = (0..CLIENTS).map(|n| format!("bye from {n}")).collect();
    expected.sort();
    assert_eq!(reasons, expected);
}

#[goro::test]
async fn a_server_that_refuses_the_upgrade_gives_the_client_a_clear_error() {
    let _watchdog = Watchdog::arm("refused upgrade", WATCHDOG);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // A plain HTTP server that knows nothing of websockets.
    goro::spawn(async move {
        let (mut tcp, _) = listener.accept().await?;
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.ends_with(b"\r\n\r\n") {
            let n = tcp.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        tcp.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
            .await?;
        tcp.close().await?;
        io::Result::Ok(())
    });
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let result = goro::time::timeout(
        IO_BOUND,
        async_tungstenite::client_async("ws://localhost/", tcp),
    )
    .await
    .expect("the handshake ends in time");
    match result {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 404),
        other => panic!("expected an HTTP error, got {other:?}"),
    }
}

#[goro::test]
async fn a_plain_http_request_to_the_websocket_server_fails_its_handshake() {
    let _watchdog = Watchdog::arm("plain http request", WATCHDOG);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = goro::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        async_tungstenite::accept_async(tcp).await.map(drop)
    });
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let result = goro::time::timeout(IO_BOUND, server)
        .await
        .expect("the server's handshake ends in time")
        .unwrap();
    match result {
        Err(tungstenite::Error::Protocol(e)) => {
            assert!(e.to_string().contains("upgrade"), "{e}")
        }
        other => panic!("expected a protocol error, got {other:?}"),
    }
}
