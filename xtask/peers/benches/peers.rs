//! thicket-green next to tokio (`current_thread`) and may (one worker), in one criterion run:
//! each group holds the same work done by each runtime (`thicket`, `tokio`, `may`), so the
//! report and `cargo xtask bench`'s summary table show them side by side.

#![allow(missing_docs)]
#![forbid(unsafe_code)]

use criterion::{criterion_group, criterion_main, Criterion};

fn peers(c: &mut Criterion) {
    // may's scheduler is global and configured once, before its first use.
    thicket_peers::may_rt::init();
    for name in thicket_peers::groups() {
        let mut group = c.benchmark_group(name);
        for w in thicket_peers::group(name) {
            group.bench_function(w.peer, |b| b.iter_custom(w.run));
        }
        group.finish();
    }
}

criterion_group!(benches, peers);
criterion_main!(benches);
