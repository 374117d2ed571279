//! The arguments inside `#[goro::main(...)]` and `#[goro::test(...)]`.
//!
//! The grammar is a comma-separated list of `key = value`, a trailing comma allowed. The only
//! key is `worker_threads`, whose value is a positive decimal integer literal. Anything else is
//! an error pointing at the offending token and naming the accepted keys.

use crate::expand::Macro;
use crate::model::{Delim, Error, Tree};

/// The keys the attributes accept, as error messages list them.
pub(crate) const ACCEPTED_KEYS: &str = "`worker_threads`";

/// The parsed arguments.
#[derive(Clone, Debug)]
pub(crate) struct Args<O> {
    /// `worker_threads = N`: the literal `N` as the user wrote it, so that it keeps its span.
    pub(crate) worker_threads: Option<O>,
}

impl<O> Default for Args<O> {
    fn default() -> Self {
        Args {
            worker_threads: None,
        }
    }
}

/// Parses the tokens between the attribute's parentheses.
pub(crate) fn parse<O: Clone>(mac: Macro, tokens: &[Tree<O>]) -> Result<Args<O>, Error<O>> {
    let mut args = Args::default();
    let mut rest = tokens;
    while let Some((key, tail)) = rest.split_first() {
        let (value, tail) = parse_pair(mac, key, tail)?;
        if args.worker_threads.replace(value).is_some() {
            return Err(Error::at(key, "`worker_threads` is given twice"));
        }
        rest = match tail.split_first() {
            None => tail,
            Some((comma, tail)) if comma.is_punct(',') => tail,
            Some((other, _)) => {
                return Err(Error::at(other, "expected `,` between arguments"));
            }
        };
    }
    Ok(args)
}

/// Parses `key = value` and returns the value's origin and the tokens after it.
fn parse_pair<'a, O: Clone>(
    mac: Macro,
    key: &Tree<O>,
    tail: &'a [Tree<O>],
) -> Result<(O, &'a [Tree<O>]), Error<O>> {
    match key.ident() {
        Some("worker_threads") => {}
        Some(other) => {
            let message = format!(
                "unknown argument `{other}` to {}; accepted: {ACCEPTED_KEYS}",
                mac.attribute()
            );
            return Err(Error::at(key, message));
        }
        None => {
            let message = format!(
                "expected an argument such as `worker_threads = 4`; accepted: {ACCEPTED_KEYS}"
            );
            return Err(Error::at(key, message));
        }
    }
    let Some((eq, tail)) = tail.split_first().filter(|(eq, _)| eq.is_punct('=')) else {
        return Err(Error::near(
            tail.first().or(Some(key)),
            "expected `=` and a value, as in `worker_threads = 4`",
        ));
    };
    let Some((value, tail)) = tail.split_first() else {
        return Err(Error::at(eq, bad_value_message()));
    };
    let literal = positive_literal(value).ok_or_else(|| Error::at(value, bad_value_message()))?;
    Ok((literal.origin().clone(), tail))
}

/// The value itself if it is a positive decimal integer literal without suffix, looking through
/// the invisible group a `macro_rules!` fragment arrives in.
fn positive_literal<O>(value: &Tree<O>) -> Option<&Tree<O>> {
    if let Some([inner]) = value.group(Delim::None) {
        return positive_literal(inner);
    }
    match value {
        Tree::Literal { text, .. } if parse_positive(text).is_some() => Some(value),
        _ => None,
    }
}

/// The value of a decimal integer literal such as `4` or `1_000`, if it is above zero and fits
/// a `usize`.
fn parse_positive(text: &str) -> Option<usize> {
    if !text.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if !text.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return None;
    }
    let digits: String = text.chars().filter(|&c| c != '_').collect();
    digits.parse::<usize>().ok().filter(|&n| n > 0)
}

/// What a malformed `worker_threads` value is told.
fn bad_value_message() -> String {
    "`worker_threads` takes a positive integer literal, as in `worker_threads = 4`".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::lex;

    fn parse_main(src: &str) -> Result<Args<String>, Error<String>> {
        parse(Macro::Main, &lex(src))
    }

    fn error_at(src: &str) -> String {
        parse_main(src).unwrap_err().at.unwrap()
    }

    #[test]
    fn no_arguments_mean_defaults() {
        assert_eq!(parse_main("").unwrap().worker_threads, None);
    }

    #[test]
    fn worker_threads_keeps_the_literal_as_written() {
        let args = parse_main("worker_threads = 1_000").unwrap();
        assert_eq!(args.worker_threads.as_deref(), Some("1_000"));
    }

    #[test]
    fn trailing_comma_is_accepted() {
        let args = parse_main("worker_threads = 4,").unwrap();
        assert_eq!(args.worker_threads.as_deref(), Some("4"));
    }

    #[test]
    fn unknown_key_points_at_the_key_and_names_the_accepted_keys() {
        let err = parse_main("flavor = 4").unwrap_err();
        assert_eq!(err.at.as_deref(), Some("flavor"));
        assert!(err.message.contains("`worker_threads`"), "{}", err.message);
        assert!(err.message.contains("#[goro::main]"), "{}", err.message);
    }

    #[test]
    fn key_that_is_not_an_identifier_names_the_accepted_keys() {
        let err = parse_main("4").unwrap_err();
        assert_eq!(err.at.as_deref(), Some("4"));
        assert!(err.message.contains("`worker_threads`"), "{}", err.message);
    }

    #[test]
    fn zero_workers_is_rejected_at_the_value() {
        assert_eq!(error_at("worker_threads = 0"), "0");
    }

    #[test]
    fn non_integer_values_are_rejected_at_the_value() {
        assert_eq!(error_at(r#"worker_threads = "4""#), r#""4""#);
        assert_eq!(error_at("worker_threads = four"), "four");
        assert_eq!(error_at("worker_threads = 4usize"), "4usize");
        assert_eq!(error_at("worker_threads = -1"), "-");
    }

    #[test]
    fn missing_value_points_at_the_equals_sign() {
        assert_eq!(error_at("worker_threads ="), "=");
    }

    #[test]
    fn missing_equals_sign_points_at_what_came_instead() {
        assert_eq!(error_at("worker_threads 4"), "4");
        assert_eq!(error_at("worker_threads"), "worker_threads");
    }

    #[test]
    fn duplicate_key_is_rejected() {
        let err = parse_main("worker_threads = 1, worker_threads = 2").unwrap_err();
        assert!(err.message.contains("twice"), "{}", err.message);
    }

    #[test]
    fn missing_comma_points_at_the_next_token() {
        assert_eq!(
            error_at("worker_threads = 1 worker_threads = 2"),
            "worker_threads"
        );
    }

    #[test]
    fn literal_from_a_macro_fragment_is_accepted() {
        let value = Tree::Literal {
            text: "2".to_string(),
            origin: "2".to_string(),
        };
        let tokens = lex("worker_threads =")
            .into_iter()
            .chain([Tree::Group {
                delim: Delim::None,
                inner: vec![value],
                origin: "2".to_string(),
            }])
            .collect::<Vec<_>>();
        let args = parse(Macro::Test, &tokens).unwrap();
        assert_eq!(args.worker_threads.as_deref(), Some("2"));
    }

    #[test]
    fn integer_parsing_ignores_underscores_and_rejects_overflow() {
        assert_eq!(parse_positive("1_0"), Some(10));
        assert_eq!(parse_positive("_1"), None);
        assert_eq!(parse_positive("99999999999999999999999"), None);
    }
}
