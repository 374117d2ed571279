//! Tests only: `#[goro::main(crate = "...")]` and `#[goro::test(crate = "...")]` in a crate
//! that depends on goro under the name `renamed_goro` (see `tests/renamed.rs`).
