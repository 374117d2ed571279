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

use std::num::NonZeroU32;
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
        /// The index of the arm this waiter belongs to (below `MAX_ARMS`).
        arm: u32,
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
    #[inline]
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

/// The handle a future keeps to its entry: the slot's index plus one, so that an
/// `Option<Key>` fits in four bytes (a parked task's future carries one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key(NonZeroU32);

impl Key {
    fn new(index: u32) -> Key {
        Key(NonZeroU32::MIN.saturating_add(index))
    }

    fn index(self) -> usize {
        (self.0.get() - 1) as usize
    }
}

/// No entry: the end of the FIFO or of the free list. Indices are `u32` to keep a channel
/// small; a channel with four billion waiters on one side is out of reach of memory anyway.
const NIL: u32 = u32::MAX;

/// One slot of the slab.
enum Slot<T> {
    /// An entry, linked into the FIFO or not.
    Taken(Node<T>),
    /// A vacant slot, threaded into the free list.
    Vacant {
        /// The next vacant slot, or `NIL`.
        next_free: u32,
    },
}

/// An entry of the slab.
struct Node<T> {
    /// The waiter itself.
    waiter: Waiter<T>,
    /// The entry before this one in the FIFO (`NIL` at the head).
    prev: u32,
    /// The entry after this one in the FIFO (`NIL` at the tail).
    next: u32,
    /// Whether the entry is in the FIFO, where counterparts look for it.
    linked: bool,
}

/// A FIFO of waiters whose entries can leave from anywhere.
pub(crate) struct WaiterList<T> {
    /// The slab.
    nodes: Vec<Slot<T>>,
    /// The most recently vacated slot, reused before the slab grows (`NIL`: none).
    free: u32,
    /// The oldest linked entry (`NIL`: none).
    head: u32,
    /// The newest linked entry (`NIL`: none).
    tail: u32,
    /// Entries held, linked or not.
    taken: u32,
}

impl<T> WaiterList<T> {
    /// An empty list; allocates nothing until the first waiter.
    pub(crate) const fn new() -> Self {
        WaiterList {
            nodes: Vec::new(),
            free: NIL,
            head: NIL,
            tail: NIL,
            taken: 0,
        }
    }

    /// Queues `waiter` behind every linked entry.
    #[inline]
    pub(crate) fn push_back(&mut self, waiter: Waiter<T>) -> Key {
        let node = Slot::Taken(Node {
            waiter,
            prev: self.tail,
            next: NIL,
            linked: true,
        });
        let index = if self.free != NIL {
            let index = self.free;
            let slot = std::mem::replace(&mut self.nodes[index as usize], node);
            let Slot::Vacant { next_free } = slot else {
                unreachable!("the free list led to a taken slot");
            };
            self.free = next_free;
            index
        } else {
            let index = u32::try_from(self.nodes.len())
                .ok()
                .filter(|&i| i < NIL)
                .expect("more than 2^32 - 1 waiters on one side of a channel");
            if self.nodes.capacity() == 0 {
                // Most channels never have more than one waiter per side (a task parked
                // on its own channel): room for one, not the four `push` would allocate.
                self.nodes.reserve_exact(1);
            }
            self.nodes.push(node);
            index
        };
        match self.tail {
            NIL => self.head = index,
            tail => self.node_mut(tail).next = index,
        }
        self.tail = index;
        self.taken += 1;
        Key::new(index)
    }

    /// The waiter behind `key`.
    pub(crate) fn get(&self, key: Key) -> &Waiter<T> {
        &self.node(key.index()).waiter
    }

    /// The waiter behind `key`, mutably.
    pub(crate) fn get_mut(&mut self, key: Key) -> &mut Waiter<T> {
        &mut self.node_at_mut(key.index()).waiter
    }

    /// Whether the entry is still queued where counterparts can find it.
    pub(crate) fn is_linked(&self, key: Key) -> bool {
        self.node(key.index()).linked
    }

    /// The oldest linked entry.
    pub(crate) fn first(&self) -> Option<Key> {
        (self.head != NIL).then(|| Key::new(self.head))
    }

    /// The linked entry after `key`, which must be linked.
    pub(crate) fn next(&self, key: Key) -> Option<Key> {
        let next = self.node(key.index()).next;
        (next != NIL).then(|| Key::new(next))
    }

    /// Takes the entry out of the FIFO, leaving it in the slab for its owner.
    pub(crate) fn unlink(&mut self, key: Key) {
        let node = self.node_at_mut(key.index());
        if !node.linked {
            return;
        }
        node.linked = false;
        let (prev, next) = (node.prev, node.next);
        (node.prev, node.next) = (NIL, NIL);
        match prev {
            NIL => self.head = next,
            prev => self.node_mut(prev).next = next,
        }
        match next {
            NIL => self.tail = prev,
            next => self.node_mut(next).prev = prev,
        }
    }

    /// Unlinks every entry, oldest first, showing each to `f` (close uses it to take wakers).
    pub(crate) fn unlink_all(&mut self, mut f: impl FnMut(&mut Waiter<T>)) {
        while let Some(key) = self.first() {
            f(self.get_mut(key));
            self.unlink(key);
        }
    }

    /// Frees the entry (unlinking it first) and returns the value it holds. Only the owner
    /// calls this. The rest of the waiter (its waker, if still there, and a select's token)
    /// is dropped in place, under the channel's lock, as `set_waker` drops a replaced waker:
    /// dropping a waker only gives up a reference (a task's waker, goro's or any executor's,
    /// runs nothing else), and the value, which is user code when dropped, goes back.
    #[inline]
    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        self.unlink(key);
        self.taken -= 1;
        let index = key.index();
        let Slot::Taken(node) = &mut self.nodes[index] else {
            panic!("a waiter key outlived its entry");
        };
        let value = node.waiter.value.take();
        if self.taken == 0 {
            // Empty again: start the slab over so indices stay small and the queue stays dense.
            self.nodes.clear();
            self.free = NIL;
        } else {
            self.nodes[index] = Slot::Vacant {
                next_free: self.free,
            };
            self.free = index as u32;
        }
        value
    }

    /// The number of entries held, linked or not: what the waiting futures cost in memory.
    pub(crate) fn len(&self) -> usize {
        self.taken as usize
    }

    fn node(&self, index: usize) -> &Node<T> {
        match &self.nodes[index] {
            Slot::Taken(node) => node,
            Slot::Vacant { .. } => panic!("a waiter key outlived its entry"),
        }
    }

    fn node_at_mut(&mut self, index: usize) -> &mut Node<T> {
        match &mut self.nodes[index] {
            Slot::Taken(node) => node,
            Slot::Vacant { .. } => panic!("a waiter key outlived its entry"),
        }
    }

    fn node_mut(&mut self, index: u32) -> &mut Node<T> {
        self.node_at_mut(index as usize)
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
        assert_eq!(list.remove(keys[1]), Some(1));
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
        assert_eq!(list.push_back(waiter(3)), Key::new(0));
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
