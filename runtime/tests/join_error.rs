//! JoinError is an ordinary error: Send + Sync + Error, and `?` takes it into io::Error and
//! boxed errors without losing the panic payload.

mod common;

use std::error::Error;
use std::io;

use common::{runtime, watchdog};
use goro_runtime::JoinError;

const fn assert_error<E: Error + Send + Sync + 'static>() {}
const _: () = assert_error::<JoinError>();

fn panicking(rt: &goro_runtime::Runtime, msg: &'static str) -> JoinError {
    rt.block_on(async move { goro_runtime::spawn(async move { panic!("{}", msg) }).await })
        .unwrap_err()
}

#[test]
fn question_mark_into_io_error_keeps_the_join_error() {
    watchdog(30, || {
        let rt = runtime(2);
        let out: io::Result<()> = rt.block_on(async {
            goro_runtime::spawn(async { panic!("worker broke") }).await?;
            Ok(())
        });
        let err = out.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Other);
        assert!(err.to_string().contains("worker broke"), "{err}");
        let join = err
            .into_inner()
            .expect("inner error")
            .downcast::<JoinError>()
            .expect("a JoinError inside");
        assert!(join.is_panic());
        let payload = join.into_panic();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"worker broke"));
    });
}

#[test]
fn question_mark_into_boxed_error() {
    watchdog(30, || {
        let rt = runtime(2);
        let out: Result<(), Box<dyn Error + Send + Sync>> = rt.block_on(async {
            let handle = goro_runtime::spawn(std::future::pending::<()>());
            handle.abort();
            handle.await?;
            Ok(())
        });
        let err = out.unwrap_err();
        assert_eq!(err.to_string(), "task was cancelled");
        assert!(err.downcast_ref::<JoinError>().unwrap().is_cancelled());
    });
}

#[test]
fn display_shows_the_panic_message_and_into_panic_returns_the_payload() {
    watchdog(30, || {
        let rt = runtime(2);
        // A &'static str payload.
        let err = rt
            .block_on(async { goro_runtime::spawn(async { panic!("static message") }).await })
            .unwrap_err();
        assert_eq!(err.to_string(), "task panicked: static message");
        assert!(format!("{err:?}").contains("static message"));
        let payload = err.into_panic();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"static message"));
        // A String payload.
        let err = panicking(&rt, "formatted");
        assert_eq!(err.to_string(), "task panicked: formatted");
        assert!(err.source().is_none());
        let payload = err.try_into_panic().unwrap();
        assert_eq!(payload.downcast_ref::<String>().unwrap(), "formatted");
        // Another payload: no message, the payload still comes back.
        let err = rt
            .block_on(async { goro_runtime::spawn(async { std::panic::panic_any(7_u32) }).await })
            .unwrap_err();
        assert_eq!(err.to_string(), "task panicked");
        assert_eq!(err.into_panic().downcast_ref::<u32>(), Some(&7));
    });
}

#[test]
fn shared_across_threads() {
    watchdog(30, || {
        let rt = runtime(1);
        let err = std::sync::Arc::new(panicking(&rt, "shared"));
        let other = err.clone();
        let shown = std::thread::spawn(move || other.to_string())
            .join()
            .unwrap();
        assert_eq!(shown, "task panicked: shared");
        assert!(err.is_panic() && !err.is_cancelled());
    });
}
