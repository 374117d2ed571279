//! Tasks: what a spawned future carries, the handle that joins it, and the registry of live
//! tasks.
//!
//! # What a task is
//!
//! A goro task is an `async-task` allocation: one block holding the task's state, its
//! `Meta` (spawn location, registry slot, the runtime it belongs to), the schedule function and
//! the future. The future is wrapped in a `TaskFuture`, which
//!
//! - catches a panic of the future and turns it into the task's output, so a panicking task
//!   never unwinds through a worker ([`JoinError::is_panic`]);
//! - grants the future its cooperative budget for each poll (`goro_sync::coop`);
//! - checks the abort flag, so [`JoinHandle::abort`] drops the future at its next poll;
//! - runs the runtime's poll hooks, if set, before and after each poll ([`TaskMeta`]);
//! - records its state, poll count and worker for task dumps (`dump.rs`);
//! - registers the task's waker in its runtime's registry of live tasks the first time it
//!   parks (a blocking call: when it starts), and removes it when the future is dropped: a
//!   parked task may be reachable only through wakers that other parked tasks hold, so
//!   shutdown wakes every registered task once more, and the schedule function drops it. A
//!   task that finishes in its first poll never takes the registry's lock; while that first
//!   poll runs, its worker shows it to task dumps instead (`dump.rs`).
//!
//! The task's output is wrapped in a `TaskOutput`, whose destructor contains a panic of the
//! output's destructor: async-task drops the output of a detached task inside
//! `Runnable::run`, where a panic aborts the process, and a `JoinHandle` dropped after its task
//! finished drops the output too. A panic in a task, its future's destructor or its output's
//! destructor never crashes the program.
//!
//! # Abort
//!
//! `Meta::reg` is one atomic word holding the task's registry slot, a REGISTERED bit and an
//! ABORTED bit. `abort` sets ABORTED; a task that parks (or a blocking call that starts) sets
//! REGISTERED. Both are read-modify-writes of the same word, so one of them sees the other:
//! either `abort` finds the registered waker and wakes the task, or the registering task
//! finds ABORTED and wakes itself (the blocking call drops its closure at once). Either way
//! its next poll drops the future.

#![allow(unsafe_code)]

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::io;
use std::mem::ManuallyDrop;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use async_task::{FallibleTask, WithInfo};

use crate::dump::Activity;
pub use crate::dump::{TaskDump, TaskInfo, TaskState};
use crate::runtime::Handle;

/// A scheduled task, as the executor's queues hold it.
pub(crate) type Runnable = async_task::Runnable<Meta>;

/// What a task's allocation records about it.
pub(crate) struct Meta {
    /// The runtime the task belongs to. The schedule functions are plain functions that find
    /// the runtime here, so a wake does not pay for a closure's extra waker clone.
    handle: Arc<Handle>,
    /// Registry slot and shard, plus the REGISTERED and ABORTED bits (see the module docs).
    reg: AtomicU64,
    /// Where the task was spawned, for task dumps.
    location: &'static Location<'static>,
    /// State, polls, last worker and time in state, for task dumps.
    activity: Activity,
}

const REGISTERED: u64 = 1 << 62;
/// The task's future has been dropped (see `TaskFuture`).
const DROPPED: u64 = 1 << 60;
/// The task has a name, kept in the registry's side table (most tasks have none, so the
/// name does not take room in every task).
const NAMED: u64 = 1 << 61;
const ABORTED: u64 = 1 << 63;
const SHARD_SHIFT: u32 = 32;
const SHARD_MASK: u64 = 0xFFFF;
// Shard `i + 1` is worker `i`'s: every worker's shard, replacement workers' included (as
// many slots again as workers, `executor/monitor.rs`), must fit in the mask.
const _: () = assert!(2 * crate::builder::MAX_WORKERS < SHARD_MASK as usize);
/// A blocking call dropped because no thread could start for it keeps the OS error here
/// (12 bits: Linux errno values stay below 4096), so its handle can report it.
const SPAWN_ERRNO_SHIFT: u32 = 48;
const SPAWN_ERRNO_MASK: u64 = 0xFFF;
/// The value stored when the thread start failed without an OS error code.
const SPAWN_ERRNO_UNKNOWN: u64 = SPAWN_ERRNO_MASK;

fn reg_shard(reg: u64) -> usize {
    ((reg >> SHARD_SHIFT) & SHARD_MASK) as usize
}

fn reg_slot(reg: u64) -> u32 {
    reg as u32
}

impl fmt::Debug for Meta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id())
            .field("location", &self.location)
            .finish()
    }
}

impl Meta {
    /// The task's id: the address of its metadata, which stays put, and which no other live
    /// task can share. (A separate counter would cost every task 8 bytes.)
    pub(crate) fn id(&self) -> u64 {
        self as *const Meta as usize as u64
    }

    /// The runtime the task belongs to.
    pub(crate) fn handle(&self) -> &Arc<Handle> {
        &self.handle
    }

    /// Marks the task aborted and wakes it so that its next poll drops the future.
    fn abort(&self) {
        let prev = self.reg.fetch_or(ABORTED, Ordering::SeqCst);
        if prev & REGISTERED != 0 {
            let registry = &self.handle.tasks;
            if let Some(waker) = registry.waker(reg_shard(prev), reg_slot(prev)) {
                waker.wake();
            }
        }
    }

    /// Enters the task in its runtime's registry, on the shard of `worker` (the thread
    /// polling it), the first time it parks or, for a blocking call, when it starts (see the
    /// module docs); returns the metadata word before.
    #[cold]
    fn register(&self, worker: Option<usize>, waker: &Waker) -> u64 {
        let shard = worker.map_or(0, |i| i + 1);
        let slot = self.handle.tasks.register(shard, self, waker.clone());
        let bits = REGISTERED | ((shard as u64) << SHARD_SHIFT) | u64::from(slot);
        self.reg.fetch_or(bits, Ordering::SeqCst)
    }

    /// Registers the task the first time it parks (see the module docs).
    #[cold]
    fn park(&self, worker: Option<usize>, cx: &Context<'_>) {
        if self.register(worker, cx.waker()) & ABORTED != 0 {
            cx.waker().wake_by_ref();
        }
    }

    /// What the task has been doing.
    pub(crate) fn activity(&self) -> &Activity {
        &self.activity
    }

    /// Where the task was spawned.
    pub(crate) fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// Whether the task has a name in the registry's side table.
    pub(crate) fn is_named(&self) -> bool {
        self.reg.load(Ordering::Relaxed) & NAMED != 0
    }

    /// The error that kept a blocking call from starting, if that is why it was dropped.
    fn spawn_error(&self) -> Option<io::Error> {
        let code = (self.reg.load(Ordering::Acquire) >> SPAWN_ERRNO_SHIFT) & SPAWN_ERRNO_MASK;
        match code {
            0 => None,
            SPAWN_ERRNO_UNKNOWN => Some(io::Error::other("the OS refused to start a thread")),
            errno => Some(io::Error::from_raw_os_error(errno as i32)),
        }
    }

    /// The task's future is gone: leave the registry and the live count.
    fn finish(&self) {
        let handle = &self.handle;
        let reg = self.reg.load(Ordering::Acquire);
        if reg & REGISTERED != 0 {
            handle.tasks.deregister(reg_shard(reg), reg_slot(reg));
        }
        if reg & NAMED != 0 {
            handle.tasks.unname(self.id());
        }
        handle
            .tasks
            .finished(crate::executor::registry_shard(handle));
    }
}

/// Why a task ended without its future's output. Boxed: it is rare, and a thin pointer
/// keeps the task's output slot, which async-task sizes for every task, at 8 bytes + `T`.
struct Abnormal(Box<AbnormalKind>);

enum AbnormalKind {
    /// The future panicked; the payload.
    Panicked(Box<dyn Any + Send + 'static>),
    /// `JoinHandle::abort` dropped the future.
    Aborted,
}

/// A task's output, as async-task stores it: dropping it contains a panic of the value's
/// destructor (see the module docs). `ManuallyDrop` keeps it the size of the value.
struct TaskOutput<T>(ManuallyDrop<T>);

impl<T> TaskOutput<T> {
    fn new(value: T) -> TaskOutput<T> {
        TaskOutput(ManuallyDrop::new(value))
    }

    /// The value, for the joiner (whose own code drops it).
    fn into_inner(self) -> T {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped (it is in a `ManuallyDrop`), so the value is taken
        // out exactly once and never dropped here.
        unsafe { ManuallyDrop::take(&mut this.0) }
    }
}

impl<T> Drop for TaskOutput<T> {
    fn drop(&mut self) {
        let value = &mut self.0;
        let _ = panic::catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: this is the only place the value is dropped, once, in `drop`; `into_inner`
            // takes it out without running this destructor.
            unsafe { ManuallyDrop::drop(value) }
        }));
    }
}

/// The future a task runs: the user's future, plus panic capture, budget and abort.
///
/// The user's future is always dropped here, inside `catch_unwind`, because async-task aborts
/// the process if a future's destructor panics inside it. It sits in a `ManuallyDrop`, with
/// "already dropped" recorded as a bit of `Meta::reg`, because an `Option` would cost every
/// task 8 more bytes (the difference between a 96- and a 112-byte allocation).
struct TaskFuture<'a, F> {
    /// The task's metadata, in the same allocation.
    meta: &'a Meta,
    /// The user's future; dropped in place (never moved) once `DROPPED` is set.
    future: ManuallyDrop<F>,
}

impl<F> TaskFuture<'_, F> {
    /// Drops the user's future in place, once, containing a panic of its destructor.
    fn drop_future(&mut self) {
        if self.meta.reg.fetch_or(DROPPED, Ordering::Relaxed) & DROPPED != 0 {
            return;
        }
        let future = &mut self.future;
        let _ = panic::catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: the `DROPPED` bit, set just above, guarantees this runs once; the future
            // is dropped where it lies (pinning allows that) and never touched again.
            unsafe { ManuallyDrop::drop(future) }
        }));
    }
}

impl<F> Drop for TaskFuture<'_, F> {
    fn drop(&mut self) {
        self.drop_future();
        self.meta.finish();
    }
}

impl<F: Future> Future for TaskFuture<'_, F> {
    type Output = Outcome<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: nothing below moves the future: it is polled through a pinned reference and
        // dropped in place.
        let this = unsafe { self.get_unchecked_mut() };
        let mut reg = this.meta.reg.load(Ordering::Acquire);
        if reg & DROPPED != 0 {
            return Poll::Pending; // finished already; async-task never polls it again
        }
        let meta = this.meta;
        let worker = crate::executor::this_worker();
        let first = reg & REGISTERED == 0;
        let shown_by = match worker {
            // A first poll on a worker: the worker shows the task to dumps meanwhile.
            Some(w) if first => meta.handle.executor.remotes.get(w).map(|r| &r.first_poll),
            Some(_) => None,
            // A blocking call: registered for the whole call, which may be long.
            None if first => {
                reg = meta.register(None, cx.waker()) | REGISTERED;
                None
            }
            None => None,
        };
        if let Some(slot) = shown_by {
            slot.show(meta);
        }
        meta.activity.running(worker);
        let hooks = &meta.handle.hooks;
        if let Some(hook) = &hooks.before_poll {
            run_poll_hook(hook, meta);
        }
        let out = this.poll_future(cx, reg);
        if let Some(hook) = &hooks.after_poll {
            run_poll_hook(hook, meta);
        }
        if out.is_pending() && reg & REGISTERED == 0 {
            meta.park(worker, cx);
        }
        // Registered before it leaves the slot, so a dump (slots first) cannot miss it.
        if let Some(slot) = shown_by {
            slot.clear();
        }
        meta.activity.polled(worker, out.is_pending());
        out
    }
}

/// Runs a poll hook, containing its panic: a hook's failure is neither the task's nor the
/// worker's (the panic message is printed as usual).
#[cold]
fn run_poll_hook(hook: &crate::builder::PollHook, meta: &Meta) {
    let task = TaskMeta { meta };
    let _ = panic::catch_unwind(AssertUnwindSafe(|| hook(&task)));
}

impl<F: Future> TaskFuture<'_, F> {
    /// One poll of the user's future (or its drop, if the task was aborted); `reg` is the
    /// metadata word read at the start of the poll.
    #[inline]
    fn poll_future(&mut self, cx: &mut Context<'_>, reg: u64) -> Poll<Outcome<F::Output>> {
        let this = self;
        let result = if reg & ABORTED != 0 {
            Err(Abnormal(Box::new(AbnormalKind::Aborted)))
        } else {
            // SAFETY: `this` came from a pinned reference (see `poll`), so its `future` field
            // is pinned too; it is not moved until it is dropped in place.
            let future = unsafe { Pin::new_unchecked(&mut *this.future) };
            let budget = goro_sync::coop::DEFAULT_BUDGET;
            let polled = panic::catch_unwind(AssertUnwindSafe(|| {
                goro_sync::coop::with_budget(budget, || future.poll(cx))
            }));
            match polled {
                Ok(Poll::Ready(out)) => Ok(out),
                Ok(Poll::Pending) => return Poll::Pending,
                Err(payload) => Err(Abnormal(Box::new(AbnormalKind::Panicked(payload)))),
            }
        };
        this.drop_future();
        Poll::Ready(TaskOutput::new(result))
    }
}

/// What the poll hooks ([`Builder::on_before_task_poll`](crate::Builder::on_before_task_poll),
/// [`on_after_task_poll`](crate::Builder::on_after_task_poll)) learn about the task being
/// polled.
///
/// ```
/// let rt = goro::Builder::new()
///     .worker_threads(1)
///     .on_before_task_poll(|task: &goro::task::TaskMeta<'_>| {
///         if let Some(name) = task.name() {
///             eprintln!("polling {name} (task {}, spawned at {})", task.id(), task.location());
///         }
///     })
///     .build()
///     .unwrap();
/// rt.block_on(async { goro::task::Builder::new().name("hello").spawn(async {}).await })
///     .unwrap();
/// ```
pub struct TaskMeta<'a> {
    meta: &'a Meta,
}

impl TaskMeta<'_> {
    /// The task's id, as [`JoinHandle::id`] gives it.
    pub fn id(&self) -> u64 {
        self.meta.id()
    }

    /// The task's name, if it was spawned with one ([`Builder::name`]). Looking it up takes
    /// a lock, only for a named task.
    pub fn name(&self) -> Option<String> {
        if self.meta.reg.load(Ordering::Relaxed) & NAMED == 0 {
            return None;
        }
        self.meta.handle.tasks.name_of(self.meta.id())
    }

    /// Where the task was spawned.
    pub fn location(&self) -> &'static Location<'static> {
        self.meta.location
    }
}

impl fmt::Debug for TaskMeta<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskMeta")
            .field("id", &self.id())
            .field("location", &self.location())
            .finish()
    }
}

/// Which queue a task's wakes go to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// An async task, run by the workers.
    Async,
    /// A blocking closure, run by the blocking pool.
    Blocking,
}

/// Creates a task on `handle` and schedules it. After shutdown the future is dropped (here,
/// outside any borrow of the current-runtime thread-local) and the handle reports
/// cancellation.
pub(crate) fn spawn_on<F>(
    handle: &Arc<Handle>,
    future: F,
    name: Option<String>,
    kind: Kind,
    location: &'static Location<'static>,
) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match try_spawn_on(handle, future, name, kind, location) {
        Ok(join) => join,
        Err(future) => {
            drop(future);
            JoinHandle { task: None }
        }
    }
}

/// Creates a task on `handle` and schedules it, or gives the future back after shutdown.
pub(crate) fn try_spawn_on<F>(
    handle: &Arc<Handle>,
    future: F,
    name: Option<String>,
    kind: Kind,
    location: &'static Location<'static>,
) -> Result<JoinHandle<F::Output>, F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    if handle.is_shutdown() {
        return Err(future);
    }
    handle
        .tasks
        .spawned(crate::executor::registry_shard(handle));
    let meta = Meta {
        handle: handle.clone(),
        reg: AtomicU64::new(if name.is_some() { NAMED } else { 0 }),
        location,
        activity: Activity::new(matches!(kind, Kind::Blocking)),
    };
    let (runnable, task) = match kind {
        Kind::Async => allocate(meta, future, WithInfo(crate::executor::schedule)),
        Kind::Blocking => allocate(meta, future, schedule_blocking),
    };
    if let Some(name) = name {
        handle.tasks.name(task.metadata().id(), name);
    }
    let meta = NonNull::from(task.metadata());
    match kind {
        // `handle` is borrowed for the whole call: no reference count to take.
        Kind::Async => crate::executor::schedule_new(handle, runnable),
        Kind::Blocking => runnable.schedule(),
    }
    Ok(JoinHandle {
        task: Some((task.fallible(), meta)),
    })
}

/// Drops a blocking call that no thread can run, recording `err` for its handle.
pub(crate) fn fail_to_start(runnable: Runnable, err: &io::Error) {
    let code = match err.raw_os_error() {
        Some(errno @ 1..) if (errno as u64) < SPAWN_ERRNO_UNKNOWN => errno as u64,
        _ => SPAWN_ERRNO_UNKNOWN,
    };
    runnable
        .metadata()
        .reg
        .fetch_or(code << SPAWN_ERRNO_SHIFT, Ordering::Release);
    crate::executor::drop_runnable(runnable);
}

/// The schedule function of blocking tasks (a cold path: one schedule per call).
fn schedule_blocking(runnable: Runnable) {
    runnable.metadata().activity.scheduled();
    let handle = runnable.metadata().handle.clone();
    handle.blocking.schedule(&handle, runnable);
}

/// Allocates the task: the future wrapped in a `TaskFuture` that borrows the metadata.
fn allocate<F, S>(
    meta: Meta,
    future: F,
    schedule: S,
) -> (Runnable, async_task::Task<Outcome<F::Output>, Meta>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: async_task::Schedule<Meta> + Send + Sync + 'static,
{
    let builder = async_task::Builder::new().metadata(meta);
    // SAFETY: `spawn_unchecked` lets the future borrow the task's metadata, which is what
    // `TaskFuture` does with `&'a Meta`; async-task keeps the metadata alive, at the same
    // address, for as long as the future exists. Nothing else is borrowed. The future is
    // `Send` (F: Send, Meta: Sync) and the schedule function is `Send + Sync + 'static`, so
    // the runnable and its wakers may go to any thread.
    unsafe {
        builder.spawn_unchecked(
            move |meta| TaskFuture {
                meta,
                future: ManuallyDrop::new(future),
            },
            schedule,
        )
    }
}

/// An owned permission to join a task: await it for the task's output.
///
/// Dropping a `JoinHandle` *detaches* the task, as a `go` statement does: it keeps running.
/// Use [`JoinHandle::abort`] to stop it.
///
/// # Cancel safety
///
/// Awaiting `&mut handle` is cancel safe: the task's output is taken out only by the poll
/// that returns it, so a `select!` arm `&mut handle` that loses leaves the output for the next
/// await, and the task runs on meanwhile. Using the handle *by value* as an arm is different:
/// a losing arm drops the handle, which detaches the task, and its output is then lost.
///
/// ```
/// use std::time::Duration;
///
/// goro::block_on(async {
///     let (release, gate) = goro::sync::chan::bounded::<()>(0);
///     let mut handle = goro::spawn(async move {
///         gate.recv().await; // runs until released
///         42
///     });
///     let early = goro::time::timeout(Duration::from_millis(1), &mut handle).await;
///     assert!(early.is_err()); // gave up waiting; the task runs on
///     release.close();
///     assert_eq!(handle.await.unwrap(), 42);
/// });
/// ```
///
/// ```
/// goro::block_on(async {
///     let handle = goro::spawn(async { 6 * 7 });
///     assert_eq!(handle.await.unwrap(), 42);
/// });
/// ```
pub struct JoinHandle<T> {
    /// The task and a pointer to its metadata; `None` when spawned after shutdown.
    task: Option<(RawJoin<T>, NonNull<Meta>)>,
}

/// The async-task handle under a [`JoinHandle`].
type RawJoin<T> = FallibleTask<Outcome<T>, Meta>;

/// What a task's allocation holds once the task has ended.
type Outcome<T> = TaskOutput<Result<T, Abnormal>>;

// SAFETY: the `NonNull<Meta>` is only read as `&Meta` (which is `Sync`); everything else is
// an async-task handle, `Send`/`Sync` when `T` is `Send`.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: as above: `&JoinHandle` only reads the metadata and calls thread-safe methods.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    fn meta(&self) -> Option<&Meta> {
        // SAFETY: the pointer came from `Task::metadata` and the metadata lives inside the
        // task allocation, which the `FallibleTask` stored next to it keeps alive (and in
        // place) for as long as this handle holds it.
        self.task.as_ref().map(|(_, meta)| unsafe { meta.as_ref() })
    }

    /// Stops the task: its future is dropped at its next poll, without running further, and
    /// awaiting this handle gives a [`JoinError`] whose `is_cancelled()` is true. Aborting a
    /// task that has already finished changes nothing.
    ///
    /// ```
    /// goro::block_on(async {
    ///     let handle = goro::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        if let Some(meta) = self.meta() {
            meta.abort();
        }
    }

    /// Whether the task has finished (completed, panicked or been cancelled).
    pub fn is_finished(&self) -> bool {
        self.task
            .as_ref()
            .is_none_or(|(task, _)| task.is_finished())
    }

    /// The task's id: unique among the live tasks of this process (an id may be reused once
    /// its task has finished and its handle is gone). `None` if the task was never spawned
    /// because its runtime had shut down.
    pub fn id(&self) -> Option<u64> {
        self.meta().map(Meta::id)
    }

    /// The name given when the task was spawned (while the task is alive).
    pub fn name(&self) -> Option<String> {
        let meta = self.meta()?;
        if meta.reg.load(Ordering::Relaxed) & NAMED == 0 {
            return None;
        }
        meta.handle.tasks.name_of(meta.id())
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some((task, _)) = self.task.as_mut() else {
            return Poll::Ready(Err(JoinError::cancelled()));
        };
        let output = std::task::ready!(Pin::new(task).poll(cx)).map(TaskOutput::into_inner);
        Poll::Ready(match output {
            Some(Ok(out)) => Ok(out),
            Some(Err(Abnormal(abnormal))) => match *abnormal {
                AbnormalKind::Panicked(payload) => Err(JoinError::panicked(payload)),
                AbnormalKind::Aborted => Err(JoinError::cancelled()),
            },
            None => match self.meta().and_then(Meta::spawn_error) {
                Some(e) => Err(JoinError {
                    repr: Repr::NoThread(e),
                }),
                None => Err(JoinError::cancelled()),
            },
        })
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some((task, _)) = self.task.take() {
            task.detach();
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("task", &self.meta())
            .field("is_finished", &self.is_finished())
            .finish()
    }
}

/// Why awaiting a [`JoinHandle`] gave no output: the task panicked or was cancelled.
///
/// A blocking call that never ran because the OS refused to start a thread for it (and the
/// pool had none) counts as cancelled, and [`JoinError::spawn_error`] gives the OS error:
///
/// ```
/// goro::block_on(async {
///     match goro::spawn_blocking(|| 1).await {
///         Ok(n) => assert_eq!(n, 1),
///         Err(e) if e.spawn_error().is_some() => eprintln!("no thread: {e}"),
///         Err(e) => panic!("{e}"),
///     }
/// });
/// ```
///
/// It is an ordinary error: `Send + Sync + 'static`, [`std::error::Error`], and it converts
/// into [`io::Error`] (kind `Other`, with the `JoinError` inside, to downcast), so `?` takes
/// it into `io::Result`, `Box<dyn Error + Send + Sync>` or `anyhow::Result`:
///
/// ```
/// use std::io;
///
/// async fn checksum() -> io::Result<u32> {
///     let sum = goro::spawn(async { 6 * 7 }).await?; // JoinError -> io::Error
///     Ok(sum)
/// }
///
/// goro::block_on(async {
///     assert_eq!(checksum().await.unwrap(), 42);
///     let err: io::Error = goro::spawn(async { panic!("disk on fire") }).await.unwrap_err().into();
///     assert_eq!(err.kind(), io::ErrorKind::Other);
///     let join = err.into_inner().unwrap().downcast::<goro::JoinError>().unwrap();
///     assert!(join.is_panic());
/// });
/// ```
pub struct JoinError {
    /// Which of the three.
    repr: Repr,
}

enum Repr {
    Panic {
        /// The payload's message, when it is a `&str` or a `String`, read once so that
        /// `Display` need not touch the payload.
        message: Option<String>,
        /// The payload, behind a mutex only so that the error is `Sync` (a panic payload is
        /// only `Send`); it is never locked while shared: `into_panic` takes it by value.
        payload: Mutex<Box<dyn Any + Send + 'static>>,
    },
    Cancelled,
    /// A blocking call dropped because no thread could start for it; the OS error.
    NoThread(io::Error),
}

impl JoinError {
    fn cancelled() -> JoinError {
        JoinError {
            repr: Repr::Cancelled,
        }
    }

    fn panicked(payload: Box<dyn Any + Send + 'static>) -> JoinError {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned());
        JoinError {
            repr: Repr::Panic {
                message,
                payload: Mutex::new(payload),
            },
        }
    }

    /// True if the task's future panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic { .. })
    }

    /// True if the task was aborted, or dropped by the runtime's shutdown, or (a blocking
    /// call) dropped because no thread could start for it: see [`JoinError::spawn_error`].
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled | Repr::NoThread(_))
    }

    /// For a blocking call that never ran because the OS refused to start a thread for it
    /// while the pool had none (EAGAIN: at the process's thread limit, or out of memory):
    /// the OS error. The next blocking call tries to start a thread again.
    pub fn spawn_error(&self) -> Option<&io::Error> {
        match &self.repr {
            Repr::NoThread(e) => Some(e),
            _ => None,
        }
    }

    /// The panic payload, to re-raise with `std::panic::resume_unwind`.
    ///
    /// # Panics
    ///
    /// If the task was cancelled rather than panicking: check [`JoinError::is_panic`] first,
    /// or use [`JoinError::try_into_panic`].
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("JoinError::into_panic called on a cancelled task: check is_panic() first")
    }

    /// The panic payload, or the error itself when the task was cancelled.
    ///
    /// # Errors
    ///
    /// Gives `self` back when the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic { payload, .. } => {
                Ok(payload.into_inner().unwrap_or_else(PoisonError::into_inner))
            }
            Repr::Cancelled | Repr::NoThread(_) => Err(self),
        }
    }

    fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic { message, .. } => message.as_deref(),
            Repr::Cancelled | Repr::NoThread(_) => None,
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Panic { .. } => f
                .debug_tuple("JoinError::Panic")
                .field(&self.panic_message().unwrap_or("<non-string payload>"))
                .finish(),
            Repr::Cancelled => f.write_str("JoinError::Cancelled"),
            Repr::NoThread(e) => f.debug_tuple("JoinError::NoThread").field(e).finish(),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Panic { .. } => match self.panic_message() {
                Some(msg) => write!(f, "task panicked: {msg}"),
                None => f.write_str("task panicked"),
            },
            Repr::Cancelled => f.write_str("task was cancelled"),
            Repr::NoThread(e) => write!(
                f,
                "blocking call never ran: the OS refused to start a thread for it: {e}"
            ),
        }
    }
}

impl std::error::Error for JoinError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.repr {
            Repr::NoThread(e) => Some(e),
            _ => None,
        }
    }
}

/// A `JoinError` as an [`io::Error`] of kind `Other`, holding the `JoinError` (get it back
/// with `into_inner` and `downcast`): this is what lets `?` take a task's failure into an
/// `io::Result`.
///
/// ```
/// let err = goro::block_on(async {
///     let handle = goro::spawn(std::future::pending::<()>());
///     handle.abort();
///     handle.await.unwrap_err()
/// });
/// let io: std::io::Error = err.into();
/// assert_eq!(io.kind(), std::io::ErrorKind::Other);
/// assert_eq!(io.to_string(), "task was cancelled");
/// ```
impl From<JoinError> for io::Error {
    fn from(err: JoinError) -> io::Error {
        io::Error::other(err)
    }
}

/// Builds a task with options: today, a name that task dumps and [`JoinHandle::name`] show.
///
/// ```
/// goro::block_on(async {
///     let handle = goro::task::Builder::new()
///         .name("fetcher")
///         .spawn(std::future::pending::<()>());
///     assert_eq!(handle.name().as_deref(), Some("fetcher"));
///     handle.abort();
/// });
/// ```
#[derive(Debug, Default)]
pub struct Builder {
    /// The name the task will carry.
    name: Option<String>,
}

impl Builder {
    /// A builder for an unnamed task.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task.
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// The spawn location of the task that calls it is recorded too, for task dumps.
    ///
    /// Spawns the task on the current runtime (the global one outside any runtime).
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let location = Location::caller();
        crate::current::with_handle(|h| spawn_on(h, future, self.name, Kind::Async, location))
    }
}

/// Spawns a task: Go's `go` statement.
///
/// Inside a runtime (a task, a blocking call, `Runtime::block_on`) the task goes to that
/// runtime; anywhere else to the global runtime, which starts on first use. The task runs
/// whether or not the returned handle is kept.
///
/// ```
/// goro::block_on(async {
///     let handles: Vec<_> = (0..10).map(|i| goro::spawn(async move { i * 2 })).collect();
///     let mut sum = 0;
///     for h in handles {
///         sum += h.await.unwrap();
///     }
///     assert_eq!(sum, 90);
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let location = Location::caller();
    crate::current::with_handle(|h| spawn_on(h, future, None, Kind::Async, location))
}

/// Runs a blocking function on the blocking pool, off the workers: Go runs a blocking
/// syscall on its own thread in the same way.
///
/// ```
/// goro::block_on(async {
///     let len = goro::spawn_blocking(|| std::fs::read("Cargo.toml").map(|b| b.len()));
///     assert!(len.await.unwrap().unwrap() > 0);
/// });
/// ```
///
/// A panic of `f` is reported through the handle ([`JoinError::is_panic`]). If the OS
/// refuses to start a thread for it while the pool has none (the process is at its thread
/// limit), `f` is dropped without running and the handle reports the OS error
/// ([`JoinError::spawn_error`]) at once, rather than leaving the call queued for ever; the
/// next call tries to start a thread again.
#[track_caller]
pub fn spawn_blocking<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let location = Location::caller();
    let future = async move { f() };
    crate::current::with_handle(|h| spawn_on(h, future, None, Kind::Blocking, location))
}

/// The number of live tasks of the current runtime: Go's `runtime.NumGoroutine`.
///
/// A task is live from its spawn until its future completes or is dropped. Blocking calls
/// in flight count too.
///
/// ```
/// goro::block_on(async {
///     let before = goro::num_tasks();
///     let (tx, rx) = std::sync::mpsc::channel::<()>();
///     let parked = goro::spawn_blocking(move || rx.recv());
///     assert_eq!(goro::num_tasks(), before + 1);
///     drop(tx);
///     let _ = parked.await;
/// });
/// ```
pub fn num_tasks() -> usize {
    crate::current::with_handle(|h| h.tasks.live())
}

/// Lets other tasks run: Go's `runtime.Gosched`.
///
/// The task goes behind every task that is runnable at that moment, including those woken
/// from other threads, so two tasks that yield in a loop on one worker interleave.
///
/// ```
/// goro::block_on(async {
///     goro::yield_now().await;
/// });
/// ```
///
/// # Cancel safety
///
/// Cancel safe: it holds nothing. A `YieldNow` dropped after its first poll has already
/// re-queued the task, which is then polled once more for nothing.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    /// Whether the task has already gone to the back of the queue once.
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // Waking ourselves while running sends the task to the back of the injector.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
