//! thicket-green's own numbers: spawn + join (from a green thread and from plain code),
//! a batch of spawns, yield_now, queue ping-pong on one hub and across two hubs, event
//! wake-ups, timeouts armed and cancelled, sleeps armed and fired. The workloads are in
//! `workloads.rs`; `xtask/peers` runs the same ones next to tokio and may. Resident memory
//! per parked green thread is `benches/memory.rs`.

#![allow(missing_docs)]

mod workloads;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

/// Runs `iters` operations and returns how long they took.
type Run = fn(u64) -> Duration;

const WORKLOADS: &[(&str, Run)] = &[
    ("spawn_join", workloads::spawn_join),
    ("spawn_join_plain", workloads::spawn_join_plain),
    ("spawn_batch", workloads::spawn_batch),
    ("yield_now", workloads::yield_now),
    ("ping_pong", workloads::ping_pong),
    ("ping_pong_threads", workloads::ping_pong_threads),
    ("event_wake", workloads::event_wake),
    ("timer_cancel", workloads::timer_cancel),
    ("timer_fire", workloads::timer_fire),
];

fn green(c: &mut Criterion) {
    for (name, run) in WORKLOADS {
        c.bench_function(&format!("green/{name}"), |b| b.iter_custom(run));
    }
}

criterion_group!(benches, green);
criterion_main!(benches);
