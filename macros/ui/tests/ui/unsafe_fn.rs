#[goro::test]
async unsafe fn risky() {}

fn main() {}
