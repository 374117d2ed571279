//! The queue of futures waiting on one side of a channel.
//!
//! A channel keeps two of these under its lock: senders waiting with their value, receivers
//! waiting with an empty slot. Each entry is a [`Waiter`]; the future that pushed it keeps its
//! [`Key`] and finds its entry again on every poll.
//!
//! Entries live in a slab (a `Vec` plus a list of vacant slots) and are threaded into a FIFO by
//! `prev`/`next` indices, so that a waiter can leave the middle of the queue in O(1). An entry
//! has two ways out, and they are deliberately separate:
//!
//! - **unlink**: it leaves the FIFO, so no counterpart can find it any more, but stays in the
//!   slab. A counterpart unlinks the waiter it hands a value to (the value, or the fact that
//!   the send was taken, stays in the entry for its owner to collect), a stale waiter (its
//!   select committed elsewhere), and, on close, every waiter.
//! - **remove**: the entry leaves the slab. Only the owner does this: when it completes, or
//!   when it is dropped.
//!
//! Because only the owner frees its entry, a key can never be reused while its future still
//! holds it, so keys need no generation counter.

use std::sync::Arc;
use std::task::Waker;

use crate::select::Token;

/// Who decides whether a waiter may still be taken.
pub(crate) enum Owner {
    /// A plain `send`/`recv` future. It only changes its mind under the channel lock (by
    /// completing, or being dropped, which removes the entry), so while linked it is claimable.
    Plain,
    /// A receiver's `Stream` operation polled on its own. Its `next()` future may be dropped
    /// without telling the channel (the operation belongs to the receiver, which outlives it),
    /// so no value is ever handed to it: a sender that finds it wakes it (marking it handed,
    /// with no value), puts the value in the buffer, where any receiver can take it, and looks
    /// on for a receiver that can take the value directly.
    Stream,
    /// One arm of a `select!`: claimable only if the counterpart wins the token for `arm`.
    Arm {
        /// The select's commit token, shared with its other arms.
        token: Arc<Token>,
        /// The index of the arm this waiter belongs to.
        arm: usize,
    },
}

/// One waiting `send` or `recv`.
pub(crate) struct Waiter<T> {
    /// Who may commit this operation.
    pub(crate) owner: Owner,
    /// Woken when a counterpart hands over or the channel closes; taken by whoever wakes it.
    pub(crate) waker: Option<Waker>,
    /// A send's value on offer, until a receiver takes it; a recv's value, once handed one.
    pub(crate) value: Option<T>,
    /// A counterpart completed this operation: it took the send's value, or gave the recv one
    /// (or, for a stream, put one in the buffer and left `value` empty).
    pub(crate) handed: bool,
}

impl<T> Waiter<T> {
    /// A fresh, not yet handed waiter.
    pub(crate) fn new(owner: Owner, waker: &Waker, value: Option<T>) -> Self {
        Waiter {
            owner,
            waker: Some(waker.clone()),
            value,
            handed: false,
        }
    }

    /// Records `waker` as the one to wake, cloning it only if it changed.
    pub(crate) fn set_waker(&mut self, waker: &Waker) {
        match &mut self.waker {
            Some(old) if old.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
    }
}

/// The handle a future keeps to its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key(usize);

/// One occupied slot of the slab.
struct Node<T> {
    /// The waiter itself.
    waiter: Waiter<T>,
    /// The entry before this one in the FIFO, while linked.
    prev: Option<usize>,
    /// The entry after this one in the FIFO, while linked.
    next: Option<usize>,
    /// Whether the entry is in the FIFO, where counterparts look for it.
    linked: bool,
}

/// A FIFO of waiters whose entries can leave from anywhere.
pub(crate) struct WaiterList<T> {
    /// The slab: `None` marks a vacant slot.
    nodes: Vec<Option<Node<T>>>,
    /// Indices of vacant slots, reused before the slab grows.
    vacant: Vec<usize>,
    /// The oldest linked entry.
    head: Option<usize>,
    /// The newest linked entry.
    tail: Option<usize>,
}

impl<T> WaiterList<T> {
    /// An empty list; allocates nothing until the first waiter.
    pub(crate) const fn new() -> Self {
        WaiterList {
            nodes: Vec::new(),
            vacant: Vec::new(),
            head: None,
            tail: None,
        }
    }

    /// Queues `waiter` behind every linked entry.
    pub(crate) fn push_back(&mut self, waiter: Waiter<T>) -> Key {
        let node = Node {
            waiter,
            prev: self.tail,
            next: None,
            linked: true,
        };
        let index = match self.vacant.pop() {
            Some(index) => {
                self.nodes[index] = Some(node);
                index
            }
            None => {
                if self.nodes.capacity() == 0 {
                    // Most channels never have more than one waiter per side (a task parked
                    // on its own channel): room for one, not the four `push` would allocate.
                    self.nodes.reserve_exact(1);
                }
                self.nodes.push(Some(node));
                self.nodes.len() - 1
            }
        };
        match self.tail {
            Some(tail) => self.node_mut(tail).next = Some(index),
            None => self.head = Some(index),
        }
        self.tail = Some(index);
        Key(index)
    }

    /// The waiter behind `key`.
    pub(crate) fn get(&self, key: Key) -> &Waiter<T> {
        &self.node(key.0).waiter
    }

    /// The waiter behind `key`, mutably.
    pub(crate) fn get_mut(&mut self, key: Key) -> &mut Waiter<T> {
        &mut self.node_mut(key.0).waiter
    }

    /// Whether the entry is still queued where counterparts can find it.
    pub(crate) fn is_linked(&self, key: Key) -> bool {
        self.node(key.0).linked
    }

    /// The oldest linked entry.
    pub(crate) fn first(&self) -> Option<Key> {
        self.head.map(Key)
    }

    /// The linked entry after `key`, which must be linked.
    pub(crate) fn next(&self, key: Key) -> Option<Key> {
        self.node(key.0).next.map(Key)
    }

    /// Takes the entry out of the FIFO, leaving it in the slab for its owner.
    pub(crate) fn unlink(&mut self, key: Key) {
        let node = self.node_mut(key.0);
        if !node.linked {
            return;
        }
        node.linked = false;
        let (prev, next) = (node.prev.take(), node.next.take());
        match prev {
            Some(prev) => self.node_mut(prev).next = next,
            None => self.head = next,
        }
        match next {
            Some(next) => self.node_mut(next).prev = prev,
            None => self.tail = prev,
        }
    }

    /// Unlinks every entry, oldest first, showing each to `f` (close uses it to take wakers).
    pub(crate) fn unlink_all(&mut self, mut f: impl FnMut(&mut Waiter<T>)) {
        while let Some(key) = self.first() {
            f(self.get_mut(key));
            self.unlink(key);
        }
    }

    /// Frees the entry (unlinking it first) and returns its waiter. Only the owner calls this.
    pub(crate) fn remove(&mut self, key: Key) -> Waiter<T> {
        self.unlink(key);
        let node = self.nodes[key.0]
            .take()
            .expect("a waiter key outlived its entry");
        if self.vacant.len() + 1 == self.nodes.len() {
            // Empty again: start the slab over so indices stay small and the queue stays dense.
            self.nodes.clear();
            self.vacant.clear();
        } else {
            self.vacant.push(key.0);
        }
        node.waiter
    }

    /// The number of entries held, linked or not: what the waiting futures cost in memory.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len() - self.vacant.len()
    }

    fn node(&self, index: usize) -> &Node<T> {
        self.nodes[index]
            .as_ref()
            .expect("a waiter key outlived its entry")
    }

    fn node_mut(&mut self, index: usize) -> &mut Node<T> {
        self.nodes[index]
            .as_mut()
            .expect("a waiter key outlived its entry")
    }
}

#[cfg(all(test, not(goro_loom)))]
mod tests {
    use super::*;

    fn waiter(value: u32) -> Waiter<u32> {
        Waiter::new(Owner::Plain, Waker::noop(), Some(value))
    }

    fn linked_values(list: &WaiterList<u32>) -> Vec<u32> {
        let mut out = Vec::new();
        let mut cursor = list.first();
        while let Some(key) = cursor {
            out.push(list.get(key).value.unwrap());
            cursor = list.next(key);
        }
        out
    }

    #[test]
    fn entries_come_out_in_fifo_order() {
        let mut list = WaiterList::new();
        for v in 0..4 {
            list.push_back(waiter(v));
        }
        assert_eq!(linked_values(&list), [0, 1, 2, 3]);
    }

    #[test]
    fn unlinking_from_the_middle_keeps_the_entry_for_its_owner() {
        let mut list = WaiterList::new();
        let keys: Vec<_> = (0..3).map(|v| list.push_back(waiter(v))).collect();
        list.unlink(keys[1]);
        assert_eq!(linked_values(&list), [0, 2]);
        assert!(!list.is_linked(keys[1]));
        assert_eq!(list.len(), 3);
        assert_eq!(list.remove(keys[1]).value, Some(1));
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn vacant_slots_are_reused_and_an_empty_list_starts_over() {
        let mut list = WaiterList::new();
        let a = list.push_back(waiter(0));
        let b = list.push_back(waiter(1));
        list.remove(a);
        let c = list.push_back(waiter(2));
        assert_eq!(c, a);
        assert_eq!(linked_values(&list), [1, 2]);
        list.remove(b);
        list.remove(c);
        assert_eq!(list.len(), 0);
        assert_eq!(list.push_back(waiter(3)), Key(0));
    }

    #[test]
    fn unlink_all_visits_oldest_first_and_empties_the_fifo() {
        let mut list = WaiterList::new();
        for v in 0..3 {
            list.push_back(waiter(v));
        }
        let mut seen = Vec::new();
        list.unlink_all(|w| seen.push(w.value.unwrap()));
        assert_eq!(seen, [0, 1, 2]);
        assert_eq!(list.first(), None);
        assert_eq!(list.len(), 3);
    }
}
