#[goro::main]
fn main() {
    println!("no async here");
}
