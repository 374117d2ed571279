//! The three runtimes behind one trait, so each workload is written once.
//!
//! Spawning from inside a task uses each runtime's idiom for "the runtime I am on":
//! `goro::spawn`, `tokio::spawn`, and for smol a process-wide `Executor` (a child process
//! measures one runtime once, so a static is enough). Detached tasks are Go's `go`:
//! dropping goro's and tokio's handles detaches, smol needs `Task::detach`.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

/// A runtime as the workloads see it.
pub trait AsyncRuntime: Sized + 'static {
    /// A handle whose output is the task's value (a failed task fails the measurement).
    type Join<T: Send + 'static>: Future<Output = T> + Send + 'static;

    /// Starts the runtime with `workers` worker threads.
    fn start(workers: usize) -> Self;

    /// Runs `future` on the calling thread until it completes.
    fn block_on<F: Future>(&self, future: F) -> F::Output;

    /// Runs `future` as a task of the runtime (so it spawns from a worker, not from the
    /// `block_on` thread) and waits for it on the calling thread.
    fn block_on_task<F>(&self, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // The spawn happens inside `block_on`: outside it, `tokio::spawn` has no runtime and
        // `goro::spawn` would pick goro's global runtime instead of this one.
        self.block_on(async move { Self::spawn(future).await })
    }

    /// Spawns a detached task from a thread that is not part of the runtime.
    fn spawn_outside<F: Future<Output = ()> + Send + 'static>(&self, future: F);

    /// The number of live tasks, where the runtime can tell.
    fn live_tasks(&self) -> Option<usize>;

    /// Spawns a task from inside the runtime and keeps its handle.
    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns a detached task from inside the runtime: Go's `go`.
    fn go<F: Future<Output = ()> + Send + 'static>(future: F);

    /// Runs `f` on the runtime's blocking pool.
    fn spawn_blocking<F, T>(f: F) -> Self::Join<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static;

    /// Lets other tasks run.
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// Sleeps on the runtime's timers.
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send;
}

/// Turns a `JoinHandle` whose output is a `Result` into a future of the task's value,
/// panicking (and so aborting the child) if the task failed.
pub struct Unwrapped<H>(H);

impl<H, T, E> Future for Unwrapped<H>
where
    H: Future<Output = Result<T, E>> + Unpin,
    E: Debug,
{
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.expect("a benchmark task failed"))
    }
}

/// goro, built with `goro::Builder`.
pub struct Goro(goro::Runtime);

impl AsyncRuntime for Goro {
    type Join<T: Send + 'static> = Unwrapped<goro::JoinHandle<T>>;

    fn start(workers: usize) -> Self {
        let rt = goro::Builder::new().worker_threads(workers).build();
        Goro(rt.expect("cannot start goro"))
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }

    fn spawn_outside<F: Future<Output = ()> + Send + 'static>(&self, future: F) {
        drop(self.0.spawn(future));
    }

    fn live_tasks(&self) -> Option<usize> {
        Some(self.0.num_tasks())
    }

    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Unwrapped(goro::spawn(future))
    }

    fn go<F: Future<Output = ()> + Send + 'static>(future: F) {
        drop(goro::spawn(future));
    }

    fn spawn_blocking<F, T>(f: F) -> Self::Join<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        Unwrapped(goro::spawn_blocking(f))
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        goro::yield_now()
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
        goro::time::sleep(duration)
    }
}

/// tokio's multi-thread runtime with its timer and I/O driver enabled, as `#[tokio::main]`
/// builds it (goro and smol always have their reactor).
#[cfg(not(feature = "goro-only"))]
pub struct Tokio(tokio::runtime::Runtime);

#[cfg(not(feature = "goro-only"))]
impl AsyncRuntime for Tokio {
    type Join<T: Send + 'static> = Unwrapped<tokio::task::JoinHandle<T>>;

    fn start(workers: usize) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_time()
            .enable_io()
            .build();
        Tokio(rt.expect("cannot start tokio"))
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }

    fn spawn_outside<F: Future<Output = ()> + Send + 'static>(&self, future: F) {
        drop(self.0.spawn(future));
    }

    fn live_tasks(&self) -> Option<usize> {
        Some(self.0.metrics().num_alive_tasks())
    }

    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Unwrapped(tokio::spawn(future))
    }

    fn go<F: Future<Output = ()> + Send + 'static>(future: F) {
        drop(tokio::spawn(future));
    }

    fn spawn_blocking<F, T>(f: F) -> Self::Join<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        Unwrapped(tokio::task::spawn_blocking(f))
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(duration)
    }
}

/// The executor every smol worker thread runs.
#[cfg(not(feature = "goro-only"))]
static SMOL_EXECUTOR: smol::Executor<'static> = smol::Executor::new();

/// smol on N threads: each thread runs the executor under futures-lite's `block_on`, which
/// parks on a plain thread parker; async-io's timers are driven by the thread in
/// `smol::block_on` or async-io's own fallback thread; blocking calls go to `unblock`.
///
/// Running the workers under `smol::block_on` (async-io's, which parks in the poller, as
/// `smol::spawn`'s global executor does) measured 10–50% slower on the spawn and yield
/// workloads here, so goro is compared with smol's faster configuration.
#[cfg(not(feature = "goro-only"))]
pub struct Smol {
    /// Dropped to tell the worker threads to stop.
    stop: Option<smol::channel::Sender<()>>,
    /// The worker threads, joined at drop.
    threads: Vec<thread::JoinHandle<()>>,
}

#[cfg(not(feature = "goro-only"))]
impl AsyncRuntime for Smol {
    type Join<T: Send + 'static> = smol::Task<T>;

    fn start(workers: usize) -> Self {
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        let threads = (0..workers)
            .map(|i| {
                let stopped = stopped.clone();
                thread::Builder::new()
                    .name(format!("smol-worker-{i}"))
                    .spawn(move || {
                        let _ = smol::future::block_on(SMOL_EXECUTOR.run(stopped.recv()));
                    })
                    .expect("cannot start a smol worker")
            })
            .collect();
        Smol {
            stop: Some(stop),
            threads,
        }
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        smol::block_on(future)
    }

    fn spawn_outside<F: Future<Output = ()> + Send + 'static>(&self, future: F) {
        SMOL_EXECUTOR.spawn(future).detach();
    }

    fn live_tasks(&self) -> Option<usize> {
        None
    }

    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        SMOL_EXECUTOR.spawn(future)
    }

    fn go<F: Future<Output = ()> + Send + 'static>(future: F) {
        SMOL_EXECUTOR.spawn(future).detach();
    }

    fn spawn_blocking<F, T>(f: F) -> Self::Join<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        // `unblock` hands back the same `async_task::Task` type the executor does.
        smol::unblock(f)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        smol::future::yield_now()
    }

    async fn sleep(duration: Duration) {
        smol::Timer::after(duration).await;
    }
}

#[cfg(not(feature = "goro-only"))]
impl Drop for Smol {
    fn drop(&mut self) {
        drop(self.stop.take());
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
