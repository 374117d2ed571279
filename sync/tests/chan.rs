//! Behaviour of `goro_sync::chan`: under goro's runtime, under `futures_lite::future::block_on`
//! on plain threads, and across the two.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use futures_lite::future::block_on;
use futures_lite::StreamExt;
use goro_sync::chan::{self, SendError, TryRecvError, TrySendError};

/// Runs `f`, aborting the whole test process if it has not returned after `secs` seconds: a
/// hang fails the run in seconds instead of stalling CI.
fn watchdog<R>(secs: u64, f: impl FnOnce() -> R) -> R {
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    let name = thread::current().name().unwrap_or("?").to_string();
    thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if flag.load(Ordering::SeqCst) {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        eprintln!("watchdog: test {name} still running after {secs} s: aborting");
        std::process::abort();
    });
    let out = f();
    done.store(true, Ordering::SeqCst);
    out
}

fn runtime() -> goro_runtime::Runtime {
    goro_runtime::Builder::new()
        .worker_threads(2)
        .build()
        .expect("runtime")
}

/// Polls `fut` once with a no-op waker.
fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    std::pin::Pin::new(fut).poll(&mut cx)
}

/// Counts how often values it hands out are dropped.
#[derive(Clone, Default)]
struct DropCounter(Arc<AtomicUsize>);

struct Counted(Arc<AtomicUsize>);

impl DropCounter {
    fn value(&self) -> Counted {
        Counted(self.0.clone())
    }
    fn dropped(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn unbuffered_send_waits_for_its_receiver() {
    watchdog(10, || {
        let (tx, rx) = chan::bounded(0);
        let sent = Arc::new(AtomicBool::new(false));
        let flag = sent.clone();
        let sender = thread::spawn(move || {
            tx.send_blocking(1).unwrap();
            flag.store(true, Ordering::SeqCst);
        });
        thread::sleep(Duration::from_millis(50));
        assert!(
            !sent.load(Ordering::SeqCst),
            "send completed with no receiver"
        );
        assert_eq!(rx.recv_blocking(), Some(1));
        sender.join().unwrap();
        assert!(sent.load(Ordering::SeqCst));
    });
}

#[test]
fn unbuffered_send_waits_for_its_receiver_under_goro() {
    watchdog(10, || {
        let rt = runtime();
        let (tx, rx) = chan::bounded(0);
        let sent = Arc::new(AtomicBool::new(false));
        let flag = sent.clone();
        let sender = rt.spawn(async move {
            tx.send(1).await.unwrap();
            flag.store(true, Ordering::SeqCst);
        });
        rt.block_on(async {
            goro_runtime::time::sleep(Duration::from_millis(50)).await;
            assert!(
                !sent.load(Ordering::SeqCst),
                "send completed with no receiver"
            );
            assert_eq!(rx.recv().await, Some(1));
            sender.await.unwrap();
        });
        assert!(sent.load(Ordering::SeqCst));
    });
}

#[test]
fn unbuffered_try_send_succeeds_only_with_a_waiting_receiver() {
    let (tx, rx) = chan::bounded(0);
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    let mut recv = rx.recv();
    assert!(poll_once(&mut recv).is_pending());
    tx.try_send(2).unwrap();
    assert_eq!(poll_once(&mut recv), Poll::Ready(Some(2)));
}

#[test]
fn close_drains_then_yields_none() {
    block_on(async {
        let (tx, rx) = chan::bounded(3);
        for i in 0..3 {
            tx.send(i).await.unwrap();
        }
        assert!(tx.close());
        assert!(rx.is_closed());
        assert_eq!(rx.recv().await, Some(0));
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

#[test]
fn send_on_closed_returns_the_value() {
    block_on(async {
        let (tx, _rx) = chan::bounded(1);
        tx.close();
        assert_eq!(tx.send(String::from("v")).await, Err(SendError("v".into())));
        assert_eq!(
            tx.try_send(String::from("w")),
            Err(TrySendError::Closed("w".into()))
        );
    });
}

#[test]
fn close_gives_waiting_senders_their_values_back() {
    watchdog(10, || {
        let (tx, _rx) = chan::bounded(0);
        let tx2 = tx.clone();
        let sender = thread::spawn(move || tx2.send_blocking(7));
        thread::sleep(Duration::from_millis(20));
        tx.close();
        assert_eq!(sender.join().unwrap(), Err(SendError(7)));
    });
}

#[test]
fn close_wakes_every_waiting_receiver() {
    watchdog(10, || {
        let (tx, rx) = chan::bounded::<u8>(0);
        let receivers: Vec<_> = (0..4)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || rx.recv_blocking())
            })
            .collect();
        thread::sleep(Duration::from_millis(20));
        tx.close();
        for r in receivers {
            assert_eq!(r.join().unwrap(), None);
        }
    });
}

#[test]
fn dropping_all_senders_closes_the_channel() {
    watchdog(10, || {
        let (tx, rx) = chan::bounded::<u8>(1);
        let tx2 = tx.clone();
        drop(tx);
        assert!(!rx.is_closed());
        tx2.try_send(1).unwrap();
        let receiver = thread::spawn(move || (rx.recv_blocking(), rx.recv_blocking()));
        thread::sleep(Duration::from_millis(20));
        drop(tx2);
        assert_eq!(receiver.join().unwrap(), (Some(1), None));
    });
}

#[test]
fn dropping_all_receivers_makes_sends_fail() {
    watchdog(10, || {
        let (tx, rx) = chan::bounded(1);
        tx.try_send(1).unwrap();
        let rx2 = rx.clone();
        let tx2 = tx.clone();
        // This one waits: the buffer is full.
        let waiting = thread::spawn(move || tx2.send_blocking(2));
        thread::sleep(Duration::from_millis(20));
        drop(rx);
        assert!(!tx.is_closed());
        drop(rx2);
        assert!(tx.is_closed());
        assert_eq!(waiting.join().unwrap(), Err(SendError(2)));
        assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
        assert_eq!(tx.len(), 0, "the last receiver drops the buffer");
    });
}

#[test]
fn try_operations_never_wait() {
    let (tx, rx) = chan::bounded(1);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.try_send(1).unwrap();
    assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn waiting_senders_drain_in_order() {
    let (tx, rx) = chan::bounded(1);
    tx.try_send(0).unwrap();
    let mut sends: Vec<_> = (1..4).map(|i| tx.send(i)).collect();
    for send in &mut sends {
        assert!(poll_once(send).is_pending());
    }
    let got: Vec<_> = (0..4).map(|_| rx.try_recv().unwrap()).collect();
    assert_eq!(got, [0, 1, 2, 3]);
    for send in &mut sends {
        assert_eq!(poll_once(send), Poll::Ready(Ok(())));
    }
}

#[test]
fn len_capacity_and_is_closed_report_the_channel() {
    let (tx, rx) = chan::bounded(4);
    assert_eq!((tx.len(), tx.capacity()), (0, Some(4)));
    tx.try_send(()).unwrap();
    tx.try_send(()).unwrap();
    assert_eq!((rx.len(), rx.capacity()), (2, Some(4)));
    assert!(!tx.is_empty());
    let (utx, urx) = chan::unbounded::<()>();
    assert_eq!((utx.capacity(), urx.capacity()), (None, None));
    assert!(!utx.is_closed());
    drop(urx);
    assert!(utx.is_closed());
}

#[test]
fn a_plain_thread_sends_and_a_task_receives() {
    watchdog(20, || {
        let rt = runtime();
        let (tx, rx) = chan::bounded(0);
        let producer = thread::spawn(move || {
            for i in 0..10_000u32 {
                tx.send_blocking(i).unwrap();
            }
        });
        let got = rt.block_on(rt.spawn(async move {
            let mut got = Vec::new();
            while let Some(v) = rx.recv().await {
                got.push(v);
            }
            got
        }));
        producer.join().unwrap();
        assert_eq!(got.unwrap(), (0..10_000).collect::<Vec<_>>());
    });
}

#[test]
fn a_task_sends_and_a_plain_thread_receives() {
    watchdog(20, || {
        let rt = runtime();
        let (tx, rx) = chan::bounded(2);
        let consumer = thread::spawn(move || std::iter::from_fn(|| rx.recv_blocking()).count());
        rt.block_on(rt.spawn(async move {
            for i in 0..10_000u32 {
                tx.send(i).await.unwrap();
            }
        }))
        .unwrap();
        assert_eq!(consumer.join().unwrap(), 10_000);
    });
}

/// 4 senders and 4 receivers move 100k distinct values; every value arrives exactly once.
fn mpmc_accounts_for_every_value(cap: Option<usize>) {
    const SENDERS: u64 = 4;
    const RECEIVERS: usize = 4;
    const PER_SENDER: u64 = 25_000;
    let rt = runtime();
    let (tx, rx) = match cap {
        Some(cap) => chan::bounded(cap),
        None => chan::unbounded(),
    };
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let tx = tx.clone();
            rt.spawn(async move {
                for i in 0..PER_SENDER {
                    tx.send(s * PER_SENDER + i).await.unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let receivers: Vec<_> = (0..RECEIVERS)
        .map(|_| {
            let rx = rx.clone();
            rt.spawn(async move {
                let mut got = Vec::new();
                while let Some(v) = rx.recv().await {
                    got.push(v);
                }
                got
            })
        })
        .collect();
    drop(rx);
    let mut count = vec![0u8; (SENDERS * PER_SENDER) as usize];
    rt.block_on(async {
        for s in senders {
            s.await.unwrap();
        }
        for r in receivers {
            for v in r.await.unwrap() {
                count[v as usize] += 1;
            }
        }
    });
    let lost = count.iter().filter(|&&c| c == 0).count();
    let duplicated = count.iter().filter(|&&c| c > 1).count();
    assert_eq!((lost, duplicated), (0, 0), "lost, duplicated values");
}

#[test]
fn mpmc_4x4_unbuffered_loses_and_duplicates_nothing() {
    watchdog(60, || mpmc_accounts_for_every_value(Some(0)));
}

#[test]
fn mpmc_4x4_buffered_loses_and_duplicates_nothing() {
    watchdog(60, || mpmc_accounts_for_every_value(Some(8)));
}

#[test]
fn mpmc_4x4_unbounded_loses_and_duplicates_nothing() {
    watchdog(60, || mpmc_accounts_for_every_value(None));
}

#[test]
fn mpmc_on_plain_threads_loses_and_duplicates_nothing() {
    watchdog(60, || {
        let (tx, rx) = chan::bounded(1);
        let start = Arc::new(Barrier::new(8));
        let senders: Vec<_> = (0..4u32)
            .map(|s| {
                let (tx, start) = (tx.clone(), start.clone());
                thread::spawn(move || {
                    start.wait();
                    for i in 0..10_000 {
                        tx.send_blocking(s * 10_000 + i).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let receivers: Vec<_> = (0..4)
            .map(|_| {
                let (rx, start) = (rx.clone(), start.clone());
                thread::spawn(move || {
                    start.wait();
                    std::iter::from_fn(|| rx.recv_blocking()).collect::<Vec<_>>()
                })
            })
            .collect();
        for s in senders {
            s.join().unwrap();
        }
        let mut all: Vec<u32> = receivers
            .into_iter()
            .flat_map(|r| r.join().unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..40_000).collect::<Vec<_>>());
    });
}

#[test]
fn a_dropped_recv_future_loses_no_value() {
    for cap in [0, 1] {
        let (tx, rx) = chan::bounded(cap);
        let mut first = rx.recv();
        assert!(poll_once(&mut first).is_pending());
        // The value is handed straight to the waiting future...
        tx.try_send(42).unwrap();
        // ...which is dropped before it collects it.
        drop(first);
        assert_eq!(rx.try_recv(), Ok(42), "capacity {cap}");
    }
}

#[test]
fn a_dropped_recv_future_passes_its_value_to_the_next_waiting_receiver() {
    let (tx, rx) = chan::bounded(0);
    let mut first = rx.recv();
    let mut second = rx.recv();
    assert!(poll_once(&mut first).is_pending());
    assert!(poll_once(&mut second).is_pending());
    tx.try_send(1).unwrap();
    drop(first);
    assert_eq!(poll_once(&mut second), Poll::Ready(Some(1)));
}

#[test]
fn a_put_back_value_comes_before_newer_ones() {
    let (tx, rx) = chan::bounded(2);
    let mut first = rx.recv();
    assert!(poll_once(&mut first).is_pending());
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    drop(first);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn dropped_futures_leave_no_waiters() {
    let (tx, rx) = chan::bounded::<u32>(0);
    for i in 0..100_000 {
        let mut recv = rx.recv();
        assert!(poll_once(&mut recv).is_pending());
        let mut send = tx.send(i);
        // The recv future is waiting: the send hands over at once.
        assert_eq!(poll_once(&mut send), Poll::Ready(Ok(())));
        drop(recv); // handed but never collected: put back into the buffer
        assert_eq!(rx.try_recv(), Ok(i));
        let mut idle = rx.recv();
        assert!(poll_once(&mut idle).is_pending());
        assert!(rx.waiter_count() <= 1);
    }
    assert_eq!(rx.waiter_count(), 0);
    let mut blocked = tx.send(0);
    assert!(poll_once(&mut blocked).is_pending());
    assert_eq!(tx.waiter_count(), 1);
    drop(blocked);
    assert_eq!(tx.waiter_count(), 0);
}

#[test]
fn queued_values_are_dropped_exactly_once() {
    let counter = DropCounter::default();
    {
        let (tx, rx) = chan::bounded(4);
        for _ in 0..4 {
            tx.try_send(counter.value()).unwrap();
        }
        // One more waits in a send future that is then leaked: its value sits in the channel.
        let mut waiting = tx.send(counter.value());
        assert!(poll_once(&mut waiting).is_pending());
        std::mem::forget(waiting);
        drop(rx.try_recv().unwrap()); // 1 dropped here; the waiting value moves in
        assert_eq!(counter.dropped(), 1);
        drop(tx);
        assert_eq!(counter.dropped(), 1, "closing drops nothing queued");
    }
    assert_eq!(counter.dropped(), 5);

    let counter = DropCounter::default();
    {
        let (tx, rx) = chan::unbounded();
        for _ in 0..10 {
            tx.try_send(counter.value()).unwrap();
        }
        drop(rx); // the last receiver drops the buffer at once
        assert_eq!(counter.dropped(), 10);
        assert!(tx.try_send(counter.value()).is_err());
        assert_eq!(counter.dropped(), 11);
    }
    assert_eq!(counter.dropped(), 11);
}

#[test]
fn a_withdrawn_send_drops_its_value_once() {
    let counter = DropCounter::default();
    let (tx, _rx) = chan::bounded(0);
    let mut send = tx.send(counter.value());
    assert!(poll_once(&mut send).is_pending());
    assert_eq!(counter.dropped(), 0);
    drop(send);
    assert_eq!(counter.dropped(), 1);
    assert_eq!(tx.waiter_count(), 0);
}

#[test]
fn the_receiver_is_a_stream_until_closed() {
    block_on(async {
        let (tx, rx) = chan::unbounded();
        for i in 0..5 {
            tx.send(i).await.unwrap();
        }
        drop(tx);
        let got: Vec<i32> = rx.collect().await;
        assert_eq!(got, [0, 1, 2, 3, 4]);
    });
}

#[test]
fn the_stream_survives_being_polled_and_then_abandoned() {
    let (tx, mut rx) = chan::bounded(0);
    {
        let mut next = rx.next();
        assert!(poll_once(&mut next).is_pending());
    }
    // The stream's pending receive is still registered and gets the value.
    tx.try_send(3).unwrap();
    assert_eq!(block_on(rx.next()), Some(3));
    drop(tx);
    assert_eq!(block_on(rx.next()), None);
}

#[test]
fn a_spent_budget_makes_a_ready_operation_yield() {
    let (tx, rx) = chan::unbounded();
    for i in 0..3 {
        tx.try_send(i).unwrap();
    }
    goro_sync::coop::with_budget(2, || {
        let mut a = rx.recv();
        let mut b = rx.recv();
        let mut c = rx.recv();
        assert_eq!(poll_once(&mut a), Poll::Ready(Some(0)));
        assert_eq!(poll_once(&mut b), Poll::Ready(Some(1)));
        assert!(poll_once(&mut c).is_pending(), "budget spent: yield");
    });
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn an_always_ready_channel_loop_lets_a_timer_fire() {
    watchdog(20, || {
        let rt = goro_runtime::Builder::new()
            .worker_threads(1)
            .build()
            .unwrap();
        let (tx, rx) = chan::unbounded();
        tx.try_send(()).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let spinner = rt.spawn(async move {
            let mut n = 0u64;
            while !flag.load(Ordering::SeqCst) {
                rx.recv().await.unwrap();
                tx.send(()).await.unwrap();
                n += 1;
            }
            n
        });
        rt.block_on(async {
            let start = Instant::now();
            goro_runtime::time::sleep(Duration::from_millis(10)).await;
            assert!(start.elapsed() < Duration::from_secs(5));
            stop.store(true, Ordering::SeqCst);
            assert!(spinner.await.unwrap() > 0);
        });
    });
}

#[test]
fn errors_display_in_lowercase_and_debug_without_the_value() {
    struct Opaque;
    assert_eq!(SendError(Opaque).to_string(), "sending on a closed channel");
    assert_eq!(format!("{:?}", SendError(Opaque)), "SendError(..)");
    assert_eq!(
        TrySendError::Full(Opaque).to_string(),
        "sending on a full channel"
    );
    assert_eq!(format!("{:?}", TrySendError::Closed(Opaque)), "Closed(..)");
    assert_eq!(
        TryRecvError::Empty.to_string(),
        "receiving on an empty channel"
    );
    let _: &dyn std::error::Error = &TrySendError::Full(Opaque);
    let (tx, rx) = chan::bounded::<Opaque>(2);
    assert_eq!(
        format!("{tx:?}"),
        "Sender { len: 0, capacity: Some(2), closed: false }"
    );
    assert!(format!("{rx:?}").starts_with("Receiver"));
    assert!(format!("{:?}", rx.recv()).starts_with("Recv"));
    assert!(format!("{:?}", tx.send(Opaque)).starts_with("Send"));
}

#[test]
fn a_pinned_send_future_works_too() {
    block_on(async {
        let (tx, rx) = chan::bounded(1);
        let send = pin!(tx.send(1));
        send.await.unwrap();
        assert_eq!(rx.recv().await, Some(1));
    });
}

#[test]
fn handles_and_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<chan::Sender<Vec<u8>>>();
    send_sync::<chan::Receiver<Vec<u8>>>();
    send_sync::<chan::Send<'static, Vec<u8>>>();
    send_sync::<chan::Recv<'static, Vec<u8>>>();
    send_sync::<SendError<Vec<u8>>>();
}

/// Polls `rx.next()` once (it waits), lets an unbuffered send complete into it, drops it.
fn abandon_a_next_that_a_send_completed_into(tx: &chan::Sender<u32>, rx: &mut chan::Receiver<u32>) {
    let mut next = rx.next();
    assert!(poll_once(&mut next).is_pending());
    // The stream is waiting: the unbuffered send completes at once.
    assert_eq!(poll_once(&mut tx.send(5)), Poll::Ready(Ok(())));
    drop(next);
}

#[test]
fn a_value_sent_to_an_abandoned_next_goes_to_the_next_try_recv() {
    let (tx, mut rx) = chan::bounded(0);
    abandon_a_next_that_a_send_completed_into(&tx, &mut rx);
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(rx.waiter_count(), 0);
}

#[test]
fn a_value_sent_to_an_abandoned_next_goes_to_the_next_recv() {
    watchdog(10, || {
        let (tx, mut rx) = chan::bounded(0);
        abandon_a_next_that_a_send_completed_into(&tx, &mut rx);
        drop(tx);
        assert_eq!(block_on(rx.recv()), Some(5));
        assert_eq!(block_on(rx.recv()), None);
    });
}

#[test]
fn a_value_sent_to_an_abandoned_next_is_there_for_another_receiver() {
    let (tx, mut rx) = chan::bounded(0);
    let other = rx.clone();
    abandon_a_next_that_a_send_completed_into(&tx, &mut rx);
    assert_eq!(other.try_recv(), Ok(5));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn a_value_sent_to_an_abandoned_next_wakes_a_waiting_receiver() {
    watchdog(10, || {
        let (tx, mut rx) = chan::bounded(0);
        let other = rx.clone();
        let mut waiting = other.recv();
        assert!(poll_once(&mut waiting).is_pending());
        let mut next = rx.next();
        assert!(poll_once(&mut next).is_pending());
        // Two receivers wait: the plain one is handed the value directly.
        assert_eq!(poll_once(&mut tx.send(5)), Poll::Ready(Ok(())));
        drop(next);
        assert_eq!(block_on(waiting), Some(5));
    });
}

#[test]
fn a_value_for_a_next_arm_of_a_dropped_select_goes_back_to_the_channel() {
    let (tx, mut rx) = chan::bounded(0);
    let (_never_tx, never) = chan::bounded::<u32>(0);
    {
        let mut select = Box::pin(async {
            goro_sync::select! {
                v = rx.next() => v,
                v = never.recv() => v,
            }
        });
        assert!(poll_once(&mut select).is_pending());
        // The select waits on both arms: the send commits it to the `next()` arm...
        assert_eq!(tx.try_send(5), Ok(()));
        // ...and it is dropped before it runs again.
    }
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(rx.waiter_count(), 0);
}

#[test]
fn a_next_that_loses_a_select_to_another_arm_loses_no_value() {
    watchdog(20, || {
        // The stream's receive, abandoned once a send completed into it, then raced in a
        // select against a ready arm: whichever arm wins, the value comes out exactly once.
        let mut by_select = 0;
        for _ in 0..200 {
            let (tx, mut rx) = chan::bounded(0);
            let (ready_tx, ready) = chan::bounded::<u32>(1);
            ready_tx.try_send(0).unwrap();
            abandon_a_next_that_a_send_completed_into(&tx, &mut rx);
            let got = block_on(async {
                goro_sync::select! {
                    v = rx.next() => v,
                    _ = ready.recv() => None,
                }
            });
            match got {
                Some(v) => {
                    by_select += 1;
                    assert_eq!(v, 5);
                    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
                }
                None => assert_eq!(rx.try_recv(), Ok(5)),
            }
        }
        assert!(
            by_select > 0 && by_select < 200,
            "{by_select} of 200 by the select"
        );
    });
}

/// Go's rendezvous: a receiver, non-blocking ones included, takes the value of a waiting
/// send; the send then completes, and if it is dropped first by code outside goro's commit
/// protocol (a plain race, an aborted task) the value was delivered all the same.
#[test]
fn a_receiver_takes_a_waiting_send_even_if_its_future_is_then_dropped() {
    let (tx, rx) = chan::bounded(0);
    let mut send = tx.send(1);
    assert!(poll_once(&mut send).is_pending());
    assert_eq!(rx.try_recv(), Ok(1));
    let taken = block_on(async {
        goro_sync::select! {
            v = rx.recv() => v,
            default => None,
        }
    });
    assert_eq!(taken, None, "one value, taken once");
    drop(send); // delivered: dropping the future cannot take it back
    assert_eq!(tx.waiter_count(), 0);

    let mut send = tx.send(2);
    assert!(poll_once(&mut send).is_pending());
    let taken = block_on(async {
        goro_sync::select! {
            v = rx.recv() => v,
            default => None,
        }
    });
    assert_eq!(
        taken,
        Some(2),
        "`select!` with `default` takes a waiting send's value"
    );
    assert_eq!(poll_once(&mut send), Poll::Ready(Ok(())));
}

#[test]
fn a_huge_capacity_costs_nothing_until_values_arrive() {
    // The buffer is allocated as values arrive: room for 2^40 values up front would abort.
    let (tx, rx) = chan::bounded::<u64>(1 << 40);
    assert_eq!(tx.capacity(), Some(1 << 40));
    for i in 0..5000 {
        tx.try_send(i).unwrap();
    }
    assert_eq!(rx.len(), 5000);
    assert!((0..5000).all(|i| rx.try_recv() == Ok(i)));
}

#[test]
fn a_capacity_one_channel_still_holds_exactly_one_value() {
    // The first value allocates room for one; the bound is the capacity, not the allocation.
    let (tx, rx) = chan::bounded::<u64>(1);
    tx.try_send(1).unwrap();
    assert!(tx.try_send(2).unwrap_err().is_full());
    assert_eq!(rx.try_recv(), Ok(1));
    tx.try_send(3).unwrap();
    assert!(tx.try_send(4).unwrap_err().is_full());
}
