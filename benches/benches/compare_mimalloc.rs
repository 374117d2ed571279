//! The comparison workloads on mimalloc: the child binary `compare` runs for tokio's and
//! smol's mimalloc columns (goro's is `goro-bench-child-mimalloc`, built without the peers:
//! see `src/artifacts.rs`). Run the harness with `cargo bench -p goro-rt-benches --bench compare`; on its own,
//! this binary only measures when given `--child WORKLOAD RUNTIME`.

#[path = "shared/mod.rs"]
mod shared;

use goro_benches::Allocator;

/// Every allocation of this binary, runtimes included, goes through mimalloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    shared::child_binary_main(Allocator::Mimalloc, "compare_mimalloc");
}
