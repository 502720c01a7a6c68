//! thicket-green's benchmark workloads, each `fn(iters) -> Duration` for criterion's
//! `iter_custom`. Used by `benches/green.rs` and, through a `#[path]` module, by
//! `xtask/peers`, which runs them beside the same work on tokio and may.

use std::hint::black_box;
use std::time::{Duration, Instant};

use thicket_green::{sleep, spawn, spawn_n, Event, Queue};

/// Green threads spawned per round in `spawn_batch`.
pub const BATCH: u64 = 64;
/// Green threads sleeping at once in `timer_fire`: below the 4,096 stacks a hub keeps for
/// reuse, so no sample maps fresh stacks.
pub const SLEEPERS: u64 = 4_000;
/// Each sleep of `timer_fire`: short enough that arming and firing 4,000 of them takes
/// longer than one (so the figure is their cost, not the nap), and a tenth of tokio's 1 ms
/// timer tick, which its sleeps round up to.
pub const NAP: Duration = Duration::from_micros(100);
/// The timeout around each wait of `timer_cancel`: never reached.
pub const TIMEOUT: Duration = Duration::from_secs(1);

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
    event_round_trips(iters, None)
}

/// `event_wake` with a [`TIMEOUT`] on every wait: each wait arms a timer that the wake-up
/// cancels (the common case of a socket timeout); per round trip, two timers.
pub fn timer_cancel(iters: u64) -> Duration {
    event_round_trips(iters, Some(TIMEOUT))
}

/// `iters` event round trips, each wait with `timeout` if given; the first is not timed.
fn event_round_trips(iters: u64, timeout: Option<Duration>) -> Duration {
    let wait = move |e: &Event| match timeout {
        Some(t) => e.wait_timeout(t).unwrap(),
        None => e.wait().unwrap(),
    };
    let (ping, pong) = (Event::new(), Event::new());
    let (p, q) = (ping.clone(), pong.clone());
    let echoer = spawn(move || {
        for _ in 0..=iters {
            wait(&p);
            p.clear();
            q.set();
        }
    });
    let d = in_green(move || {
        let round = || {
            ping.set();
            wait(&pong);
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

/// The rounds of `timer_fire` that cover `iters` sleeps: every sleeper sleeps as often as
/// the others, so the last round is full too and [`per_iters`] scales the time back.
pub fn sleeper_rounds(iters: u64) -> u64 {
    iters.div_ceil(SLEEPERS).max(1)
}

/// `elapsed` for `rounds` rounds of [`SLEEPERS`] sleeps, scaled to `iters` sleeps.
pub fn per_iters(elapsed: Duration, rounds: u64, iters: u64) -> Duration {
    elapsed.mul_f64(iters as f64 / (rounds * SLEEPERS) as f64)
}

/// [`SLEEPERS`] green threads each sleeping [`NAP`] again and again: per sleep armed and
/// fired. They are spawned before the clock starts and begin when the caller joins them.
pub fn timer_fire(iters: u64) -> Duration {
    let rounds = sleeper_rounds(iters);
    in_green(move || {
        let sleepers: Vec<_> = (0..SLEEPERS)
            .map(|_| {
                spawn(move || {
                    for _ in 0..rounds {
                        sleep(NAP).unwrap();
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
