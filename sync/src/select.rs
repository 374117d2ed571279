//! `select!`: wait on several futures at once, and commit exactly one channel operation.
//!
//! The macro turns its arms into pinned futures and hands a closure that polls arm `i` to
//! [`Select`], a future that only decides *which* arm completes and yields that arm's output.
//! The arm bodies run afterwards, in the caller's own scope (a `match` on a generated enum), so
//! they may use `?`, `return`, `break` and `continue` like any other code.
//!
//! # The commit token
//!
//! All channel arms of one select share one [`Token`], an atomic word:
//!
//! - `IDLE`: the select is waiting; a counterpart may claim it.
//! - `POLLING`: the select's task is in the middle of a pass over its arms. Nobody but the
//!   polling thread may change it, except to set the `DIRTY` bit: "someone wanted you while
//!   you were busy, look again".
//! - `CLAIMED(arm)`: final. Arm `arm` committed: its operation took effect, and no other arm's
//!   ever will.
//!
//! Counterparts (a sender finding a select's waiting receiver, say) move it `IDLE →
//! CLAIMED(arm)` under that channel's lock, hand over, and wake the select. The select itself
//! moves it `IDLE → POLLING` when a pass begins, and from `POLLING` to `CLAIMED(arm)` (an arm
//! completed during the pass), back to `IDLE` (nothing was ready) or, if `DIRTY` was set,
//! clears the bit and runs the pass again. See the channel docs
//! ([`chan`](crate::chan#the-commit-protocol)) for why this neither loses nor duplicates a value.
//!
//! # A poll
//!
//! 1. Take one unit of the task's cooperative budget (for the whole select).
//! 2. `IDLE → POLLING`; if the token is already `CLAIMED(k)`, a counterpart handed arm `k` its
//!    value while we slept: poll arm `k` alone, and it completes with what it was handed.
//!    While no channel holds the token (no arm has queued a waiter: the first poll of every
//!    `select!`), no other thread can see it, and this move and the commit below are plain
//!    stores instead of compare-and-swaps: a select over ready channels makes no atomic
//!    read-modify-write of its own.
//! 3. Poll the arms in a fresh random order (uniform among permutations, so every ready arm is
//!    equally likely to be first), each inside [`enter`], which tells channel futures which
//!    select and arm they belong to. The first arm to complete, or whose channel operation
//!    committed the token, is chosen.
//! 4. Nothing ready: with a `default` arm, commit to it. Otherwise `POLLING → IDLE` and return
//!    `Pending`; if that fails because `DIRTY` was set, run the pass again (up to
//!    [`MAX_PASSES`], then go `IDLE`, wake ourselves and let the executor poll us again).
//!
//! The arm futures not chosen are dropped by the macro as soon as the select future completes,
//! which removes their waiters from the channels.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::chan::loom::{thread_local, AtomicUsize};
use crate::coop;

/// The most arms one `select!` may have: the macro carries 64 arm names.
pub(crate) const MAX_ARMS: usize = 64;

/// How many passes a select runs in one poll before returning to the executor.
///
/// A pass re-runs only when a counterpart arrived while it was polling, which is rare; several
/// in a row mean the select is being raced continuously, or keeps meeting another select
/// mid-pass. Going back to the executor, after waking itself, lets the others finish (and
/// breaks any lockstep between two selects) instead of spinning on this worker.
pub(crate) const MAX_PASSES: usize = 4;

/// Token state: the select is waiting and may be claimed by a counterpart.
const IDLE: usize = 0;
/// Token state: the select's own thread is polling its arms.
const POLLING: usize = 0b001;
/// Flag on `POLLING`: a counterpart skipped one of this select's waiters mid-pass.
const DIRTY: usize = 0b010;
/// Token state: an arm committed; the arm index is stored above [`ARM_SHIFT`].
const CLAIMED: usize = 0b100;
/// Where the committed arm's index starts in the token word.
const ARM_SHIFT: u32 = 3;

const fn claimed(arm: usize) -> usize {
    CLAIMED | (arm << ARM_SHIFT)
}

/// A select's commit token: which of its arms, if any, has taken effect.
pub(crate) struct Token {
    /// `IDLE`, `POLLING` (maybe `| DIRTY`) or `CLAIMED | arm << ARM_SHIFT`.
    state: AtomicUsize,
}

/// The outcome of a counterpart's attempt to claim a waiting select.
#[must_use]
pub(crate) enum Claim {
    /// The token is ours (`IDLE → CLAIMED(arm)`): hand over.
    Won,
    /// The select is mid-pass: skip its waiter (it is now marked `DIRTY`).
    Busy,
    /// The select already committed to an arm: its waiter is stale.
    Lost,
}

/// How a pass may begin.
#[must_use]
pub(crate) enum Begin {
    /// `IDLE → POLLING`: poll the arms.
    Polling,
    /// A counterpart committed this arm while we waited.
    Claimed(usize),
}

/// How a pass that found nothing ended.
#[must_use]
#[derive(PartialEq, Eq)]
pub(crate) enum End {
    /// `POLLING → IDLE`: counterparts may claim us now.
    Idle,
    /// `DIRTY` was set (now cleared, still `POLLING`): run the pass again.
    Dirty,
}

impl Token {
    pub(crate) fn new() -> Arc<Token> {
        // A `select!` whose arms were ready at once leaves its token unshared: reuse it rather
        // than allocate one per `select!` (half the cost of a select over ready channels).
        #[cfg(not(all(test, goro_loom)))]
        if let Some(spare) = SPARE_TOKEN.try_with(Cell::take).ok().flatten() {
            return spare;
        }
        Arc::new(Token {
            state: AtomicUsize::new(IDLE),
        })
    }

    /// Keeps `token` for the next `select!` on this thread, if nobody else holds it.
    ///
    /// Tokens are never downgraded to `Weak`, so a strong count of one means this is the only
    /// reference, and nobody can make another: it is safe to reset and reuse. The fence
    /// orders the reset after the last other holder's use (its drop was a release).
    #[cfg(not(all(test, goro_loom)))]
    pub(crate) fn recycle(token: Arc<Token>) {
        if Arc::strong_count(&token) == 1 {
            std::sync::atomic::fence(Acquire);
            token.state.store(IDLE, Relaxed);
            let _ = SPARE_TOKEN.try_with(|spare| spare.set(Some(token)));
        }
    }

    /// As [`Token::recycle`], for a holder that cannot give its reference up (it keeps a
    /// clone in the spare slot).
    #[cfg(not(all(test, goro_loom)))]
    pub(crate) fn recycle_ref(token: &Arc<Token>) {
        if Arc::strong_count(token) == 1 {
            std::sync::atomic::fence(Acquire);
            token.state.store(IDLE, Relaxed);
            let _ = SPARE_TOKEN.try_with(|spare| spare.set(Some(token.clone())));
        }
    }

    /// The arm this token committed to, if any.
    pub(crate) fn claimed_arm(&self) -> Option<usize> {
        let state = self.state.load(Acquire);
        (state & CLAIMED != 0).then_some(state >> ARM_SHIFT)
    }

    /// A counterpart's claim on `arm`, under the lock of the channel where it found the waiter.
    /// If the select is mid-pass, marks it `DIRTY` so that it looks again.
    pub(crate) fn claim_waiting(&self, arm: usize) -> Claim {
        let mut state = self.state.load(Acquire);
        loop {
            let next = match state {
                IDLE => claimed(arm),
                s if s & CLAIMED != 0 => return Claim::Lost,
                s if s & DIRTY != 0 => return Claim::Busy,
                s => s | DIRTY,
            };
            match self.state.compare_exchange(state, next, AcqRel, Acquire) {
                Ok(_) if next & CLAIMED != 0 => return Claim::Won,
                Ok(_) => return Claim::Busy,
                Err(actual) => state = actual,
            }
        }
    }

    /// The select's own commit to `arm`, made mid-pass. True if the token is (now) `arm`'s.
    pub(crate) fn commit(self: &Arc<Self>, arm: usize) -> bool {
        if let Some(state) = self.unshared() {
            // Nobody else can see the token: a plain store does what the CAS would.
            if state & CLAIMED != 0 {
                return state == claimed(arm);
            }
            self.state.store(claimed(arm), Relaxed);
            return true;
        }
        let mut state = self.state.load(Acquire);
        loop {
            if state & CLAIMED != 0 {
                return state == claimed(arm);
            }
            debug_assert!(state & POLLING != 0, "a select committed outside a pass");
            match self
                .state
                .compare_exchange(state, claimed(arm), AcqRel, Acquire)
            {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
    }

    /// The token's state, if the caller holds the only reference to it: then no other thread
    /// can read or change it (every other reference is a clone in a channel's waiter queue,
    /// and only the select's own thread makes those), so plain loads and stores replace the
    /// compare-and-swaps. A `select!` whose arms are ready at once never shares its token,
    /// and so pays for no atomic read-modify-write.
    ///
    /// The count is read `Relaxed`; the fence orders what follows after the drop of the last
    /// other reference (a release), as `Arc`'s own `get_mut` does.
    fn unshared(self: &Arc<Self>) -> Option<usize> {
        if Arc::strong_count(self) != 1 {
            return None;
        }
        std::sync::atomic::fence(Acquire);
        Some(self.state.load(Relaxed))
    }

    /// Begins a pass of the select's own thread over its arms.
    pub(crate) fn begin_pass(self: &Arc<Self>) -> Begin {
        if self.unshared() == Some(IDLE) {
            self.state.store(POLLING, Relaxed);
            return Begin::Polling;
        }
        match self.state.compare_exchange(IDLE, POLLING, AcqRel, Acquire) {
            Ok(_) => Begin::Polling,
            Err(state) if state & CLAIMED != 0 => Begin::Claimed(state >> ARM_SHIFT),
            // Still POLLING: an earlier poll unwound mid-pass. We are the only poller, and a
            // full pass follows, so whatever DIRTY recorded will be seen.
            Err(_) => {
                self.state.store(POLLING, Release);
                Begin::Polling
            }
        }
    }

    /// Ends a pass that found nothing ready.
    pub(crate) fn end_pass(&self) -> End {
        match self.state.compare_exchange(POLLING, IDLE, AcqRel, Acquire) {
            Ok(_) => End::Idle,
            Err(state) => {
                debug_assert_eq!(state, POLLING | DIRTY);
                // Nobody else can leave POLLING|DIRTY, so this cannot fail.
                self.state.store(POLLING, Release);
                End::Dirty
            }
        }
    }

    /// Gives up a dirty pass: `POLLING → IDLE`. The caller wakes its task to poll again.
    pub(crate) fn abandon_pass(&self) {
        self.state.swap(IDLE, AcqRel);
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("state", &self.state.load(Relaxed))
            .finish()
    }
}

thread_local! {
    /// The select arms being polled on this thread, innermost last (selects can nest).
    // loom's `thread_local!` has no `const` form, and this must read the same under both.
    #[allow(clippy::missing_const_for_thread_local)]
    static ARMS: RefCell<Vec<(Arc<Token>, usize)>> = RefCell::new(Vec::new());
    /// This thread's xorshift state.
    static RNG: Cell<u64> = Cell::new(seed());
}

#[cfg(not(all(test, goro_loom)))]
std::thread_local! {
    /// A token left unshared by this thread's last `select!`, ready for the next one.
    static SPARE_TOKEN: Cell<Option<Arc<Token>>> = const { Cell::new(None) };
}

/// Marks arm `arm` of the select owning `token` as being polled on this thread until the
/// returned guard is dropped. Channel futures polled meanwhile take part in its commit.
pub(crate) fn enter(token: &Arc<Token>, arm: usize) -> Entered<'static> {
    ARMS.with(|arms| arms.borrow_mut().push((token.clone(), arm)));
    Entered { slot: None }
}

/// As [`enter`], lending the select's own reference to its token for the poll instead of a
/// clone (no reference count touched): the guard puts it back in `slot`.
fn enter_lending(slot: &mut Option<Arc<Token>>, arm: usize) -> Entered<'_> {
    let token = slot.take().expect("a select's token is lent out twice");
    ARMS.with(|arms| arms.borrow_mut().push((token, arm)));
    Entered { slot: Some(slot) }
}

/// Leaves the arm entered by [`enter`], also on unwind.
pub(crate) struct Entered<'a> {
    /// Where a lent token goes back.
    slot: Option<&'a mut Option<Arc<Token>>>,
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        let entry = ARMS.with(|arms| arms.borrow_mut().pop());
        if let (Some(slot), Some((token, _))) = (self.slot.take(), entry) {
            *slot = Some(token);
        }
    }
}

/// The select arm being polled on this thread, if any.
pub(crate) fn current_arm() -> Option<(Arc<Token>, usize)> {
    ARMS.with(|arms| arms.borrow().last().cloned())
}

/// Runs `f` on the select arm being polled on this thread, if any, without cloning its
/// token. `f` must not poll anything (the arm stack is borrowed meanwhile).
pub(crate) fn with_current_arm<R>(f: impl FnOnce(Option<(&Arc<Token>, usize)>) -> R) -> R {
    ARMS.with(|arms| f(arms.borrow().last().map(|(t, a)| (t, *a))))
}

/// Whether `token`'s select is being polled on this thread (it, or a select it is nested in).
pub(crate) fn is_polling_here(token: &Token) -> bool {
    ARMS.with(|arms| arms.borrow().iter().any(|(t, _)| std::ptr::eq(&**t, token)))
}

#[cfg(not(all(goro_loom, test)))]
fn seed() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(std::thread::current().id()) | 1
}

/// Under loom every execution must behave the same for the same schedule: a fixed seed.
#[cfg(all(goro_loom, test))]
fn seed() -> u64 {
    0x9E37_79B9_7F4A_7C15
}

/// The next number of this thread's xorshift64 generator.
fn next_random() -> u64 {
    RNG.with(|rng| {
        let mut x = rng.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        rng.set(x);
        x
    })
}

/// A random number in `0..n` (Lemire's multiply-shift: no division, bias below 2^-50 here).
fn below(n: usize) -> usize {
    ((u128::from(next_random()) * n as u128) >> 64) as usize
}

/// Fills `order` with a uniformly random permutation of `0..order.len()` (Fisher–Yates).
fn shuffle(order: &mut [u8]) {
    for (i, slot) in order.iter_mut().enumerate() {
        *slot = i as u8;
    }
    for i in (1..order.len()).rev() {
        order.swap(i, below(i + 1));
    }
}

/// The future behind `select!`: polls the arms and yields the output of the one chosen, or
/// `None` if the `default` arm was taken. Not for direct use; write `select!`.
#[doc(hidden)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Select<F> {
    /// The token every channel arm commits through (lent to the arm stack while an arm is
    /// polled, so `None` only then, or after a poll unwound).
    token: Option<Arc<Token>>,
    /// The number of arms, not counting `default`.
    arms: usize,
    /// Whether a `default` arm is taken when nothing is ready.
    default: bool,
    /// Polls arm `i` (the macro's closure over the pinned arm futures).
    poll_arm: F,
    /// The arm that committed, once one has; from then on it is the only one polled.
    chosen: Option<usize>,
}

impl<F, O> Select<F>
where
    F: FnMut(usize, &mut Context<'_>) -> Poll<O>,
{
    /// A select over `arms` arms (at most [`MAX_ARMS`]), polled through `poll_arm`.
    pub fn new(arms: usize, default: bool, poll_arm: F) -> Self {
        assert!(arms <= MAX_ARMS, "`select!` takes at most {MAX_ARMS} arms");
        Select {
            token: Some(Token::new()),
            arms,
            default,
            poll_arm,
            chosen: None,
        }
    }

    fn poll_arm(&mut self, arm: usize, cx: &mut Context<'_>) -> Poll<O> {
        let _entered = enter_lending(&mut self.token, arm);
        (self.poll_arm)(arm, cx)
    }

    /// The select's token.
    fn token(&self) -> &Arc<Token> {
        self.token
            .as_ref()
            .expect("a select polled again after a poll of one of its arms panicked")
    }

    /// One pass over the arms in random order. `Some` once an arm is chosen: `Ready` with its
    /// output, or `Pending` if its channel operation committed but the arm has more to do.
    fn pass(&mut self, cx: &mut Context<'_>) -> Option<Poll<Option<O>>> {
        let mut order = [0u8; MAX_ARMS];
        let order = &mut order[..self.arms];
        shuffle(order);
        for &arm in order.iter() {
            let arm = usize::from(arm);
            match self.poll_arm(arm, cx) {
                Poll::Ready(output) => {
                    let won = self.token().commit(arm);
                    debug_assert!(won, "two arms of one select committed");
                    self.chosen = Some(arm);
                    return Some(Poll::Ready(Some(output)));
                }
                Poll::Pending => {
                    if let Some(chosen) = self.token().claimed_arm() {
                        self.chosen = Some(chosen);
                        return Some(Poll::Pending);
                    }
                }
            }
        }
        None
    }
}

impl<F, O> Future for Select<F>
where
    F: FnMut(usize, &mut Context<'_>) -> Poll<O> + Unpin,
{
    type Output = Option<O>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<O>> {
        let this = self.get_mut();
        if let Some(arm) = this.chosen {
            return this.poll_arm(arm, cx).map(Some);
        }
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        if let Begin::Claimed(arm) = this.token().begin_pass() {
            this.chosen = Some(arm);
            return this.poll_arm(arm, cx).map(Some);
        }
        let mut passes = 0;
        loop {
            passes += 1;
            if let Some(poll) = this.pass(cx) {
                return poll;
            }
            if this.default {
                let won = this.token().commit(this.arms);
                debug_assert!(won, "a select took its default after an arm committed");
                return Poll::Ready(None);
            }
            if this.token().end_pass() == End::Idle {
                return Poll::Pending;
            }
            if passes == MAX_PASSES {
                this.token().abandon_pass();
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
    }
}

impl<F> Drop for Select<F> {
    fn drop(&mut self) {
        #[cfg(not(all(test, goro_loom)))]
        if let Some(token) = self.token.take() {
            Token::recycle(token);
        }
    }
}

impl<F> fmt::Debug for Select<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select")
            .field("arms", &self.arms)
            .field("default", &self.default)
            .field("chosen", &self.chosen)
            .finish_non_exhaustive()
    }
}

/// What `select!`'s expansion needs, reachable as `$crate::__private`.
#[doc(hidden)]
pub mod __private {
    pub use super::Select;
}

/// Waits on several futures at once and runs the body of the one that completes, as Go's
/// `select` does.
///
/// ```
/// use goro::sync::chan;
///
/// # futures_lite::future::block_on(async {
/// let (tx, rx) = chan::bounded::<u32>(1);
/// let (done_tx, done) = chan::bounded::<()>(0);
/// tx.send(7).await.unwrap();
/// let mut got = Vec::new();
/// loop {
///     goro::select! {
///         v = rx.recv() => got.push(v.unwrap()),
///         _ = done.recv() => break,
///         default => { done_tx.close(); }
///     }
/// }
/// assert_eq!(got, [7]);
/// # });
/// ```
///
/// Each arm is `pattern = future => body`; the body is a block, or an expression followed by a
/// comma. An optional `default => body` arm is taken when no arm is ready at once.
///
/// - The arm futures are evaluated first, in order, every time the `select!` runs (as Go
///   evaluates all channel and value expressions). Any future may be an arm: a timer, a join
///   handle, an `async` block; but an arm that loses is dropped, so it must be cancel safe:
///   see [below](#arms-that-lose-are-dropped-which-are-cancel-safe).
/// - When several arms are ready, one is chosen uniformly at random.
/// - **Exactly one channel operation takes effect.** A `recv` or `send` arm that is not chosen
///   receives nothing and sends nothing, also on unbuffered channels and while other tasks race
///   for the same channels. A closed channel counts as ready (`recv` gives `None`, `send` gives
///   `Err`).
/// - The body runs in the caller's scope after the choice, with the arm futures already
///   dropped: it may mutate locals, use `?` and `return`, and `break`/`continue` an enclosing
///   loop. All bodies have the same type, which is the value of the `select!`.
/// - Patterns must be irrefutable (`v`, `_`, `(a, b)`); match on the value in the body.
/// - `select! {}` waits for ever, like Go's `select {}`; `select! { default => body }` just
///   runs `body`. At most 64 arms.
///
/// It must be used inside an `async` context.
///
/// # Arms that lose are dropped: which are cancel safe
///
/// Each time a `select!` completes, every arm that was not chosen is *dropped*, and so is
/// whatever work that arm's future had done but not yet returned. An arm is safe to lose only
/// if its future keeps nothing of its own: either it took nothing yet, or what it took goes
/// back. These are safe, and may be created afresh in every round of a loop:
///
/// - channels: `rx.recv()` (a value leaves the channel only through the chosen arm, and one
///   handed to a losing arm goes back), `time::after(d).recv()`, and `send` arms as said
///   above;
/// - goro's sockets: `accept()`, `recv`/`recv_from`/`send`/`send_to` on datagram sockets,
///   `peek`, `readable()`/`writable()`, and on a stream the one-shot `read(&mut buf)` and
///   `write(bytes)` of futures-lite's `AsyncReadExt`/`AsyncWriteExt` (one that loses has read
///   or written nothing);
/// - `Mutex::lock`, `RwLock::read`/`write`, `Semaphore::acquire`, `Notify::notified`,
///   `WaitGroup::wait`, `Barrier::wait`: a lock, permit or notification handed to an arm that
///   then loses is passed on;
/// - the runtime's `Interval::tick` (a losing tick skips nothing), `Context::done`,
///   `&mut join_handle` (not the handle itself: dropping that detaches the task and its
///   output is lost), `TaskGroup::wait`, `yield_now`, and `sleep(d)`, which is safe but
///   starts a new `d` every round: pin one `Sleep` outside the loop for a fixed deadline.
///
/// **Not** safe: a future that reads or writes in several steps and keeps its progress inside
/// itself. futures-lite's `read_line` and `read_to_string` gather the bytes in the future, so
/// a losing arm takes them along; `read_exact` leaves them in your buffer but forgets how many;
/// `write_all` may have sent part of its bytes; an `async` block loses its local state. Those
/// bytes are gone from the stream, and the next read starts after them. Here the line
/// `"hello\n"` arrives in two pieces; the arm that loses after the first piece takes `"hel"`
/// along:
///
/// ```
/// # use std::{collections::VecDeque, io, pin::Pin, task::{Context, Poll}};
/// # /// Reads its chunks one per poll, with a `Pending` after each: data arriving in pieces.
/// # struct Chunks { chunks: VecDeque<&'static [u8]>, gap: bool }
/// # impl Chunks {
/// #     fn new(chunks: &[&'static [u8]]) -> Self {
/// #         Chunks { chunks: chunks.iter().copied().collect(), gap: false }
/// #     }
/// # }
/// # impl goro::io::AsyncRead for Chunks {
/// #     fn poll_read(
/// #         mut self: Pin<&mut Self>,
/// #         cx: &mut Context<'_>,
/// #         buf: &mut [u8],
/// #     ) -> Poll<io::Result<usize>> {
/// #         self.gap = !self.gap;
/// #         if !self.gap {
/// #             cx.waker().wake_by_ref();
/// #             return Poll::Pending;
/// #         }
/// #         let chunk = self.chunks.pop_front().unwrap_or_default();
/// #         buf[..chunk.len()].copy_from_slice(chunk);
/// #         Poll::Ready(Ok(chunk.len()))
/// #     }
/// # }
/// use goro::io::{AsyncBufReadExt, BufReader};
///
/// # futures_lite::future::block_on(async {
/// let mut reader = BufReader::new(Chunks::new(&[b"hel", b"lo\n"]));
/// let mut line = String::new();
/// loop {
///     goro::select! {
///         n = reader.read_line(&mut line) => { n.unwrap(); break; }
///         // Nothing else to do yet: the `read_line` future, holding "hel", is dropped.
///         // Any other arm that wins does the same.
///         default => {}
///     }
/// }
/// assert_eq!(line, "lo\n"); // "hel" is lost
/// # });
/// ```
///
/// Two patterns work. The first keeps the one future alive until it completes: pin it
/// outside the loop and give the `select!` `&mut` it, so an arm that loses is only a
/// borrow, and the future goes on next round with what it has read so far. Make a new one
/// for the next line once it has completed:
///
/// ```
/// # use std::{collections::VecDeque, io, pin::Pin, task::{Context, Poll}};
/// # /// Reads its chunks one per poll, with a `Pending` after each: data arriving in pieces.
/// # struct Chunks { chunks: VecDeque<&'static [u8]>, gap: bool }
/// # impl Chunks {
/// #     fn new(chunks: &[&'static [u8]]) -> Self {
/// #         Chunks { chunks: chunks.iter().copied().collect(), gap: false }
/// #     }
/// # }
/// # impl goro::io::AsyncRead for Chunks {
/// #     fn poll_read(
/// #         mut self: Pin<&mut Self>,
/// #         cx: &mut Context<'_>,
/// #         buf: &mut [u8],
/// #     ) -> Poll<io::Result<usize>> {
/// #         self.gap = !self.gap;
/// #         if !self.gap {
/// #             cx.waker().wake_by_ref();
/// #             return Poll::Pending;
/// #         }
/// #         let chunk = self.chunks.pop_front().unwrap_or_default();
/// #         buf[..chunk.len()].copy_from_slice(chunk);
/// #         Poll::Ready(Ok(chunk.len()))
/// #     }
/// # }
/// use std::pin::pin;
/// use goro::io::{AsyncBufReadExt, BufReader};
/// use goro::sync::chan;
///
/// # futures_lite::future::block_on(async {
/// let mut reader = BufReader::new(Chunks::new(&[b"hel", b"lo\n", b"wor", b"ld\n"]));
/// let (events_tx, events) = chan::unbounded::<u32>(); // another busy source
/// (0..100).for_each(|i| events_tx.try_send(i).unwrap());
/// let (mut lines, mut handled) = (Vec::new(), 0);
/// loop {
///     let mut line = String::new();
///     let n = {
///         let mut read_line = pin!(reader.read_line(&mut line)); // one future per line
///         loop {
///             goro::select! {
///                 n = &mut read_line => break n.unwrap(),
///                 _ = events.recv() => handled += 1,
///             }
///         }
///     }; // completed: dropped here, and the next line gets a new future
///     if n == 0 {
///         break; // end of input
///     }
///     lines.push(line);
/// }
/// assert_eq!(lines, ["hello\n", "world\n"]); // whole, however often `events` won
/// # let _ = handled;
/// # });
/// ```
///
/// (A stream that keeps its partial state in itself gives cancel-safe `next()` futures:
/// futures-lite's `reader.lines()` does, so `line = lines.next()` is a safe arm too.)
///
/// The second gives the reading a task of its own, which awaits `read_line` without any
/// `select!` and sends each complete line over a channel; the loop then selects on the
/// channel's `recv()`, which is cancel safe:
///
/// ```
/// # use std::{collections::VecDeque, io, pin::Pin, task::{Context, Poll}};
/// # /// Reads its chunks one per poll, with a `Pending` after each: data arriving in pieces.
/// # struct Chunks { chunks: VecDeque<&'static [u8]>, gap: bool }
/// # impl Chunks {
/// #     fn new(chunks: &[&'static [u8]]) -> Self {
/// #         Chunks { chunks: chunks.iter().copied().collect(), gap: false }
/// #     }
/// # }
/// # impl goro::io::AsyncRead for Chunks {
/// #     fn poll_read(
/// #         mut self: Pin<&mut Self>,
/// #         cx: &mut Context<'_>,
/// #         buf: &mut [u8],
/// #     ) -> Poll<io::Result<usize>> {
/// #         self.gap = !self.gap;
/// #         if !self.gap {
/// #             cx.waker().wake_by_ref();
/// #             return Poll::Pending;
/// #         }
/// #         let chunk = self.chunks.pop_front().unwrap_or_default();
/// #         buf[..chunk.len()].copy_from_slice(chunk);
/// #         Poll::Ready(Ok(chunk.len()))
/// #     }
/// # }
/// use goro::io::{AsyncBufReadExt, BufReader};
/// use goro::sync::chan;
///
/// # goro::block_on(async {
/// let mut reader = BufReader::new(Chunks::new(&[b"hel", b"lo\n", b"wor", b"ld\n"]));
/// let (lines_tx, lines) = chan::bounded::<io::Result<String>>(0);
/// goro::spawn(async move {
///     loop {
///         let mut line = String::new();
///         let read = match reader.read_line(&mut line).await {
///             Ok(0) => break, // end of input: dropping `lines_tx` closes the channel
///             Ok(_) => Ok(line),
///             Err(e) => Err(e),
///         };
///         let failed = read.is_err();
///         if lines_tx.send(read).await.is_err() || failed {
///             break;
///         }
///     }
/// });
/// let (events_tx, events) = chan::unbounded::<u32>(); // another busy source
/// (0..100).for_each(|i| events_tx.try_send(i).unwrap());
/// let (mut got, mut handled) = (Vec::new(), 0);
/// loop {
///     goro::select! {
///         line = lines.recv() => match line {
///             Some(line) => got.push(line.unwrap()),
///             None => break,
///         },
///         _ = events.recv() => handled += 1,
///     }
/// }
/// assert_eq!(got, ["hello\n", "world\n"]);
/// # let _ = handled;
/// # });
/// ```
///
/// # How it commits
///
/// A channel future polled as an arm (directly, or inside an `async` block that is the arm)
/// commits through the select's shared token, so only the arm chosen ever hands over or takes a
/// value; the channel module docs describe the protocol. A channel future that had already
/// completed its operation before being passed to `select!` is an ordinary future.
///
/// A `select!` nested in an arm of another one commits through its *own* token: to the outer
/// select it is an ordinary future, so its operation may take effect although the outer select
/// then chooses another arm (and the two may even pair with each other, as two futures joined
/// in one task can). Nothing is lost or duplicated, but to get "exactly one" across all cases,
/// put them in one `select!`, as Go requires anyway.
///
/// # Cancel safety
///
/// Dropping a `select!` future before it completes cancels every arm: recv arms lose no value
/// (a value already handed to one goes back to its channel), send arms not yet taken send
/// nothing. A send arm whose value a receiver already took has sent it.
#[macro_export]
macro_rules! select {
    ($($tokens:tt)*) => {
        $crate::__select_parse! {
            @arms []
            @default []
            @names [
                (0 _0 T0) (1 _1 T1) (2 _2 T2) (3 _3 T3) (4 _4 T4) (5 _5 T5) (6 _6 T6) (7 _7 T7)
                (8 _8 T8) (9 _9 T9) (10 _10 T10) (11 _11 T11) (12 _12 T12) (13 _13 T13)
                (14 _14 T14) (15 _15 T15) (16 _16 T16) (17 _17 T17) (18 _18 T18) (19 _19 T19)
                (20 _20 T20) (21 _21 T21) (22 _22 T22) (23 _23 T23) (24 _24 T24) (25 _25 T25)
                (26 _26 T26) (27 _27 T27) (28 _28 T28) (29 _29 T29) (30 _30 T30) (31 _31 T31)
                (32 _32 T32) (33 _33 T33) (34 _34 T34) (35 _35 T35) (36 _36 T36) (37 _37 T37)
                (38 _38 T38) (39 _39 T39) (40 _40 T40) (41 _41 T41) (42 _42 T42) (43 _43 T43)
                (44 _44 T44) (45 _45 T45) (46 _46 T46) (47 _47 T47) (48 _48 T48) (49 _49 T49)
                (50 _50 T50) (51 _51 T51) (52 _52 T52) (53 _53 T53) (54 _54 T54) (55 _55 T55)
                (56 _56 T56) (57 _57 T57) (58 _58 T58) (59 _59 T59) (60 _60 T60) (61 _61 T61)
                (62 _62 T62) (63 _63 T63)
            ]
            @rest $($tokens)*
        }
    };
}

/// Reads `select!`'s arms one at a time, giving each a name from the list.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_parse {
    (@arms $arms:tt @default $default:tt @names $names:tt @rest) => {
        $crate::__select_expand! { @arms $arms @default $default }
    };
    (@arms $arms:tt @default [$($d:tt)+] @names $names:tt @rest default => $($rest:tt)*) => {
        ::core::compile_error!("`select!` takes at most one `default` arm")
    };
    (@arms $arms:tt @default [] @names $names:tt @rest default => $body:block, $($rest:tt)*) => {
        $crate::__select_parse! { @arms $arms @default [$body] @names $names @rest $($rest)* }
    };
    (@arms $arms:tt @default [] @names $names:tt @rest default => $body:block $($rest:tt)*) => {
        $crate::__select_parse! { @arms $arms @default [$body] @names $names @rest $($rest)* }
    };
    (@arms $arms:tt @default [] @names $names:tt @rest default => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse! { @arms $arms @default [{ $body }] @names $names @rest $($rest)* }
    };
    (@arms $arms:tt @default [] @names $names:tt @rest default => $body:expr) => {
        $crate::__select_parse! { @arms $arms @default [{ $body }] @names $names @rest }
    };
    (@arms $arms:tt @default $default:tt @names [] @rest $($rest:tt)+) => {
        ::core::compile_error!("`select!` takes at most 64 arms")
    };
    (@arms [$($arms:tt)*] @default $default:tt @names [$name:tt $($names:tt)*]
     @rest $p:pat = $f:expr => $body:block, $($rest:tt)*) => {
        $crate::__select_parse! {
            @arms [$($arms)* ($name [$p] [$f] [$body])]
            @default $default @names [$($names)*] @rest $($rest)*
        }
    };
    (@arms [$($arms:tt)*] @default $default:tt @names [$name:tt $($names:tt)*]
     @rest $p:pat = $f:expr => $body:block $($rest:tt)*) => {
        $crate::__select_parse! {
            @arms [$($arms)* ($name [$p] [$f] [$body])]
            @default $default @names [$($names)*] @rest $($rest)*
        }
    };
    (@arms [$($arms:tt)*] @default $default:tt @names [$name:tt $($names:tt)*]
     @rest $p:pat = $f:expr => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse! {
            @arms [$($arms)* ($name [$p] [$f] [{ $body }])]
            @default $default @names [$($names)*] @rest $($rest)*
        }
    };
    (@arms [$($arms:tt)*] @default $default:tt @names [$name:tt $($names:tt)*]
     @rest $p:pat = $f:expr => $body:expr) => {
        $crate::__select_parse! {
            @arms [$($arms)* ($name [$p] [$f] [{ $body }])]
            @default $default @names [$($names)*] @rest
        }
    };
    (@arms $arms:tt @default $default:tt @names $names:tt @rest $($rest:tt)+) => {
        ::core::compile_error!(
            "expected `pattern = future => body` or `default => body` in `select!`"
        )
    };
}

/// Expands the arms read by `__select_parse!` into the choice and the `match` on it.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_expand {
    (@arms [] @default [$d:block]) => {
        $d
    };
    (@arms [] @default []) => {
        loop {
            ::core::future::pending::<()>().await
        }
    };
    (@arms [$((($idx:tt $var:ident $ty:ident) [$p:pat] [$f:expr] [$body:block]))+]
     @default [$($d:block)?]) => {{
        #[allow(non_camel_case_types)]
        enum __SelectOutput<$($ty,)+> {
            $($var($ty),)+
        }
        // The arm futures are built in one `match` scrutinee so that temporaries they borrow
        // (`after(d).recv()`, `rx_of(x).recv()`) live until the select is over.
        let __select_output = match ($(::core::future::IntoFuture::into_future($f),)+) {
            ($($var,)+) => {
            $(
                let mut $var = ::core::pin::pin!($var);
            )+
            $crate::__private::Select::new(
                [$($idx),+].len(),
                $crate::__select_default!(@has $($d)?),
                |__select_arm: usize, __select_cx: &mut ::core::task::Context<'_>| {
                    match __select_arm {
                        $(
                            $idx => ::core::future::Future::poll($var.as_mut(), __select_cx)
                                .map(__SelectOutput::$var),
                        )+
                        _ => ::core::unreachable!(),
                    }
                },
            )
            .await
            }
        };
        match __select_output {
            $(::core::option::Option::Some(__SelectOutput::$var($p)) => $body,)+
            ::core::option::Option::None => $crate::__select_default!(@body $($d)?),
        }
    }};
}

/// Whether a `select!` has a `default` arm, and its body.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_default {
    (@has) => {
        false
    };
    (@has $d:block) => {
        true
    };
    (@body) => {
        ::core::unreachable!("a `select!` without `default` took its default")
    };
    (@body $d:block) => {
        $d
    };
}

#[cfg(all(test, not(goro_loom)))]
mod tests {
    use super::*;

    #[test]
    fn shuffle_is_a_permutation() {
        let mut order = [0u8; 10];
        for _ in 0..100 {
            shuffle(&mut order);
            let mut sorted = order;
            sorted.sort_unstable();
            assert_eq!(sorted, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        }
    }

    #[test]
    fn shuffle_puts_every_arm_first_about_equally_often() {
        let mut first = [0u32; 3];
        let mut order = [0u8; 3];
        for _ in 0..30_000 {
            shuffle(&mut order);
            first[usize::from(order[0])] += 1;
        }
        for count in first {
            assert!((9_000..11_000).contains(&count), "{first:?}");
        }
    }

    #[test]
    fn a_claimed_token_stays_with_its_arm() {
        let token = Token::new();
        assert!(matches!(token.claim_waiting(2), Claim::Won));
        assert!(matches!(token.claim_waiting(1), Claim::Lost));
        assert_eq!(token.claimed_arm(), Some(2));
        assert!(matches!(token.begin_pass(), Begin::Claimed(2)));
    }

    #[test]
    fn a_counterpart_during_a_pass_makes_the_select_look_again() {
        let token = Token::new();
        assert!(matches!(token.begin_pass(), Begin::Polling));
        assert!(matches!(token.claim_waiting(0), Claim::Busy));
        assert!(token.end_pass() == End::Dirty);
        assert!(token.end_pass() == End::Idle);
        assert!(matches!(token.claim_waiting(0), Claim::Won));
    }
}
