//! hyper 1.x on goro (feature `hyper`): [`Io`] gives goro's streams hyper's IO traits, and
//! [`serve`] runs an HTTP/1.1 server with one task per connection and a graceful drain.
//! hyper's `Executor` and `Timer` are goro-runtime's (`goro_runtime::hyper_rt`); the facade
//! re-exports all of them as `goro::hyper`.
//!
//! # Modules
//!
//! - `io`: [`Io<T>`], hyper's `Read`/`Write` over any futures-io stream.
//! - `uninit`: [`ReadUninit`] and the reads into hyper's uninitialised buffer, the one module
//!   of this crate with `unsafe` code (two calls, each with its argument).
//! - `serve`: [`serve`], [`serve_with`], [`Listener`], the accept loop and the drain.

mod io;
mod serve;
mod uninit;

pub use io::Io;
pub use serve::{ACCEPT_BACKOFF_MAX, ACCEPT_BACKOFF_START, Listener, serve, serve_with};
pub use uninit::ReadUninit;
