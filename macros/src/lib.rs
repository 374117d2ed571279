//! `#[goro::main]` and `#[goro::test]`: run an `async fn` to completion on a fresh goro runtime.
//!
//! Both attributes are re-exported by the `goro` crate, and are meant to be written as
//! `#[goro::main]` and `#[goro::test]`. A crate that names goro otherwise (a renamed
//! dependency, or a re-export in a crate of its own) says so with `crate = "path"`.
//!
//! ```
//! #[goro::main]
//! async fn main() -> Result<(), String> {
//!     let answer = goro::spawn(async { 6 * 7 }).await.map_err(|e| e.to_string())?;
//!     assert_eq!(answer, 42);
//!     Ok(())
//! }
//! ```
//!
//! ```
//! #[goro::test(worker_threads = 1)]
//! async fn spawned_task_reports_its_result() {
//!     assert_eq!(goro::spawn(async { 1 + 1 }).await.unwrap(), 2);
//! }
//! # fn main() {}
//! ```
//!
//! # Implementation
//!
//! The attribute turns the `async fn` into a plain `fn` of the same name, attributes,
//! visibility and return type. Its body moves, untouched, into a nested `async fn` with the
//! same return type, and the plain `fn` builds a runtime with `goro::Builder` and blocks on that
//! nested function. `#[goro::test]` also puts `#[test]` on the plain `fn`; the user's other
//! attributes, such as `#[should_panic]` and `#[ignore]`, stay on it. `worker_threads = N`
//! becomes a call of `Builder::worker_threads(N)`, and `crate = "path"` replaces `::goro` with
//! `path`. So
//!
//! ```text
//! #[goro::main(worker_threads = 4)]
//! pub async fn main() -> Result<(), Error> { body }
//! ```
//!
//! expands to
//!
//! ```text
//! pub fn main() -> Result<(), Error> {
//!     async fn __goro_body() -> Result<(), Error> { body }
//!     ::goro::Builder::new()
//!         .worker_threads(4)
//!         .build()
//!         .expect("goro: failed to build the runtime")
//!         .block_on(__goro_body())
//! }
//! ```
//!
//! The nested `async fn`, rather than an `async` block, pins the future's output to the declared
//! return type: `?` converts errors into it and `return` leaves the body with a value of it,
//! whatever `block_on`'s signature lets the compiler infer. It also keeps inner attributes such
//! as `#![allow(unused)]` at the top of the body legal. Generated code names goro by the
//! absolute path `::goro`, so the calling crate must depend on goro under that name, unless
//! `crate = "path"` names it: the path's tokens get the span of the user's string, so a path
//! that does not resolve is reported there.
//!
//! Misuse is a compile error at the user's token that does not fit:
//!
//! - a function that is not `async`: at its `fn` keyword;
//! - a function with parameters: at its parameter list;
//! - generics or a where-clause: at the `<` or the `where`;
//! - a qualifier other than `async` (`unsafe`, `const`, `extern "C"`): at the qualifier;
//! - an item that is not a function: at its first token after attributes and visibility;
//! - `#[goro::test]` beside the user's own `#[test]`: at that `[test]`;
//! - an unknown argument, a `worker_threads` value that is not a positive integer literal, or
//!   a `crate` value that is not a string literal: at that key or value, with the accepted keys
//!   or an example in the message;
//! - a `crate` string that does not hold a path: at the string.
//!
//! A rejected function is emitted unchanged beside the error, so the names it defines still
//! resolve; a bad argument is reported and the function is expanded without it.
//!
//! `#[goro::main]` does not insist on the name `main`, like `#[tokio::main]`: on
//! `async fn serve()` it makes a blocking `fn serve()` that runs the body on a runtime of its
//! own, which suits helper entry points such as a benchmark's setup.
//!
//! The crate uses `proc_macro` alone: no syn, no quote. Parsing works on a small token model of
//! its own (`model`), so it is unit-tested without a compiler session.
//!
//! # Modules
//!
//! - `model`: the token model (`Tree`, with each token's origin) and the expansion's pieces.
//! - `args`: the arguments inside the attribute's parentheses.
//! - `item`: checking and splitting the `async fn`.
//! - `expand`: building the plain `fn`.
//! - `bridge`: converting between `proc_macro` tokens and the model; errors as
//!   `compile_error!`.
//!
//! # What it does not do
//!
//! There is no `flavor` or current-thread runtime: the runtime is always goro's multi-threaded
//! one, sized by `worker_threads` or by goro's default (available parallelism, or
//! `GORO_MAXPROCS`). It does not accept methods, generic functions or functions with
//! parameters.

mod args;
mod bridge;
mod expand;
mod item;
mod model;
#[cfg(test)]
mod testing;

use proc_macro::TokenStream;

use crate::expand::Macro;

/// Runs an `async fn` to completion on a fresh goro runtime; usually on `main`.
///
/// The function becomes a plain `fn` with the same attributes, visibility and return type,
/// which builds a runtime with `goro::Builder`, blocks on the body and returns its output. `?`
/// and `return` in the body work as in any function returning that type.
///
/// The optional arguments, in any order, separated by commas:
///
/// - `worker_threads = N` (a positive integer literal) sets the number of worker threads;
///   without it goro's default applies.
/// - `crate = "path"` names goro by `path` instead of `::goro`, for a crate that depends on goro
///   under another name or re-exports it; see the example below.
///
/// ```
/// #[goro::main(worker_threads = 2)]
/// async fn main() -> Result<(), std::num::ParseIntError> {
///     let n: u32 = "21".parse()?;
///     let doubled = goro::spawn(async move { n * 2 }).await.unwrap();
///     assert_eq!(doubled, 42);
///     Ok(())
/// }
/// ```
///
/// The attribute does not insist on the name `main`: on any `async fn` without parameters it
/// makes a function that blocks its caller until the body has finished.
///
/// A crate whose `Cargo.toml` says `my_goro = { package = "goro-rt", ... }` writes
///
/// ```ignore
/// #[my_goro::main(crate = "my_goro", worker_threads = 2)]
/// async fn main() {
///     my_goro::spawn(async { 1 }).await.unwrap();
/// }
/// ```
///
/// and so does a crate that wraps goro, with the path to its re-export:
///
/// ```
/// mod rt {
///     pub use goro::*;
/// }
///
/// #[rt::main(crate = "crate::rt")]
/// async fn main() {
///     assert_eq!(rt::spawn(async { 6 * 7 }).await.unwrap(), 42);
/// }
/// ```
///
/// # Panics
///
/// The generated function panics if the runtime cannot be built (the OS refused a thread or the
/// poller), with a message starting `goro: failed to build the runtime`. A panic in the body
/// propagates out of the generated function.
///
/// # Errors
///
/// These are compile errors, each pointing at the offending token: a function that is not
/// `async`, takes parameters, is generic or has a where-clause, has a qualifier other than
/// `async`, an item that is not a function, an unknown argument or malformed value, and a
/// `crate` string that is not a path.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    bridge::run(Macro::Main, args, item)
}

/// Makes an `async fn` a test that runs on a fresh goro runtime.
///
/// The function becomes a `#[test]` function of the same name that builds its own runtime and
/// blocks on the body, so tests do not share runtime state. Other attributes stay on it:
/// `#[should_panic]` sees the body's panics and `#[ignore]` skips the test. A test may return
/// `Result<(), E>` and use `?`. The optional arguments are those of [`macro@main`]:
/// `worker_threads = N` sets the number of worker threads (`worker_threads = 1` gives a
/// deterministic single-worker runtime), and `crate = "path"` names goro by another path.
/// When the body returns, the test also fails if tasks it spawned are still alive a second
/// later (naming them): a test should end what it starts. `allow_leaks` (or
/// `allow_leaks = true`) turns that check off.
/// `start_paused` (or `start_paused = true`) starts the runtime's clock paused
/// (`Builder::start_paused`): time then jumps to the next timer whenever nothing else can
/// run, so a test of a 30-second timeout takes milliseconds.
///
/// ```
/// use std::time::Duration;
///
/// #[goro::test(start_paused)]
/// async fn a_slow_peer_times_out() {
///     let (_tx, rx) = goro::sync::chan::bounded::<u8>(0);
///     let start = goro::time::now();
///     let out = goro::time::timeout(Duration::from_secs(30), rx.recv()).await;
///     assert!(out.is_err());
///     assert_eq!(goro::time::now() - start, Duration::from_secs(30));
/// }
///
/// #[goro::test(worker_threads = 1)]
/// async fn parses_the_port() -> Result<(), std::num::ParseIntError> {
///     let port: u16 = "8080".parse()?;
///     assert_eq!(port, 8080);
///     Ok(())
/// }
///
/// #[goro::test]
/// #[should_panic(expected = "boom")]
/// async fn panics_reach_the_harness() {
///     panic!("boom");
/// }
///
/// // In a crate that depends on goro as `my_goro`, this would be
/// // `#[my_goro::test(crate = "my_goro")]`.
/// #[goro::test(crate = "::goro", worker_threads = 2)]
/// async fn names_goro_by_the_given_path() {
///     assert_eq!(goro::spawn(async { 1 }).await.unwrap(), 1);
/// }
/// # fn main() {}
/// ```
///
/// # Panics
///
/// The test panics, and so fails, if the runtime cannot be built; the body's own panics
/// propagate to the test harness.
///
/// # Errors
///
/// The compile errors of [`macro@main`], and one more: the function must not also carry
/// `#[test]`, since this attribute adds it.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    bridge::run(Macro::Test, args, item)
}
