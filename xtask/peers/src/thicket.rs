//! The workloads on thicket-green: green threads on this OS thread's hub.

use std::hint::black_box;
use std::time::{Duration, Instant};

use thicket_green::{spawn, spawn_n};

/// Runs `f` in a green thread and returns what it returns.
fn in_green<T: 'static>(f: impl FnOnce() -> T + 'static) -> T {
    spawn(f).join().expect("benchmark green thread failed")
}

/// `spawn(|| x).join()`, the joiner being a green thread.
pub fn spawn_join(iters: u64) -> Duration {
    in_green(move || spawn_join_plain(iters))
}

/// `spawn(|| x).join()` from the caller (plain code when called from outside green threads).
pub fn spawn_join_plain(iters: u64) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        let v = spawn(move || black_box(i) + 1).join().unwrap();
        black_box(v);
    }
    start.elapsed()
}

/// `spawn_n` a batch of green threads, then `run()` until all are done.
pub fn spawn_batch(iters: u64) -> Duration {
    let start = Instant::now();
    let mut left = iters;
    while left > 0 {
        let n = left.min(crate::BATCH);
        for i in 0..n {
            spawn_n(move || {
                black_box(i);
            });
        }
        thicket_green::run();
        left -= n;
    }
    start.elapsed()
}

/// One green thread yielding `iters` times while the root waits in `join`.
pub fn yield_now(iters: u64) -> Duration {
    in_green(move || {
        let start = Instant::now();
        for _ in 0..iters {
            thicket_green::yield_now().unwrap();
        }
        start.elapsed()
    })
}
