//! Sockets on goro's reactor: TCP, UDP and Unix sockets, and `Async<T>`.
//!
//! This crate is being built; today it only re-exports the runtime it stands on.

#![forbid(unsafe_code)]

pub use goro_runtime as runtime;
