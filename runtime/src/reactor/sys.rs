//! The platform switch: the one place that registers file descriptors with the OS poller.
//!
//! `polling` picks epoll, kqueue, event ports or IOCP; this file is where goro meets it.
//! Registration is `unsafe` in `polling` because the poller must learn of a descriptor's
//! removal before the descriptor is closed. [`super::Registered`] owns the I/O object and
//! deregisters in its `Drop` before dropping it, which is what makes these calls sound.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsFd, AsRawFd};

use polling::{Event, PollMode, Poller};

/// How descriptors are registered: edge-triggered where the OS supports it (epoll, kqueue),
/// one-shot elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Registered once for both directions; an event comes on every readiness change and
    /// nothing is ever re-armed (no syscall per wait).
    Edge,
    /// Registered with no interest; each wait arms its directions, each event disarms all.
    Oneshot,
}

/// The mode this poller supports best.
pub(crate) fn mode(poller: &Poller) -> Mode {
    if poller.supports_edge() {
        Mode::Edge
    } else {
        Mode::Oneshot
    }
}

/// Adds `io` to `poller` under `key`: in edge mode for both directions at once, in one-shot
/// mode with no interest yet (it is armed on demand).
pub(crate) fn register(poller: &Poller, io: &impl AsFd, key: usize, mode: Mode) -> io::Result<()> {
    let fd = io.as_fd().as_raw_fd();
    // SAFETY: the caller (`Registered::new`) keeps `io` alive inside the `Registered` and
    // calls `deregister` in its `Drop` before `io` is dropped, so the descriptor is removed
    // from the poller before it can be closed.
    unsafe {
        match mode {
            Mode::Edge => poller.add_with_mode(fd, Event::all(key), PollMode::Edge),
            Mode::Oneshot => poller.add(fd, Event::none(key)),
        }
    }
}

/// Arms (or re-arms: interest is one-shot) `io` for the given directions. One-shot mode only.
pub(crate) fn arm(
    poller: &Poller,
    io: &impl AsFd,
    key: usize,
    read: bool,
    write: bool,
) -> io::Result<()> {
    poller.modify(io.as_fd(), Event::new(key, read, write))
}

/// Removes `io` from `poller`.
pub(crate) fn deregister(poller: &Poller, io: &impl AsFd) -> io::Result<()> {
    poller.delete(io.as_fd())
}
