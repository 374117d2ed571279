//! `#[goro::test]` runs an async test body on a fresh goro runtime.

use std::time::{Duration, Instant};

#[goro::test]
async fn an_async_test_runs_on_a_goro_runtime() {
    let start = Instant::now();
    goro::time::sleep(Duration::from_millis(5)).await;
    assert!(start.elapsed() >= Duration::from_millis(5));
    let name = goro::spawn(async { std::thread::current().name().map(str::to_string) })
        .await
        .unwrap();
    assert!(name.unwrap().starts_with("goro-worker-"));
}

#[goro::test(worker_threads = 1)]
async fn worker_threads_argument_sets_the_worker_count() {
    let names: Vec<_> = (0..20)
        .map(|_| goro::spawn(async { std::thread::current().name().map(str::to_string) }))
        .collect();
    for h in names {
        assert_eq!(h.await.unwrap().as_deref(), Some("goro-worker-0"));
    }
}

#[goro::test]
async fn a_test_may_return_a_result() -> Result<(), std::num::ParseIntError> {
    let n: u32 = "42".parse()?;
    assert_eq!(n, 42);
    Ok(())
}

#[goro::test]
#[should_panic(expected = "boom")]
async fn a_panicking_test_fails_as_usual() {
    panic!("boom");
}
