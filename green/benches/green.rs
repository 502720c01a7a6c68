//! thicket-green's own numbers: spawn + join, spawn_n + run, yield_now, queue ping-pong on one
//! hub and across two hubs, event wake-ups. Resident memory per parked green thread is
//! `benches/memory.rs`. The same workloads next to tokio and may are in
//! `xtask/peers/benches/peers.rs`.

#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use thicket_green::{spawn, spawn_n, Event, Queue};

/// Green threads spawned per `run()` in the `spawn_n` benchmark.
const BATCH: u64 = 64;

fn in_green<T: 'static>(f: impl FnOnce() -> T + 'static) -> T {
    spawn(f).join().expect("benchmark green thread failed")
}

fn spawn_join_loop(iters: u64) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        black_box(spawn(move || black_box(i) + 1).join().unwrap());
    }
    start.elapsed()
}

fn spawn_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("green/spawn_join");
    g.bench_function("from_plain_code", |b| b.iter_custom(spawn_join_loop));
    g.bench_function("from_green_thread", |b| {
        b.iter_custom(|iters| in_green(move || spawn_join_loop(iters)))
    });
    g.finish();

    c.bench_function("green/spawn_n_run", |b| {
        b.iter_custom(|iters| {
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
        })
    });
}

fn yield_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("green/yield_now");
    // Per yield: the root waits in `join` while one green thread yields.
    g.bench_function("one_green_thread", |b| {
        b.iter_custom(|iters| {
            in_green(move || {
                let start = Instant::now();
                for _ in 0..iters {
                    thicket_green::yield_now().unwrap();
                }
                start.elapsed()
            })
        })
    });
    // Per yield: two green threads yielding to each other, `iters` yields in all.
    g.bench_function("two_green_threads", |b| {
        b.iter_custom(|iters| {
            let yields = |n: u64| {
                move || {
                    for _ in 0..n {
                        thicket_green::yield_now().unwrap();
                    }
                }
            };
            let start = Instant::now();
            let a = spawn(yields(iters / 2));
            let b = spawn(yields(iters - iters / 2));
            a.join().unwrap();
            b.join().unwrap();
            start.elapsed()
        })
    });
    g.finish();
}

fn echo(ping: &Queue<u64>, pong: &Queue<u64>, n: u64) {
    for _ in 0..n {
        let x = ping.get().unwrap();
        pong.put(x + 1).unwrap();
    }
}

/// `iters` timed round trips, after one untimed one (the echoer is up and running).
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

fn queue_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("green/queue_ping_pong");
    g.bench_function("one_hub", |b| {
        b.iter_custom(|iters| {
            let (ping, pong) = (Queue::unbounded(), Queue::unbounded());
            let (p, q) = (ping.clone(), pong.clone());
            let echoer = spawn(move || echo(&p, &q, iters + 1));
            let d = in_green(move || rounds(&ping, &pong, iters));
            echoer.join().unwrap();
            d
        })
    });
    // The echoer is a green thread on a second OS thread, so on that thread's own hub.
    g.bench_function("two_hubs", |b| {
        b.iter_custom(|iters| {
            let (ping, pong) = (Queue::unbounded(), Queue::unbounded());
            let (p, q) = (ping.clone(), pong.clone());
            let other =
                std::thread::spawn(move || spawn(move || echo(&p, &q, iters + 1)).join().unwrap());
            let d = in_green(move || rounds(&ping, &pong, iters));
            other.join().unwrap();
            d
        })
    });
    g.finish();
}

/// Two green threads waking each other in turn through two events; per round trip (two
/// set-then-wait wake-ups; the woken side clears its event).
fn event_benches(c: &mut Criterion) {
    c.bench_function("green/event_wake", |b| {
        b.iter_custom(|iters| {
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
        })
    });
}

criterion_group!(
    benches,
    spawn_benches,
    yield_benches,
    queue_benches,
    event_benches
);
criterion_main!(benches);
