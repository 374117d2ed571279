//! goro's child on the system allocator: the workloads of `compare` with goro alone in the
//! build (see the `goro-only` feature in `benches/Cargo.toml`). The parent,
//! `cargo bench -p goro-rt-benches --bench compare`, builds and runs it.

#[path = "../../benches/shared/mod.rs"]
mod shared;

use goro_benches::Allocator;

fn main() {
    shared::child_binary_main(Allocator::System, "goro-bench-child");
}
