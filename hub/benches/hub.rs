//! Hub microbenchmarks, each beside the same work written directly on mio
//! (the floor): readiness dispatch through a pipe, async wake-ups from
//! another thread; and timer costs.

#![allow(missing_docs)]

use std::hint::black_box;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use mio::unix::SourceFd;
use mio::{Events, Poll, Token};
use thicket_hub::{Async, Interest, Io, Loop, Timer};

fn timers(c: &mut Criterion) {
    let mut g = c.benchmark_group("timer");
    let lp = Loop::new().unwrap();
    let t = Timer::new(&lp, |_| {});
    g.bench_function("start+stop", |b| {
        b.iter(|| {
            t.start(black_box(Duration::from_millis(5)));
            t.stop();
        })
    });
    // The same with 10,000 other timers pending, deadlines spread out.
    let others: Vec<Timer> = (0..10_000)
        .map(|i| {
            let o = Timer::new(&lp, |_| {});
            o.start(Duration::from_micros(1_000 + (i * 7919) % 10_000));
            o
        })
        .collect();
    g.bench_function("start+stop, 10k pending", |b| {
        b.iter(|| {
            t.start(black_box(Duration::from_micros(5_500)));
            t.stop();
        })
    });
    drop(others);

    g.sample_size(10);
    g.bench_function("1M started then fired", |b| {
        b.iter_batched(
            || {
                let lp = Loop::new().unwrap();
                let ts: Vec<Timer> = (0..1_000_000u64).map(|_| Timer::new(&lp, |_| {})).collect();
                (lp, ts)
            },
            |(lp, ts)| {
                for (i, t) in ts.iter().enumerate() {
                    t.start(Duration::from_nanos((i as u64 * 7919) % 1_000_000));
                }
                lp.run().unwrap();
                (lp, ts)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn pipe() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

fn readiness(c: &mut Criterion) {
    let mut g = c.benchmark_group("readiness round trip");
    g.bench_function("hub", |b| {
        let lp = Loop::new().unwrap();
        let (mut tx, rx) = pipe();
        let mut r = rx.try_clone().unwrap();
        let io = Io::new(&lp, &rx, Interest::READABLE, move |_, _| {
            let mut buf = [0u8; 1];
            black_box(r.read(&mut buf).unwrap());
        })
        .unwrap();
        io.start();
        b.iter(|| {
            tx.write_all(b"x").unwrap();
            lp.run_once(None).unwrap();
        })
    });
    g.bench_function("mio", |b| {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(1024);
        let (mut tx, mut rx) = pipe();
        poll.registry()
            .register(
                &mut SourceFd(&rx.as_raw_fd()),
                Token(0),
                mio::Interest::READABLE | mio::Interest::WRITABLE,
            )
            .unwrap();
        b.iter(|| {
            tx.write_all(b"x").unwrap();
            poll.poll(&mut events, None).unwrap();
            for e in events.iter() {
                if e.token() == Token(0) && e.is_readable() {
                    let mut buf = [0u8; 1];
                    black_box(rx.read(&mut buf).unwrap());
                }
            }
        })
    });
    g.finish();
}

/// A thread that calls `wake` each time `turn` is bumped, so one iteration
/// is a full cross-thread round trip: bump, the other thread sees it and
/// wakes the poller, the poller returns.
fn waker_thread(
    turn: Arc<AtomicU64>,
    wake: impl Fn() + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut seen = 0;
        loop {
            let t = turn.load(Ordering::Acquire);
            if t == u64::MAX {
                return;
            }
            if t != seen {
                seen = t;
                wake();
            } else {
                std::hint::spin_loop();
            }
        }
    })
}

fn async_wake(c: &mut Criterion) {
    let mut g = c.benchmark_group("async wake from another thread");
    g.bench_function("hub", |b| {
        let lp = Loop::new().unwrap();
        let hits = std::rc::Rc::new(std::cell::Cell::new(0u64));
        let h = hits.clone();
        let w = Async::new(&lp, move |_| h.set(h.get() + 1));
        w.start();
        let turn = Arc::new(AtomicU64::new(0));
        let s = w.sender();
        let t = waker_thread(turn.clone(), move || s.send());
        let mut n = 0;
        b.iter(|| {
            n += 1;
            turn.store(n, Ordering::Release);
            while hits.get() < n {
                lp.run_once(None).unwrap();
            }
        });
        turn.store(u64::MAX, Ordering::Release);
        t.join().unwrap();
    });
    g.bench_function("mio", |b| {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(1024);
        let waker = Arc::new(mio::Waker::new(poll.registry(), Token(7)).unwrap());
        let turn = Arc::new(AtomicU64::new(0));
        let wk = waker.clone();
        let t = waker_thread(turn.clone(), move || wk.wake().unwrap());
        let mut n = 0;
        b.iter(|| {
            n += 1;
            turn.store(n, Ordering::Release);
            let mut got = false;
            while !got {
                poll.poll(&mut events, None).unwrap();
                got = events.iter().any(|e| e.token() == Token(7));
            }
        });
        turn.store(u64::MAX, Ordering::Release);
        t.join().unwrap();
    });
    g.finish();
}

criterion_group!(benches, timers, readiness, async_wake);
criterion_main!(benches);
