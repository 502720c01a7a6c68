//! thicket-green's own numbers: spawn + join, spawn_n + run, yield_now. Resident memory per
//! parked green thread is `benches/memory.rs`. The same workloads next to tokio and may are in
//! `xtask/peers/benches/peers.rs`.

#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use thicket_green::{spawn, spawn_n};

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

criterion_group!(benches, spawn_benches, yield_benches);
criterion_main!(benches);
