//! The crossing between `proc_macro` and the crate's own token model.
//!
//! Input token streams become [`Tree`]s whose origin is the original `TokenTree`; the expansion
//! comes back as pieces that either re-emit those originals (keeping the user's spans) or are
//! generated code, which gets the span of the macro call. Errors become `compile_error!` calls
//! spanned at the token they blame, which is where rustc underlines them.

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

use crate::expand::{self, Expansion, Macro};
use crate::model::{Delim, Error, Piece, Tree};

/// Runs the attribute `mac` on `item` with the arguments `args`.
pub(crate) fn run(mac: Macro, args: TokenStream, item: TokenStream) -> TokenStream {
    let args = trees(args);
    let item = trees(item);
    emit(expand::expand(mac, &args, &item))
}

/// The model of a token stream.
fn trees(stream: TokenStream) -> Vec<Tree<TokenTree>> {
    stream.into_iter().map(tree).collect()
}

/// The model of one token tree, keeping the tree itself as its origin.
fn tree(token: TokenTree) -> Tree<TokenTree> {
    let origin = token.clone();
    match token {
        TokenTree::Ident(ident) => Tree::Ident {
            text: ident.to_string(),
            origin,
        },
        TokenTree::Punct(punct) => Tree::Punct {
            ch: punct.as_char(),
            origin,
        },
        TokenTree::Literal(literal) => Tree::Literal {
            text: literal.to_string(),
            origin,
        },
        TokenTree::Group(group) => Tree::Group {
            delim: delim(group.delimiter()),
            inner: trees(group.stream()),
            origin,
        },
    }
}

fn delim(delimiter: Delimiter) -> Delim {
    match delimiter {
        Delimiter::Parenthesis => Delim::Paren,
        Delimiter::Brace => Delim::Brace,
        Delimiter::Bracket => Delim::Bracket,
        Delimiter::None => Delim::None,
    }
}

fn delimiter(delim: Delim) -> Delimiter {
    match delim {
        Delim::Paren => Delimiter::Parenthesis,
        Delim::Brace => Delimiter::Brace,
        Delim::Bracket => Delimiter::Bracket,
        Delim::None => Delimiter::None,
    }
}

/// The token stream of an expansion: its errors first, then its code.
fn emit(expansion: Expansion<TokenTree>) -> TokenStream {
    let mut out: TokenStream = expansion.errors.iter().map(compile_error).collect();
    out.extend(pieces(expansion.pieces));
    out
}

fn pieces(pieces: Vec<Piece<TokenTree>>) -> TokenStream {
    pieces.into_iter().map(piece).collect()
}

fn piece(piece: Piece<TokenTree>) -> TokenStream {
    match piece {
        // The generated snippets are constants of this crate; one that does not lex is a bug
        // here, and a panicking proc macro is reported as a compile error.
        Piece::Code(src) => src
            .parse()
            .expect("goro-rt-macros generated code that does not lex"),
        Piece::Input(tree) => tree.into(),
        // The argument parser accepted `src` as a path, so it lexes; should a character it took
        // for part of an identifier not be one to rustc, the user is told at their string.
        Piece::Spanned(src, origin) => {
            let span = origin.span();
            match src.parse::<TokenStream>() {
                Ok(tokens) => tokens.into_iter().map(|t| respan(t, span)).collect(),
                Err(_) => compile_error(&Error {
                    at: Some(origin),
                    message: format!("`{src}` is not a path"),
                }),
            }
        }
        Piece::Group(delim, inner) => {
            TokenTree::Group(Group::new(delimiter(delim), pieces(inner))).into()
        }
    }
}

/// `::core::compile_error! { "message" }`, every token spanned at the blamed token.
fn compile_error(error: &Error<TokenTree>) -> TokenStream {
    let span = error
        .at
        .as_ref()
        .map_or_else(Span::call_site, TokenTree::span);
    let message = TokenStream::from(TokenTree::Literal(Literal::string(&error.message)));
    let tokens = [
        TokenTree::Punct(Punct::new(':', Spacing::Joint)),
        TokenTree::Punct(Punct::new(':', Spacing::Alone)),
        TokenTree::Ident(Ident::new("core", span)),
        TokenTree::Punct(Punct::new(':', Spacing::Joint)),
        TokenTree::Punct(Punct::new(':', Spacing::Alone)),
        TokenTree::Ident(Ident::new("compile_error", span)),
        TokenTree::Punct(Punct::new('!', Spacing::Alone)),
        TokenTree::Group(Group::new(Delimiter::Brace, message)),
    ];
    tokens
        .into_iter()
        .map(|token| respan(token, span))
        .collect()
}

/// `token` with its span set to `span`; a group's contents are respanned too.
fn respan(mut token: TokenTree, span: Span) -> TokenTree {
    if let TokenTree::Group(group) = &token {
        let inner = group.stream().into_iter().map(|t| respan(t, span));
        token = TokenTree::Group(Group::new(group.delimiter(), inner.collect()));
    }
    token.set_span(span);
    token
}
