//! Tests only: the compile tests of `#[goro::main]` and `#[goro::test]` (see `tests/ui.rs`).
