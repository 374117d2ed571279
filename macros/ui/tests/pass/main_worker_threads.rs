//! `worker_threads` configures the runtime; attributes, visibility and inner attributes stay.

#[goro::main(worker_threads = 2)]
/// The program's entry point, on two workers.
pub async fn main() {
    #![allow(unused_variables)]
    let unused = 1;
    let answer = goro::spawn(async { 6 * 7 }).await.unwrap();
    assert_eq!(answer, 42);
}
