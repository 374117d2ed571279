//! Channels and select for each runtime, behind one trait.
//!
//! goro: `goro::sync::chan` and `goro::select!`. tokio: `tokio::sync::mpsc` and
//! `tokio::select!`. smol: `async-channel` (`smol::channel`) and futures-lite's `race`.
//! Neither peer has a channel of capacity 0 (tokio's `mpsc::channel(0)` and async-channel's
//! `bounded(0)` panic), so they get capacity 1 where goro gets 0.

use std::future::Future;
use std::sync::Arc;

use super::contenders::{AsyncRuntime, Goro};
#[cfg(not(feature = "goro-only"))]
use super::contenders::{Smol, Tokio};

/// Which arm of [`Channels::select2`] was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arm {
    /// The first receiver's.
    First,
    /// The second receiver's.
    Second,
}

/// A runtime's channel and its select.
pub trait Channels: AsyncRuntime {
    /// The sending half; clones send into the same channel.
    type Sender<T: Send + 'static>: Clone + Send + Sync + 'static;
    /// The receiving half, owned by one task.
    type Receiver<T: Send + 'static>: Send + 'static;
    /// A receiving half that many tasks receive from, each through its own clone.
    type SharedReceiver<T: Send + 'static>: Clone + Send + Sync + 'static;

    /// A channel buffering `cap` values; where the runtime has no capacity 0, `cap` 0 gets
    /// its smallest, 1.
    fn bounded<T: Send + 'static>(cap: usize) -> (Self::Sender<T>, Self::Receiver<T>);

    /// Sends `value`, waiting while the channel is full.
    ///
    /// # Panics
    ///
    /// If every receiver is gone: no workload closes a channel from the receiving side.
    fn send<T: Send + 'static>(tx: &Self::Sender<T>, value: T) -> impl Future<Output = ()> + Send;

    /// Receives a value; `None` once every sender is gone and the buffer is empty.
    fn recv<T: Send + 'static>(
        rx: &mut Self::Receiver<T>,
    ) -> impl Future<Output = Option<T>> + Send;

    /// Makes `rx` receivable from many tasks.
    fn share<T: Send + 'static>(rx: Self::Receiver<T>) -> Self::SharedReceiver<T>;

    /// [`Channels::recv`] through a shared receiver.
    fn recv_shared<T: Send + 'static>(
        rx: &Self::SharedReceiver<T>,
    ) -> impl Future<Output = Option<T>> + Send;

    /// Receives from whichever of `a` and `b` is ready, choosing at random when both are.
    fn select2<T: Send + 'static>(
        a: &mut Self::Receiver<T>,
        b: &mut Self::Receiver<T>,
    ) -> impl Future<Output = (Arm, Option<T>)> + Send;
}

impl Channels for Goro {
    type Sender<T: Send + 'static> = goro::sync::chan::Sender<T>;
    type Receiver<T: Send + 'static> = goro::sync::chan::Receiver<T>;
    type SharedReceiver<T: Send + 'static> = goro::sync::chan::Receiver<T>;

    fn bounded<T: Send + 'static>(cap: usize) -> (Self::Sender<T>, Self::Receiver<T>) {
        goro::sync::chan::bounded(cap)
    }

    async fn send<T: Send + 'static>(tx: &Self::Sender<T>, value: T) {
        let sent = tx.send(value).await;
        assert!(sent.is_ok(), "send: every receiver is gone");
    }

    async fn recv<T: Send + 'static>(rx: &mut Self::Receiver<T>) -> Option<T> {
        rx.recv().await
    }

    /// goro's receivers are cloneable (Go's channels are many-to-many).
    fn share<T: Send + 'static>(rx: Self::Receiver<T>) -> Self::SharedReceiver<T> {
        rx
    }

    async fn recv_shared<T: Send + 'static>(rx: &Self::SharedReceiver<T>) -> Option<T> {
        rx.recv().await
    }

    async fn select2<T: Send + 'static>(
        a: &mut Self::Receiver<T>,
        b: &mut Self::Receiver<T>,
    ) -> (Arm, Option<T>) {
        goro::select! {
            v = a.recv() => (Arm::First, v),
            v = b.recv() => (Arm::Second, v),
        }
    }
}

#[cfg(not(feature = "goro-only"))]
impl Channels for Tokio {
    type Sender<T: Send + 'static> = tokio::sync::mpsc::Sender<T>;
    type Receiver<T: Send + 'static> = tokio::sync::mpsc::Receiver<T>;
    type SharedReceiver<T: Send + 'static> = Arc<tokio::sync::Mutex<Self::Receiver<T>>>;

    fn bounded<T: Send + 'static>(cap: usize) -> (Self::Sender<T>, Self::Receiver<T>) {
        tokio::sync::mpsc::channel(cap.max(1))
    }

    async fn send<T: Send + 'static>(tx: &Self::Sender<T>, value: T) {
        let sent = tx.send(value).await;
        assert!(sent.is_ok(), "send: the receiver is gone");
    }

    async fn recv<T: Send + 'static>(rx: &mut Self::Receiver<T>) -> Option<T> {
        rx.recv().await
    }

    /// tokio's `mpsc::Receiver` has one owner; tasks that share one take turns holding it
    /// behind a `tokio::sync::Mutex`, the usual tokio answer to "many consumers".
    fn share<T: Send + 'static>(rx: Self::Receiver<T>) -> Self::SharedReceiver<T> {
        Arc::new(tokio::sync::Mutex::new(rx))
    }

    async fn recv_shared<T: Send + 'static>(rx: &Self::SharedReceiver<T>) -> Option<T> {
        rx.lock().await.recv().await
    }

    async fn select2<T: Send + 'static>(
        a: &mut Self::Receiver<T>,
        b: &mut Self::Receiver<T>,
    ) -> (Arm, Option<T>) {
        tokio::select! {
            v = a.recv() => (Arm::First, v),
            v = b.recv() => (Arm::Second, v),
        }
    }
}

#[cfg(not(feature = "goro-only"))]
impl Channels for Smol {
    type Sender<T: Send + 'static> = smol::channel::Sender<T>;
    type Receiver<T: Send + 'static> = smol::channel::Receiver<T>;
    type SharedReceiver<T: Send + 'static> = smol::channel::Receiver<T>;

    fn bounded<T: Send + 'static>(cap: usize) -> (Self::Sender<T>, Self::Receiver<T>) {
        smol::channel::bounded(cap.max(1))
    }

    async fn send<T: Send + 'static>(tx: &Self::Sender<T>, value: T) {
        let sent = tx.send(value).await;
        assert!(sent.is_ok(), "send: every receiver is gone");
    }

    async fn recv<T: Send + 'static>(rx: &mut Self::Receiver<T>) -> Option<T> {
        rx.recv().await.ok()
    }

    /// async-channel's receivers are cloneable.
    fn share<T: Send + 'static>(rx: Self::Receiver<T>) -> Self::SharedReceiver<T> {
        rx
    }

    async fn recv_shared<T: Send + 'static>(rx: &Self::SharedReceiver<T>) -> Option<T> {
        rx.recv().await.ok()
    }

    /// futures-lite's `race` polls the two in random order and drops the loser; an
    /// async-channel `recv` takes a value only when it completes, so the loser loses none.
    async fn select2<T: Send + 'static>(
        a: &mut Self::Receiver<T>,
        b: &mut Self::Receiver<T>,
    ) -> (Arm, Option<T>) {
        let first = async { (Arm::First, a.recv().await.ok()) };
        let second = async { (Arm::Second, b.recv().await.ok()) };
        smol::future::race(first, second).await
    }
}
