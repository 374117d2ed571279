//! `?` converts into the declared error type and `return` leaves the body with a value.

use std::error::Error;

#[goro::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let port: u16 = "8080".parse()?;
    if port == 8080 {
        return Ok(());
    }
    Err("unreachable".into())
}
