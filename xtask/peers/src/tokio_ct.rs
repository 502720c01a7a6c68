//! The workloads on tokio's `current_thread` runtime (features rt, sync, macros: no I/O or
//! time driver, so these numbers are tokio's lower bound).

use std::hint::black_box;
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Runtime};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

fn runtime() -> Runtime {
    Builder::new_current_thread()
        .build()
        .expect("cannot build a tokio runtime")
}

thread_local! {
    static RT: Runtime = runtime();
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    RT.with(|rt| rt.block_on(f))
}

async fn spawn_join_loop(iters: u64) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        let v = tokio::spawn(async move { black_box(i) + 1 }).await.unwrap();
        black_box(v);
    }
    start.elapsed()
}

/// `tokio::spawn(..).await`, the joiner being a spawned task.
pub fn spawn_join(iters: u64) -> Duration {
    block_on(async move { tokio::spawn(spawn_join_loop(iters)).await.unwrap() })
}

/// `tokio::spawn(..).await` from the `block_on` future.
pub fn spawn_join_plain(iters: u64) -> Duration {
    block_on(spawn_join_loop(iters))
}

/// Spawn a batch of tasks, then await each handle, from the `block_on` future.
pub fn spawn_batch(iters: u64) -> Duration {
    block_on(async move {
        let start = Instant::now();
        let mut handles = Vec::with_capacity(crate::BATCH as usize);
        let mut left = iters;
        while left > 0 {
            let n = left.min(crate::BATCH);
            for i in 0..n {
                handles.push(tokio::spawn(async move {
                    black_box(i);
                }));
            }
            for h in handles.drain(..) {
                h.await.unwrap();
            }
            left -= n;
        }
        start.elapsed()
    })
}

/// One spawned task calling `tokio::task::yield_now()` `iters` times.
pub fn yield_now(iters: u64) -> Duration {
    block_on(async move {
        tokio::spawn(async move {
            let start = Instant::now();
            for _ in 0..iters {
                tokio::task::yield_now().await;
            }
            start.elapsed()
        })
        .await
        .unwrap()
    })
}

async fn echo(mut ping: UnboundedReceiver<u64>, pong: UnboundedSender<u64>) {
    while let Some(x) = ping.recv().await {
        if pong.send(x + 1).is_err() {
            return;
        }
    }
}

/// `iters` round trips; the first round trip is not timed.
async fn rounds(
    ping: UnboundedSender<u64>,
    mut pong: UnboundedReceiver<u64>,
    iters: u64,
) -> Duration {
    ping.send(0).unwrap();
    black_box(pong.recv().await.unwrap());
    let start = Instant::now();
    for i in 0..iters {
        ping.send(i).unwrap();
        black_box(pong.recv().await.unwrap());
    }
    start.elapsed()
}

/// Two tasks on one runtime passing a number back and forth over unbounded mpsc channels.
pub fn ping_pong(iters: u64) -> Duration {
    block_on(async move {
        let (ping_tx, ping_rx) = unbounded_channel();
        let (pong_tx, pong_rx) = unbounded_channel();
        let echoer = tokio::spawn(echo(ping_rx, pong_tx));
        let d = tokio::spawn(rounds(ping_tx, pong_rx, iters)).await.unwrap();
        echoer.await.unwrap();
        d
    })
}

/// A task on this thread's runtime and one on a second OS thread's runtime passing a number
/// back and forth.
pub fn ping_pong_threads(iters: u64) -> Duration {
    let (ping_tx, ping_rx) = unbounded_channel();
    let (pong_tx, pong_rx) = unbounded_channel();
    let other = std::thread::spawn(move || {
        runtime().block_on(async move { tokio::spawn(echo(ping_rx, pong_tx)).await.unwrap() })
    });
    let d = block_on(async move { tokio::spawn(rounds(ping_tx, pong_rx, iters)).await.unwrap() });
    other.join().unwrap();
    d
}

/// Two tasks waking each other in turn through two `Notify`s; per round trip.
pub fn event_wake(iters: u64) -> Duration {
    use std::sync::Arc;
    use tokio::sync::Notify;

    block_on(async move {
        let (ping, pong) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let (p, q) = (ping.clone(), pong.clone());
        let echoer = tokio::spawn(async move {
            for _ in 0..=iters {
                p.notified().await;
                q.notify_one();
            }
        });
        let d = tokio::spawn(async move {
            ping.notify_one();
            pong.notified().await;
            let start = Instant::now();
            for _ in 0..iters {
                ping.notify_one();
                pong.notified().await;
            }
            start.elapsed()
        })
        .await
        .unwrap();
        echoer.await.unwrap();
        d
    })
}
