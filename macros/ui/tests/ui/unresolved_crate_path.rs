//! The path is used as given: a name that does not resolve is reported at the string.

#[goro::main(worker_threads = 2, crate = "no_such_goro")]
async fn main() {}
