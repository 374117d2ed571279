#[goro::main(allow_leaks)]
async fn main() {}
