//! The small token model that parsing and expansion work on.
//!
//! `proc_macro`'s types exist only while the compiler runs a macro, so a unit test cannot build
//! them. Parsing and expansion therefore work on [`Tree`], a copy of the input that keeps only
//! what they look at. Every token carries an *origin* `O`: inside the compiler it is the
//! original `proc_macro::TokenTree` (re-emitted as written, so the user's spans survive and
//! errors point at the user's tokens); in unit tests it is the token's source text.

/// The delimiter of a [`Tree::Group`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delim {
    /// `( ... )`
    Paren,
    /// `{ ... }`
    Brace,
    /// `[ ... ]`
    Bracket,
    /// An invisible group, as a `macro_rules!` fragment arrives.
    None,
}

/// One token tree of the macro's input.
#[derive(Clone, Debug)]
pub(crate) enum Tree<O> {
    /// An identifier or keyword, with its text (`r#` included for raw identifiers).
    Ident {
        /// The identifier as written.
        text: String,
        /// Where it came from.
        origin: O,
    },
    /// One punctuation character; `->` arrives as `-` then `>`.
    Punct {
        /// The character.
        ch: char,
        /// Where it came from.
        origin: O,
    },
    /// A literal, with its source text (`4`, `"s"`, `1_000usize`).
    Literal {
        /// The literal as written.
        text: String,
        /// Where it came from.
        origin: O,
    },
    /// A delimited group and the trees inside it.
    Group {
        /// Which brackets surround it.
        delim: Delim,
        /// The trees between the brackets.
        inner: Vec<Tree<O>>,
        /// Where it came from (the whole group, brackets included).
        origin: O,
    },
}

impl<O> Tree<O> {
    /// The origin of this tree, to re-emit it or to point an error at it.
    pub(crate) fn origin(&self) -> &O {
        match self {
            Tree::Ident { origin, .. }
            | Tree::Punct { origin, .. }
            | Tree::Literal { origin, .. }
            | Tree::Group { origin, .. } => origin,
        }
    }

    /// The identifier's text, if this is an identifier.
    pub(crate) fn ident(&self) -> Option<&str> {
        match self {
            Tree::Ident { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Whether this is the identifier or keyword `word`.
    pub(crate) fn is_ident(&self, word: &str) -> bool {
        self.ident() == Some(word)
    }

    /// Whether this is the punctuation character `ch`.
    pub(crate) fn is_punct(&self, ch: char) -> bool {
        matches!(self, Tree::Punct { ch: c, .. } if *c == ch)
    }

    /// The trees inside this group, if it is a group delimited by `delim`.
    pub(crate) fn group(&self, delim: Delim) -> Option<&[Tree<O>]> {
        match self {
            Tree::Group {
                delim: d, inner, ..
            } if *d == delim => Some(inner),
            _ => None,
        }
    }
}

/// One piece of an expansion.
#[derive(Clone, Debug)]
pub(crate) enum Piece<O> {
    /// Generated code as Rust source text; always a balanced token sequence. It gets the span
    /// of the macro call.
    Code(&'static str),
    /// A token of the user's input, emitted as written, with its own span.
    Input(O),
    /// Generated code written by the user inside a token (the path of `crate = "path"`), as
    /// Rust source text; it gets the span of that token, so errors about it point there.
    Spanned(String, O),
    /// A generated group around further pieces (used when user tokens go inside it).
    Group(Delim, Vec<Piece<O>>),
}

/// A misuse of a macro: what is wrong and the user's token it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Error<O> {
    /// The token the compiler underlines; `None` points at the attribute itself.
    pub(crate) at: Option<O>,
    /// The message, saying what to write instead.
    pub(crate) message: String,
}

impl<O: Clone> Error<O> {
    /// An error about `tree`.
    pub(crate) fn at(tree: &Tree<O>, message: impl Into<String>) -> Self {
        Error {
            at: Some(tree.origin().clone()),
            message: message.into(),
        }
    }

    /// An error about `tree`, or about the attribute itself when there is no token to blame.
    pub(crate) fn near(tree: Option<&Tree<O>>, message: impl Into<String>) -> Self {
        Error {
            at: tree.map(|tree| tree.origin().clone()),
            message: message.into(),
        }
    }
}
