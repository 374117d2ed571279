//! One URL, start to end: parse, take a pooled connection or open one (TCP, then TLS for
//! https), send the request with hyper's HTTP/1.1 client, read the body, follow redirects,
//! all under a `Context` whose deadline is the `--timeout`.
//!
//! Connections are kept per scheme + host + port. A connection goes back to the pool only
//! after its response body has been read to the end, which is when hyper can send the next
//! request on it; one that the server closed is skipped when it is next taken. At most `-c`
//! connections are ever in use at once, so no pool grows past that.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use futures_rustls::TlsConnector;
use goro::hyper::Io;
use goro::net::TcpStream;
use goro::sync::Context;
use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HOST, LOCATION, USER_AGENT};
use hyper::{Method, Request, Response, StatusCode};
use url::{Position, Url};

use crate::tls;

/// The User-Agent of every request.
const USER_AGENT_VALUE: &str = concat!("goro-http-fetch/", env!("CARGO_PKG_VERSION"));

/// A connection's request side; its other side runs in a task of its own.
type Sender = SendRequest<Empty<Bytes>>;

/// Why a URL failed. Each says what went wrong in words a user can act on.
#[derive(Debug)]
pub enum FetchError {
    /// Not a URL at all.
    BadUrl(url::ParseError),
    /// A URL whose scheme is not http or https.
    Scheme(String),
    /// A URL with no host (`http:///x`).
    NoHost,
    /// Resolving or connecting failed (no such host, refused, unreachable).
    Connect(String, io::Error),
    /// The TLS handshake failed (untrusted certificate, wrong name, no common protocol).
    Tls(String, io::Error),
    /// The server broke HTTP: garbage instead of a response, a closed connection, ...
    Http(hyper::Error),
    /// The body ended early or broke off (shorter than its Content-Length, say).
    Body(hyper::Error),
    /// A redirect with a `Location` that is missing or not a URL.
    BadRedirect(StatusCode, String),
    /// More redirects than `--max-redirects` (a loop ends here).
    TooManyRedirects(u32),
    /// The URL took longer than `--timeout`.
    Timeout(Duration),
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::BadUrl(e) => write!(f, "malformed URL: {e}"),
            FetchError::Scheme(s) => write!(f, "unsupported scheme {s:?} (only http and https)"),
            FetchError::NoHost => write!(f, "the URL has no host"),
            FetchError::Connect(addr, e) => write!(f, "connect to {addr}: {}", chain(e)),
            FetchError::Tls(host, e) => write!(f, "TLS handshake with {host}: {}", chain(e)),
            FetchError::Http(e) => write!(f, "HTTP: {}", chain(e)),
            FetchError::Body(e) => write!(f, "body: {}", chain(e)),
            FetchError::BadRedirect(status, why) => write!(f, "redirect {status}: {why}"),
            FetchError::TooManyRedirects(n) => {
                write!(f, "too many redirects: more than {n} (a loop?)")
            }
            FetchError::Timeout(d) => write!(f, "timed out after {d:?}"),
        }
    }
}

impl StdError for FetchError {}

/// An error and its sources, `a: b: c`, skipping a source whose text its parent already shows.
fn chain(e: &dyn StdError) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// A URL fetched to the end of its final response.
#[derive(Debug)]
pub struct Fetched {
    /// The final response's status.
    pub status: StatusCode,
    /// Its body's length in bytes.
    pub bytes: u64,
    /// Its body, if asked for.
    pub body: Option<Vec<u8>>,
    /// Where the redirects led (the URL itself if there were none).
    pub final_url: Url,
    /// How many redirects were followed.
    pub redirects: u32,
}

/// Where a pooled connection goes: scheme, host, port.
type PoolKey = (String, String, u16);

/// What every fetch shares: the settings, the TLS client, the connection pool and the counts.
pub struct Fetcher {
    /// `-X`: the first request's method.
    method: Method,
    /// `--timeout`: the most one URL may take.
    timeout: Duration,
    /// `--max-redirects`.
    max_redirects: u32,
    /// The TLS client for https.
    tls: TlsConnector,
    /// Idle connections, ready for their next request, per scheme + host + port.
    pool: Mutex<HashMap<PoolKey, Vec<Sender>>>,
    /// Connections opened (TCP connects that succeeded).
    connections: AtomicUsize,
    /// Requests sent, redirects included.
    requests: AtomicUsize,
}

impl Fetcher {
    /// A fetcher with these settings and no connection yet.
    pub fn new(
        method: Method,
        timeout: Duration,
        max_redirects: u32,
        tls: TlsConnector,
    ) -> Fetcher {
        Fetcher {
            method,
            timeout,
            max_redirects,
            tls,
            pool: Mutex::new(HashMap::new()),
            connections: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
        }
    }

    /// Connections opened so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Requests sent so far, redirects included.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// Fetches `url` (following redirects) within the timeout; keeps the body if `keep_body`.
    ///
    /// # Errors
    ///
    /// [`FetchError`] says which step failed.
    pub async fn fetch(&self, url: &str, keep_body: bool) -> Result<Fetched, FetchError> {
        let url = parse(url)?;
        // The deadline covers everything this URL does: connect, TLS, every redirect, body.
        let (ctx, _cancel) = Context::background().with_timeout(self.timeout);
        goro::select! {
            fetched = self.follow(url, keep_body) => fetched,
            _ = ctx.done() => Err(FetchError::Timeout(self.timeout)),
        }
    }

    /// Sends requests, following redirects, until a response that is not one.
    async fn follow(&self, mut url: Url, keep_body: bool) -> Result<Fetched, FetchError> {
        let mut method = self.method.clone();
        let mut redirects = 0;
        loop {
            let (res, conn) = self.send(&url, &method).await?;
            let status = res.status();
            let Some(next) = redirect_target(&url, &res)? else {
                let (bytes, body) = self.read_body(res, conn, keep_body).await?;
                return Ok(Fetched {
                    status,
                    bytes,
                    body,
                    final_url: url,
                    redirects,
                });
            };
            if redirects == self.max_redirects {
                return Err(FetchError::TooManyRedirects(self.max_redirects));
            }
            // Read the redirect's own body so that its connection can serve the next request.
            self.read_body(res, conn, false).await?;
            redirects += 1;
            method = redirected_method(status, method);
            url = next;
        }
    }

    /// Sends one request for `url` on a pooled connection or a new one.
    ///
    /// A server may close an idle keep-alive connection at any moment, and the request sent
    /// on it then fails before any response: hyper reports the connection closed, the message
    /// incomplete, or the reset the server's kernel answered with. So a request that failed
    /// on a reused connection with no response byte parsed is sent once more, on a new
    /// connection, if its method may be repeated (as Go's `net/http` does; requests here
    /// carry no body). A parse error means the server did answer: no retry.
    async fn send(
        &self,
        url: &Url,
        method: &Method,
    ) -> Result<(Response<Incoming>, Conn), FetchError> {
        let key = pool_key(url)?;
        if let Some(mut conn) = self.take_idle(&key).await {
            self.requests.fetch_add(1, Ordering::Relaxed);
            match conn.sender.send_request(request(url, method)).await {
                Ok(res) => return Ok((res, conn)),
                Err(e) if !method.is_idempotent() || e.is_parse() || e.is_user() => {
                    return Err(FetchError::Http(e));
                }
                Err(_) => {} // the server closed it while it sat idle
            }
        }
        let mut conn = self.connect(url, key).await?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        match conn.sender.send_request(request(url, method)).await {
            Ok(res) => Ok((res, conn)),
            Err(e) => Err(FetchError::Http(e)),
        }
    }

    /// An idle connection to `key` that can take a request now, if the pool has one.
    async fn take_idle(&self, key: &PoolKey) -> Option<Conn> {
        loop {
            let sender = {
                let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
                pool.get_mut(key)?.pop()?
            };
            let mut conn = Conn {
                key: key.clone(),
                sender,
            };
            // `ready` returns at once for a live idle connection, an error for a closed one.
            if !conn.sender.is_closed() && conn.sender.ready().await.is_ok() {
                return Some(conn);
            }
        }
    }

    /// Puts a connection whose last response has been read to the end back in the pool.
    fn put_back(&self, conn: Conn) {
        if conn.sender.is_closed() {
            return;
        }
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        pool.entry(conn.key).or_default().push(conn.sender);
    }

    /// Opens a connection: TCP, then TLS for https, then hyper's HTTP/1.1 handshake; the
    /// connection's reading and writing run in a task of their own until it closes.
    async fn connect(&self, url: &Url, key: PoolKey) -> Result<Conn, FetchError> {
        let host = url.host().ok_or(FetchError::NoHost)?;
        let addr = format!("{}:{}", key.1, key.2);
        let tcp = match host {
            url::Host::Domain(name) => TcpStream::connect((name, key.2)).await,
            url::Host::Ipv4(ip) => TcpStream::connect((ip, key.2)).await,
            url::Host::Ipv6(ip) => TcpStream::connect((ip, key.2)).await,
        }
        .map_err(|e| FetchError::Connect(addr.clone(), e))?;
        self.connections.fetch_add(1, Ordering::Relaxed);
        // hyper writes a request's head on its own: no reason to wait for a delayed ACK.
        // A failure means the connection is already dead, which the request reports.
        let _ = tcp.set_nodelay(true);
        let sender = if url.scheme() == "https" {
            let name = tls::server_name(&host).map_err(|e| FetchError::Tls(key.1.clone(), e))?;
            let stream = self
                .tls
                .connect(name, tcp)
                .await
                .map_err(|e| FetchError::Tls(key.1.clone(), e))?;
            handshake(Io::with_zero_fill(stream)).await?
        } else {
            handshake(Io::new(tcp)).await?
        };
        Ok(Conn { key, sender })
    }

    /// Reads `res`'s body to the end (keeping it if `keep`), then returns the connection to
    /// the pool. Returns the body's length and, if kept, its bytes.
    async fn read_body(
        &self,
        res: Response<Incoming>,
        conn: Conn,
        keep: bool,
    ) -> Result<(u64, Option<Vec<u8>>), FetchError> {
        let mut body = res.into_body();
        let mut bytes = 0u64;
        let mut kept = keep.then(Vec::new);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(FetchError::Body)?;
            if let Ok(data) = frame.into_data() {
                bytes += data.len() as u64;
                if let Some(kept) = &mut kept {
                    kept.extend_from_slice(&data);
                }
            }
        }
        self.put_back(conn);
        Ok((bytes, kept))
    }
}

impl fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fetcher")
            .field("method", &self.method)
            .field("timeout", &self.timeout)
            .field("max_redirects", &self.max_redirects)
            .field("connections", &self.connections)
            .field("requests", &self.requests)
            .finish_non_exhaustive()
    }
}

/// A connection of the pool.
#[derive(Debug)]
struct Conn {
    /// Where it goes.
    key: PoolKey,
    /// Its request side.
    sender: Sender,
}

/// hyper's HTTP/1.1 client handshake over `io`; the connection task is spawned on goro.
async fn handshake<T>(io: Io<T>) -> Result<Sender, FetchError>
where
    Io<T>: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = http1::handshake(io).await.map_err(FetchError::Http)?;
    // Its error, if any, reaches the request in flight through `send_request`.
    drop(goro::spawn(async move {
        let _ = conn.await;
    }));
    Ok(sender)
}

/// Parses a URL given by the user: http or https, with a host.
///
/// # Errors
///
/// A malformed URL, another scheme, or no host.
pub fn parse(text: &str) -> Result<Url, FetchError> {
    let url = Url::parse(text).map_err(FetchError::BadUrl)?;
    check_scheme(&url)?;
    Ok(url)
}

fn check_scheme(url: &Url) -> Result<(), FetchError> {
    match url.scheme() {
        "http" | "https" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        "http" | "https" => Err(FetchError::NoHost),
        other => Err(FetchError::Scheme(other.to_string())),
    }
}

/// The pool's key for `url`: scheme, host (as written in a Host header) and port.
fn pool_key(url: &Url) -> Result<PoolKey, FetchError> {
    let host = url.host_str().ok_or(FetchError::NoHost)?;
    let port = url
        .port_or_known_default()
        .ok_or_else(|| FetchError::Scheme(url.scheme().to_string()))?;
    // Connect wants an IPv6 address without its brackets.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((url.scheme().to_string(), host.to_string(), port))
}

/// The request for `url`: origin-form target (path and query, never the fragment), Host.
fn request(url: &Url, method: &Method) -> Request<Empty<Bytes>> {
    let target = &url[Position::BeforePath..Position::AfterQuery];
    let host = &url[Position::BeforeHost..Position::AfterPort];
    Request::builder()
        .method(method.clone())
        .uri(target)
        .header(HOST, host)
        .header(USER_AGENT, USER_AGENT_VALUE)
        .body(Empty::new())
        .expect("a parsed URL's path and host are a valid request target and Host")
}

/// Where a redirect response points, resolved against `url`; `None` if `res` is not a
/// redirect.
fn redirect_target(url: &Url, res: &Response<Incoming>) -> Result<Option<Url>, FetchError> {
    let status = res.status();
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let location = res
        .headers()
        .get(LOCATION)
        .ok_or_else(|| FetchError::BadRedirect(status, "no Location header".into()))?;
    let location = location
        .to_str()
        .map_err(|_| FetchError::BadRedirect(status, "Location is not text".into()))?;
    resolve(url, location).map(Some).map_err(|e| match e {
        FetchError::BadUrl(e) => {
            FetchError::BadRedirect(status, format!("Location {location:?}: {e}"))
        }
        other => other,
    })
}

/// `location` (absolute, or relative to `base`), checked like a URL from the user.
fn resolve(base: &Url, location: &str) -> Result<Url, FetchError> {
    let url = base.join(location).map_err(FetchError::BadUrl)?;
    check_scheme(&url)?;
    Ok(url)
}

/// The method after a redirect with `status`: 303 makes it GET (HEAD stays HEAD); 301 and
/// 302 turn a POST into GET, as browsers and curl do; 307 and 308 keep it.
fn redirected_method(status: StatusCode, method: Method) -> Method {
    match status.as_u16() {
        303 if method != Method::HEAD => Method::GET,
        301 | 302 if method == Method::POST => Method::GET,
        _ => method,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_locations_resolve_against_the_current_url() {
        let base = Url::parse("http://h:8/a/b/c?q=1").unwrap();
        assert_eq!(resolve(&base, "d").unwrap().as_str(), "http://h:8/a/b/d");
        assert_eq!(resolve(&base, "../d").unwrap().as_str(), "http://h:8/a/d");
        assert_eq!(resolve(&base, "/x?y").unwrap().as_str(), "http://h:8/x?y");
        assert_eq!(
            resolve(&base, "//other/p").unwrap().as_str(),
            "http://other/p"
        );
        assert_eq!(resolve(&base, "https://s/").unwrap().as_str(), "https://s/");
        assert!(matches!(
            resolve(&base, "ftp://s/"),
            Err(FetchError::Scheme(_))
        ));
    }

    #[test]
    fn redirects_change_the_method_as_browsers_do() {
        let put = || Method::PUT;
        let ok = |s: u16| StatusCode::from_u16(s).unwrap();
        assert_eq!(redirected_method(ok(303), put()), Method::GET);
        assert_eq!(redirected_method(ok(303), Method::HEAD), Method::HEAD);
        assert_eq!(redirected_method(ok(307), put()), Method::PUT);
        assert_eq!(redirected_method(ok(308), Method::POST), Method::POST);
        assert_eq!(redirected_method(ok(302), Method::POST), Method::GET);
        assert_eq!(redirected_method(ok(301), put()), Method::PUT);
    }

    #[test]
    fn user_urls_are_checked() {
        assert!(matches!(parse("not a url"), Err(FetchError::BadUrl(_))));
        assert!(matches!(parse("ftp://h/"), Err(FetchError::Scheme(_))));
        assert!(matches!(parse("mailto:x@y"), Err(FetchError::Scheme(_))));
        assert!(parse("http://[::1]:8080/").is_ok());
        // International host names become their ASCII form, for DNS, Host and SNI.
        let url = parse("http://bücher.example/").unwrap();
        assert_eq!(url.host_str(), Some("xn--bcher-kva.example"));
    }

    #[test]
    fn requests_carry_path_query_and_host_but_no_fragment() {
        let url = Url::parse("http://[::1]:8080/p/q?x=1#frag").unwrap();
        let req = request(&url, &Method::GET);
        assert_eq!(req.uri(), "/p/q?x=1");
        assert_eq!(req.headers()[HOST], "[::1]:8080");
        let url = Url::parse("https://example.com:443").unwrap();
        let req = request(&url, &Method::GET);
        assert_eq!(req.uri(), "/");
        assert_eq!(req.headers()[HOST], "example.com");
        assert_eq!(
            pool_key(&url).unwrap(),
            ("https".into(), "example.com".into(), 443)
        );
    }
}
