//! hyper on goro (feature `hyper`): hyper's own client and server over goro's sockets, curl
//! against `goro::hyper::serve`, the graceful drain, hyper's timers on goro, and the axum
//! example's router.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use goro::hyper::{Io, Listener};
use goro::io::{AsyncReadExt, AsyncWriteExt};
use goro::net::{TcpListener, TcpStream};
use goro::sync::{chan, CancelFn, Context};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::client::conn::http1::{self as client, SendRequest};
use hyper::service::service_fn;
use hyper::{Request, Response};

mod common;
use common::run;

#[allow(dead_code)]
#[path = "../examples/axum-hello.rs"]
mod axum_hello;

type Body = BoxBody<Bytes, hyper::Error>;

/// A TCP listener that counts the connections it accepts.
struct Counting {
    listener: TcpListener,
    accepted: Arc<AtomicUsize>,
}

impl Listener for Counting {
    type Conn = Io<TcpStream>;

    async fn accept(&self) -> io::Result<Io<TcpStream>> {
        let (stream, _) = self.listener.accept().await?;
        self.accepted.fetch_add(1, Ordering::SeqCst);
        Ok(Io::new(stream))
    }
}

fn full(data: impl Into<Bytes>) -> Body {
    Full::new(data.into())
        .map_err(|never| match never {})
        .boxed()
}

/// `/echo` streams the request body back (with `x-chunked: true` when the request came
/// chunked); anything else answers its path.
async fn echo(req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    if req.uri().path() != "/echo" {
        return Ok(Response::new(full(format!("path {}", req.uri().path()))));
    }
    let chunked = req
        .headers()
        .get("transfer-encoding")
        .is_some_and(|v| v == "chunked");
    let mut res = Response::new(req.into_body().boxed());
    res.headers_mut().insert(
        "x-chunked",
        if chunked { "true" } else { "false" }.parse().unwrap(),
    );
    Ok(res)
}

/// Starts `serve` with [`echo`] on a counting listener.
async fn start_echo_server() -> (
    SocketAddr,
    Arc<AtomicUsize>,
    CancelFn,
    goro::JoinHandle<io::Result<()>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counting = Counting {
        listener,
        accepted: accepted.clone(),
    };
    let (ctx, cancel) = Context::background().with_cancel();
    let server = goro::spawn(goro::hyper::serve(counting, service_fn(echo), ctx));
    (addr, accepted, cancel, server)
}

/// A hyper client connection over `io`; its connection task's handle says when it closed.
async fn handshake<T>(io: Io<T>) -> (SendRequest<Body>, goro::JoinHandle<()>)
where
    Io<T>: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = client::handshake(io).await.unwrap();
    let conn = goro::spawn(async move {
        let _ = conn.await;
    });
    (sender, conn)
}

async fn connect(addr: SocketAddr) -> (SendRequest<Body>, goro::JoinHandle<()>) {
    handshake(Io::new(TcpStream::connect(addr).await.unwrap())).await
}

fn request(method: &str, path: &str, body: Body) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1")
        .body(body)
        .unwrap()
}

/// Sends `req` once the connection is ready for it (the previous response fully read).
async fn send(sender: &mut SendRequest<Body>, req: Request<Body>) -> Response<Incoming> {
    sender.ready().await.unwrap();
    sender.send_request(req).await.unwrap()
}

async fn body_of(res: Response<Incoming>) -> Bytes {
    res.into_body().collect().await.unwrap().to_bytes()
}

/// 1 MiB that no shifted or zeroed region could match by chance.
fn mebibyte() -> Vec<u8> {
    (0..1 << 20u32)
        .map(|i| (i % 251) as u8 ^ (i >> 12) as u8)
        .collect()
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    run(60, async {
        let (addr, accepted, cancel, server) = start_echo_server().await;
        let (mut sender, _conn) = connect(addr).await;
        for i in 0..5 {
            let res = send(&mut sender, request("GET", &format!("/n/{i}"), full(""))).await;
            assert_eq!(res.status(), 200);
            assert_eq!(body_of(res).await, format!("path /n/{i}"));
        }
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "five requests, one connection"
        );
        cancel.cancel();
        server.await.unwrap().unwrap();
    });
}

#[test]
fn one_mebibyte_bodies_round_trip_byte_for_byte() {
    run(120, async {
        let (addr, _, cancel, server) = start_echo_server().await;
        let data = mebibyte();
        // The server reads with uninitialised buffers (Io::new); the client once the same
        // way, once through the zero-filling path.
        let (mut uninit, _c1) = connect(addr).await;
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut zero_fill, _c2) = handshake(Io::with_zero_fill(stream)).await;
        for sender in [&mut uninit, &mut zero_fill] {
            let res = send(sender, request("POST", "/echo", full(data.clone()))).await;
            assert_eq!(res.status(), 200);
            let back = body_of(res).await;
            assert_eq!(back.len(), data.len());
            assert!(back[..] == data[..], "the echoed mebibyte differs");
        }
        cancel.cancel();
        server.await.unwrap().unwrap();
    });
}

#[test]
fn chunked_bodies_are_streamed_both_ways() {
    run(60, async {
        let (addr, _, cancel, server) = start_echo_server().await;
        let (mut sender, _conn) = connect(addr).await;
        let chunks: Vec<Bytes> = (0..50)
            .map(|i| Bytes::from(format!("chunk {i};").repeat(i + 1)))
            .collect();
        let expected: Vec<u8> = chunks.concat();
        let frames = goro::stream::StreamExt::map(futures_lite::stream::iter(chunks), |c| {
            Ok::<_, hyper::Error>(Frame::data(c))
        });
        // No length: hyper's client sends it with `transfer-encoding: chunked`.
        let res = send(
            &mut sender,
            request("POST", "/echo", StreamBody::new(frames).boxed()),
        )
        .await;
        assert_eq!(res.headers()["x-chunked"], "true");
        assert_eq!(res.headers()["transfer-encoding"], "chunked");
        assert_eq!(body_of(res).await, expected);
        cancel.cancel();
        server.await.unwrap().unwrap();
    });
}

#[test]
fn cancelling_the_context_drains_in_flight_requests_and_refuses_new_connections() {
    run(60, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (started_tx, started) = chan::bounded::<()>(1);
        let (release, released) = chan::bounded::<()>(1);
        let slow = service_fn(move |req: Request<Incoming>| {
            let (started_tx, released) = (started_tx.clone(), released.clone());
            async move {
                if req.uri().path() == "/slow" {
                    started_tx.send(()).await.unwrap();
                    released.recv().await;
                }
                Ok::<_, Infallible>(Response::new(full("done")))
            }
        });
        let (ctx, cancel) = Context::background().with_cancel();
        let server = goro::spawn(goro::hyper::serve(listener, slow, ctx));

        // An idle keep-alive connection, and one with a request in flight.
        let (mut idle, idle_conn) = connect(addr).await;
        let res = send(&mut idle, request("GET", "/fast", full(""))).await;
        assert_eq!(body_of(res).await, "done");
        let (mut busy, _busy_conn) = connect(addr).await;
        let in_flight =
            goro::spawn(async move { busy.send_request(request("GET", "/slow", full(""))).await });
        started.recv().await.unwrap();

        cancel.cancel();
        // The listener closes: connecting is soon refused (a connect that still lands in
        // the old backlog is closed with it).
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match TcpStream::connect(addr).await {
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => break,
                // It landed in the old backlog, whose close reset it before the connect
                // returned: the same race as `Ok` below, seen a moment later.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                    ) =>
                {
                    assert!(
                        Instant::now() < deadline,
                        "still accepting long after cancel"
                    );
                    goro::time::sleep(Duration::from_millis(10)).await;
                }
                Err(e) => panic!("connect failed otherwise: {e}"),
                Ok(_) => {
                    assert!(
                        Instant::now() < deadline,
                        "still accepting long after cancel"
                    );
                    goro::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
        // The idle connection is closed by the server...
        goro::time::timeout(Duration::from_secs(20), idle_conn)
            .await
            .expect("idle connection closed")
            .unwrap();
        // ...while the request in flight holds the drain open.
        assert!(
            !server.is_finished(),
            "serve returned with a request in flight"
        );
        release.send(()).await.unwrap();
        let res = in_flight.await.unwrap().unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["connection"], "close");
        assert_eq!(body_of(res).await, "done");
        goro::time::timeout(Duration::from_secs(20), server)
            .await
            .expect("serve returns once the last connection ends")
            .unwrap()
            .unwrap();
    });
}

#[test]
fn header_read_timeout_disconnects_a_silent_client_on_goro_timers() {
    run(60, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let timeout = Duration::from_millis(300);
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.header_read_timeout(timeout);
        let (ctx, cancel) = Context::background().with_cancel();
        let server = goro::spawn(goro::hyper::serve_with(
            builder,
            listener,
            service_fn(echo),
            ctx,
        ));

        // A client that starts a request and never finishes its head.
        let start = Instant::now();
        let mut silent = TcpStream::connect(addr).await.unwrap();
        silent
            .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n")
            .await
            .unwrap();
        let mut rest = Vec::new();
        let read = goro::time::timeout(Duration::from_secs(20), silent.read_to_end(&mut rest))
            .await
            .expect("the server hangs up on a silent client");
        // Closed (EOF, or a reset if hyper closed with our bytes unread), with no response.
        if let Ok(n) = read {
            assert_eq!(
                n,
                0,
                "unexpected response: {:?}",
                String::from_utf8_lossy(&rest)
            );
        }
        assert!(
            start.elapsed() >= timeout,
            "closed before the timeout: {:?}",
            start.elapsed()
        );

        // A client that sends its request at once is served as usual.
        let (mut sender, _conn) = connect(addr).await;
        let res = send(&mut sender, request("GET", "/ok", full(""))).await;
        assert_eq!(body_of(res).await, "path /ok");
        cancel.cancel();
        server.await.unwrap().unwrap();
    });
}

#[test]
fn curl_is_served_with_keep_alive() {
    let Ok(version) = std::process::Command::new("curl").arg("--version").output() else {
        eprintln!("curl is not installed: skipped");
        return;
    };
    assert!(version.status.success());
    run(60, async {
        let (addr, accepted, cancel, server) = start_echo_server().await;
        // Two URLs in one curl run share one connection.
        let out = goro::spawn_blocking(move || {
            std::process::Command::new("curl")
                .args(["-sS", "--max-time", "20", "--data-binary", "posted by curl"])
                .arg(format!("http://{addr}/echo"))
                .arg(format!("http://{addr}/echo"))
                .output()
        })
        .await
        .unwrap()
        .unwrap();
        assert!(
            out.status.success(),
            "curl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "posted by curlposted by curl"
        );
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "curl reused its connection"
        );
        cancel.cancel();
        server.await.unwrap().unwrap();
    });
}

#[test]
fn the_axum_example_router_answers_and_shuts_down() {
    run(60, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (ctx, cancel) = Context::background().with_cancel();
        let served = Arc::new(AtomicUsize::new(0));
        let app = hyper_util::service::TowerToHyperService::new(axum_hello::router(
            cancel,
            served.clone(),
        ));
        let server = goro::spawn(goro::hyper::serve(listener, app, ctx.clone()));

        let (mut sender, _conn) = connect(addr).await;
        let res = send(&mut sender, request("GET", "/", full(""))).await;
        assert_eq!(body_of(res).await, "hello from axum on goro\n");
        let res = send(&mut sender, request("GET", "/hello/gopher", full(""))).await;
        assert_eq!(res.headers()["content-type"], "application/json");
        let json: serde_json::Value = serde_json::from_slice(&body_of(res).await).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "hello": "gopher", "runtime": "goro" })
        );
        let res = send(&mut sender, request("GET", "/missing", full(""))).await;
        assert_eq!(res.status(), 404);
        let res = send(&mut sender, request("POST", "/shutdown", full(""))).await;
        assert_eq!(body_of(res).await, "shutting down\n");
        goro::time::timeout(Duration::from_secs(20), server)
            .await
            .expect("/shutdown stops the server")
            .unwrap()
            .unwrap();
        assert!(ctx.err().is_some());
        assert_eq!(served.load(Ordering::SeqCst), 3);
    });
}

#[test]
fn serve_works_on_a_unix_listener() {
    run(60, async {
        let dir = std::env::temp_dir().join(format!("goro-hyper-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("http.sock");
        let _ = std::fs::remove_file(&path);
        let listener = goro::net::UnixListener::bind(&path).unwrap();
        let (ctx, cancel) = Context::background().with_cancel();
        let server = goro::spawn(goro::hyper::serve(listener, service_fn(echo), ctx));
        let stream = goro::net::UnixStream::connect(&path).await.unwrap();
        let (mut sender, _conn) = handshake(Io::new(stream)).await;
        let data = mebibyte();
        let res = send(&mut sender, request("POST", "/echo", full(data.clone()))).await;
        assert!(
            body_of(res).await[..] == data[..],
            "the echoed mebibyte differs"
        );
        cancel.cancel();
        server.await.unwrap().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    });
}
