//! Runtime hooks: thread start/stop on workers and blocking threads; poll hooks around every
//! poll of every task.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use common::{eventually, watchdog};
use goro_runtime::Builder;

fn thread_name() -> String {
    std::thread::current().name().unwrap_or("?").to_string()
}

#[test]
fn thread_hooks_run_on_every_worker_and_blocking_thread() {
    watchdog(60, || {
        let started = Arc::new(Mutex::new(Vec::new()));
        let stopped = Arc::new(Mutex::new(Vec::new()));
        let (s, t) = (started.clone(), stopped.clone());
        let rt = Builder::new()
            .worker_threads(2)
            .thread_name("hooked")
            .on_thread_start(move || s.lock().unwrap().push(thread_name()))
            .on_thread_stop(move || t.lock().unwrap().push(thread_name()))
            .build()
            .unwrap();
        // Three blocking calls that wait for each other: three blocking threads at once.
        let barrier = Arc::new(Barrier::new(3));
        rt.block_on(async {
            let calls: Vec<_> = (0..3)
                .map(|_| {
                    let barrier = barrier.clone();
                    goro_runtime::spawn_blocking(move || {
                        barrier.wait();
                    })
                })
                .collect();
            for call in calls {
                call.await.unwrap();
            }
        });
        drop(rt);
        // Workers are joined by the drop; blocking threads end soon after it.
        let mut names = started.lock().unwrap().clone();
        names.sort();
        assert_eq!(
            names
                .iter()
                .filter(|n| n.starts_with("hooked-worker-"))
                .count(),
            2,
            "{names:?}"
        );
        assert!(
            names
                .iter()
                .filter(|n| n.starts_with("hooked-blocking-"))
                .count()
                >= 3,
            "{names:?}"
        );
        assert!(names.iter().all(|n| n.starts_with("hooked-")), "{names:?}");
        assert!(eventually(Duration::from_secs(10), || {
            stopped.lock().unwrap().len() == names.len()
        }));
        let mut stopped = stopped.lock().unwrap().clone();
        stopped.sort();
        assert_eq!(stopped, names);
    });
}

#[test]
fn an_idle_blocking_thread_runs_the_stop_hook_when_it_exits() {
    watchdog(60, || {
        let stops = Arc::new(AtomicUsize::new(0));
        let s = stops.clone();
        let rt = Builder::new()
            .worker_threads(1)
            .thread_keep_alive(Duration::from_millis(10))
            .on_thread_stop(move || {
                if thread_name().contains("-blocking-") {
                    s.fetch_add(1, Ordering::SeqCst);
                }
            })
            .build()
            .unwrap();
        rt.block_on(rt.spawn_blocking(|| ())).unwrap();
        assert!(eventually(Duration::from_secs(10), || rt
            .blocking_threads()
            == 0));
        assert!(eventually(Duration::from_secs(10), || stops
            .load(Ordering::SeqCst)
            == 1));
        drop(rt);
    });
}

/// Counts its own polls, yielding `yields` times.
struct CountPolls {
    polls: Arc<AtomicUsize>,
    yields: usize,
}

impl Future for CountPolls {
    type Output = usize;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let n = self.polls.fetch_add(1, Ordering::SeqCst) + 1;
        if self.yields == 0 {
            return Poll::Ready(n);
        }
        self.yields -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Event {
    Before(u64),
    After(u64),
}

#[test]
fn poll_hooks_see_every_poll_of_a_task_with_its_id() {
    watchdog(60, || {
        let events = Arc::new(Mutex::new(Vec::new()));
        let names = Arc::new(Mutex::new(Vec::new()));
        let (before, after, named) = (events.clone(), events.clone(), names.clone());
        let rt = Builder::new()
            .worker_threads(2)
            .on_before_task_poll(move |task| {
                before.lock().unwrap().push(Event::Before(task.id()));
                if let Some(name) = task.name() {
                    named.lock().unwrap().push((task.id(), name));
                }
            })
            .on_after_task_poll(move |task| after.lock().unwrap().push(Event::After(task.id())))
            .build()
            .unwrap();
        rt.block_on(async {
            for yields in [0, 1, 5, 50] {
                // Ids are reused once a task is gone: forget the earlier tasks' polls.
                events.lock().unwrap().clear();
                let polls = Arc::new(AtomicUsize::new(0));
                let handle = goro_runtime::task::Builder::new()
                    .name(format!("counted-{yields}"))
                    .spawn(CountPolls {
                        polls: polls.clone(),
                        yields,
                    });
                let id = handle.id().unwrap();
                assert_eq!(handle.await.unwrap(), yields + 1);
                // The last poll's after-hook ran before the result reached us.
                let mine: Vec<Event> = events
                    .lock()
                    .unwrap()
                    .iter()
                    .copied()
                    .filter(|e| matches!(e, Event::Before(i) | Event::After(i) if *i == id))
                    .collect();
                let expected: Vec<Event> = (0..yields + 1)
                    .flat_map(|_| [Event::Before(id), Event::After(id)])
                    .collect();
                assert_eq!(mine, expected, "yields {yields}");
                assert_eq!(polls.load(Ordering::SeqCst), yields + 1);
                let name = format!("counted-{yields}");
                assert!(names
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|(i, n)| *i == id && *n == name));
            }
            // A blocking call is a task too: one poll.
            events.lock().unwrap().clear();
            let call = goro_runtime::spawn_blocking(|| 3);
            let id = call.id().unwrap();
            assert_eq!(call.await.unwrap(), 3);
            let mine = events
                .lock()
                .unwrap()
                .iter()
                .filter(|e| matches!(e, Event::Before(i) | Event::After(i) if *i == id))
                .count();
            assert_eq!(mine, 2);
        });
    });
}

#[test]
fn a_panicking_hook_harms_neither_the_task_nor_the_worker() {
    watchdog(60, || {
        let rt = Builder::new()
            .worker_threads(1)
            .on_thread_start(|| panic!("start hook fails"))
            .on_before_task_poll(|_| panic!("poll hook fails"))
            .on_after_task_poll(|_| panic!("poll hook fails"))
            .build()
            .unwrap();
        let sum = rt.block_on(async {
            let mut sum = 0;
            for i in 0..10 {
                sum += goro_runtime::spawn(async move {
                    goro_runtime::yield_now().await;
                    i
                })
                .await
                .unwrap();
            }
            sum
        });
        assert_eq!(sum, 45);
    });
}
