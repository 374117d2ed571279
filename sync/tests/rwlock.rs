//! Behaviour of `RwLock`: sharing, exclusion, fairness to writers, cancellation.

#![cfg(not(goro_loom))]

mod primitives;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use futures_lite::future::block_on;
use goro_sync::RwLock;
use primitives::{poll, runtime, watchdog, CountingWaker};

#[test]
fn readers_share() {
    let lock = RwLock::new(5);
    let a = lock.try_read().unwrap();
    let mut b = lock.read();
    let Poll::Ready(b) = poll(&mut b, Waker::noop()) else {
        panic!("a second reader had to wait");
    };
    assert_eq!(*a + *b, 10);
}

#[test]
fn writer_excludes_readers_and_writers() {
    let lock = RwLock::new(0);
    let mut writer = lock.try_write().unwrap();
    assert!(lock.try_read().is_none());
    assert!(lock.try_write().is_none());
    let mut read = lock.read();
    assert!(poll(&mut read, Waker::noop()).is_pending());
    *writer = 1;
    drop(writer);
    let Poll::Ready(guard) = poll(&mut read, Waker::noop()) else {
        panic!("the reader was not let in after the writer left");
    };
    assert_eq!(*guard, 1);
}

#[test]
fn writer_excludes_under_contention() {
    watchdog(60, || {
        let rt = runtime();
        let lock = Arc::new(RwLock::new(0u64));
        let readers_inside = Arc::new(AtomicUsize::new(0));
        let writers_inside = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let (lock, readers, writers) =
                    (lock.clone(), readers_inside.clone(), writers_inside.clone());
                rt.spawn(async move {
                    for _ in 0..2_000 {
                        if i % 2 == 0 {
                            let mut guard = lock.write().await;
                            assert_eq!(writers.fetch_add(1, Ordering::SeqCst), 0);
                            assert_eq!(readers.load(Ordering::SeqCst), 0);
                            goro_runtime::yield_now().await;
                            *guard += 1;
                            writers.fetch_sub(1, Ordering::SeqCst);
                        } else {
                            let _guard = lock.read().await;
                            readers.fetch_add(1, Ordering::SeqCst);
                            assert_eq!(writers.load(Ordering::SeqCst), 0);
                            goro_runtime::yield_now().await;
                            readers.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        rt.block_on(async {
            for task in tasks {
                task.await.unwrap();
            }
        });
        assert_eq!(*block_on(lock.read()), 4 * 2_000);
    });
}

#[test]
fn writer_is_not_starved_by_continuous_readers() {
    watchdog(60, || {
        let lock = Arc::new(RwLock::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        // Three readers with overlapping read locks: at every moment one of them holds it.
        let readers: Vec<_> = (0..3)
            .map(|i| {
                let (lock, stop) = (lock.clone(), stop.clone());
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_micros(300 * i));
                    let mut reads = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let guard = block_on(lock.read());
                        std::thread::sleep(Duration::from_millis(1));
                        drop(guard);
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20));
        let mut worst = Duration::ZERO;
        for _ in 0..20 {
            let started = Instant::now();
            *block_on(lock.write()) += 1;
            worst = worst.max(started.elapsed());
        }
        stop.store(true, Ordering::Relaxed);
        let reads: u64 = readers.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(*block_on(lock.read()), 20);
        assert!(reads > 0, "the readers never ran");
        // Ideal: one read critical section (1 ms); a starved writer would hang (watchdog).
        // Allow 2000x the ideal on a loaded machine.
        assert!(
            worst < Duration::from_secs(2),
            "the writer waited {worst:?}"
        );
    });
}

#[test]
fn a_queued_writer_holds_back_new_readers() {
    let lock = RwLock::new(());
    let reader = lock.try_read().unwrap();
    let mut writer = lock.write();
    assert!(poll(&mut writer, Waker::noop()).is_pending());
    assert!(
        lock.try_read().is_none(),
        "a reader overtook the queued writer"
    );
    drop(reader);
    assert!(poll(&mut writer, Waker::noop()).is_ready());
}

#[test]
fn cancelled_writer_lets_the_readers_behind_it_in() {
    let lock = RwLock::new(());
    let reader = lock.try_read().unwrap();
    let mut writer = lock.write();
    let mut late_reader = lock.read();
    let (count, waker) = CountingWaker::new();
    assert!(poll(&mut writer, Waker::noop()).is_pending());
    assert!(poll(&mut late_reader, &waker).is_pending());
    drop(writer);
    assert_eq!(count.wakes(), 1);
    assert!(poll(&mut late_reader, &waker).is_ready());
    drop(reader);
}

#[test]
fn cancelled_writer_that_was_handed_the_lock_passes_it_on() {
    let lock = RwLock::new(());
    let reader = lock.try_read().unwrap();
    let mut writer = lock.write();
    let mut next = lock.write();
    let (count, waker) = CountingWaker::new();
    assert!(poll(&mut writer, Waker::noop()).is_pending());
    assert!(poll(&mut next, &waker).is_pending());
    drop(reader); // hands the lock to `writer`
    drop(writer); // which never runs
    assert_eq!(count.wakes(), 1);
    assert!(poll(&mut next, &waker).is_ready());
}

#[test]
fn debug_does_not_need_debug_values() {
    struct Opaque;
    let lock = RwLock::new(Opaque);
    let _reader = lock.try_read();
    assert_eq!(
        format!("{lock:?}"),
        "RwLock { readers: 1, writer: false, waiters: 0, .. }"
    );
}

#[test]
fn rwlock_futures_and_guards_are_send_and_sync() {
    primitives::assert_send_sync::<RwLock<Vec<u8>>>();
    primitives::assert_send_sync::<goro_sync::rwlock::Read<'_, Vec<u8>>>();
    primitives::assert_send_sync::<goro_sync::rwlock::Write<'_, Vec<u8>>>();
    primitives::assert_send_sync::<goro_sync::RwLockReadGuard<'_, Vec<u8>>>();
    primitives::assert_send_sync::<goro_sync::RwLockWriteGuard<'_, Vec<u8>>>();
}
