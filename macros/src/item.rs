//! Splitting the annotated item into the parts of an `async fn` that the expansion reuses.
//!
//! The item must read `#[attrs] vis async fn name() -> R { body }`, where the attributes, the
//! visibility and `-> R` are optional. Everything else is rejected with an error at the token
//! that does not fit: the `fn` keyword of a function that is not `async`, a qualifier other than
//! `async` (`unsafe`, `const`, `extern`), the `<` of generics, the `where` of a where-clause, the
//! parameter list of a function that takes parameters, the first token of an item that is not a
//! function. `#[goro::test]` also rejects a `#[test]` of the user's own, since it adds one.

use crate::expand::Macro;
use crate::model::{Delim, Error, Tree};

/// A part split off the tokens, and the tokens left.
type Split<'a, O, T> = Result<(T, &'a [Tree<O>]), Error<O>>;

/// Keywords that may stand between the visibility and `fn`; only `async` is accepted.
const QUALIFIERS: [&str; 6] = ["async", "const", "unsafe", "extern", "safe", "default"];

/// An accepted `async fn`, as slices of the macro's input.
#[derive(Debug)]
pub(crate) struct AsyncFn<'a, O> {
    /// The outer attributes, doc comments included: each `#` and its bracket group.
    pub(crate) attrs: &'a [Tree<O>],
    /// `pub`, `pub(crate)` and the like, or nothing.
    pub(crate) vis: &'a [Tree<O>],
    /// The `fn` keyword, kept so that errors about the signature point at the user's code.
    pub(crate) fn_token: &'a Tree<O>,
    /// The function's name.
    pub(crate) name: &'a Tree<O>,
    /// The empty parameter list `()`.
    pub(crate) params: &'a Tree<O>,
    /// `-> R`, or nothing for functions returning `()`.
    pub(crate) output: &'a [Tree<O>],
    /// The body, braces included.
    pub(crate) body: &'a Tree<O>,
}

/// Checks that `tokens` is an `async fn` the macro `mac` can rewrite and splits it into parts.
pub(crate) fn parse<O: Clone>(mac: Macro, tokens: &[Tree<O>]) -> Result<AsyncFn<'_, O>, Error<O>> {
    let (attrs, rest) = split_attrs(tokens);
    if mac == Macro::Test {
        reject_test_attr(mac, attrs)?;
    }
    let (vis, rest) = split_vis(rest);
    let ((qualifiers, fn_token), rest) = split_qualifiers(mac, rest)?;
    check_qualifiers(mac, qualifiers, fn_token)?;
    let (name, rest) = split_name(mac, fn_token, rest)?;
    let (params, rest) = split_params(mac, name, rest)?;
    let (body, output) = split_body(mac, params, rest)?;
    Ok(AsyncFn {
        attrs,
        vis,
        fn_token,
        name,
        params,
        output,
        body,
    })
}

/// Splits off the leading `#[...]` attributes.
fn split_attrs<O>(tokens: &[Tree<O>]) -> (&[Tree<O>], &[Tree<O>]) {
    let mut len = 0;
    while tokens.get(len).is_some_and(|t| t.is_punct('#'))
        && tokens
            .get(len + 1)
            .is_some_and(|t| t.group(Delim::Bracket).is_some())
    {
        len += 2;
    }
    tokens.split_at(len)
}

/// Rejects a `#[test]` among the attributes: the macro adds its own, and two would make rustc
/// register the test twice.
fn reject_test_attr<O: Clone>(mac: Macro, attrs: &[Tree<O>]) -> Result<(), Error<O>> {
    match attrs.iter().find(|tree| is_test_attr(tree)) {
        Some(attr) => Err(Error::at(
            attr,
            format!(
                "{} already adds `#[test]`: remove this one",
                mac.attribute()
            ),
        )),
        None => Ok(()),
    }
}

/// Whether `tree` is the bracket group of `#[test]`.
fn is_test_attr<O>(tree: &Tree<O>) -> bool {
    matches!(tree.group(Delim::Bracket), Some([word]) if word.is_ident("test"))
}

/// Splits off `pub` and its optional restriction such as `(crate)`.
fn split_vis<O>(tokens: &[Tree<O>]) -> (&[Tree<O>], &[Tree<O>]) {
    let len = match tokens {
        [public, restriction, ..]
            if public.is_ident("pub") && restriction.group(Delim::Paren).is_some() =>
        {
            2
        }
        [public, ..] if public.is_ident("pub") => 1,
        _ => 0,
    };
    tokens.split_at(len)
}

/// Splits off the qualifiers before `fn` and the `fn` keyword; an item without `fn` there is
/// not a function.
fn split_qualifiers<O: Clone>(
    mac: Macro,
    tokens: &[Tree<O>],
) -> Split<'_, O, (&[Tree<O>], &Tree<O>)> {
    for (at, tree) in tokens.iter().enumerate() {
        if tree.is_ident("fn") {
            return Ok(((&tokens[..at], tree), &tokens[at + 1..]));
        }
        let after_extern = at > 0 && tokens[at - 1].is_ident("extern");
        let is_abi = after_extern && matches!(tree, Tree::Literal { .. });
        if !is_abi && !QUALIFIERS.iter().any(|q| tree.is_ident(q)) {
            break;
        }
    }
    Err(Error::near(
        tokens.first(),
        format!("{} goes on an `async fn`", mac.attribute()),
    ))
}

/// Accepts exactly one qualifier, `async`.
fn check_qualifiers<O: Clone>(
    mac: Macro,
    qualifiers: &[Tree<O>],
    fn_token: &Tree<O>,
) -> Result<(), Error<O>> {
    if let Some(other) = qualifiers.iter().find(|q| !q.is_ident("async")) {
        let word = other.ident().unwrap_or("this ABI");
        let message = format!(
            "{} goes on a plain `async fn`; `{word}` is not supported",
            mac.attribute()
        );
        return Err(Error::at(other, message));
    }
    if qualifiers.is_empty() {
        let message = format!(
            "{} goes on an `async fn`: add `async` before `fn`",
            mac.attribute()
        );
        return Err(Error::at(fn_token, message));
    }
    Ok(())
}

/// Splits off the function's name and rejects generics right after it.
fn split_name<'a, O: Clone>(
    mac: Macro,
    fn_token: &Tree<O>,
    tokens: &'a [Tree<O>],
) -> Split<'a, O, &'a Tree<O>> {
    let Some((name, rest)) = tokens
        .split_first()
        .filter(|(name, _)| name.ident().is_some())
    else {
        return Err(Error::at(
            fn_token,
            "expected the function's name after `fn`",
        ));
    };
    if let Some(angle) = rest.first().filter(|t| t.is_punct('<')) {
        let message = format!("{} does not support generic functions", mac.attribute());
        return Err(Error::at(angle, message));
    }
    Ok((name, rest))
}

/// Splits off the parameter list, which must be empty.
fn split_params<'a, O: Clone>(
    mac: Macro,
    name: &Tree<O>,
    tokens: &'a [Tree<O>],
) -> Split<'a, O, &'a Tree<O>> {
    let Some((params, rest)) = tokens.split_first() else {
        return Err(Error::at(name, "expected `()` after the function's name"));
    };
    match params.group(Delim::Paren) {
        Some([]) => Ok((params, rest)),
        Some(_) => {
            let message = format!("{} functions take no parameters", mac.attribute());
            Err(Error::at(params, message))
        }
        None => Err(Error::at(params, "expected `()` after the function's name")),
    }
}

/// Splits the body off the end of what follows the parameters, leaving `-> R`; rejects a
/// where-clause.
fn split_body<'a, O: Clone>(
    mac: Macro,
    params: &Tree<O>,
    tokens: &'a [Tree<O>],
) -> Split<'a, O, &'a Tree<O>> {
    let Some((body, output)) = tokens.split_last() else {
        return Err(Error::at(params, "expected the function's body"));
    };
    if body.group(Delim::Brace).is_none() {
        let message = format!("{} needs a function body", mac.attribute());
        return Err(Error::at(body, message));
    }
    if let Some(clause) = output.iter().find(|t| t.is_ident("where")) {
        let message = format!("{} does not support where-clauses", mac.attribute());
        return Err(Error::at(clause, message));
    }
    match output {
        [] => Ok((body, output)),
        [minus, greater, _, ..] if minus.is_punct('-') && greater.is_punct('>') => {
            Ok((body, output))
        }
        [first, ..] => Err(Error::at(first, "expected `->` or the function's body")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{lex, render_trees};

    fn parse_main(src: &str) -> Result<String, Error<String>> {
        let tokens = lex(src);
        let f = parse(Macro::Main, &tokens)?;
        Ok(format!(
            "attrs[{}] vis[{}] {} {} {} output[{}] {}",
            render_trees(f.attrs),
            render_trees(f.vis),
            f.fn_token.origin(),
            f.name.origin(),
            f.params.origin(),
            render_trees(f.output),
            f.body.origin(),
        ))
    }

    fn error(mac: Macro, src: &str) -> Error<String> {
        parse(mac, &lex(src)).unwrap_err()
    }

    #[test]
    fn plain_async_fn_splits_into_parts() {
        assert_eq!(
            parse_main("async fn main() { work().await }").unwrap(),
            "attrs[] vis[] fn main ( ) output[] { work ( ) . await }"
        );
    }

    #[test]
    fn attributes_visibility_and_return_type_are_kept() {
        let parts = parse_main(
            "/// docs\n#[inline] pub(crate) async fn run() -> Result<(), String> { Ok(()) }",
        )
        .unwrap();
        assert_eq!(
            parts,
            "attrs[# [ doc = \" docs\" ] # [ inline ]] vis[pub ( crate )] fn run ( ) \
             output[- > Result < ( ) , String >] { Ok ( ( ) ) }"
        );
    }

    #[test]
    fn return_type_with_braces_inside_is_kept_whole() {
        let parts = parse_main("async fn f() -> Array<{ N }> { Array::new() }").unwrap();
        assert!(parts.contains("output[- > Array < { N } >]"), "{parts}");
    }

    #[test]
    fn fn_without_async_is_rejected_at_the_fn_keyword() {
        let err = error(Macro::Main, "fn main() {}");
        assert_eq!(err.at.as_deref(), Some("fn"));
        assert!(err.message.contains("add `async`"), "{}", err.message);
    }

    #[test]
    fn parameters_are_rejected_at_the_parameter_list() {
        let err = error(Macro::Test, "async fn t(x: u32, y: u32) {}");
        assert_eq!(err.at.as_deref(), Some("( x : u32 , y : u32 )"));
        assert!(err.message.contains("#[goro::test]"), "{}", err.message);
    }

    #[test]
    fn generics_are_rejected_at_the_angle_bracket() {
        assert_eq!(
            error(Macro::Main, "async fn f<T>() {}").at.as_deref(),
            Some("<")
        );
    }

    #[test]
    fn where_clause_is_rejected_at_where() {
        let err = error(Macro::Main, "async fn f() where String: Clone {}");
        assert_eq!(err.at.as_deref(), Some("where"));
    }

    #[test]
    fn other_qualifiers_are_rejected_at_the_qualifier() {
        assert_eq!(
            error(Macro::Main, "async unsafe fn f() {}").at.as_deref(),
            Some("unsafe")
        );
        assert_eq!(
            error(Macro::Main, "pub const async fn f() {}")
                .at
                .as_deref(),
            Some("const")
        );
        assert_eq!(
            error(Macro::Main, "extern \"C\" fn f() {}").at.as_deref(),
            Some("extern")
        );
    }

    #[test]
    fn item_that_is_not_a_function_is_rejected_at_its_first_token() {
        let err = error(
            Macro::Main,
            "#[derive(Debug)] pub struct Config { workers: usize }",
        );
        assert_eq!(err.at.as_deref(), Some("struct"));
        assert!(err.message.contains("`async fn`"), "{}", err.message);
        let err = error(Macro::Test, "unsafe impl Send for Config {}");
        assert_eq!(err.at.as_deref(), Some("unsafe"));
    }

    #[test]
    fn function_without_body_is_rejected_at_the_semicolon() {
        assert_eq!(error(Macro::Test, "async fn t();").at.as_deref(), Some(";"));
    }

    #[test]
    fn own_test_attribute_is_rejected_by_goro_test() {
        let err = error(Macro::Test, "#[should_panic] #[test] async fn t() {}");
        assert_eq!(err.at.as_deref(), Some("[ test ]"));
    }

    #[test]
    fn test_attribute_is_left_alone_by_goro_main() {
        assert!(parse_main("#[test] async fn f() {}").is_ok());
    }
}
