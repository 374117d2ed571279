//! A few hundred concurrent connections wait on a handful of OS threads. In its own test
//! binary, so that no other test's threads are counted.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{os_threads, runtime, threads_named, watchdog};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use goro_net::{TcpListener, TcpStream};

/// How many connections are open at once.
const CONNECTIONS: usize = 400;
/// The runtime's workers.
const WORKERS: usize = 2;

#[test]
fn hundreds_of_connections_run_on_a_handful_of_threads() {
    watchdog(120, || {
        let before = os_threads(); // the test thread, the watchdog, libtest's main
        let rt = runtime(WORKERS);
        let peak = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let open = Arc::new(AtomicUsize::new(0));
            let server = goro_runtime::spawn(async move {
                let mut conns = Vec::new();
                for _ in 0..CONNECTIONS {
                    let (mut c, _) = listener.accept().await.unwrap();
                    conns.push(goro_runtime::spawn(async move {
                        let mut buf = [0; 64];
                        // Echo until the client leaves.
                        loop {
                            let n = c.read(&mut buf).await.unwrap();
                            if n == 0 {
                                break;
                            }
                            c.write_all(&buf[..n]).await.unwrap();
                        }
                    }));
                }
                for c in conns {
                    c.await.unwrap();
                }
            });
            // Every client connects, then all wait for each other before talking, so all
            // CONNECTIONS sockets are open at the same moment.
            let barrier = Arc::new(goro_runtime_barrier::Barrier::new(CONNECTIONS));
            let mut clients = Vec::new();
            for i in 0..CONNECTIONS {
                let (open, barrier) = (open.clone(), barrier.clone());
                clients.push(goro_runtime::spawn(async move {
                    let mut c = TcpStream::connect(addr).await.unwrap();
                    open.fetch_add(1, Ordering::SeqCst);
                    barrier.wait().await;
                    let threads = os_threads();
                    for round in 0..10u32 {
                        let msg = (i as u32 * 100 + round).to_le_bytes();
                        c.write_all(&msg).await.unwrap();
                        let mut back = [0; 4];
                        c.read_exact(&mut back).await.unwrap();
                        assert_eq!(back, msg);
                    }
                    threads
                }));
            }
            let mut peak = 0;
            for c in clients {
                peak = peak.max(c.await.unwrap());
            }
            server.await.unwrap();
            assert_eq!(open.load(Ordering::SeqCst), CONNECTIONS);
            peak
        });
        let blocking = threads_named("goro-blocking");
        // The monitor thread, which watches for blocked workers while any worker is awake.
        let monitor = 1;
        eprintln!(
            "{CONNECTIONS} connections: {peak} OS threads at the peak ({before} before the \
             runtime, {WORKERS} workers, {monitor} monitor, {blocking} blocking threads)"
        );
        assert!(
            peak <= before + WORKERS + monitor + blocking,
            "{peak} threads for {CONNECTIONS} connections"
        );
    });
}

/// A tiny async barrier (goro-sync's is not built yet): the last arrival wakes the rest.
mod goro_runtime_barrier {
    use std::sync::Mutex;
    use std::task::{Poll, Waker};

    #[derive(Debug)]
    pub struct Barrier {
        state: Mutex<(usize, Vec<Waker>)>,
    }

    impl Barrier {
        pub fn new(n: usize) -> Barrier {
            Barrier {
                state: Mutex::new((n, Vec::new())),
            }
        }

        pub async fn wait(&self) {
            {
                let mut s = self.state.lock().unwrap();
                s.0 -= 1;
                if s.0 == 0 {
                    s.1.drain(..).for_each(Waker::wake);
                    return;
                }
            }
            std::future::poll_fn(|cx| {
                let mut s = self.state.lock().unwrap();
                if s.0 == 0 {
                    Poll::Ready(())
                } else {
                    s.1.push(cx.waker().clone());
                    Poll::Pending
                }
            })
            .await
        }
    }
}
