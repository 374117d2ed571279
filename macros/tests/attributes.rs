//! What the expanded functions do on the runtime: the body runs, `?` and `return` behave as in
//! the declared return type, and the user's attributes stay on the generated function.

use std::error::Error;
use std::sync::Once;
use std::thread;
use std::time::Duration;

/// How long this test binary may run before the watchdog aborts it: every test here finishes
/// in milliseconds, so a hang in the runtime fails the run instead of stalling it.
const WATCHDOG_LIMIT: Duration = Duration::from_secs(60);

/// Starts, once per binary, a thread that aborts the process after [`WATCHDOG_LIMIT`].
fn arm_watchdog() {
    static ARMED: Once = Once::new();
    ARMED.call_once(|| {
        thread::Builder::new()
            .name("watchdog".to_string())
            .spawn(|| {
                thread::sleep(WATCHDOG_LIMIT);
                eprintln!("watchdog: tests still running after {WATCHDOG_LIMIT:?}, aborting");
                std::process::abort();
            })
            .expect("watchdog thread");
    });
}

#[goro::test]
async fn test_body_runs_spawned_tasks() {
    arm_watchdog();
    let answer = goro::spawn(async { 6 * 7 }).await.unwrap();
    assert_eq!(answer, 42);
}

#[goro::test(worker_threads = 1)]
async fn single_worker_runtime_runs_spawned_tasks() {
    arm_watchdog();
    let tasks: Vec<_> = (0..4).map(|i| goro::spawn(async move { i * 2 })).collect();
    let mut sum = 0;
    for task in tasks {
        sum += task.await.unwrap();
    }
    assert_eq!(sum, 12);
}

#[goro::test]
async fn question_mark_converts_into_the_declared_error() -> Result<(), Box<dyn Error>> {
    arm_watchdog();
    let port: u16 = "8080".parse()?;
    assert_eq!(port, 8080);
    Ok(())
}

#[goro::test(worker_threads = 1)]
async fn return_leaves_the_body_with_its_value() -> Result<(), String> {
    arm_watchdog();
    let parsed: Result<u8, String> = "7".parse().map_err(|e| format!("{e}"));
    if parsed? == 7 {
        return Ok(());
    }
    Err("return did not leave the body".to_string())
}

#[goro::test]
#[should_panic(expected = "boom from the body")]
async fn should_panic_sees_the_body_panic() {
    arm_watchdog();
    panic!("boom from the body");
}

#[goro::test]
#[ignore = "never runs: it shows that #[ignore] stays on the generated test"]
async fn ignore_stays_on_the_generated_test() {
    panic!("an ignored test ran");
}

#[goro::test]
async fn inner_attributes_stay_at_the_top_of_the_body() {
    #![allow(unused_variables)]
    arm_watchdog();
    let unused = ();
}

/// `use goro::test;` makes `#[test]` mean `#[goro::test]` here; the expansion must still add
/// the built-in `#[test]`, not expand itself again.
mod shadowed_test_attribute {
    use goro::test;

    #[test]
    async fn built_in_test_attribute_is_named_by_absolute_path() {
        super::arm_watchdog();
        assert_eq!(goro::spawn(async { 1 }).await.unwrap(), 1);
    }
}

/// `#[goro::main]` on a function not named `main`: it becomes a blocking function.
#[goro::main(worker_threads = 2)]
async fn sum_on_the_runtime() -> Result<u32, std::num::ParseIntError> {
    let a: u32 = "40".parse()?;
    let b = goro::spawn(async { 2 }).await.unwrap();
    Ok(a + b)
}

#[test]
fn main_on_another_name_blocks_until_the_body_returns() {
    arm_watchdog();
    assert_eq!(sum_on_the_runtime(), Ok(42));
}

/// Generates a test whose `worker_threads` value arrives as a `macro_rules!` fragment.
macro_rules! test_with_workers {
    ($name:ident, $workers:literal) => {
        #[goro::test(worker_threads = $workers)]
        async fn $name() {
            arm_watchdog();
            assert_eq!(goro::spawn(async { 3 }).await.unwrap(), 3);
        }
    };
}

test_with_workers!(worker_threads_accepts_a_macro_fragment, 2);
