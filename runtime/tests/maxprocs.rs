//! `GORO_MAXPROCS` sets the number of workers, as `GOMAXPROCS` does. In its own test binary:
//! the environment belongs to the whole process.

mod common;

use std::time::Duration;

#[test]
fn goro_maxprocs_is_honoured_and_validated() {
    std::env::set_var(goro_runtime::MAXPROCS_ENV, "3");
    let rt = goro_runtime::Builder::new().build().unwrap();
    assert_eq!(rt.worker_threads(), 3);
    // An explicit setting wins over the environment.
    let rt1 = goro_runtime::Builder::new()
        .worker_threads(1)
        .build()
        .unwrap();
    assert_eq!(rt1.worker_threads(), 1);
    // The threads exist, under their names (a thread names itself once it runs: on a loaded
    // machine that may take a while).
    let named = || common::threads_named("goro-worker-").len();
    common::eventually(Duration::from_secs(10), || named() == 4);
    assert_eq!(named(), 4);
    std::env::set_var(goro_runtime::MAXPROCS_ENV, "zero");
    let err = goro_runtime::Builder::new().build().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("GORO_MAXPROCS"));
    std::env::remove_var(goro_runtime::MAXPROCS_ENV);
}
