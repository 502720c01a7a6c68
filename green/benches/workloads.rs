//! thicket-green's benchmark workloads, each `fn(iters) -> Duration` for criterion's
//! `iter_custom`. Used by `benches/green.rs` and, through a `#[path]` module, by
//! `xtask/peers`, which runs them beside the same work on tokio and may.

/// Green threads spawned per round in `spawn_batch`.
pub const BATCH: u64 = 64;

use std::hint::black_box;
use std::time::{Duration, Instant};

use thicket_green::{spawn, spawn_n, Event, Queue};

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
        let n = left.min(BATCH);
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

/// Echoes every number from `ping` back on `pong`, plus one, `n` times.
fn echo(ping: &Queue<u64>, pong: &Queue<u64>, n: u64) {
    for _ in 0..n {
        let x = ping.get().unwrap();
        pong.put(x + 1).unwrap();
    }
}

/// `iters` round trips over two queues; the first round trip is not timed.
fn rounds(ping: &Queue<u64>, pong: &Queue<u64>, iters: u64) -> Duration {
    ping.put(0).unwrap();
    black_box(pong.get().unwrap());
    let start = Instant::now();
    for i in 0..iters {
        ping.put(i).unwrap();
        black_box(pong.get().unwrap());
    }
    start.elapsed()
}

/// Two green threads on one hub passing a number back and forth.
pub fn ping_pong(iters: u64) -> Duration {
    let (ping, pong) = (Queue::unbounded(), Queue::unbounded());
    let (p, q) = (ping.clone(), pong.clone());
    let echoer = spawn(move || echo(&p, &q, iters + 1));
    let d = in_green(move || rounds(&ping, &pong, iters));
    echoer.join().unwrap();
    d
}

/// A green thread on this thread's hub and one on a second OS thread's hub passing a number
/// back and forth.
pub fn ping_pong_threads(iters: u64) -> Duration {
    let (ping, pong) = (Queue::unbounded(), Queue::unbounded());
    let (p, q) = (ping.clone(), pong.clone());
    let other = std::thread::spawn(move || spawn(move || echo(&p, &q, iters + 1)).join().unwrap());
    let d = in_green(move || rounds(&ping, &pong, iters));
    other.join().unwrap();
    d
}

/// Two green threads waking each other through two events: one round trip is two
/// set-then-wait wake-ups (the waker sets, the woken clears).
pub fn event_wake(iters: u64) -> Duration {
    let (ping, pong) = (Event::new(), Event::new());
    let (p, q) = (ping.clone(), pong.clone());
    let echoer = spawn(move || {
        for _ in 0..=iters {
            p.wait().unwrap();
            p.clear();
            q.set();
        }
    });
    let d = in_green(move || {
        let round = || {
            ping.set();
            pong.wait().unwrap();
            pong.clear();
        };
        round();
        let start = Instant::now();
        for _ in 0..iters {
            round();
        }
        start.elapsed()
    });
    echoer.join().unwrap();
    d
}
