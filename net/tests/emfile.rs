//! `accept` when the process is out of file descriptors (EMFILE): the error reaches the
//! caller, and a server that backs off (the README's pattern) makes few accept calls while
//! saturated and recovers when descriptors free up; a host-name connect says that the
//! process is out of descriptors, not that the name is unknown. Each test runs in a process
//! of its own: it lowers RLIMIT_NOFILE for the whole process.

mod common;

use std::fs::File;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{runtime, watchdog};
use goro_net::TcpListener;
use goro_runtime::time::sleep;
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// How many connections wait in the accept queue while the process is saturated.
const QUEUED: usize = 8;
/// How long the test keeps the process saturated.
const SATURATED_FOR: Duration = Duration::from_millis(600);

/// Whether `e` says the process or the system is out of a resource: back off, then retry.
fn out_of_resources(e: &io::Error) -> bool {
    use rustix::io::Errno;
    [Errno::MFILE, Errno::NFILE, Errno::NOBUFS, Errno::NOMEM]
        .iter()
        .any(|x| e.raw_os_error() == Some(x.raw_os_error()))
}

/// Lowers the descriptor limit to a little above what is open and opens files until the
/// process is out of descriptors; returns the files and the old limit.
fn saturate() -> (Vec<File>, Rlimit) {
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
    let err = loop {
        match File::open("/dev/null") {
            Ok(f) => hog.push(f),
            Err(e) => break e,
        }
    };
    assert!(out_of_resources(&err), "{err}");
    (hog, old)
}

/// The README's accept loop: back off 5 ms, doubling up to 1 s, while accept fails.
async fn serve(listener: TcpListener, calls: Arc<AtomicUsize>, accepted: Arc<AtomicUsize>) {
    let mut delay = Duration::from_millis(5);
    loop {
        calls.fetch_add(1, Ordering::SeqCst);
        match listener.accept().await {
            Ok((conn, _)) => {
                delay = Duration::from_millis(5);
                accepted.fetch_add(1, Ordering::SeqCst);
                drop(conn);
            }
            Err(e) if out_of_resources(&e) => {
                sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(1));
            }
            Err(e) => panic!("unexpected accept error: {e}"),
        }
    }
}

#[test]
fn accept_reports_emfile_and_a_backing_off_server_recovers() {
    // In a child process of its own: the other test lowers the limit too.
    common::in_own_process(
        "accept_reports_emfile_and_a_backing_off_server_recovers",
        90,
        accept_at_the_limit,
    );
}

fn accept_at_the_limit() {
    watchdog(60, || {
        let rt = runtime(2);
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        // Clients connect first: the kernel completes their handshakes and queues them.
        let clients: Vec<_> = (0..QUEUED)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();

        // Lower the limit a little above what is open, then use up the rest.
        let (hog, old) = saturate();

        // A bare accept returns the error instead of waiting or spinning.
        let e = rt.block_on(listener.accept()).unwrap_err();
        assert!(out_of_resources(&e), "accept: {e}");

        let calls = Arc::new(AtomicUsize::new(0));
        let accepted = Arc::new(AtomicUsize::new(0));
        let server = rt.spawn(serve(listener, calls.clone(), accepted.clone()));
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

        // Free the descriptors: the server accepts every queued connection.
        drop(hog);
        let deadline = Instant::now() + Duration::from_secs(20);
        while accepted.load(Ordering::SeqCst) < QUEUED {
            assert!(Instant::now() < deadline, "the server did not recover");
            std::thread::sleep(Duration::from_millis(10));
        }
        server.abort();
        drop(clients);
        setrlimit(Resource::Nofile, old).unwrap();
    });
}

#[test]
fn a_host_name_connect_out_of_descriptors_says_so() {
    common::in_own_process("a_host_name_connect_out_of_descriptors_says_so", 90, || {
        watchdog(60, || {
            let rt = runtime(1);
            let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
            let port = listener.local_addr().unwrap().port();
            let (hog, old) = saturate();
            rt.block_on(async {
                // glibc's getaddrinfo says "Name or service not known" here.
                for e in [
                    goro_net::TcpStream::connect(("localhost", port))
                        .await
                        .unwrap_err(),
                    goro_net::lookup_host(("localhost", port))
                        .await
                        .unwrap_err(),
                ] {
                    assert_eq!(
                        e.raw_os_error(),
                        Some(rustix::io::Errno::MFILE.raw_os_error())
                    );
                    assert!(e.to_string().contains("Too many open files"), "{e}");
                }
            });
            drop(hog);
            rt.block_on(goro_net::TcpStream::connect(("localhost", port)))
                .unwrap();
            setrlimit(Resource::Nofile, old).unwrap();
        })
    });
}
