//! Compile tests with trybuild: each misuse in `tests/ui/` fails with an error at the user's
//! offending token (the expected output is the `.stderr` beside it), and each program in
//! `tests/pass/` compiles and runs.
//!
//! Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p goro-rt-macros-ui --test ui`
//! and read the diff: the carets must stay under the user's tokens.

#[test]
fn misuse_fails_at_the_offending_token_and_correct_use_runs() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/pass/*.rs");
}
