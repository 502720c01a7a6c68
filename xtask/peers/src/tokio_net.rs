//! The socket workloads of `green/benches/net_workloads.rs` on tokio's `current_thread`
//! runtime (with its I/O driver): the same loopback traffic, with the same buffer sizes.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::{Builder, Runtime};
use tokio::sync::{watch, Notify};

use crate::thicket_net::{send_through, sink, CHUNK, CONNS, MIB, ONES, SMALL_READ};

fn runtime() -> Runtime {
    Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("cannot build a tokio runtime")
}

thread_local! {
    static RT: Runtime = runtime();
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    RT.with(|rt| rt.block_on(f))
}

async fn pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
    let (s, _) = l.accept().await.unwrap();
    c.set_nodelay(true).unwrap();
    s.set_nodelay(true).unwrap();
    (c, s)
}

/// Ping-pong of a 64-byte message over one connection; per round trip.
pub fn tcp_echo_rtt(iters: u64) -> Duration {
    block_on(async move {
        tokio::spawn(async move {
            let (mut c, mut s) = pair().await;
            let echo = tokio::spawn(async move {
                let mut buf = [0u8; 64];
                while s.read_exact(&mut buf).await.is_ok() {
                    s.write_all(&buf).await.unwrap();
                }
            });
            let mut buf = [7u8; 64];
            c.write_all(&buf).await.unwrap();
            c.read_exact(&mut buf).await.unwrap();
            let start = Instant::now();
            for _ in 0..iters {
                c.write_all(&buf).await.unwrap();
                c.read_exact(&mut buf).await.unwrap();
            }
            let d = start.elapsed();
            drop(c);
            echo.await.unwrap();
            d
        })
        .await
        .unwrap()
    })
}

async fn drain_and_ack(mut s: TcpStream, buf_len: usize) -> u64 {
    let mut buf = vec![0u8; buf_len];
    let mut n = 0u64;
    loop {
        match s.read(&mut buf).await.unwrap() {
            0 => break,
            k => n += k as u64,
        }
    }
    s.write_all(b"k").await.unwrap();
    n
}

async fn send_and_wait(mut c: TcpStream, bytes: u64) {
    let mut left = bytes;
    while left > 0 {
        let k = left.min(CHUNK as u64) as usize;
        c.write_all(&ONES[..k]).await.unwrap();
        left -= k as u64;
    }
    c.shutdown().await.unwrap();
    let mut ack = [0u8; 1];
    c.read_exact(&mut ack).await.unwrap();
}

/// One connection streaming 64 KiB chunks to a reader on the same runtime; per chunk.
pub fn tcp_throughput_1(iters: u64) -> Duration {
    block_on(async move {
        tokio::spawn(async move {
            let (c, s) = pair().await;
            let sink = tokio::spawn(drain_and_ack(s, CHUNK));
            let start = Instant::now();
            send_and_wait(c, iters * CHUNK as u64).await;
            let d = start.elapsed();
            assert_eq!(sink.await.unwrap(), iters * CHUNK as u64);
            d
        })
        .await
        .unwrap()
    })
}

/// `n` loopback connections with `TCP_NODELAY` (a backlog of 1,024): client and accepted ends.
async fn connections(n: usize) -> (Vec<TcpStream>, Vec<TcpStream>) {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_reuseaddr(true).unwrap();
    sock.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let l = sock.listen(1024).unwrap();
    let addr = l.local_addr().unwrap();
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        let c = TcpStream::connect(addr).await.unwrap();
        c.set_nodelay(true).unwrap();
        clients.push(c);
    }
    let mut servers = Vec::with_capacity(n);
    for _ in 0..n {
        let (s, _) = l.accept().await.unwrap();
        s.set_nodelay(true).unwrap();
        servers.push(s);
    }
    (clients, servers)
}

/// Writes `bytes` in `CHUNK` writes; gives the stream back, so that closing it is not timed.
async fn send(mut c: TcpStream, bytes: u64) -> TcpStream {
    let mut left = bytes;
    while left > 0 {
        let k = left.min(CHUNK as u64) as usize;
        c.write_all(&ONES[..k]).await.unwrap();
        left -= k as u64;
    }
    c
}

/// Counts itself in `waiting`, then reads `bytes` through a `SMALL_READ` buffer; gives the
/// stream back.
async fn receive(mut s: TcpStream, bytes: u64, waiting: Arc<AtomicUsize>) -> TcpStream {
    waiting.fetch_add(1, Ordering::Relaxed);
    let mut buf = [0u8; SMALL_READ];
    let mut n = 0u64;
    while n < bytes {
        match s.read(&mut buf).await.unwrap() {
            0 => panic!("end of file after {n} of {bytes} bytes"),
            k => n += k as u64,
        }
    }
    s
}

/// 1,000 connections at once, each sending 64 KiB per iteration to its own reader, timed as
/// thicket's: from when every reader waits in its first read and every sender is spawned (not
/// yet polled) until all bytes are read; closing comes after.
pub fn tcp_throughput_1000(iters: u64) -> Duration {
    block_on(async move {
        tokio::spawn(async move {
            let (clients, servers) = connections(CONNS).await;
            let bytes = iters * CHUNK as u64;
            let waiting = Arc::new(AtomicUsize::new(0));
            let sinks: Vec<_> = servers
                .into_iter()
                .map(|s| tokio::spawn(receive(s, bytes, waiting.clone())))
                .collect();
            while waiting.load(Ordering::Relaxed) < CONNS {
                tokio::task::yield_now().await;
            }
            let senders: Vec<_> = clients
                .into_iter()
                .map(|c| tokio::spawn(send(c, bytes)))
                .collect();
            let start = Instant::now();
            let mut streams = Vec::with_capacity(2 * CONNS);
            for t in senders.into_iter().chain(sinks) {
                streams.push(t.await.unwrap());
            }
            let d = start.elapsed();
            drop(streams);
            d
        })
        .await
        .unwrap()
    })
}

async fn echo_64(mut s: TcpStream) {
    let mut buf = [0u8; 64];
    while s.read_exact(&mut buf).await.is_ok() {
        s.write_all(&buf).await.unwrap();
    }
}

/// 1,000 connections at once, each making one 64-byte round trip per iteration, timed as
/// thicket's: from when every connection has made one untimed round trip until the last one's
/// last round trip; closing comes after.
pub fn tcp_echo_1000(iters: u64) -> Duration {
    block_on(async move {
        tokio::spawn(async move {
            let (clients, servers) = connections(CONNS).await;
            let echoes: Vec<_> = servers
                .into_iter()
                .map(|s| tokio::spawn(echo_64(s)))
                .collect();
            let ready = Arc::new(AtomicUsize::new(0));
            let all_ready = Arc::new(Notify::new());
            let (go_tx, go_rx) = watch::channel(false);
            let pingers: Vec<_> = clients
                .into_iter()
                .map(|mut c| {
                    let (ready, all_ready, mut go) =
                        (ready.clone(), all_ready.clone(), go_rx.clone());
                    tokio::spawn(async move {
                        let mut buf = [7u8; 64];
                        c.write_all(&buf).await.unwrap();
                        c.read_exact(&mut buf).await.unwrap();
                        if ready.fetch_add(1, Ordering::Relaxed) + 1 == CONNS {
                            // Stores a permit if the main task does not wait yet.
                            all_ready.notify_one();
                        }
                        go.wait_for(|&go| go).await.unwrap();
                        for _ in 0..iters {
                            c.write_all(&buf).await.unwrap();
                            c.read_exact(&mut buf).await.unwrap();
                        }
                        c
                    })
                })
                .collect();
            all_ready.notified().await;
            let start = Instant::now();
            go_tx.send(true).unwrap();
            let mut streams = Vec::with_capacity(CONNS);
            for p in pingers {
                streams.push(p.await.unwrap());
            }
            let d = start.elapsed();
            drop(streams);
            for e in echoes {
                e.await.unwrap();
            }
            d
        })
        .await
        .unwrap()
    })
}

/// `iters` MiB through a tokio forwarder (`copy_bidirectional`) on its own thread.
pub fn forward(iters: u64) -> Duration {
    let s = sink();
    let target: SocketAddr = s.addr;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let fwd = std::thread::spawn(move || {
        runtime().block_on(async move {
            let l = TcpListener::from_std(listener).unwrap();
            let (mut client, _) = l.accept().await.unwrap();
            let mut upstream = TcpStream::connect(target).await.unwrap();
            tokio::io::copy_bidirectional(&mut client, &mut upstream)
                .await
                .unwrap()
        })
    });
    let d = send_through(addr, s, iters * MIB);
    assert_eq!(fwd.join().unwrap().0, iters * MIB);
    d
}
