//! Go's context: cancellation reaches every descendant, deadlines fire and are clamped.

mod common;

use std::time::{Duration, Instant};

use common::{in_own_process, runtime, watchdog};
use goro_runtime::context::{Context, ContextError, ContextKey};

#[test]
fn background_is_never_done() {
    let bg = Context::background();
    assert_eq!(bg.err(), None);
    assert_eq!(bg.deadline(), None);
    watchdog(30, || {
        let rt = runtime(1);
        let r = rt.block_on(goro_runtime::time::timeout(
            Duration::from_millis(20),
            bg.done(),
        ));
        assert!(r.is_err(), "background's done() completed");
    });
}

#[test]
fn cancelling_a_parent_cancels_every_descendant() {
    watchdog(30, || {
        let rt = runtime(2);
        let (parent, cancel) = Context::background().with_cancel();
        let (child, _c1) = parent.with_cancel();
        let (grandchild, _c2) = child.with_timeout(Duration::from_secs(3600));
        let waiters: Vec<_> = [child.clone(), grandchild.clone()]
            .into_iter()
            .map(|ctx| {
                rt.spawn(async move {
                    ctx.done().await;
                    ctx.err()
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20));
        cancel.cancel();
        for w in waiters {
            assert_eq!(rt.block_on(w).unwrap(), Some(ContextError::Canceled));
        }
        assert_eq!(parent.err(), Some(ContextError::Canceled));
    });
}

#[test]
fn cancelling_a_child_leaves_the_parent_alone() {
    let (parent, _cancel) = Context::background().with_cancel();
    let (child, cancel_child) = parent.with_cancel();
    cancel_child.cancel();
    assert_eq!(child.err(), Some(ContextError::Canceled));
    assert_eq!(parent.err(), None);
}

#[test]
fn a_child_of_a_done_context_is_born_done() {
    let (parent, cancel) = Context::background().with_cancel();
    cancel.cancel();
    let (child, _c) = parent.with_timeout(Duration::from_secs(60));
    assert_eq!(child.err(), Some(ContextError::Canceled));
}

#[test]
fn a_deadline_fires_for_waiters_and_for_err() {
    watchdog(30, || {
        let rt = runtime(2);
        let start = Instant::now();
        let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(30));
        let waiter = {
            let ctx = ctx.clone();
            rt.spawn(async move {
                ctx.done().await;
                ctx.err()
            })
        };
        assert_eq!(
            rt.block_on(waiter).unwrap(),
            Some(ContextError::DeadlineExceeded)
        );
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(30),
            "done early: {elapsed:?}"
        );
        assert!(elapsed < Duration::from_secs(5), "done late: {elapsed:?}");
        // A context nobody waits on learns its deadline from the clock.
        let (quiet, _c) = Context::background().with_timeout(Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(quiet.err(), Some(ContextError::DeadlineExceeded));
    });
}

#[test]
fn a_parent_deadline_reaches_its_children() {
    watchdog(30, || {
        let rt = runtime(2);
        let (parent, _c) = Context::background().with_timeout(Duration::from_millis(20));
        let (child, _cc) = parent.with_timeout(Duration::from_secs(3600));
        assert_eq!(
            child.deadline(),
            parent.deadline(),
            "not clamped to the parent"
        );
        rt.block_on(child.done());
        assert_eq!(child.err(), Some(ContextError::DeadlineExceeded));
    });
}

#[test]
fn an_earlier_child_deadline_is_kept() {
    let (parent, _c) = Context::background().with_timeout(Duration::from_secs(3600));
    let (child, _cc) = parent.with_timeout(Duration::from_secs(1));
    assert!(child.deadline().unwrap() < parent.deadline().unwrap());
}

#[test]
fn errors_display_as_go_prints_them() {
    assert_eq!(ContextError::Canceled.to_string(), "context canceled");
    assert_eq!(
        ContextError::DeadlineExceeded.to_string(),
        "context deadline exceeded"
    );
}

/// Levels of the deep chains below: far more than a recursive walk survives on a small stack.
const DEPTH: usize = 100_000;

/// Runs `f` on a thread with a 256 KiB stack, to show the walk does not depend on stack size.
fn on_a_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .expect("thread")
        .join()
        .expect("the small-stack thread failed");
}

/// A chain of `DEPTH` contexts under `root`; returns the deepest (which keeps the rest alive).
fn chain(root: &Context) -> Context {
    let mut leaf = root.clone();
    for _ in 0..DEPTH {
        leaf = leaf.with_cancel().0;
    }
    leaf
}

#[test]
fn cancelling_a_deep_chain_does_not_overflow_the_stack() {
    in_own_process(
        "cancelling_a_deep_chain_does_not_overflow_the_stack",
        120,
        || {
            let (tx, rx) = std::sync::mpsc::channel();
            on_a_small_stack(move || {
                let (root, cancel) = Context::background().with_cancel();
                let leaf = chain(&root);
                assert_eq!(leaf.err(), None);
                cancel.cancel();
                assert_eq!(leaf.err(), Some(ContextError::Canceled));
                tx.send((root, leaf)).unwrap();
            });
            // Dropping is the next test's subject: here the chain is dropped on a stack large
            // enough even for a recursive drop, so this test fails only if cancelling does,
            // and leaks nothing (the tests also run under LeakSanitizer).
            let chain = rx.recv().unwrap();
            std::thread::Builder::new()
                .stack_size(1 << 30)
                .spawn(move || drop(chain))
                .expect("thread")
                .join()
                .expect("dropping the chain failed");
        },
    );
}

#[test]
fn dropping_a_deep_chain_does_not_overflow_the_stack() {
    in_own_process(
        "dropping_a_deep_chain_does_not_overflow_the_stack",
        120,
        || {
            on_a_small_stack(|| {
                let (root, cancel) = Context::background().with_cancel();
                drop(chain(&root));
                // The whole chain unlinked itself: a new child still works, and cancelling
                // the root reaches it.
                let (child, _c) = root.with_cancel();
                cancel.cancel();
                assert_eq!(child.err(), Some(ContextError::Canceled));
                drop(chain(&Context::background()));
            });
        },
    );
}

#[test]
fn a_value_is_found_from_every_descendant() {
    static REQUEST_ID: ContextKey<u64> = ContextKey::new("request-id");
    let ctx = Context::background().with_value(&REQUEST_ID, 7);
    let (child, _c) = ctx.with_cancel();
    let (grandchild, _d) = child.with_timeout(Duration::from_secs(600));
    let other = ContextKey::<u8>::new("other");
    let great = grandchild.with_value(&other, 1);
    for ctx in [&ctx, &child, &grandchild, &great] {
        assert_eq!(ctx.value(&REQUEST_ID), Some(&7));
    }
    assert_eq!(great.value(&other), Some(&1));
    assert_eq!(
        grandchild.value(&other),
        None,
        "a value is not seen by its ancestors"
    );
    assert_eq!(Context::background().value(&REQUEST_ID), None);
}

#[test]
fn a_nearer_value_shadows_an_older_one_for_its_subtree_only() {
    let key = ContextKey::<&str>::new("user");
    let outer = Context::background().with_value(&key, "alice");
    let inner = outer.with_value(&key, "bob");
    let (below_inner, _c) = inner.with_cancel();
    assert_eq!(outer.value(&key), Some(&"alice"));
    assert_eq!(inner.value(&key), Some(&"bob"));
    assert_eq!(below_inner.value(&key), Some(&"bob"));
}

#[test]
fn distinct_keys_with_the_same_name_and_type_do_not_collide() {
    let a = ContextKey::<String>::new("user");
    let b = ContextKey::<String>::new("user");
    let ctx = Context::background()
        .with_value(&a, "from a".to_string())
        .with_value(&b, "from b".to_string());
    assert_eq!(ctx.value(&a).map(String::as_str), Some("from a"));
    assert_eq!(ctx.value(&b).map(String::as_str), Some("from b"));
    let only_a = Context::background().with_value(&a, "x".to_string());
    assert_eq!(only_a.value(&b), None);
    let a_again = a.clone();
    assert_eq!(
        only_a.value(&a_again).map(String::as_str),
        Some("x"),
        "a clone is the same key"
    );
}

#[test]
fn cancellation_and_deadlines_pass_through_value_contexts() {
    watchdog(30, || {
        let key = ContextKey::<u32>::new("k");
        let (root, cancel) = Context::background().with_cancel();
        let valued = root.with_value(&key, 1);
        let (child, _c) = valued.with_cancel();
        let deeper = child.with_value(&key, 2);
        assert_eq!(valued.err(), None);
        let rt = runtime(2);
        let waiter = {
            let deeper = deeper.clone();
            rt.spawn(async move {
                deeper.done().await;
                deeper.err()
            })
        };
        cancel.cancel();
        assert_eq!(valued.err(), Some(ContextError::Canceled));
        assert_eq!(rt.block_on(waiter).unwrap(), Some(ContextError::Canceled));
        assert_eq!(deeper.value(&key), Some(&2), "values outlive cancellation");

        let (timed, _t) = Context::background().with_timeout(Duration::from_secs(600));
        let valued = timed.with_value(&key, 3);
        assert_eq!(valued.deadline(), timed.deadline());
        assert_eq!(Context::background().with_value(&key, 4).err(), None);
    });
}

#[test]
fn dropping_a_deep_chain_of_values_does_not_overflow_the_stack() {
    in_own_process(
        "dropping_a_deep_chain_of_values_does_not_overflow_the_stack",
        120,
        || {
            on_a_small_stack(|| {
                let key = ContextKey::<usize>::new("depth");
                let mut leaf = Context::background();
                for i in 0..DEPTH {
                    leaf = leaf.with_value(&key, i);
                }
                assert_eq!(leaf.value(&key), Some(&(DEPTH - 1)));
                drop(leaf);
            });
        },
    );
}
