//! Unix signals: `ctrl_c`, `Signals` streams, `Context::with_signals`.
//!
//! Every test runs in its own process: a signal raised before goro's handler is installed
//! would end the whole test binary, and handlers are process-wide. Signals go to this
//! process only, by its own PID.

mod common;

use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{in_own_process, runtime};
use futures_lite::future::poll_once;
use futures_lite::StreamExt;
use goro_runtime::context::{Context, ContextError};
use goro_runtime::signal::{ctrl_c, Signal, Signals};

/// Sends `signal` to this process.
fn raise(signal: Signal) {
    // SAFETY: `kill` has no memory-safety preconditions; it targets this process only.
    let rc = unsafe { libc::kill(libc::getpid(), signal.as_raw()) };
    assert_eq!(rc, 0, "kill: {}", std::io::Error::last_os_error());
}

#[test]
fn raw_numbers_round_trip() {
    for raw in 0..65 {
        if let Some(signal) = Signal::from_raw(raw) {
            assert_eq!(signal.as_raw(), raw);
        }
    }
    assert_eq!(Signal::from_raw(libc::SIGINT), Some(Signal::Interrupt));
    assert_eq!(Signal::from_raw(libc::SIGKILL), None);
}

#[test]
fn an_empty_set_is_refused() {
    let rt = runtime(1);
    let err = rt.block_on(async { Signals::new(&[]) }).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn ctrl_c_completes_when_sigint_is_raised() {
    in_own_process("ctrl_c_completes_when_sigint_is_raised", 30, || {
        let rt = runtime(2);
        rt.block_on(async {
            let mut interrupted = pin!(ctrl_c());
            // The first poll starts listening.
            assert!(poll_once(interrupted.as_mut()).await.is_none());
            raise(Signal::Interrupt);
            interrupted.await.expect("ctrl_c");
        });
    });
}

#[test]
fn a_stream_reports_each_signal_in_turn() {
    in_own_process("a_stream_reports_each_signal_in_turn", 30, || {
        let rt = runtime(2);
        rt.block_on(async {
            let mut signals = Signals::new(&[Signal::Terminate, Signal::Hangup]).unwrap();
            raise(Signal::Terminate);
            assert_eq!(signals.recv().await, Some(Signal::Terminate));
            raise(Signal::Hangup);
            assert_eq!(signals.next().await, Some(Signal::Hangup));
            raise(Signal::Hangup);
            assert_eq!(signals.recv().await, Some(Signal::Hangup));
            raise(Signal::Terminate);
            assert_eq!(signals.recv().await, Some(Signal::Terminate));
            // Nothing more is pending.
            assert_eq!(poll_once(signals.recv()).await, None);
        });
    });
}

#[test]
fn every_listener_in_every_runtime_gets_the_signal() {
    in_own_process(
        "every_listener_in_every_runtime_gets_the_signal",
        30,
        || {
            let a = runtime(2);
            let b = runtime(1);
            // Each listener registers with the reactor of the runtime it is created in. Whoever
            // drains the shared pipe must wake the others: rounds make a missed wakeup show.
            let mut first = a.block_on(async { Signals::new(&[Signal::User1]).unwrap() });
            let mut second = a.block_on(async { Signals::new(&[Signal::User1]).unwrap() });
            let mut third = b.block_on(async { Signals::new(&[Signal::User1]).unwrap() });
            for _ in 0..20 {
                let t1 = a.spawn(async move { (first.recv().await, first) });
                let t2 = a.spawn(async move { (second.recv().await, second) });
                let t3 = b.spawn(async move { (third.recv().await, third) });
                raise(Signal::User1);
                let mut got;
                (got, first) = a.block_on(t1).unwrap();
                assert_eq!(got, Some(Signal::User1));
                (got, second) = a.block_on(t2).unwrap();
                assert_eq!(got, Some(Signal::User1));
                (got, third) = b.block_on(t3).unwrap();
                assert_eq!(got, Some(Signal::User1));
            }
        },
    );
}

#[test]
fn with_signals_cancels_the_context_and_says_which_signal() {
    in_own_process(
        "with_signals_cancels_the_context_and_says_which_signal",
        30,
        || {
            let rt = runtime(2);
            rt.block_on(async {
                let (ctx, _cancel) = Context::background()
                    .with_signals(&[Signal::Terminate, Signal::User2])
                    .unwrap();
                let (child, _cancel_child) = ctx.with_cancel();
                assert_eq!(ctx.err(), None);
                assert_eq!(ctx.signal(), None);
                raise(Signal::User2);
                child.done().await;
                assert_eq!(ctx.err(), Some(ContextError::Canceled));
                assert_eq!(ctx.signal(), Some(Signal::User2));
                assert_eq!(child.err(), Some(ContextError::Canceled));
                assert_eq!(child.signal(), Some(Signal::User2));
                // A child made after the signal is born cancelled, by the same signal.
                let (late, _cancel_late) = ctx.with_cancel();
                assert_eq!(late.signal(), Some(Signal::User2));
            });
        },
    );
}

#[test]
fn a_context_cancelled_otherwise_has_no_signal() {
    in_own_process("a_context_cancelled_otherwise_has_no_signal", 30, || {
        let rt = runtime(2);
        rt.block_on(async {
            let (ctx, cancel) = Context::background()
                .with_signals(&[Signal::User1])
                .unwrap();
            cancel.cancel();
            ctx.done().await;
            assert_eq!(ctx.err(), Some(ContextError::Canceled));
            assert_eq!(ctx.signal(), None);
            // The listening task ends with the context.
            let start = Instant::now();
            while goro_runtime::num_tasks() > 0 {
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "the listening task lingers"
                );
                goro_runtime::time::sleep(Duration::from_millis(5)).await;
            }
        });
    });
}

#[test]
fn a_signal_that_arrived_before_listening_is_not_delivered() {
    in_own_process(
        "a_signal_that_arrived_before_listening_is_not_delivered",
        30,
        || {
            static ARRIVED: AtomicBool = AtomicBool::new(false);
            let rt = runtime(2);
            rt.block_on(async {
                // Installs goro's handler for SIGUSR1; then nobody listens.
                drop(Signals::new(&[Signal::User1]).unwrap());
                // A witness: signal-hook-registry runs a signal's actions in the order they
                // were registered, so once this one ran, goro's has run too.
                // SAFETY: the action only stores to an atomic: async-signal-safe.
                unsafe {
                    signal_hook_registry::register(libc::SIGUSR1, || {
                        ARRIVED.store(true, Ordering::SeqCst);
                    })
                }
                .unwrap();
                raise(Signal::User1);
                let start = Instant::now();
                while !ARRIVED.load(Ordering::SeqCst) {
                    assert!(
                        start.elapsed() < Duration::from_secs(10),
                        "SIGUSR1 never ran"
                    );
                    goro_runtime::time::sleep(Duration::from_millis(1)).await;
                }
                // Created after that SIGUSR1: must not see it, only what comes later.
                let mut late = Signals::new(&[Signal::User1, Signal::User2]).unwrap();
                assert_eq!(poll_once(late.recv()).await, None);
                raise(Signal::User2);
                assert_eq!(late.recv().await, Some(Signal::User2));
                assert_eq!(poll_once(late.recv()).await, None);
            });
        },
    );
}

#[test]
fn a_stream_ends_when_its_runtime_shuts_down() {
    in_own_process("a_stream_ends_when_its_runtime_shuts_down", 30, || {
        let a = runtime(1);
        let mut signals = a.block_on(async { Signals::new(&[Signal::User1]).unwrap() });
        drop(a);
        // Nobody drives the dead runtime's poller: waiting would be for ever.
        let b = runtime(1);
        assert_eq!(b.block_on(signals.recv()), None);
        assert_eq!(b.block_on(signals.recv()), None);
    });
}
