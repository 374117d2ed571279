//! goro's child on mimalloc: the workloads of `compare_mimalloc` with goro alone in the
//! build (see the `goro-only` feature in `benches/Cargo.toml`). The parent,
//! `cargo bench -p goro-rt-benches --bench compare`, builds and runs it.

#[path = "../../benches/shared/mod.rs"]
mod shared;

use goro_benches::Allocator;

/// Every allocation of this binary, the runtime's included, goes through mimalloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    shared::child_binary_main(Allocator::Mimalloc, "goro-bench-child-mimalloc");
}
