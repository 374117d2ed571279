//! Just enough HTTP/1.0 for curl and `nc`: one request per connection, a request line,
//! headers (only `Content-Length` is read), a body; the response names its request id and
//! closes the connection.

use std::io;

use goro::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use goro::sync::Context;

use crate::log::REQUEST_ID;

/// The largest request body taken (an append); a larger one is refused with 413.
pub const MAX_BODY: usize = 1 << 20;

/// The longest request line or header line.
const MAX_LINE: usize = 8 * 1024;

/// A parsed request.
#[derive(Debug)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, query included, as sent.
    pub path: String,
    /// The body (`Content-Length` bytes; empty without the header).
    pub body: Vec<u8>,
}

/// Why a request could not be read: the status to answer with, and why.
#[derive(Debug)]
pub struct BadRequest(pub u16, pub String);

impl From<io::Error> for BadRequest {
    fn from(e: io::Error) -> Self {
        BadRequest(400, format!("reading the request: {e}"))
    }
}

/// Reads one request: `METHOD PATH [HTTP/1.x]`, headers up to an empty line, the body.
pub async fn read_request<R: AsyncBufRead + Unpin>(r: &mut R) -> Result<Request, BadRequest> {
    let line = read_line(r).await?;
    let mut words = line.split_whitespace();
    let (Some(method), Some(path)) = (words.next(), words.next()) else {
        return Err(BadRequest(400, format!("bad request line {line:?}")));
    };
    if !path.starts_with('/') {
        return Err(BadRequest(400, format!("bad path {path:?}")));
    }
    let (method, path) = (method.to_string(), path.to_string());
    let mut length = 0;
    loop {
        let header = read_line(r).await?;
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            return Err(BadRequest(400, format!("bad header {header:?}")));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            length = value
                .trim()
                .parse()
                .map_err(|_| BadRequest(400, format!("bad Content-Length {value:?}")))?;
        }
    }
    if length > MAX_BODY {
        return Err(BadRequest(
            413,
            format!("body of {length} bytes, the limit is {MAX_BODY}"),
        ));
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body).await?;
    Ok(Request { method, path, body })
}

/// One line without its `\r\n`, at most `MAX_LINE` bytes.
async fn read_line<R: AsyncBufRead + Unpin>(r: &mut R) -> Result<String, BadRequest> {
    let mut line = String::new();
    let n = (&mut *r).take(MAX_LINE as u64).read_line(&mut line).await?;
    if n == 0 {
        return Err(BadRequest(400, "connection closed mid-request".into()));
    }
    if !line.ends_with('\n') {
        return Err(BadRequest(
            431,
            format!("a line longer than {MAX_LINE} bytes"),
        ));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// The reason phrase of the statuses the service sends.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// Writes the status line and headers; the request id comes from `ctx`. Without a length
/// the body runs to the end of the connection (HTTP/1.0), for a response that streams.
pub async fn write_head<W: AsyncWrite + Unpin>(
    w: &mut W,
    ctx: &Context,
    status: u16,
    length: Option<usize>,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.0 {status} {}\r\n", reason(status));
    if let Some(id) = ctx.value(&REQUEST_ID) {
        head += &format!("X-Request-Id: {id}\r\n");
    }
    if let Some(length) = length {
        head += &format!("Content-Length: {length}\r\n");
    }
    head += "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n";
    w.write_all(head.as_bytes()).await?;
    w.flush().await
}

/// Writes a whole response.
pub async fn respond<W: AsyncWrite + Unpin>(
    w: &mut W,
    ctx: &Context,
    status: u16,
    body: &[u8],
) -> io::Result<()> {
    write_head(w, ctx, status, Some(body.len())).await?;
    w.write_all(body).await?;
    w.flush().await
}
