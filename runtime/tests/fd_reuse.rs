//! fd reuse with the reactor driven by another worker: a task closes a registered socket
//! that just became readable and opens a new one on the same descriptor number, while the
//! idle worker is in the poller and wakes with the old socket's event. The event must not
//! reach the new socket: sources are keyed by slab slot plus generation, not by fd or slot.

mod common;

use std::collections::VecDeque;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::Duration;

use common::{runtime, watchdog};
use goro_runtime::reactor::{Interest, Registered};

fn pair() -> (Registered<UnixStream>, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    (Registered::new(a).unwrap(), b)
}

/// Rounds of close-and-reopen; each new socket is checked again this many rounds later, by
/// when the other worker has long dispatched whatever it harvested.
const ROUNDS: usize = 20_000;
const WINDOW: usize = 64;

/// Whether `io` is reported readable (polling also arms its read interest).
fn is_ready(io: &Registered<UnixStream>) -> bool {
    io.poll_ready(Interest::Read, &mut Context::from_waker(Waker::noop()))
        .is_ready()
}

#[test]
fn a_reused_fd_gets_no_stale_readiness_while_another_worker_drives() {
    watchdog(120, || {
        let rt = runtime(2);
        // Threads that only burn CPU: the driver is then often preempted between taking
        // events from the poller and dispatching them, which widens the window in which a
        // stale event could meet the new socket.
        let stop = Arc::new(AtomicBool::new(false));
        let burners: Vec<_> = (0..2)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        let task = rt.spawn(async {
            let mut reused = 0;
            let mut recent = VecDeque::new();
            for round in 0..ROUNDS {
                let (a, mut b) = pair();
                let fd = a.get_ref().as_raw_fd();
                // Arm read interest, then make the socket readable: the other worker, idle in
                // the poller, wakes with an event for `a`...
                assert!(!is_ready(&a));
                b.write_all(b"x").unwrap();
                // ...while, in the same turn, `a` is closed and a new socket registered,
                // usually on the same descriptor number and slab slot.
                drop(a);
                drop(b);
                let (c, d) = pair();
                reused += usize::from(c.get_ref().as_raw_fd() == fd);
                assert!(
                    !is_ready(&c),
                    "round {round}: a fresh socket is readable at once"
                );
                recent.push_back((round, c, d));
                if recent.len() > WINDOW {
                    let (then, c, _d) = recent.pop_front().unwrap();
                    assert!(
                        !is_ready(&c),
                        "round {then}: a socket nobody wrote to was reported readable"
                    );
                }
                if round % 1024 == 0 {
                    goro_runtime::yield_now().await;
                }
            }
            // A last reactor turn for the newest sockets.
            goro_runtime::time::sleep(Duration::from_millis(10)).await;
            for (then, c, _d) in recent {
                assert!(
                    !is_ready(&c),
                    "round {then}: a socket nobody wrote to was reported readable"
                );
            }
            reused
        });
        let reused = rt.block_on(task);
        stop.store(true, Ordering::Relaxed);
        for b in burners {
            b.join().unwrap();
        }
        let reused = reused.unwrap();
        // The test means something only if descriptors were in fact reused.
        assert!(
            reused > ROUNDS / 2,
            "only {reused} of {ROUNDS} rounds reused the fd"
        );
    });
}
