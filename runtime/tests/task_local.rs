//! Task-locals: a value set for one future follows it everywhere it runs and nowhere else.

mod common;

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{runtime, watchdog, DropCounter};
use futures_lite::future::{self, FutureExt};
use goro_runtime::{yield_now, AccessError};
use goro_sync::chan;

goro_runtime::task_local! {
    /// A request id, the usual use.
    static REQUEST_ID: u64;
    static NAME: String;
}

mod declared_elsewhere {
    goro_runtime::task_local! {
        #[allow(dead_code)]
        pub(crate) static SHARED: u32;
        pub static LAST_WITHOUT_SEMICOLON: &'static str
    }
}

/// The message of a caught panic.
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

#[test]
fn value_is_visible_across_awaits() {
    watchdog(30, || {
        let rt = runtime(2);
        let seen = rt.block_on(REQUEST_ID.scope(7, async {
            let mut seen = vec![REQUEST_ID.get()];
            for _ in 0..10 {
                yield_now().await;
                goro_runtime::time::sleep(Duration::from_millis(1)).await;
                seen.push(REQUEST_ID.get());
            }
            seen
        }));
        assert_eq!(seen, vec![7; 11]);
        assert!(
            REQUEST_ID.try_with(|_| ()).is_err(),
            "the value leaked out of its scope"
        );
    });
}

#[test]
fn value_follows_its_task_across_workers() {
    watchdog(60, || {
        let rt = runtime(4);
        let hops = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8u64)
            .map(|id| {
                let hops = hops.clone();
                rt.spawn(REQUEST_ID.scope(id, async move {
                    let mut last = goro_runtime::worker_index();
                    for _ in 0..2_000 {
                        yield_now().await;
                        let now = goro_runtime::worker_index();
                        if now != last {
                            hops.fetch_add(1, Ordering::Relaxed);
                            last = now;
                        }
                        assert_eq!(REQUEST_ID.get(), id, "task {id} saw another value");
                    }
                }))
            })
            .collect();
        for task in tasks {
            rt.block_on(task).expect("a task failed");
        }
        // Hops depend on stealing, so their number is reported, not asserted: the point is
        // that every poll, wherever it ran, saw its own task's value.
        eprintln!("worker hops observed: {}", hops.load(Ordering::Relaxed));
    });
}

#[test]
fn spawned_task_does_not_inherit_the_value() {
    watchdog(30, || {
        // One worker: the child runs on the very thread its parent's scope was polled on.
        let rt = runtime(1);
        let (inside, child) = rt.block_on(async {
            goro_runtime::spawn(REQUEST_ID.scope(1, async {
                let child = goro_runtime::spawn(async { REQUEST_ID.try_with(|id| *id) });
                let child = child.await.unwrap();
                (REQUEST_ID.get(), child)
            }))
            .await
            .unwrap()
        });
        assert_eq!(inside, 1);
        assert!(
            child.is_err(),
            "the spawned task saw its parent's value: {child:?}"
        );
    });
}

#[test]
fn tasks_interleaved_on_one_worker_never_see_each_others_value() {
    watchdog(30, || {
        let rt = runtime(1);
        let (a_tx, a_rx) = chan::bounded::<u32>(0);
        let (b_tx, b_rx) = chan::bounded::<u32>(0);
        // A and B hand a token back and forth, so each suspends while the other runs on the
        // single worker; a third task without a scope runs between them.
        let a = rt.spawn(REQUEST_ID.scope(100, async move {
            for i in 0..200 {
                assert_eq!(REQUEST_ID.get(), 100);
                a_tx.send(i).await.unwrap();
                assert_eq!(REQUEST_ID.get(), 100);
                assert_eq!(b_rx.recv().await, Some(i));
            }
            goro_runtime::worker_index()
        }));
        let b = rt.spawn(REQUEST_ID.scope(200, async move {
            for _ in 0..200 {
                let i = a_rx.recv().await.unwrap();
                assert_eq!(REQUEST_ID.get(), 200);
                b_tx.send(i).await.unwrap();
                assert_eq!(REQUEST_ID.get(), 200);
            }
            goro_runtime::worker_index()
        }));
        let bystander = rt.spawn(async {
            for _ in 0..200 {
                assert!(
                    REQUEST_ID.try_with(|_| ()).is_err(),
                    "a value leaked into a bystander"
                );
                yield_now().await;
            }
        });
        let a_worker = rt.block_on(a).unwrap();
        let b_worker = rt.block_on(b).unwrap();
        rt.block_on(bystander).unwrap();
        assert_eq!(a_worker, Some(0));
        assert_eq!(b_worker, Some(0));
    });
}

#[test]
fn nested_scopes_restore_the_outer_value() {
    let inner = REQUEST_ID.sync_scope(1, || {
        let inner = REQUEST_ID.sync_scope(2, || REQUEST_ID.get());
        assert_eq!(REQUEST_ID.get(), 1);
        inner
    });
    assert_eq!(inner, 2);
    assert!(REQUEST_ID.try_with(|_| ()).is_err());

    let (inner, outer) = goro_runtime::block_on(REQUEST_ID.scope(1, async {
        let inner = REQUEST_ID
            .scope(2, async {
                yield_now().await;
                let deepest = REQUEST_ID.scope(3, async { REQUEST_ID.get() }).await;
                assert_eq!(deepest, 3);
                REQUEST_ID.get()
            })
            .await;
        (inner, REQUEST_ID.get())
    }));
    assert_eq!((inner, outer), (2, 1));
}

#[test]
fn dropping_an_inner_scope_midway_restores_the_outer_value() {
    struct ReadsOnDrop(Arc<Mutex<Option<Result<u64, AccessError>>>>);
    impl Drop for ReadsOnDrop {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = Some(REQUEST_ID.try_with(|id| *id));
        }
    }

    let seen_in_drop = Arc::new(Mutex::new(None));
    let seen = seen_in_drop.clone();
    goro_runtime::block_on(REQUEST_ID.scope(1, async move {
        let reader = ReadsOnDrop(seen);
        let inner = REQUEST_ID.scope(2, async move {
            let _reader = reader;
            future::pending::<()>().await;
        });
        let mut inner = Box::pin(inner);
        assert!(future::poll_once(inner.as_mut()).await.is_none());
        assert_eq!(REQUEST_ID.get(), 1);
        drop(inner);
        assert_eq!(
            REQUEST_ID.get(),
            1,
            "dropping the inner scope lost the outer value"
        );
    }));
    assert_eq!(
        *seen_in_drop.lock().unwrap(),
        Some(Ok(2)),
        "the inner future was not dropped with its value in scope"
    );
}

#[test]
fn never_polled_scope_drops_its_future_in_scope_and_its_value_once() {
    let values = DropCounter::default();
    let seen_in_drop = Arc::new(Mutex::new(None));

    struct ReadsOnDrop(Arc<Mutex<Option<Result<String, AccessError>>>>);
    impl Drop for ReadsOnDrop {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = Some(NAME.try_with(|n| n.clone()));
        }
    }

    let reader = ReadsOnDrop(seen_in_drop.clone());
    let token = values.token();
    let fut = NAME.scope("dropped".to_string(), async move {
        let _token = token;
        let _reader = reader;
    });
    drop(fut);
    assert_eq!(
        values.count(),
        1,
        "the inner future was not dropped exactly once"
    );
    assert_eq!(
        *seen_in_drop.lock().unwrap(),
        Some(Ok("dropped".to_string()))
    );
    assert!(
        NAME.try_with(|_| ()).is_err(),
        "the value stayed behind after the drop"
    );
}

#[test]
fn scope_value_is_dropped_once_with_its_future() {
    goro_runtime::task_local! {
        static TOKEN: common::DropToken;
    }
    let drops = DropCounter::default();
    watchdog(30, || {
        let rt = runtime(2);
        rt.block_on(TOKEN.scope(drops.token(), async {
            yield_now().await;
        }));
        assert_eq!(drops.count(), 1);

        let mut taken = pin!(TOKEN.scope(drops.token(), async {}));
        let token = taken.as_mut().take_value();
        assert!(token.is_some());
        drop(token);
        assert_eq!(drops.count(), 2);
        // The rest runs with the key unset.
        rt.block_on(taken.as_mut());
        assert_eq!(drops.count(), 2, "a taken value was dropped again");
    });
}

#[test]
fn panic_inside_a_scope_restores_the_outer_value() {
    REQUEST_ID.sync_scope(1, || {
        let caught = panic::catch_unwind(|| REQUEST_ID.sync_scope(2, || panic!("boom")));
        assert!(caught.is_err());
        assert_eq!(REQUEST_ID.get(), 1);
    });
    assert!(REQUEST_ID.try_with(|_| ()).is_err());

    goro_runtime::block_on(REQUEST_ID.scope(1, async {
        let inner = AssertUnwindSafe(REQUEST_ID.scope(2, async {
            yield_now().await;
            panic!("boom");
        }));
        assert!(inner.catch_unwind().await.is_err());
        assert_eq!(REQUEST_ID.get(), 1);
    }));
}

#[test]
fn panicking_task_leaves_no_value_on_its_worker() {
    watchdog(30, || {
        let rt = runtime(1);
        let failed = rt.block_on(rt.spawn(REQUEST_ID.scope(5, async {
            yield_now().await;
            panic!("boom");
        })));
        assert!(failed.is_err());
        let after = rt.block_on(rt.spawn(async { REQUEST_ID.try_with(|id| *id) }));
        assert!(
            after.unwrap().is_err(),
            "the panicked task's value stayed on the worker"
        );
    });
}

#[test]
fn with_outside_a_scope_panics_naming_the_key() {
    let caught = panic::catch_unwind(|| REQUEST_ID.with(|id| *id)).unwrap_err();
    let message = panic_message(caught);
    assert!(message.contains("`REQUEST_ID`"), "message: {message}");
    assert!(message.contains("not set"), "message: {message}");
    let caught = panic::catch_unwind(|| NAME.get()).unwrap_err();
    assert!(panic_message(caught).contains("`NAME`"));
}

#[test]
fn try_with_outside_a_scope_is_an_access_error() {
    let err = REQUEST_ID.try_with(|id| *id).unwrap_err();
    assert!(err.to_string().contains("`REQUEST_ID`"), "{err}");
    let err: Box<dyn std::error::Error> = Box::new(err);
    assert!(format!("{err:?}").contains("REQUEST_ID"));
    assert_eq!(
        REQUEST_ID.sync_scope(3, || REQUEST_ID.try_with(|id| id + 1)),
        Ok(4)
    );
}

#[test]
fn entering_a_scope_inside_with_of_the_same_key_panics_clearly() {
    let caught = REQUEST_ID.sync_scope(1, || {
        panic::catch_unwind(|| REQUEST_ID.with(|_| REQUEST_ID.sync_scope(2, || ()))).unwrap_err()
    });
    let message = panic_message(caught);
    assert!(
        message.contains("inside `REQUEST_ID.with(..)`"),
        "message: {message}"
    );
    // Nothing was swapped: the value and the scope are intact.
    assert_eq!(REQUEST_ID.sync_scope(1, || REQUEST_ID.get()), 1);
    assert!(REQUEST_ID.try_with(|_| ()).is_err());
}

#[test]
fn dropping_a_scope_inside_with_of_its_key_does_not_panic() {
    let drops = DropCounter::default();
    let token = drops.token();
    let scoped = REQUEST_ID.scope(2, async move {
        let _token = token;
    });
    let outer = REQUEST_ID.sync_scope(1, || {
        REQUEST_ID.with(|outer| {
            // The scope cannot be entered here: its future is dropped without it.
            drop(scoped);
            *outer
        })
    });
    assert_eq!(outer, 1);
    assert_eq!(drops.count(), 1);
    assert!(REQUEST_ID.try_with(|_| ()).is_err());
}

#[test]
fn works_inside_select_arms() {
    watchdog(30, || {
        let rt = runtime(2);
        let (tx, rx) = chan::bounded::<u64>(1);
        let out = rt.block_on(REQUEST_ID.scope(1, async move {
            // An arm with a scope of its own, and an arm body reading the outer value.
            let first = goro_sync::select! {
                v = REQUEST_ID.scope(2, async {
                    yield_now().await;
                    REQUEST_ID.get()
                }) => v,
                _ = goro_runtime::time::sleep(Duration::from_secs(3600)) => unreachable!(),
            };
            tx.try_send(REQUEST_ID.get()).unwrap();
            let second = goro_sync::select! {
                v = rx.recv() => v.unwrap() + REQUEST_ID.get(),
                _ = goro_runtime::time::sleep(Duration::from_secs(3600)) => unreachable!(),
            };
            (first, second, REQUEST_ID.get())
        }));
        assert_eq!(out, (2, 2, 1));
    });
}

#[test]
fn works_with_block_on() {
    let (a, b) = REQUEST_ID.sync_scope(9, || {
        let a = goro_runtime::block_on(async {
            yield_now().await;
            REQUEST_ID.get()
        });
        let b = goro_runtime::block_on(REQUEST_ID.scope(10, async { REQUEST_ID.get() }));
        (a, b)
    });
    assert_eq!((a, b), (9, 10));
}

#[test]
fn keys_declared_with_attributes_and_visibility_work_from_another_module() {
    use declared_elsewhere::{LAST_WITHOUT_SEMICOLON, SHARED};
    let both = SHARED.sync_scope(1, || {
        LAST_WITHOUT_SEMICOLON.sync_scope("x", || (SHARED.get(), LAST_WITHOUT_SEMICOLON.get()))
    });
    assert_eq!(both, (1, "x"));
    assert_eq!(format!("{SHARED:?}"), "LocalKey(\"SHARED\")");
}

#[test]
fn declared_through_the_facade() {
    goro::task_local! {
        static FACADE: u8;
    }
    let key: &'static goro::LocalKey<u8> = &FACADE;
    let fut: goro::TaskLocalFuture<u8, _> = key.scope(4, async { FACADE.get() });
    assert!(format!("{fut:?}").contains("FACADE"));
    assert_eq!(goro::block_on(fut), 4);
}

#[test]
fn values_need_not_be_send() {
    goro_runtime::task_local! {
        static SHARED_HERE: std::rc::Rc<u8>;
    }
    let value = std::rc::Rc::new(8);
    let read = goro_runtime::block_on(SHARED_HERE.scope(value.clone(), async {
        yield_now().await;
        *SHARED_HERE.get()
    }));
    assert_eq!(read, 8);
    assert_eq!(
        std::rc::Rc::strong_count(&value),
        1,
        "the scope kept its value"
    );
}

/// A scoped future is `Send` exactly when its value and its future are: it can be spawned.
#[test]
fn scoped_future_can_be_spawned() {
    fn assert_send<F: Future + Send>(_: &F) {}
    let fut = NAME.scope("spawned".to_string(), async { NAME.get() });
    assert_send(&fut);
    watchdog(30, || {
        let rt = runtime(1);
        assert_eq!(rt.block_on(rt.spawn(fut)).unwrap(), "spawned");
    });
}
