//! Concept 21, the right primitive for each job: once-initialisation, a counter, a shared map,
//! results handed back.
//!
//! Go: `sync.Once` guarding a shared `*FakeDB` that 5 goroutines use. goro: `OnceCell<T>`
//! (`get_or_init(async { .. })`) shared by 5 tasks, and `Once` for an initialisation with no
//! value; beside them the other three tools of the seed's list, each doing the job it fits:
//! an `AtomicU64` for a counter, a `Mutex<HashMap>` for a map, a channel for results.
//!
//! Run: `cargo run --release --example right-primitive`
//!
//! What to look for: the initialiser ran once although 5 tasks raced to it (the count is
//! printed), every task saw the same instance, and each other primitive's result is checked.
//!
//! The gotcha, reading a once-initialised value through a copy taken before init: a task that
//! copied `cell.get()` before anyone initialised the cell holds `None` for ever, while the
//! cell itself holds the value. Read from the cell (`get_or_init`, or `get` after it), never
//! from an earlier snapshot. In Go the same bug is copying the `sharedDB` pointer before
//! `once.Do` ran.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::sync::{chan, Mutex, Once, OnceCell};

#[derive(Debug)]
struct FakeDb {
    name: &'static str,
}

/// Tasks that race for the cell.
const TASKS: usize = 5;

#[goro::main]
async fn main() {
    let db: Arc<OnceCell<FakeDb>> = Arc::new(OnceCell::new());
    let inits = Arc::new(AtomicUsize::new(0));
    let snapshot_before_init = db.get().map(|d| d.name); // the gotcha: a copy taken too early

    let users: Vec<_> = (0..TASKS)
        .map(|_| {
            let (db, inits) = (db.clone(), inits.clone());
            goro::spawn(async move {
                let db = db
                    .get_or_init(async {
                        inits.fetch_add(1, Ordering::SeqCst);
                        goro::time::sleep(Duration::from_millis(20)).await; // a slow connect
                        FakeDb { name: "production" }
                    })
                    .await;
                (db.name, db as *const FakeDb as usize)
            })
        })
        .collect();
    let mut seen = Vec::new();
    for u in users {
        seen.push(u.await.unwrap());
    }
    let same_instance = seen.windows(2).all(|w| w[0].1 == w[1].1);
    println!("right-primitive");
    println!(
        "  OnceCell: {TASKS} tasks called get_or_init; the initialiser ran {} time(s); all saw \
         the same instance: {same_instance}; name {:?}",
        inits.load(Ordering::SeqCst),
        seen[0].0
    );

    let once = Arc::new(Once::new());
    let once_runs = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..TASKS)
        .map(|_| {
            let (once, once_runs) = (once.clone(), once_runs.clone());
            goro::spawn(async move {
                once.call_once(async {
                    once_runs.fetch_add(1, Ordering::SeqCst);
                })
                .await;
            })
        })
        .collect();
    for c in callers {
        c.await.unwrap();
    }
    println!(
        "  Once: {TASKS} tasks called call_once; it ran {} time(s)",
        once_runs.load(Ordering::SeqCst)
    );

    // A counter: an atomic. A map: a mutex. Results: a channel.
    let hits = Arc::new(AtomicU64::new(0));
    let by_task = Arc::new(Mutex::new(HashMap::new()));
    let (tx, rx) = chan::bounded(0);
    for id in 0..100u64 {
        let (hits, by_task, tx) = (hits.clone(), by_task.clone(), tx.clone());
        goro::spawn(async move {
            hits.fetch_add(1, Ordering::Relaxed);
            by_task.lock().await.insert(id, id * 2);
            tx.send(id * id).await.unwrap();
        });
    }
    drop(tx);
    let mut sum = 0;
    while let Some(v) = rx.recv().await {
        sum += v;
    }
    let map_ok = {
        let map = by_task.lock().await;
        map.len() == 100 && (0..100).all(|i| map[&i] == i * 2)
    };
    println!(
        "  AtomicU64 counter: {} of 100; Mutex<HashMap>: 100 entries right: {map_ok}; channel \
         of results: sum of squares {sum} (expected {})",
        hits.load(Ordering::Relaxed),
        (0..100u64).map(|i| i * i).sum::<u64>()
    );

    println!("\ngotcha: a copy of the cell taken before init");
    println!("  copy made before init:  {snapshot_before_init:?}");
    println!("  read from the cell now: {:?}", db.get().map(|d| d.name));
}
