//! The offline demo: a local server (hyper on goro, through `goro::hyper::serve` on
//! 127.0.0.1:0) whose endpoints differ in latency, size and framing, and the list of its URLs
//! that the fetcher then fetches concurrently, like any other.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use futures_lite::stream;
use goro::net::TcpListener;
use goro::sync::{CancelFn, Context};
use goro::JoinHandle;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::header::{CONTENT_TYPE, LOCATION};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};

/// The size of `/big`'s body.
const BIG_BYTES: usize = 1 << 20;

/// `/chunked` sends this many chunks...
const CHUNKS: usize = 8;

/// ... this far apart, so its body arrives over `CHUNKS * CHUNK_PAUSE`.
const CHUNK_PAUSE: Duration = Duration::from_millis(50);

/// The longest `/delay/{ms}` honours: a typo cannot make the demo wait for minutes.
const MAX_DELAY_MS: u64 = 5_000;

type Body = BoxBody<Bytes, Infallible>;

/// The demo server, running until [`Server::stop`].
#[derive(Debug)]
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Cancels its context: it stops accepting and drains.
    cancel: CancelFn,
    /// The `serve` task.
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Starts the server on a free port of 127.0.0.1.
    pub async fn start() -> std::io::Result<Server> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (ctx, cancel) = Context::background().with_cancel();
        let task = goro::spawn(goro::hyper::serve(listener, service_fn(answer), ctx));
        Ok(Server { addr, cancel, task })
    }

    /// The URLs the demo fetches, slowest last: latencies from none to half a second, a
    /// mebibyte, a chunked body that trickles in, and a relative redirect.
    pub fn urls(&self) -> Vec<String> {
        let base = format!("http://{}", self.addr);
        let paths = [
            "/fast",
            "/delay/100",
            "/delay/200",
            "/delay/300",
            "/redirect",
            "/big",
            "/chunked",
            "/delay/400",
            "/delay/500",
        ];
        paths.iter().map(|p| format!("{base}{p}")).collect()
    }

    /// Stops accepting, lets the connections close, and waits for `serve` to return.
    pub async fn stop(self) -> std::io::Result<()> {
        self.cancel.cancel();
        match self.task.await {
            Ok(served) => served,
            Err(e) => Err(std::io::Error::other(format!(
                "the demo server failed: {e}"
            ))),
        }
    }
}

/// The demo's endpoints.
async fn answer(req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path();
    let res = if path == "/fast" {
        text("fast\n")
    } else if let Some(ms) = path.strip_prefix("/delay/") {
        match ms.parse::<u64>() {
            Ok(ms) if ms <= MAX_DELAY_MS => {
                goro::time::sleep(Duration::from_millis(ms)).await;
                text(format!("waited {ms} ms\n"))
            }
            _ => status(
                StatusCode::BAD_REQUEST,
                "delay: a number of ms, at most 5000\n",
            ),
        }
    } else if path == "/big" {
        let body = Full::new(Bytes::from(vec![b'g'; BIG_BYTES])).boxed();
        Response::new(body)
    } else if path == "/chunked" {
        chunked()
    } else if path == "/redirect" {
        // Relative, resolved against /redirect: the fetcher goes to /delay/150.
        let mut res = status(StatusCode::FOUND, "see delay/150\n");
        res.headers_mut()
            .insert(LOCATION, "delay/150".parse().expect("a valid header"));
        res
    } else {
        status(StatusCode::NOT_FOUND, "no such page\n")
    };
    Ok(res)
}

fn text(body: impl Into<Bytes>) -> Response<Body> {
    let mut res = Response::new(Full::new(body.into()).boxed());
    res.headers_mut()
        .insert(CONTENT_TYPE, "text/plain".parse().expect("a valid header"));
    res
}

fn status(code: StatusCode, body: &'static str) -> Response<Body> {
    let mut res = text(body);
    *res.status_mut() = code;
    res
}

/// A body of unknown length, so hyper sends it chunked, one chunk every `CHUNK_PAUSE`.
fn chunked() -> Response<Body> {
    let chunks = stream::unfold(0, |i| async move {
        if i == CHUNKS {
            return None;
        }
        goro::time::sleep(CHUNK_PAUSE).await;
        let frame = Frame::data(Bytes::from(format!("chunk {i} of {CHUNKS}\n")));
        Some((Ok::<_, Infallible>(frame), i + 1))
    });
    Response::new(StreamBody::new(chunks).boxed())
}
