//! The arguments inside `#[goro::main(...)]` and `#[goro::test(...)]`.
//!
//! The grammar is a comma-separated list of `key = value`, a trailing comma allowed, each key
//! at most once:
//!
//! - `worker_threads`: a positive decimal integer literal;
//! - `start_paused`, alone or as `start_paused = true` / `start_paused = false`: whether the
//!   runtime's clock starts paused (`Builder::start_paused`);
//! - `allow_leaks` (test only), alone or as `allow_leaks = true` / `false`: whether the test
//!   may end with tasks still alive (otherwise it fails, naming them);
//! - `crate`: a string literal holding the path by which the calling crate names goro, such as
//!   `"my_goro"`, `"::my_goro"` or `"crate::rt"`: identifiers (raw ones too) separated by
//!   `::`, with an optional leading `::`.
//!
//! Anything else is an error pointing at the offending token and naming the accepted keys.

use crate::expand::Macro;
use crate::model::{Delim, Error, Tree};

/// The keys the attributes accept, as error messages list them.
pub(crate) const ACCEPTED_KEYS: &str =
    "`worker_threads`, `start_paused`, `allow_leaks` (tests), `crate`";

/// The parsed arguments.
#[derive(Clone, Debug)]
pub(crate) struct Args<O> {
    /// `worker_threads = N`: the literal `N` as the user wrote it, so that it keeps its span.
    pub(crate) worker_threads: Option<O>,
    /// `crate = "path"`: the path to goro, to use instead of `::goro`.
    pub(crate) krate: Option<CratePath<O>>,
    /// `start_paused` (`= true`): the clock starts paused.
    pub(crate) start_paused: Option<bool>,
    /// `allow_leaks` (`= true`): a test may end with tasks alive.
    pub(crate) allow_leaks: Option<bool>,
}

impl<O> Default for Args<O> {
    fn default() -> Self {
        Args {
            worker_threads: None,
            krate: None,
            start_paused: None,
            allow_leaks: None,
        }
    }
}

/// The path given by `crate = "path"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CratePath<O> {
    /// The path's source text, checked to be a path (`my_goro`, `::my_goro`, `crate::rt`).
    pub(crate) path: String,
    /// The string literal it was written in: the generated path gets its span, so that an
    /// unresolved name is reported at the user's string.
    pub(crate) origin: O,
}

/// The keys, as parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    WorkerThreads,
    StartPaused,
    AllowLeaks,
    Crate,
}

impl Key {
    fn name(self) -> &'static str {
        match self {
            Key::WorkerThreads => "worker_threads",
            Key::StartPaused => "start_paused",
            Key::AllowLeaks => "allow_leaks",
            Key::Crate => "crate",
        }
    }

    /// An example of the key in use, for error messages.
    fn example(self) -> &'static str {
        match self {
            Key::WorkerThreads => "`worker_threads = 4`",
            Key::StartPaused => "`start_paused` or `start_paused = true`",
            Key::AllowLeaks => "`allow_leaks` or `allow_leaks = true`",
            Key::Crate => "`crate = \"my_goro\"`",
        }
    }
}

/// Parses the tokens between the attribute's parentheses.
pub(crate) fn parse<O: Clone>(mac: Macro, tokens: &[Tree<O>]) -> Result<Args<O>, Error<O>> {
    let mut args = Args::default();
    let mut rest = tokens;
    while let Some((key_tree, tail)) = rest.split_first() {
        let key = parse_key(mac, key_tree)?;
        if key == Key::AllowLeaks && mac == Macro::Main {
            let message = "`allow_leaks` applies to `#[goro::test]` only: a program's tasks may \
                           outlive `main`";
            return Err(Error::at(key_tree, message));
        }
        let is_flag = matches!(key, Key::StartPaused | Key::AllowLeaks);
        // A flag alone (no `=` after it) means `= true`.
        let alone = is_flag && !tail.first().is_some_and(|t| t.is_punct('='));
        let (value, tail) = if alone {
            (None, tail)
        } else {
            let (value, tail) = parse_value(key, key_tree, tail)?;
            (Some(value), tail)
        };
        let duplicate = match (key, value) {
            (Key::StartPaused | Key::AllowLeaks, value) => {
                let flag = match value {
                    None => true,
                    Some(value) => bool_literal(value)
                        .ok_or_else(|| Error::at(value, bad_flag_message(key)))?,
                };
                let slot = match key {
                    Key::StartPaused => &mut args.start_paused,
                    _ => &mut args.allow_leaks,
                };
                slot.replace(flag).is_some()
            }
            (_, None) => unreachable!("only flags stand alone"),
            (Key::WorkerThreads, Some(value)) => {
                let literal = positive_literal(value)
                    .ok_or_else(|| Error::at(value, bad_workers_message()))?;
                args.worker_threads
                    .replace(literal.origin().clone())
                    .is_some()
            }
            (Key::Crate, Some(value)) => args.krate.replace(crate_path(value)?).is_some(),
        };
        if duplicate {
            let message = format!("`{}` is given twice", key.name());
            return Err(Error::at(key_tree, message));
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

/// The key `tree` names, or an error naming the accepted keys.
fn parse_key<O: Clone>(mac: Macro, tree: &Tree<O>) -> Result<Key, Error<O>> {
    match tree.ident() {
        Some("worker_threads") => Ok(Key::WorkerThreads),
        Some("start_paused") => Ok(Key::StartPaused),
        Some("allow_leaks") => Ok(Key::AllowLeaks),
        Some("crate") => Ok(Key::Crate),
        Some(other) => {
            let message = format!(
                "unknown argument `{other}` to {}; accepted: {ACCEPTED_KEYS}",
                mac.attribute()
            );
            Err(Error::at(tree, message))
        }
        None => {
            let message = format!(
                "expected an argument such as `worker_threads = 4`; accepted: {ACCEPTED_KEYS}"
            );
            Err(Error::at(tree, message))
        }
    }
}

/// A tree and the trees after it.
type Split<'a, O> = (&'a Tree<O>, &'a [Tree<O>]);

/// Parses `= value` after `key` and returns the value and the tokens after it.
fn parse_value<'a, O: Clone>(
    key: Key,
    key_tree: &Tree<O>,
    tail: &'a [Tree<O>],
) -> Result<Split<'a, O>, Error<O>> {
    let Some((eq, tail)) = tail.split_first().filter(|(eq, _)| eq.is_punct('=')) else {
        let message = format!("expected `=` and a value, as in {}", key.example());
        return Err(Error::near(tail.first().or(Some(key_tree)), message));
    };
    let Some((value, tail)) = tail.split_first() else {
        let message = match key {
            Key::WorkerThreads => bad_workers_message(),
            Key::StartPaused | Key::AllowLeaks => bad_flag_message(key),
            Key::Crate => bad_crate_message(),
        };
        return Err(Error::at(eq, message));
    };
    Ok((value, tail))
}

/// `value` itself, or the one tree inside the invisible group a `macro_rules!` fragment
/// arrives in.
fn unwrap_fragment<O>(value: &Tree<O>) -> &Tree<O> {
    match value.group(Delim::None) {
        Some([inner]) => unwrap_fragment(inner),
        _ => value,
    }
}

/// `true` or `false`, if the value is one of them.
fn bool_literal<O>(value: &Tree<O>) -> Option<bool> {
    match unwrap_fragment(value).ident() {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    }
}

/// The value itself if it is a positive decimal integer literal without suffix.
fn positive_literal<O>(value: &Tree<O>) -> Option<&Tree<O>> {
    match unwrap_fragment(value) {
        literal @ Tree::Literal { text, .. } if parse_positive(text).is_some() => Some(literal),
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

/// The path in `crate = "path"`: an error at the value unless it is a string literal, and at
/// the string unless its contents are a path.
fn crate_path<O: Clone>(value: &Tree<O>) -> Result<CratePath<O>, Error<O>> {
    let literal = unwrap_fragment(value);
    let Tree::Literal { text, origin } = literal else {
        return Err(Error::at(value, bad_crate_message()));
    };
    let Some(contents) = string_contents(text) else {
        return Err(Error::at(literal, bad_crate_message()));
    };
    if !is_path(contents) {
        let message = format!(
            "{text} is not a path: `crate` takes the path by which this crate names goro, such \
             as \"my_goro\" or \"::my_goro\""
        );
        return Err(Error::at(literal, message));
    }
    Ok(CratePath {
        path: contents.to_string(),
        origin: origin.clone(),
    })
}

/// The contents of a string literal without suffix: `"..."` or a raw `r"..."`, `r#"..."#`.
fn string_contents(text: &str) -> Option<&str> {
    let raw = text.strip_prefix('r');
    let quoted = raw.unwrap_or(text);
    let hashes = quoted.len() - quoted.trim_start_matches('#').len();
    if raw.is_none() && hashes > 0 {
        return None;
    }
    let fence = "#".repeat(hashes);
    let inner = quoted
        .strip_prefix(&fence)?
        .strip_suffix(&fence)?
        .strip_prefix('"')?
        .strip_suffix('"')?;
    Some(inner)
}

/// Whether `text` is a path: identifiers (raw ones allowed) separated by `::`, and either a
/// leading `::`, or a leading `crate`, or a leading `self` and/or `super`s (`self::super::x`).
///
/// A normal string's escapes are not special-cased: no path needs one, and a `\\` fails here.
fn is_path(text: &str) -> bool {
    if let Some(global) = text.strip_prefix("::") {
        return global.split("::").all(is_identifier_segment);
    }
    let mut segments = text.split("::").peekable();
    if segments.next_if_eq(&"crate").is_none() {
        segments.next_if_eq(&"self");
        while segments.next_if_eq(&"super").is_some() {}
    }
    // `crate`, `self` or `super` alone names a module, which is a path as good as any.
    segments.all(is_identifier_segment)
}

/// Whether `segment` is an identifier that may name a module: not a keyword unless raw, and
/// not one of the keywords that cannot be raw.
fn is_identifier_segment(segment: &str) -> bool {
    match segment.strip_prefix("r#") {
        Some(raw) => is_identifier(raw) && !matches!(raw, "crate" | "self" | "super" | "Self"),
        None => is_identifier(segment) && !is_keyword(segment),
    }
}

/// Whether `word` has the shape of an identifier: a letter or `_` then letters, digits and
/// `_`, and not `_` alone.
fn is_identifier(word: &str) -> bool {
    let mut chars = word.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_alphabetic() || first == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
        && word != "_"
}

/// Whether `word` is a strict or reserved keyword of Rust 2018 and later (`gen`, reserved only
/// in 2024, is left to the compiler), which no plain path segment may be.
fn is_keyword(word: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
        "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait",
        "true", "type", "unsafe", "use", "where", "while", "abstract", "become", "box", "do",
        "final", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
    ];
    KEYWORDS.contains(&word)
}

/// What a malformed `worker_threads` value is told.
fn bad_workers_message() -> String {
    "`worker_threads` takes a positive integer literal, as in `worker_threads = 4`".to_string()
}

/// What a malformed `start_paused` or `allow_leaks` value is told.
fn bad_flag_message(key: Key) -> String {
    let name = key.name();
    format!("`{name}` takes `true` or `false`, or stands alone, as in `{name}`")
}

/// What a `crate` value that is not a string literal is told.
fn bad_crate_message() -> String {
    "`crate` takes the path to goro as a string literal, as in `crate = \"my_goro\"`".to_string()
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
        assert!(err.message.contains("`crate`"), "{}", err.message);
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

    fn crate_path(src: &str) -> Option<String> {
        parse_main(src).unwrap().krate.map(|krate| krate.path)
    }

    #[test]
    fn crate_takes_the_path_inside_the_string() {
        assert_eq!(
            crate_path(r#"crate = "my_goro""#).as_deref(),
            Some("my_goro")
        );
        assert_eq!(
            crate_path(r#"crate = "::my_goro""#).as_deref(),
            Some("::my_goro")
        );
        assert_eq!(
            crate_path(r#"crate = "crate::rt""#).as_deref(),
            Some("crate::rt")
        );
        assert_eq!(
            crate_path(r#"crate = "self::super::super::rt""#).as_deref(),
            Some("self::super::super::rt")
        );
        assert_eq!(
            crate_path(r#"crate = "r#async""#).as_deref(),
            Some("r#async")
        );
        assert_eq!(crate_path(r#"crate = "gö_ro""#).as_deref(), Some("gö_ro"));
        assert_eq!(crate_path(""), None);
    }

    #[test]
    fn crate_keeps_the_string_as_its_origin() {
        let args = parse_main(r#"crate = "my_goro""#).unwrap();
        assert_eq!(args.krate.unwrap().origin, r#""my_goro""#);
    }

    #[test]
    fn crate_combines_with_worker_threads_in_either_order() {
        for src in [
            r#"crate = "g", worker_threads = 2"#,
            r#"worker_threads = 2, crate = "g","#,
        ] {
            let args = parse_main(src).unwrap();
            assert_eq!(args.worker_threads.as_deref(), Some("2"), "{src}");
            assert_eq!(args.krate.map(|k| k.path).as_deref(), Some("g"), "{src}");
        }
    }

    #[test]
    fn crate_accepts_raw_strings() {
        for text in [r#"r"my_goro""#, r##"r#"my_goro"#"##] {
            let tokens = lex("crate =")
                .into_iter()
                .chain([Tree::Literal {
                    text: text.to_string(),
                    origin: text.to_string(),
                }])
                .collect::<Vec<_>>();
            let args = parse(Macro::Main, &tokens).unwrap();
            assert_eq!(args.krate.unwrap().path, "my_goro", "{text}");
        }
    }

    #[test]
    fn crate_that_is_not_a_path_is_rejected_at_the_string() {
        for path in [
            "",
            "::",
            "my goro",
            "my-goro",
            "1goro",
            "goro::",
            "::::goro",
            "goro:::x",
            "a::crate",
            "::crate",
            "super::self",
            "fn",
            "goro::mod",
            "r#crate",
            "_",
            "goro::Builder<T>",
            "goro\\x",
        ] {
            let literal = format!("\"{path}\"");
            let err = parse_main(&format!("crate = {literal}")).unwrap_err();
            assert_eq!(err.at.as_deref(), Some(literal.as_str()), "{path}");
            assert!(err.message.contains("is not a path"), "{}", err.message);
        }
    }

    #[test]
    fn crate_that_is_not_a_string_is_rejected_at_the_value() {
        assert_eq!(error_at("crate = my_goro"), "my_goro");
        assert_eq!(error_at("crate = 4"), "4");
        assert_eq!(error_at("crate ="), "=");
        assert_eq!(error_at(r#"crate "g""#), r#""g""#);
        let err = parse_main("crate = goro").unwrap_err();
        assert!(err.message.contains("string literal"), "{}", err.message);
    }

    #[test]
    fn crate_rejects_byte_strings_and_suffixes() {
        for text in [r#"b"goro""#, r#""goro"x"#, r#"c"goro""#] {
            let tokens = lex("crate =")
                .into_iter()
                .chain([Tree::Literal {
                    text: text.to_string(),
                    origin: text.to_string(),
                }])
                .collect::<Vec<_>>();
            let err = parse(Macro::Main, &tokens).unwrap_err();
            assert_eq!(err.at.as_deref(), Some(text));
            assert!(err.message.contains("string literal"), "{}", err.message);
        }
    }

    #[test]
    fn crate_given_twice_is_rejected() {
        let err = parse_main(r#"crate = "a", crate = "b""#).unwrap_err();
        assert!(
            err.message.contains("`crate` is given twice"),
            "{}",
            err.message
        );
    }

    #[test]
    fn crate_from_a_macro_fragment_is_accepted() {
        let value = Tree::Literal {
            text: r#""g""#.to_string(),
            origin: r#""g""#.to_string(),
        };
        let tokens = lex("crate =")
            .into_iter()
            .chain([Tree::Group {
                delim: Delim::None,
                inner: vec![value],
                origin: r#""g""#.to_string(),
            }])
            .collect::<Vec<_>>();
        let args = parse(Macro::Test, &tokens).unwrap();
        assert_eq!(args.krate.unwrap().path, "g");
    }

    #[test]
    fn integer_parsing_ignores_underscores_and_rejects_overflow() {
        assert_eq!(parse_positive("1_0"), Some(10));
        assert_eq!(parse_positive("_1"), None);
        assert_eq!(parse_positive("99999999999999999999999"), None);
    }

    #[test]
    fn start_paused_stands_alone_or_takes_a_bool() {
        assert_eq!(parse_main("").unwrap().start_paused, None);
        assert_eq!(parse_main("start_paused").unwrap().start_paused, Some(true));
        let args = parse_main("start_paused, worker_threads = 1").unwrap();
        assert_eq!(args.start_paused, Some(true));
        assert_eq!(args.worker_threads.as_deref(), Some("1"));
        let args = parse_main("worker_threads = 2, start_paused = false,").unwrap();
        assert_eq!(args.start_paused, Some(false));
        assert_eq!(
            parse_main("start_paused = true").unwrap().start_paused,
            Some(true)
        );
    }

    #[test]
    fn start_paused_rejects_other_values_and_repeats() {
        assert_eq!(error_at("start_paused = 1"), "1");
        assert_eq!(error_at(r#"start_paused = "yes""#), r#""yes""#);
        let err = parse_main("start_paused, start_paused = false").unwrap_err();
        assert!(err.message.contains("twice"), "{}", err.message);
        let err = parse_main("start_paused worker_threads = 1").unwrap_err();
        assert_eq!(err.at.as_deref(), Some("worker_threads"));
    }

    #[test]
    fn allow_leaks_is_a_flag_of_tests_only() {
        let parse_test = |src: &str| parse(Macro::Test, &lex(src));
        assert_eq!(parse_test("allow_leaks").unwrap().allow_leaks, Some(true));
        let args = parse_test("allow_leaks = false, start_paused").unwrap();
        assert_eq!(args.allow_leaks, Some(false));
        assert_eq!(args.start_paused, Some(true));
        let err = parse_main("allow_leaks").unwrap_err();
        assert_eq!(err.at.as_deref(), Some("allow_leaks"));
        assert!(err.message.contains("#[goro::test]"), "{}", err.message);
        let err = parse_test("allow_leaks = 3").unwrap_err();
        assert_eq!(err.at.as_deref(), Some("3"));
    }
}
