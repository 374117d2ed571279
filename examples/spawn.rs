//! Concept 16, spawning: Go's `go f()` is `goro::spawn(f())`.
//!
//! Go: `go greet(name)`, `go func() { ... }()`, and a `sync.WaitGroup` to wait. goro:
//! `goro::spawn` of an async fn's future, of an async closure's, and of an async block;
//! a `JoinHandle` to wait for one (and get its result), or dropping it to detach, as in Go.
//!
//! Run: `cargo run --release --example spawn`
//!
//! What to look for: each task's result in the order the tasks finished (not the order they
//! were spawned), the detached task's effect, and how long spawning took.
//!
//! The gotcha, the loop variable captured by reference: in Go (before 1.22), `go func() {
//! greet(name) }()` in a loop could see a later `name`. In Rust the same program does not
//! compile: a task must own what it uses (`'static`), so the borrow of the loop variable is
//! refused ("borrowed value does not live long enough" / "may outlive borrowed value"). The
//! fix is the `move` of a per-iteration value, shown below: each task prints its own name.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::sync::chan;

async fn greet(name: &'static str, delay_ms: u64) -> String {
    goro::time::sleep(Duration::from_millis(delay_ms)).await;
    format!("hello, {name}")
}

#[goro::main]
async fn main() {
    let start = Instant::now();
    // The results go into a channel as each task finishes, so they print in completion order.
    let (tx, rx) = chan::unbounded();

    // 1. An async fn: its future is the task.
    let named = goro::spawn(greet("Harish", 30));
    // 2. A closure returning a future (Go's `go func(n string) {...}(name)`).
    let greeter = |name: &'static str| async move { greet(name, 10).await };
    let from_closure = goro::spawn(greeter("Alice"));
    // 3. An async block capturing a value it owns.
    let name = String::from("Bob");
    let block = goro::spawn(async move {
        goro::time::sleep(Duration::from_millis(20)).await;
        format!("hello, {name}")
    });
    let spawned_in = start.elapsed();

    for (label, handle) in [
        ("async fn", named),
        ("closure", from_closure),
        ("async block", block),
    ] {
        let tx = tx.clone();
        goro::spawn(async move {
            let greeting = handle.await.expect("the task panicked");
            tx.send((label, greeting)).await.unwrap();
        });
    }

    // A detached task: its JoinHandle is dropped, and it runs on, as a goroutine does.
    let ran = Arc::new(AtomicUsize::new(0));
    drop(goro::spawn({
        let ran = ran.clone();
        async move {
            ran.fetch_add(1, Ordering::SeqCst);
        }
    }));

    println!("spawn: three tasks spawned in {spawned_in:?}; results as they finished:");
    for _ in 0..3 {
        let (label, greeting) = rx.recv().await.unwrap();
        println!("  {:<12} {greeting:<16} at {:?}", label, start.elapsed());
    }
    while ran.load(Ordering::SeqCst) == 0 {
        goro::yield_now().await;
    }
    println!(
        "detached task ran: {} time(s), with nobody awaiting it",
        ran.load(Ordering::SeqCst)
    );

    // The loop-variable gotcha, done the Rust way: each iteration moves its own value in.
    let names = ["Ann", "Ben", "Cid"];
    let mut handles = Vec::new();
    for name in names {
        let owned = name.to_string(); // per-iteration value, moved into the task
        handles.push(goro::spawn(async move { format!("hello, {owned}") }));
    }
    let mut greetings = Vec::new();
    for h in handles {
        greetings.push(h.await.unwrap());
    }
    println!("\nloop with a moved per-iteration value: {greetings:?}");
    assert_eq!(greetings, ["hello, Ann", "hello, Ben", "hello, Cid"]);
    println!("each task saw its own iteration's name");
}
