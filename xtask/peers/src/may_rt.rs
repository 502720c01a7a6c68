//! The workloads on may, configured with one worker thread (its scheduler is global and
//! configured once, before first use; with two workers every spawn becomes a cross-thread
//! wake-up, see shared/notes/coroutine-runtime-bench.md).

use std::hint::black_box;
use std::sync::Once;
use std::time::{Duration, Instant};

use may::go;
use may::sync::mpsc::{channel, Receiver, Sender};

/// Sets may's worker count to 1; must run before may's first use in the process.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        may::config().set_workers(1);
    });
}

/// Runs `f` in a coroutine and returns what it returns.
fn in_coroutine<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    init();
    go!(f).join().expect("benchmark coroutine failed")
}

/// `go!(..).join()`, the joiner being a coroutine.
pub fn spawn_join(iters: u64) -> Duration {
    in_coroutine(move || spawn_join_plain(iters))
}

/// `go!(..).join()` from the caller (the main OS thread when called from outside may).
pub fn spawn_join_plain(iters: u64) -> Duration {
    init();
    let start = Instant::now();
    for i in 0..iters {
        let v = go!(move || black_box(i) + 1).join().unwrap();
        black_box(v);
    }
    start.elapsed()
}

/// Spawn a batch of coroutines, then join each, from a coroutine.
pub fn spawn_batch(iters: u64) -> Duration {
    in_coroutine(move || {
        let start = Instant::now();
        let mut handles = Vec::with_capacity(crate::BATCH as usize);
        let mut left = iters;
        while left > 0 {
            let n = left.min(crate::BATCH);
            for i in 0..n {
                handles.push(go!(move || {
                    black_box(i);
                }));
            }
            for h in handles.drain(..) {
                h.join().unwrap();
            }
            left -= n;
        }
        start.elapsed()
    })
}

/// One coroutine calling `may::coroutine::yield_now()` `iters` times.
pub fn yield_now(iters: u64) -> Duration {
    in_coroutine(move || {
        let start = Instant::now();
        for _ in 0..iters {
            may::coroutine::yield_now();
        }
        start.elapsed()
    })
}

fn echo(ping: Receiver<u64>, pong: Sender<u64>) {
    while let Ok(x) = ping.recv() {
        if pong.send(x + 1).is_err() {
            return;
        }
    }
}

/// `iters` round trips; the first round trip is not timed.
fn rounds(ping: Sender<u64>, pong: Receiver<u64>, iters: u64) -> Duration {
    ping.send(0).unwrap();
    black_box(pong.recv().unwrap());
    let start = Instant::now();
    for i in 0..iters {
        ping.send(i).unwrap();
        black_box(pong.recv().unwrap());
    }
    start.elapsed()
}

/// Two coroutines passing a number back and forth over `may::sync::mpsc` channels.
pub fn ping_pong(iters: u64) -> Duration {
    init();
    let (ping_tx, ping_rx) = channel();
    let (pong_tx, pong_rx) = channel();
    let echoer = go!(move || echo(ping_rx, pong_tx));
    let d = in_coroutine(move || rounds(ping_tx, pong_rx, iters));
    echoer.join().unwrap();
    d
}

/// A coroutine on may's worker thread and the main OS thread passing a number back and
/// forth (may blocks a plain thread on its channels by parking it).
pub fn ping_pong_threads(iters: u64) -> Duration {
    init();
    let (ping_tx, ping_rx) = channel();
    let (pong_tx, pong_rx) = channel();
    let echoer = go!(move || echo(ping_rx, pong_tx));
    let d = rounds(ping_tx, pong_rx, iters);
    echoer.join().unwrap();
    d
}

/// Two coroutines waking each other in turn through two semaphores; per round trip.
pub fn event_wake(iters: u64) -> Duration {
    use may::sync::Semphore;
    use std::sync::Arc;

    init();
    let (ping, pong) = (Arc::new(Semphore::new(0)), Arc::new(Semphore::new(0)));
    let (p, q) = (ping.clone(), pong.clone());
    let echoer = go!(move || {
        for _ in 0..=iters {
            p.wait();
            q.post();
        }
    });
    let d = in_coroutine(move || {
        ping.post();
        pong.wait();
        let start = Instant::now();
        for _ in 0..iters {
            ping.post();
            pong.wait();
        }
        start.elapsed()
    });
    echoer.join().unwrap();
    d
}

/// `event_wake` with a timeout on every `Semphore::wait`; per round trip, two timers armed
/// and cancelled.
pub fn timer_cancel(iters: u64) -> Duration {
    use crate::thicket::TIMEOUT;
    use may::sync::Semphore;
    use std::sync::Arc;

    init();
    let (ping, pong) = (Arc::new(Semphore::new(0)), Arc::new(Semphore::new(0)));
    let (p, q) = (ping.clone(), pong.clone());
    let echoer = go!(move || {
        for _ in 0..=iters {
            assert!(p.wait_timeout(TIMEOUT), "timed out");
            q.post();
        }
    });
    let d = in_coroutine(move || {
        ping.post();
        assert!(pong.wait_timeout(TIMEOUT), "timed out");
        let start = Instant::now();
        for _ in 0..iters {
            ping.post();
            assert!(pong.wait_timeout(TIMEOUT), "timed out");
        }
        start.elapsed()
    });
    echoer.join().unwrap();
    d
}

/// `SLEEPERS` coroutines each calling `may::coroutine::sleep(NAP)` again and again; per
/// sleep. Spawned from a coroutine on may's one worker, they begin when it joins them.
pub fn timer_fire(iters: u64) -> Duration {
    use crate::thicket::{per_iters, sleeper_rounds, NAP, SLEEPERS};

    let rounds = sleeper_rounds(iters);
    in_coroutine(move || {
        let sleepers: Vec<_> = (0..SLEEPERS)
            .map(|_| {
                go!(move || {
                    for _ in 0..rounds {
                        may::coroutine::sleep(NAP);
                    }
                })
            })
            .collect();
        let start = Instant::now();
        for s in sleepers {
            s.join().unwrap();
        }
        per_iters(start.elapsed(), rounds, iters)
    })
}
