//! `goro_net::hyper::serve` when the process is out of file descriptors (EMFILE): the accept
//! loop backs off (5 ms doubling to 1 s) instead of spinning, then serves the connections
//! that waited. In its own test binary: it lowers RLIMIT_NOFILE for the whole process.

mod common;

use std::convert::Infallible;
use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{runtime, watchdog};
use goro_net::hyper::{Io, Listener};
use goro_net::{TcpListener, TcpStream};
use goro_runtime::context::Context;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// How many connections wait in the accept queue while the process is saturated.
const QUEUED: usize = 4;
/// How long the test keeps the process saturated.
const SATURATED_FOR: Duration = Duration::from_millis(600);

/// A TCP listener that counts `accept` calls and the connections they return.
struct Counting {
    listener: TcpListener,
    calls: Arc<AtomicUsize>,
    accepted: Arc<AtomicUsize>,
}

impl Listener for Counting {
    type Conn = Io<TcpStream>;

    async fn accept(&self) -> io::Result<Io<TcpStream>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let (stream, _) = self.listener.accept().await?;
        self.accepted.fetch_add(1, Ordering::SeqCst);
        Ok(Io::new(stream))
    }
}

#[test]
fn serve_backs_off_while_out_of_descriptors_and_then_serves() {
    watchdog(60, || {
        let rt = runtime(2);
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        // Clients connect first: the kernel completes their handshakes and queues them.
        let mut clients: Vec<_> = (0..QUEUED)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();

        // Lower the limit a little above what is open, then use up the rest.
        let old = getrlimit(Resource::Nofile);
        let open = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(open + 32),
                maximum: old.maximum,
            },
        )
        .unwrap();
        let mut hog = Vec::new();
        while let Ok(f) = File::open("/dev/null") {
            hog.push(f);
        }

        let calls = Arc::new(AtomicUsize::new(0));
        let accepted = Arc::new(AtomicUsize::new(0));
        let counting = Counting {
            listener,
            calls: calls.clone(),
            accepted: accepted.clone(),
        };
        let hello = service_fn(|_: Request<Incoming>| async {
            Ok::<_, Infallible>(Response::new("hello".to_string()))
        });
        let (ctx, cancel) = Context::background().with_cancel();
        let server = rt.spawn(goro_net::hyper::serve(counting, hello, ctx));
        let start = Instant::now();
        std::thread::sleep(SATURATED_FOR);
        let made = calls.load(Ordering::SeqCst);
        let per_second = made as f64 / start.elapsed().as_secs_f64();
        eprintln!(
            "{made} accept calls in {:?} while saturated",
            start.elapsed()
        );
        assert!(
            per_second < 100.0,
            "{per_second:.0} accept calls/s while saturated"
        );
        assert_eq!(accepted.load(Ordering::SeqCst), 0);

        // Free the descriptors: every queued connection is accepted and served.
        drop(hog);
        let deadline = Instant::now() + Duration::from_secs(20);
        while accepted.load(Ordering::SeqCst) < QUEUED {
            assert!(Instant::now() < deadline, "serve did not recover");
            std::thread::sleep(Duration::from_millis(10));
        }
        let client = &mut clients[0];
        client
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        client
            .write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        client.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
        assert!(response.ends_with("hello"), "{response}");

        // The idle connections close on cancel, and serve returns.
        cancel.cancel();
        rt.block_on(async {
            goro_runtime::time::timeout(Duration::from_secs(20), server)
                .await
                .expect("serve drains")
                .unwrap()
                .unwrap();
        });
        setrlimit(Resource::Nofile, old).unwrap();
    });
}
