//! The command line (clap, derive) and the URL list of `-f FILE`.

use std::io::{self, BufRead};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;

/// How many requests are in flight at once unless `-c` says otherwise (Go programs often
/// pick a number of this size for a worker pool).
pub const DEFAULT_CONCURRENCY: usize = 64;

/// Seconds a URL may take, connect to last body byte, redirects included (curl's `--max-time`
/// has no default; 30 s keeps a silent server from holding a run for ever).
pub const DEFAULT_TIMEOUT_SECS: &str = "30";

/// Redirects followed per URL before giving up (a loop ends there).
pub const DEFAULT_MAX_REDIRECTS: u32 = 5;

/// Fetches URLs concurrently over HTTP/1.1 and HTTPS (hyper and rustls on goro). With no
/// URL, runs an offline demo against a local server.
#[derive(Debug, Parser)]
#[command(name = "http-fetch", version)]
pub struct Args {
    /// URLs to fetch (http:// or https://). With none (and no -f), an offline demo runs.
    #[arg(value_name = "URL")]
    pub urls: Vec<String>,

    /// Read URLs from FILE, one per line ('-' for stdin); blank lines and '#' comments are
    /// skipped.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// At most N requests in flight.
    #[arg(short = 'c', long = "concurrency", value_name = "N", default_value_t = DEFAULT_CONCURRENCY,
          value_parser = parse_concurrency)]
    pub concurrency: usize,

    /// Give up on a URL after SECS seconds (connect, TLS, redirects and body together).
    #[arg(long, value_name = "SECS", default_value = DEFAULT_TIMEOUT_SECS, value_parser = parse_secs)]
    pub timeout: Duration,

    /// Follow at most N redirects per URL.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_REDIRECTS)]
    pub max_redirects: u32,

    /// Trust the certificates in this PEM file too, besides the built-in roots (as curl).
    #[arg(long, value_name = "PEM")]
    pub cacert: Option<PathBuf>,

    /// Save each body into DIR (created if missing), under a name made from its URL.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output_dir: Option<PathBuf>,

    /// The request method (as curl's -X). A 303 redirect turns it into GET; 307 and 308
    /// keep it. Requests carry no body.
    #[arg(short = 'X', long = "request", value_name = "METHOD", default_value = "GET",
          value_parser = parse_method)]
    pub method: hyper::Method,
}

fn parse_concurrency(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    let secs: f64 = s.parse().map_err(|e| format!("{e}"))?;
    // NaN is neither more nor less than 0: `is_nan` turns it away too.
    if secs.is_nan() || secs <= 0.0 {
        return Err("must be more than 0".into());
    }
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

fn parse_method(s: &str) -> Result<hyper::Method, String> {
    hyper::Method::from_bytes(s.as_bytes()).map_err(|e| e.to_string())
}

/// The URLs in `text`: one per line, trimmed; blank lines and lines starting with `#` are
/// skipped.
pub fn parse_url_list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(String::from)
        .collect()
}

/// Reads the URL list of `-f`: a file, or stdin for `-`.
pub fn read_url_list(path: &Path) -> io::Result<Vec<String>> {
    let text = if path == Path::new("-") {
        let mut text = String::new();
        for line in io::stdin().lock().lines() {
            text.push_str(&line?);
            text.push('\n');
        }
        text
    } else {
        std::fs::read_to_string(path)?
    };
    Ok(parse_url_list(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_list_skips_blanks_and_comments() {
        let text = "# list\n\nhttp://a/\n   \n  http://b/x  \n#http://c/\n";
        assert_eq!(parse_url_list(text), ["http://a/", "http://b/x"]);
    }

    #[test]
    fn bad_numbers_are_usage_errors() {
        assert!(parse_concurrency("0").is_err());
        assert!(parse_secs("0").is_err());
        assert!(parse_secs("-1").is_err());
        assert!(parse_secs("NaN").is_err());
        assert_eq!(parse_secs("0.5"), Ok(Duration::from_millis(500)));
    }
}
