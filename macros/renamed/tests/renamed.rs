//! The attributes in a crate that names goro `renamed_goro`: with `crate = "..."` the
//! expansion uses that path, and `::goro`, which does not exist here, is never named.

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

#[renamed_goro::test(crate = "renamed_goro")]
async fn test_runs_on_the_renamed_crate() {
    arm_watchdog();
    assert_eq!(renamed_goro::spawn(async { 6 * 7 }).await.unwrap(), 42);
}

#[renamed_goro::test(crate = "::renamed_goro", worker_threads = 1)]
async fn absolute_path_combines_with_worker_threads() -> Result<(), std::num::ParseIntError> {
    arm_watchdog();
    let n: u32 = "21".parse()?;
    assert_eq!(renamed_goro::spawn(async move { n * 2 }).await.unwrap(), 42);
    Ok(())
}

/// goro re-exported by a module of this crate, as a crate that wraps goro would.
mod rt {
    pub use renamed_goro::*;
}

#[rt::test(worker_threads = 2, crate = "crate::rt")]
async fn path_through_a_module_of_this_crate() {
    arm_watchdog();
    let (tx, rx) = rt::sync::chan::bounded(1);
    rt::spawn(async move { tx.send(5).await.unwrap() });
    assert_eq!(rx.recv().await, Some(5));
}

#[renamed_goro::test(crate = "renamed_goro")]
#[should_panic(expected = "boom under another name")]
async fn should_panic_stays_on_the_generated_test() {
    arm_watchdog();
    panic!("boom under another name");
}

/// `#[goro::main]` on a helper: it blocks until the body has run on a renamed-goro runtime.
#[renamed_goro::main(crate = "renamed_goro", worker_threads = 2)]
async fn sum_on_the_runtime() -> u32 {
    renamed_goro::spawn(async { 40 }).await.unwrap() + 2
}

#[test]
fn main_uses_the_renamed_crate() {
    arm_watchdog();
    assert_eq!(sum_on_the_runtime(), 42);
}

/// Generates a test whose `crate` value arrives as a `macro_rules!` fragment.
macro_rules! test_in_crate {
    ($name:ident, $krate:literal) => {
        #[renamed_goro::test(crate = $krate)]
        async fn $name() {
            arm_watchdog();
            assert_eq!(renamed_goro::spawn(async { 3 }).await.unwrap(), 3);
        }
    };
}

test_in_crate!(crate_accepts_a_macro_fragment, "renamed_goro");

renamed_goro::task_local! {
    /// Declared through the renamed facade: the expansion names goro's crates by `$crate`.
    static REQUEST_ID: u64;
}

#[test]
fn task_local_works_through_the_renamed_crate() {
    arm_watchdog();
    let read = renamed_goro::block_on(REQUEST_ID.scope(11, async {
        renamed_goro::spawn(async {}).await.unwrap();
        REQUEST_ID.get()
    }));
    assert_eq!(read, 11);
    let key: &'static renamed_goro::LocalKey<u64> = &REQUEST_ID;
    assert!(key.try_with(|_| ()).is_err());
}
