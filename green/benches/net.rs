//! thicket-green's socket numbers: echo round trip, throughput over one and 1,000
//! connections, and a forwarder against a direct connection. The workloads are in
//! `net_workloads.rs`; `xtask/peers` runs the same ones next to tokio.

#![allow(missing_docs)]

mod net_workloads;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

/// Runs `iters` operations and returns how long they took.
type Run = fn(u64) -> Duration;

const WORKLOADS: &[(&str, Run)] = &[
    ("tcp_echo_rtt", net_workloads::tcp_echo_rtt),
    ("tcp_throughput_1", net_workloads::tcp_throughput_1),
    ("tcp_throughput_1000", net_workloads::tcp_throughput_1000),
    ("tcp_echo_1000", net_workloads::tcp_echo_1000),
    ("forward", net_workloads::forward),
    ("forward_splice", net_workloads::forward_splice),
    ("forward_direct", net_workloads::forward_direct),
];

fn net(c: &mut Criterion) {
    let mut group = c.benchmark_group("net");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(3));
    for (name, run) in WORKLOADS {
        group.bench_function(*name, |b| b.iter_custom(run));
    }
    group.finish();
}

criterion_group!(benches, net);
criterion_main!(benches);
