//! Turning an accepted `async fn` into a plain `fn` that runs its body on a fresh runtime.
//!
//! The body moves, untouched, into a nested `async fn __goro_body()` with the user's return
//! type; the outer function builds a runtime and blocks on `__goro_body()`. A nested `async fn`
//! rather than an `async` block, because its signature fixes the future's output type: `?`
//! converts errors into the declared type and `return` returns from the body, with no inference
//! left to the caller of `block_on`. It also accepts inner attributes (`#![allow(..)]`) at the
//! top of the body, which an `async` block does not.

use crate::args::{self, Args};
use crate::item::{self, AsyncFn};
use crate::model::{Delim, Error, Piece, Tree};

/// Which of the two attributes is being expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Macro {
    /// `#[goro::main]`: the function keeps its attributes.
    Main,
    /// `#[goro::test]`: the function also becomes a `#[test]`.
    Test,
}

impl Macro {
    /// The attribute as error messages name it.
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            Macro::Main => "`#[goro::main]`",
            Macro::Test => "`#[goro::test]`",
        }
    }
}

/// What a macro call turns into: the code, and the errors to report beside it.
#[derive(Debug)]
pub(crate) struct Expansion<O> {
    /// Misuses found, each reported as a `compile_error!` at the user's token.
    pub(crate) errors: Vec<Error<O>>,
    /// The code that replaces the item.
    pub(crate) pieces: Vec<Piece<O>>,
}

/// The test attribute the expansion adds, by absolute path so that a `use goro::test;` in the
/// user's module cannot make it name `#[goro::test]` again.
const TEST_ATTR: &str = "#[::core::prelude::v1::test]";

/// The nested function holding the user's body.
const BODY_FN: &str = "async fn __goro_body()";

/// The path to goro without a `crate = "path"` argument.
const DEFAULT_CRATE: &str = "::goro";

/// The start of the runtime's construction, after the path to goro.
const BUILDER: &str = "::Builder::new()";

/// The end of the runtime's construction, and the call that runs the body.
const BUILD_AND_RUN: &str =
    ".build().expect(\"goro: failed to build the runtime\").block_on(__goro_body())";

/// The same for a test: the body runs, then the test fails if tasks outlive it...
const BUILD_AND_TEST: &str =
    ".build().expect(\"goro: failed to build the runtime\").__run_test(__goro_body(), false)";

/// ...unless the test allows it (`allow_leaks`).
const BUILD_AND_TEST_LEAKY: &str =
    ".build().expect(\"goro: failed to build the runtime\").__run_test(__goro_body(), true)";

/// Expands `mac` with the attribute's arguments `args` on the item `item`.
///
/// A malformed argument is reported and otherwise ignored, so the function still expands and
/// the user sees that one error. An item that cannot be rewritten is reported and emitted
/// unchanged, so that the names it defines still resolve.
pub(crate) fn expand<O: Clone>(mac: Macro, args: &[Tree<O>], item: &[Tree<O>]) -> Expansion<O> {
    let mut errors = Vec::new();
    let args = args::parse(mac, args).unwrap_or_else(|error| {
        errors.push(error);
        Args::default()
    });
    let pieces = match item::parse(mac, item) {
        Ok(function) => rewrite(mac, &args, &function),
        Err(error) => {
            errors.push(error);
            inputs(item)
        }
    };
    Expansion { errors, pieces }
}

/// The plain `fn` that replaces the `async fn`.
fn rewrite<O: Clone>(mac: Macro, args: &Args<O>, function: &AsyncFn<'_, O>) -> Vec<Piece<O>> {
    let mut out = Vec::new();
    if mac == Macro::Test {
        out.push(Piece::Code(TEST_ATTR));
    }
    out.extend(inputs(function.attrs));
    out.extend(inputs(function.vis));
    out.extend(inputs([function.fn_token, function.name, function.params]));
    out.extend(inputs(function.output));
    out.push(Piece::Group(
        Delim::Brace,
        run_on_runtime(mac, args, function),
    ));
    out
}

/// The outer function's body: the nested `async fn`, then the runtime running it.
fn run_on_runtime<O: Clone>(
    mac: Macro,
    args: &Args<O>,
    function: &AsyncFn<'_, O>,
) -> Vec<Piece<O>> {
    let mut out = vec![Piece::Code(BODY_FN)];
    out.extend(inputs(function.output));
    out.extend(inputs([function.body]));
    out.push(match &args.krate {
        Some(krate) => Piece::Spanned(krate.path.clone(), krate.origin.clone()),
        None => Piece::Code(DEFAULT_CRATE),
    });
    out.push(Piece::Code(BUILDER));
    if let Some(workers) = &args.worker_threads {
        out.push(Piece::Code(".worker_threads"));
        out.push(Piece::Group(
            Delim::Paren,
            vec![Piece::Input(workers.clone())],
        ));
    }
    match args.start_paused {
        Some(true) => out.push(Piece::Code(".start_paused(true)")),
        Some(false) => out.push(Piece::Code(".start_paused(false)")),
        None => {}
    }
    match mac {
        Macro::Main => out.push(Piece::Code(BUILD_AND_RUN)),
        Macro::Test if args.allow_leaks == Some(true) => {
            out.push(Piece::Code(BUILD_AND_TEST_LEAKY));
        }
        Macro::Test => out.push(Piece::Code(BUILD_AND_TEST)),
    }
    out
}

/// The given trees, to be emitted as the user wrote them.
fn inputs<'a, O: Clone + 'a>(trees: impl IntoIterator<Item = &'a Tree<O>>) -> Vec<Piece<O>> {
    trees
        .into_iter()
        .map(|tree| Piece::Input(tree.origin().clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{lex, normalize, render};

    fn expand_src(mac: Macro, args: &str, item: &str) -> Expansion<String> {
        expand(mac, &lex(args), &lex(item))
    }

    fn code(mac: Macro, args: &str, item: &str) -> String {
        let expansion = expand_src(mac, args, item);
        assert_eq!(expansion.errors, []);
        render(&expansion.pieces)
    }

    #[test]
    fn main_runs_its_body_on_a_default_runtime() {
        assert_eq!(
            code(Macro::Main, "", "async fn main() { work().await; }"),
            normalize(
                r#"fn main() {
                    async fn __goro_body() { work().await; }
                    ::goro::Builder::new()
                        .build().expect("goro: failed to build the runtime")
                        .block_on(__goro_body())
                }"#
            )
        );
    }

    #[test]
    fn return_type_is_kept_on_both_functions() {
        assert_eq!(
            code(
                Macro::Main,
                "",
                "async fn main() -> Result<(), String> { step()?; Ok(()) }"
            ),
            normalize(
                r#"fn main() -> Result<(), String> {
                    async fn __goro_body() -> Result<(), String> { step()?; Ok(()) }
                    ::goro::Builder::new()
                        .build().expect("goro: failed to build the runtime")
                        .block_on(__goro_body())
                }"#
            )
        );
    }

    #[test]
    fn worker_threads_configures_the_builder() {
        let code = code(Macro::Main, "worker_threads = 4", "async fn main() {}");
        assert!(
            code.contains(&normalize(
                "::goro::Builder::new().worker_threads(4).build()"
            )),
            "{code}"
        );
    }

    #[test]
    fn start_paused_configures_the_builder() {
        let code = code(
            Macro::Test,
            "start_paused, worker_threads = 1",
            "async fn t() {}",
        );
        assert!(
            code.contains(&normalize(
                "::goro::Builder::new().worker_threads(1).start_paused(true).build()"
            )),
            "{code}"
        );
    }

    #[test]
    fn crate_replaces_the_path_to_goro() {
        assert_eq!(
            code(
                Macro::Main,
                r#"crate = "my_goro", worker_threads = 2"#,
                "async fn main() {}"
            ),
            normalize(
                r#"fn main() {
                    async fn __goro_body() {}
                    my_goro::Builder::new().worker_threads(2)
                        .build().expect("goro: failed to build the runtime")
                        .block_on(__goro_body())
                }"#
            )
        );
        let code = code(Macro::Test, r#"crate = "::a::b""#, "async fn t() {}");
        assert!(
            code.contains(&normalize("{} ::a::b::Builder::new().build()")),
            "{code}"
        );
    }

    #[test]
    fn crate_path_is_spanned_at_the_users_string() {
        let expansion = expand_src(Macro::Main, r#"crate = "my_goro""#, "async fn main() {}");
        let spanned: Vec<_> = expansion
            .pieces
            .iter()
            .flat_map(|piece| match piece {
                Piece::Group(_, inner) => inner.clone(),
                other => vec![other.clone()],
            })
            .filter_map(|piece| match piece {
                Piece::Spanned(src, origin) => Some((src, origin)),
                _ => None,
            })
            .collect();
        assert_eq!(
            spanned,
            [("my_goro".to_string(), r#""my_goro""#.to_string())]
        );
    }

    #[test]
    fn test_gets_a_test_attribute_and_keeps_its_own() {
        assert_eq!(
            code(
                Macro::Test,
                "worker_threads = 1",
                "#[should_panic] #[ignore] pub async fn t() { boom() }"
            ),
            normalize(
                r#"#[::core::prelude::v1::test] #[should_panic] #[ignore] pub fn t() {
                    async fn __goro_body() { boom() }
                    ::goro::Builder::new().worker_threads(1)
                        .build().expect("goro: failed to build the runtime")
                        .__run_test(__goro_body(), false)
                }"#
            )
        );
    }

    #[test]
    fn allow_leaks_turns_the_leak_check_off() {
        let code = code(Macro::Test, "allow_leaks", "async fn t() {}");
        assert!(
            code.contains(&normalize(".__run_test(__goro_body(), true)")),
            "{code}"
        );
    }

    #[test]
    fn main_on_a_function_with_another_name_is_expanded() {
        let code = code(Macro::Main, "", "pub async fn serve() {}");
        assert!(code.starts_with("pub fn serve ( ) {"), "{code}");
    }

    #[test]
    fn bad_argument_is_reported_and_the_function_still_expands() {
        let expansion = expand_src(Macro::Main, "flavor = 2", "async fn main() {}");
        assert_eq!(expansion.errors.len(), 1);
        let code = render(&expansion.pieces);
        assert!(
            code.contains(&normalize("::goro::Builder::new().build()")),
            "{code}"
        );
    }

    #[test]
    fn rejected_item_is_reported_and_emitted_unchanged() {
        let expansion = expand_src(Macro::Main, "", "fn main() { run() }");
        assert_eq!(expansion.errors.len(), 1);
        assert_eq!(render(&expansion.pieces), normalize("fn main() { run() }"));
    }

    #[test]
    fn bad_argument_and_rejected_item_are_both_reported() {
        let expansion = expand_src(Macro::Test, "worker_threads = 0", "async fn t(x: u8) {}");
        let at: Vec<_> = expansion.errors.iter().map(|e| e.at.as_deref()).collect();
        assert_eq!(at, [Some("0"), Some("( x : u8 )")]);
    }
}
