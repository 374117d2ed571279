//! What the fetcher prints and saves: one line per URL as it completes, the summary, the
//! progress bar (on a terminal only), and the safe file names of `-o DIR`.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::fetch::{FetchError, Fetched};

/// The longest file name `-o` makes from a URL, before a suffix that makes it unique; well
/// under the 255 bytes Linux and macOS allow.
const MAX_NAME_LEN: usize = 120;

/// How one URL ended.
#[derive(Debug)]
pub struct Outcome {
    /// The URL as given.
    pub url: String,
    /// The response, or why there is none.
    pub result: Result<Fetched, FetchError>,
    /// From the start of this URL's fetch to its end.
    pub elapsed: Duration,
    /// Where the body was saved (`-o`), or why saving failed.
    pub saved: Option<Result<String, String>>,
}

impl Outcome {
    /// Whether the URL counts as fetched: a final response below 400, saved if asked.
    pub fn ok(&self) -> bool {
        let saved = !matches!(self.saved, Some(Err(_)));
        saved && matches!(&self.result, Ok(f) if f.status.as_u16() < 400)
    }

    /// The line printed for this URL: `STATUS BYTES TIME URL`, or `ERR` and the reason.
    pub fn line(&self) -> String {
        let ms = self.elapsed.as_secs_f64() * 1000.0;
        match &self.result {
            Ok(f) => {
                let mut line = format!(
                    "{:<4}{:>11} B {:>9.1} ms  {}",
                    f.status.as_u16(),
                    f.bytes,
                    ms,
                    self.url
                );
                if f.redirects > 0 {
                    let s = if f.redirects == 1 { "" } else { "s" };
                    line.push_str(&format!(
                        "  ({} redirect{s} -> {})",
                        f.redirects, f.final_url
                    ));
                }
                match &self.saved {
                    Some(Ok(path)) => line.push_str(&format!("  saved {path}")),
                    Some(Err(e)) => line.push_str(&format!("  NOT SAVED: {e}")),
                    None => {}
                }
                line
            }
            Err(e) => format!(
                "{:<4}{:>11}   {:>9.1} ms  {}  {e}",
                "ERR", "-", ms, self.url
            ),
        }
    }
}

/// The progress bar: drawn on stderr while stdout is a terminal, hidden otherwise (so that
/// piped or redirected output holds the result lines only).
pub fn progress(total: usize) -> ProgressBar {
    if !std::io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total as u64);
    let style = ProgressStyle::with_template("{bar:30} {pos}/{len} fetched, {elapsed} ")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// Prints a result line on stdout, with the progress bar (if any) moved out of the way.
pub fn print_line(bar: &ProgressBar, line: &str) {
    bar.suspend(|| println!("{line}"));
}

/// The totals of a run, printed after the last line.
#[derive(Debug, Default)]
pub struct Summary {
    /// URLs fetched.
    pub ok: usize,
    /// URLs that failed.
    pub failed: usize,
    /// Body bytes of every final response.
    pub bytes: u64,
    /// The sum of every URL's own time: what fetching them one by one would have taken.
    pub sum_of_times: Duration,
}

impl Summary {
    /// Counts one outcome in.
    pub fn add(&mut self, outcome: &Outcome) {
        if outcome.ok() {
            self.ok += 1;
        } else {
            self.failed += 1;
        }
        if let Ok(f) = &outcome.result {
            self.bytes += f.bytes;
        }
        self.sum_of_times += outcome.elapsed;
    }

    /// The summary lines: counts, bytes, wall time, and connections against requests.
    pub fn lines(&self, wall: Duration, connections: usize, requests: usize) -> String {
        let speedup = self.sum_of_times.as_secs_f64() / wall.as_secs_f64().max(1e-9);
        format!(
            "{} ok, {} failed, {} body bytes, wall time {:.1?}\n\
             {connections} connections opened for {requests} requests\n\
             sum of per-URL times {:.1?} vs wall time {:.1?}: {speedup:.1}x from concurrency",
            self.ok, self.failed, self.bytes, wall, self.sum_of_times, wall
        )
    }
}

/// A file name for `url`'s body: host, port, path and query, every character other than
/// ASCII letters, digits, `.`, `-` and `_` replaced by `_`, no leading dot, at most
/// `MAX_NAME_LEN` bytes. It can hold no path separator and can never be `.` or `..`, so
/// joined to a directory it names a file inside it.
pub fn file_name(url: &url::Url) -> String {
    let mut parts = vec![url.host_str().unwrap_or("host").to_string()];
    if let Some(port) = url.port() {
        parts.push(port.to_string());
    }
    let segments: Vec<&str> = url.path().split('/').filter(|s| !s.is_empty()).collect();
    parts.extend(segments.iter().map(|s| s.to_string()));
    if url.path().ends_with('/') {
        parts.push("index".into());
    }
    if let Some(query) = url.query() {
        parts.push(query.to_string());
    }
    let joined = parts.join("_");
    let mut name: String = joined
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    name = name.trim_start_matches('.').to_string();
    name.truncate(MAX_NAME_LEN); // ASCII only: any byte is a char boundary
    if name.is_empty() {
        name.push_str("index");
    }
    name
}

/// Gives each name that another already took (compared without case, for file systems
/// that ignore it) a suffix before its extension: `a.txt`, `a-2.txt`, `a-3.txt`.
#[derive(Debug, Default)]
pub struct UniqueNames {
    /// Names handed out, lowercased.
    taken: HashSet<String>,
}

impl UniqueNames {
    /// `name`, or `name` with the first suffix no earlier call handed out.
    pub fn claim(&mut self, name: String) -> String {
        if self.taken.insert(name.to_lowercase()) {
            return name;
        }
        let (stem, ext) = match name.rfind('.') {
            Some(dot) if dot > 0 => name.split_at(dot),
            _ => (name.as_str(), ""),
        };
        (2..)
            .map(|n| format!("{stem}-{n}{ext}"))
            .find(|candidate| self.taken.insert(candidate.to_lowercase()))
            .expect("some suffix is free")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(url: &str) -> String {
        file_name(&url::Url::parse(url).unwrap())
    }

    #[test]
    fn names_keep_host_port_path_and_query() {
        assert_eq!(
            name("http://127.0.0.1:8080/files/a.txt"),
            "127.0.0.1_8080_files_a.txt"
        );
        assert_eq!(name("https://example.com/"), "example.com_index");
        assert_eq!(
            name("https://example.com/x?q=1&r=2"),
            "example.com_x_q_1_r_2"
        );
        assert_eq!(name("http://[::1]:9/a"), "___1__9_a");
    }

    #[test]
    fn names_never_leave_the_directory() {
        for url in [
            "http://h/../../etc/passwd",
            "http://h/%2e%2e/%2E%2E%2fetc",
            "http://h/a%2Fb%5Cc",
            "http://h/..%00/x",
            "http://h/.hidden",
            "http://h/%2F%2F",
        ] {
            let n = name(url);
            assert!(!n.is_empty() && n != "." && n != "..", "{url} -> {n}");
            assert!(
                !n.contains('/') && !n.contains('\\') && !n.contains('\0'),
                "{url} -> {n}"
            );
            assert!(!n.starts_with('.'), "{url} -> {n}");
            let joined = std::path::Path::new("out").join(&n);
            assert_eq!(
                joined.parent(),
                Some(std::path::Path::new("out")),
                "{url} -> {n}"
            );
        }
        assert!(name(&format!("http://h/{}", "x".repeat(1000))).len() <= MAX_NAME_LEN);
    }

    #[test]
    fn collisions_get_a_suffix() {
        let mut names = UniqueNames::default();
        assert_eq!(names.claim("a.txt".into()), "a.txt");
        assert_eq!(names.claim("a.txt".into()), "a-2.txt");
        assert_eq!(names.claim("A.TXT".into()), "A-3.TXT");
        assert_eq!(names.claim("a-2.txt".into()), "a-2-2.txt");
        assert_eq!(names.claim("noext".into()), "noext");
        assert_eq!(names.claim("noext".into()), "noext-2");
    }
}
