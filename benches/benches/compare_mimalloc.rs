//! The comparison workloads on mimalloc: the child binary `compare` runs for the mimalloc
//! column. Run the harness with `cargo bench -p goro-rt-benches --bench compare`; on its own,
//! this binary only measures when given `--child WORKLOAD RUNTIME`.

#[path = "shared/mod.rs"]
mod shared;

use goro_benches::child::{parse_args, Invocation};
use goro_benches::Allocator;

/// Every allocation of this binary, runtimes included, goes through mimalloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    match parse_args(std::env::args().skip(1)) {
        Ok(Invocation::Child(workload, runtime)) => {
            shared::child_main(Allocator::Mimalloc, workload, runtime)
        }
        Ok(Invocation::Parent) => eprintln!(
            "compare_mimalloc is the mimalloc child of the harness; run \
             `cargo bench -p goro-rt-benches --bench compare` instead"
        ),
        Err(usage) => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
        Ok(Invocation::HoldConnections(to)) => shared::hold_connections(to),
    }
}
