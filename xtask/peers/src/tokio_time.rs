//! The timer workloads of `green/benches/workloads.rs` on tokio's `current_thread` runtime
//! with its time driver (`tokio::time`, whose wheel counts in 1 ms ticks: a sleep ends at
//! the first tick at or after its deadline).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Runtime};
use tokio::sync::Notify;
use tokio::time::{sleep, timeout};

use crate::thicket::{per_iters, sleeper_rounds, NAP, SLEEPERS, TIMEOUT};

fn runtime() -> Runtime {
    Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("cannot build a tokio runtime")
}

thread_local! {
    static RT: Runtime = runtime();
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    RT.with(|rt| rt.block_on(f))
}

/// `event_wake` with `tokio::time::timeout` around every `notified()`: each wait registers a
/// timer that the wake-up cancels; per round trip, two timers.
pub fn timer_cancel(iters: u64) -> Duration {
    block_on(async move {
        let (ping, pong) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let (p, q) = (ping.clone(), pong.clone());
        let echoer = tokio::spawn(async move {
            for _ in 0..=iters {
                timeout(TIMEOUT, p.notified()).await.unwrap();
                q.notify_one();
            }
        });
        let d = tokio::spawn(async move {
            ping.notify_one();
            timeout(TIMEOUT, pong.notified()).await.unwrap();
            let start = Instant::now();
            for _ in 0..iters {
                ping.notify_one();
                timeout(TIMEOUT, pong.notified()).await.unwrap();
            }
            start.elapsed()
        })
        .await
        .unwrap();
        echoer.await.unwrap();
        d
    })
}

/// [`SLEEPERS`] tasks each sleeping [`NAP`] again and again; per sleep armed and fired.
/// They are spawned before the clock starts and begin when the `block_on` future awaits
/// them.
pub fn timer_fire(iters: u64) -> Duration {
    let rounds = sleeper_rounds(iters);
    block_on(async move {
        let sleepers: Vec<_> = (0..SLEEPERS)
            .map(|_| {
                tokio::spawn(async move {
                    for _ in 0..rounds {
                        sleep(NAP).await;
                    }
                })
            })
            .collect();
        let start = Instant::now();
        for s in sleepers {
            s.await.unwrap();
        }
        per_iters(start.elapsed(), rounds, iters)
    })
}
