//! Unit-test helpers: a tiny lexer from source text to [`Tree`]s whose origin is their text,
//! and a renderer from expansions back to text.
//!
//! Text is normalised to tokens separated by single spaces (`f ( x )`), so tests compare
//! `render(expansion)` with `normalize("expected source")`. The lexer knows just enough Rust for
//! the tests: identifiers, integer and string literals, punctuation, groups and `///` comments.

use std::iter::Peekable;
use std::str::Chars;

use crate::model::{Delim, Piece, Tree};

/// Lexes `src` into trees whose origin is their normalised text.
pub(crate) fn lex(src: &str) -> Vec<Tree<String>> {
    let mut chars = src.chars().peekable();
    let trees = lex_until(&mut chars, None);
    assert!(chars.next().is_none(), "unbalanced brackets in {src:?}");
    trees
}

/// `src` with its tokens separated by single spaces.
pub(crate) fn normalize(src: &str) -> String {
    render_trees(&lex(src))
}

/// The normalised text of `trees`.
pub(crate) fn render_trees(trees: &[Tree<String>]) -> String {
    join(trees.iter().map(|tree| tree.origin().clone()))
}

/// The normalised text of an expansion.
pub(crate) fn render(pieces: &[Piece<String>]) -> String {
    join(pieces.iter().map(|piece| match piece {
        Piece::Code(src) => normalize(src),
        Piece::Input(text) => text.clone(),
        Piece::Spanned(src, _) => normalize(src),
        Piece::Group(delim, inner) => group_text(*delim, &render(inner)),
    }))
}

fn join(parts: impl Iterator<Item = String>) -> String {
    parts
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn group_text(delim: Delim, inner: &str) -> String {
    let (open, close) = match delim {
        Delim::Paren => ("(", ")"),
        Delim::Brace => ("{", "}"),
        Delim::Bracket => ("[", "]"),
        Delim::None => ("", ""),
    };
    join([open, inner, close].into_iter().map(str::to_string))
}

/// Lexes trees until `close` (consumed) or the end of the input.
fn lex_until(chars: &mut Peekable<Chars<'_>>, close: Option<char>) -> Vec<Tree<String>> {
    let mut trees = Vec::new();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            c if Some(c) == close => return trees,
            '/' if chars.peek() == Some(&'/') => trees.extend(comment(chars)),
            '(' => trees.push(group(chars, Delim::Paren, ')')),
            '[' => trees.push(group(chars, Delim::Bracket, ']')),
            '{' => trees.push(group(chars, Delim::Brace, '}')),
            ')' | ']' | '}' => panic!("unexpected {c:?}"),
            '"' => trees.push(literal(string(chars))),
            c if c.is_ascii_digit() => trees.push(literal(word(c, chars))),
            c if c.is_alphabetic() || c == '_' => trees.push(ident(&word(c, chars))),
            c => trees.push(Tree::Punct {
                ch: c,
                origin: c.to_string(),
            }),
        }
    }
    assert!(close.is_none(), "missing {close:?}");
    trees
}

fn group(chars: &mut Peekable<Chars<'_>>, delim: Delim, close: char) -> Tree<String> {
    let inner = lex_until(chars, Some(close));
    Tree::Group {
        delim,
        origin: group_text(delim, &render_trees(&inner)),
        inner,
    }
}

/// Skips a `//` comment; a `///` comment becomes `#[doc = "..."]`, as rustc hands it over.
fn comment(chars: &mut Peekable<Chars<'_>>) -> Vec<Tree<String>> {
    let text: String = chars.by_ref().take_while(|&c| c != '\n').collect();
    let Some(doc) = text.strip_prefix("//") else {
        return Vec::new();
    };
    let inner = vec![ident("doc"), punct('='), literal(format!("\"{doc}\""))];
    vec![
        punct('#'),
        Tree::Group {
            delim: Delim::Bracket,
            origin: group_text(Delim::Bracket, &render_trees(&inner)),
            inner,
        },
    ]
}

fn word(first: char, chars: &mut Peekable<Chars<'_>>) -> String {
    let mut text = first.to_string();
    while let Some(c) = chars.next_if(|c| c.is_alphanumeric() || *c == '_') {
        text.push(c);
    }
    text
}

fn string(chars: &mut Peekable<Chars<'_>>) -> String {
    let mut text = String::from('"');
    while let Some(c) = chars.next() {
        text.push(c);
        match c {
            '\\' => text.extend(chars.next()),
            '"' => return text,
            _ => {}
        }
    }
    panic!("unterminated string {text}")
}

fn ident(text: &str) -> Tree<String> {
    Tree::Ident {
        text: text.to_string(),
        origin: text.to_string(),
    }
}

fn punct(ch: char) -> Tree<String> {
    Tree::Punct {
        ch,
        origin: ch.to_string(),
    }
}

fn literal(text: String) -> Tree<String> {
    Tree::Literal {
        origin: text.clone(),
        text,
    }
}
