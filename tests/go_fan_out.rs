//! Go's fan-out idiom with goro: many goroutines, an errgroup with a limit, a result each.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[goro::test]
async fn fan_out_with_a_limited_task_group() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let total = Arc::new(AtomicUsize::new(0));
    let group = goro::TaskGroup::<String>::with_limit(8);
    for url in 0..200 {
        let (in_flight, peak, total) = (in_flight.clone(), peak.clone(), total.clone());
        group.spawn(async move {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            goro::time::sleep(Duration::from_millis(1)).await;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            total.fetch_add(url, Ordering::SeqCst);
            Ok(())
        });
    }
    group.wait().await.unwrap();
    assert_eq!(total.load(Ordering::SeqCst), (0..200).sum::<usize>());
    assert!(peak.load(Ordering::SeqCst) <= 8);
}

#[goro::test]
async fn a_blocking_call_does_not_hold_up_the_workers() {
    let slow = goro::spawn_blocking(|| {
        std::thread::sleep(Duration::from_millis(300));
        "slow"
    });
    let quick = goro::spawn(async { "quick" });
    assert_eq!(quick.await.unwrap(), "quick");
    assert!(!slow.is_finished());
    assert_eq!(slow.await.unwrap(), "slow");
}
