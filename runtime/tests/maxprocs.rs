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

/// Sets `GORO_MAXPROCS` to `value` in this (child) process and builds a default runtime.
fn build_with_env(value: &str) -> std::io::Result<goro_runtime::Runtime> {
    std::env::set_var(goro_runtime::MAXPROCS_ENV, value);
    goro_runtime::Builder::new().build()
}

#[test]
fn too_many_workers_are_refused_at_once() {
    common::in_own_process("too_many_workers_are_refused_at_once", 60, || {
        // Before the limit, 20,000 workers started one by one until std could not map more
        // thread stacks, and the process aborted.
        for value in ["20000", "1025", "70000"] {
            let err = build_with_env(value).unwrap_err();
            assert_eq!(
                err.kind(),
                std::io::ErrorKind::InvalidInput,
                "{value}: {err}"
            );
            assert!(err.to_string().contains("GORO_MAXPROCS"), "{err}");
            assert!(err.to_string().contains("at most 1024"), "{err}");
        }
        std::env::remove_var(goro_runtime::MAXPROCS_ENV);
        let err = goro_runtime::Builder::new()
            .worker_threads(20_000)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("worker_threads"), "{err}");
        // The maximum itself is allowed (and fits the task registry).
        let rt = goro_runtime::Builder::new()
            .worker_threads(goro_runtime::MAX_WORKERS)
            .build()
            .unwrap();
        assert_eq!(rt.worker_threads(), goro_runtime::MAX_WORKERS);
        assert_eq!(rt.block_on(rt.spawn(async { 5 })).unwrap(), 5);
    });
}

#[test]
fn an_empty_goro_maxprocs_means_unset() {
    common::in_own_process("an_empty_goro_maxprocs_means_unset", 60, || {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let expected = cpus.min(goro_runtime::MAX_WORKERS);
        for value in ["", " "] {
            let rt = build_with_env(value).unwrap();
            assert_eq!(rt.worker_threads(), expected, "GORO_MAXPROCS={value:?}");
        }
    });
}
