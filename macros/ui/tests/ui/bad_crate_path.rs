#[goro::main(crate = "my goro")]
async fn main() {}
