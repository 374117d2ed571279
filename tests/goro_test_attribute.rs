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

#[goro::test(start_paused)]
async fn start_paused_makes_a_thirty_second_timeout_instant() {
    let real = std::time::Instant::now();
    let start = goro::time::now();
    let (_tx, rx) = goro::sync::chan::bounded::<u8>(0);
    let out = goro::time::timeout(std::time::Duration::from_secs(30), rx.recv()).await;
    assert!(out.is_err());
    assert_eq!(
        goro::time::now() - start,
        std::time::Duration::from_secs(30)
    );
    assert!(real.elapsed() < std::time::Duration::from_secs(20));
}

#[goro::test(worker_threads = 2, start_paused = true)]
async fn advance_fires_the_timers_it_passes() {
    let start = goro::time::now();
    let sleeper = goro::spawn(goro::time::sleep_until(
        start + std::time::Duration::from_secs(3600),
    ));
    goro::time::advance(std::time::Duration::from_secs(3600)).await;
    sleeper.await.unwrap();
    assert_eq!(
        goro::time::now() - start,
        std::time::Duration::from_secs(3600)
    );
}

#[goro::test(start_paused = false)]
async fn start_paused_false_keeps_the_real_clock() {
    let before = std::time::Instant::now();
    goro::time::sleep(std::time::Duration::from_millis(20)).await;
    assert!(before.elapsed() >= std::time::Duration::from_millis(20));
}

#[goro::test]
#[should_panic(expected = "the test left 1 task(s) running")]
async fn a_task_left_running_fails_the_test() {
    // Detached and asleep for an hour: a leak the test did not mean. (Dropped with the
    // runtime, so nothing is leaked for real.)
    goro::spawn(goro::time::sleep(std::time::Duration::from_secs(3600)));
}

#[goro::test(allow_leaks)]
async fn allow_leaks_lets_tasks_outlive_the_body() {
    goro::spawn(std::future::pending::<()>());
}

#[goro::test]
async fn tasks_that_are_finishing_as_the_body_returns_are_not_leaks() {
    let (tx, rx) = goro::sync::chan::bounded::<u32>(0);
    for i in 0..8 {
        let tx = tx.clone();
        // Each sends, then still has to return (and be dropped) after the body got its value.
        goro::spawn(async move {
            tx.send(i).await.unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
        });
    }
    drop(tx);
    let mut got = 0;
    while rx.recv().await.is_some() {
        got += 1;
    }
    assert_eq!(got, 8);
}
