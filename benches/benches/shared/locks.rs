//! A mutex and "wait for these tasks" (Go's `WaitGroup`) for each runtime, behind one trait.
//!
//! Each runtime uses its own idiom: goro its `sync::Mutex` and `sync::WaitGroup`, tokio
//! `tokio::sync::Mutex`, smol `async_lock::Mutex` (`smol::lock::Mutex`). Neither peer has a
//! WaitGroup; [`Locks::spawn_and_wait`] says which of their idioms is used and why.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::contenders::{AsyncRuntime, Goro};
#[cfg(not(feature = "goro-only"))]
use super::contenders::{Smol, Tokio};

/// The mutex and the task-waiting idiom of a runtime.
pub trait Locks: AsyncRuntime {
    /// The runtime's async mutex.
    type Mutex<T: Send + 'static>: Send + Sync + 'static;

    /// A mutex holding `value`.
    fn mutex<T: Send + 'static>(value: T) -> Self::Mutex<T>;

    /// Locks `mutex`, runs `f` on the value and unlocks.
    fn with_lock<T, R, F>(mutex: &Self::Mutex<T>, f: F) -> impl Future<Output = R> + Send + '_
    where
        T: Send + 'static,
        R: Send + 'static,
        F: FnOnce(&mut T) -> R + Send + 'static;

    /// Spawns `n` tasks, the `i`-th running `task(i)`, and completes once all have finished:
    /// Go's `wg.Add(n); for ... { go func() { defer wg.Done(); ... } }; wg.Wait()`.
    fn spawn_and_wait<F, Fut>(n: usize, task: F) -> impl Future<Output = ()> + Send
    where
        F: Fn(usize) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static;
}

impl Locks for Goro {
    type Mutex<T: Send + 'static> = goro::sync::Mutex<T>;

    fn mutex<T: Send + 'static>(value: T) -> Self::Mutex<T> {
        goro::sync::Mutex::new(value)
    }

    async fn with_lock<T, R, F>(mutex: &Self::Mutex<T>, f: F) -> R
    where
        T: Send + 'static,
        R: Send + 'static,
        F: FnOnce(&mut T) -> R + Send + 'static,
    {
        f(&mut *mutex.lock().await)
    }

    /// goro's `WaitGroup`, with one `add(n)` before the spawns.
    async fn spawn_and_wait<F, Fut>(n: usize, task: F)
    where
        F: Fn(usize) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let wg = goro::sync::WaitGroup::new();
        wg.add(n);
        for i in 0..n {
            let (wg, task) = (wg.clone(), task(i));
            drop(goro::spawn(async move {
                task.await;
                wg.done();
            }));
        }
        wg.wait().await;
    }
}

#[cfg(not(feature = "goro-only"))]
impl Locks for Tokio {
    type Mutex<T: Send + 'static> = tokio::sync::Mutex<T>;

    fn mutex<T: Send + 'static>(value: T) -> Self::Mutex<T> {
        tokio::sync::Mutex::new(value)
    }

    async fn with_lock<T, R, F>(mutex: &Self::Mutex<T>, f: F) -> R
    where
        T: Send + 'static,
        R: Send + 'static,
        F: FnOnce(&mut T) -> R + Send + 'static,
    {
        f(&mut *mutex.lock().await)
    }

    /// An atomic countdown of the tasks left and a `Notify` the last one fires: the fastest
    /// of the tokio idioms tried (100k tasks, median ns/task of 5 runs on a busy 2-core
    /// machine, system / mimalloc allocator: this 1149 / 720; closing an `mpsc` channel whose
    /// senders the tasks hold 1540 / 767; awaiting the `JoinHandle`s in spawn order
    /// 2512 / 1257; `JoinSet::join_next` 2117 on the system allocator).
    async fn spawn_and_wait<F, Fut>(n: usize, task: F)
    where
        F: Fn(usize) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let left = Arc::new((AtomicUsize::new(n), tokio::sync::Notify::new()));
        for i in 0..n {
            let (left, task) = (left.clone(), task(i));
            drop(tokio::spawn(async move {
                task.await;
                if left.0.fetch_sub(1, Ordering::AcqRel) == 1 {
                    // Stores a permit if the waiter has not started waiting yet.
                    left.1.notify_one();
                }
            }));
        }
        if n > 0 {
            left.1.notified().await;
        }
    }
}

#[cfg(not(feature = "goro-only"))]
impl Locks for Smol {
    type Mutex<T: Send + 'static> = smol::lock::Mutex<T>;

    fn mutex<T: Send + 'static>(value: T) -> Self::Mutex<T> {
        smol::lock::Mutex::new(value)
    }

    async fn with_lock<T, R, F>(mutex: &Self::Mutex<T>, f: F) -> R
    where
        T: Send + 'static,
        R: Send + 'static,
        F: FnOnce(&mut T) -> R + Send + 'static,
    {
        f(&mut *mutex.lock().await)
    }

    /// Each task holds a clone of a channel's sender and the waiter receives until the
    /// channel closes, which it does when the last clone is dropped: the faster of smol's two
    /// idioms (100k tasks, median ns/task of 8 runs on a busy 2-core machine, system /
    /// mimalloc allocator: this 543 / 541; awaiting the `Task`s in spawn order 693 / 595).
    async fn spawn_and_wait<F, Fut>(n: usize, task: F)
    where
        F: Fn(usize) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (alive, closed) = smol::channel::bounded::<()>(1);
        for i in 0..n {
            let (alive, task) = (alive.clone(), task(i));
            Smol::go(async move {
                task.await;
                drop(alive);
            });
        }
        drop(alive);
        let nothing = closed.recv().await;
        assert!(nothing.is_err(), "nothing is ever sent on the channel");
    }
}
