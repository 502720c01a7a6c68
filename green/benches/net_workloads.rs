//! thicket-green's socket workloads, each `fn(iters) -> Duration` for criterion's `iter_custom`.
//! Used by `benches/net.rs` and, through a `#[path]` module, by `xtask/peers`, which runs the
//! same work on tokio. Loopback only; set-up (listeners, connections, threads) is left out of
//! the timing.
//!
//! - `tcp_echo_rtt`: one connection, client and server on one hub; per 64-byte round trip.
//! - `tcp_throughput_1`: one connection, client and server on one hub; per 64 KiB sent.
//! - `tcp_throughput_1000`: 1,000 connections at once on one hub; per 64 KiB sent on each in
//!   one write (64,000 KiB in all), read 1 KiB at a time. Only the bytes' moving is timed:
//!   connecting, each socket's registration with the hub and closing are not, and every
//!   iteration is the same work (one write per connection), so the time of an iteration
//!   does not depend on how many criterion puts in a sample.
//! - `tcp_echo_1000`: 1,000 connections on one hub, each a client green thread and an echo
//!   green thread; per iteration every connection makes one 64-byte round trip (1,000 in all).
//!   Timed once every connection has made one round trip (spawning, registering each socket
//!   with the hub and closing are not).
//! - `forward`: 1 MiB per iteration from a plain sender thread through a forwarder on a hub
//!   thread to a plain receiver thread: `thicket` with `net::copy` (64 KiB buffer), `thicket_splice`
//!   with `net::copy_splice`; `direct` is the same sender and receiver with no forwarder.

use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use thicket_green::net::{self, TcpListener, TcpStream};
use thicket_green::{spawn, yield_now, Event, Runtime};

/// Bytes per write in the throughput workloads.
pub const CHUNK: usize = 64 * 1024;
/// Bytes per iteration of `forward`.
pub const MIB: u64 = 1 << 20;
/// Connections in `tcp_throughput_1000`.
pub const CONNS: usize = 1000;
/// Bytes per read of each reader in `tcp_throughput_1000`: small, as a server holding many
/// connections keeps its buffers.
pub const SMALL_READ: usize = 1024;

fn in_green<T: 'static>(f: impl FnOnce() -> T + 'static) -> T {
    spawn(f).join().expect("benchmark green thread failed")
}

fn pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    c.set_nodelay(true).unwrap();
    s.set_nodelay(true).unwrap();
    (c, s)
}

/// Ping-pong of a 64-byte message over one connection; per round trip.
pub fn tcp_echo_rtt(iters: u64) -> Duration {
    in_green(move || {
        let (mut c, mut s) = pair();
        let echo = spawn(move || {
            let mut buf = [0u8; 64];
            while s.read_exact(&mut buf).is_ok() {
                s.write_all(&buf).unwrap();
            }
        });
        let mut buf = [7u8; 64];
        c.write_all(&buf).unwrap();
        c.read_exact(&mut buf).unwrap();
        let start = Instant::now();
        for _ in 0..iters {
            c.write_all(&buf).unwrap();
            c.read_exact(&mut buf).unwrap();
        }
        let d = start.elapsed();
        drop(c);
        echo.join().unwrap();
        d
    })
}

/// What every sender writes: never allocated per connection.
pub static ONES: [u8; CHUNK] = [1; CHUNK];

/// Reads to end of file through a `buf_len` buffer, then answers one byte; returns the bytes
/// read.
fn drain_and_ack(mut s: TcpStream, buf_len: usize) -> u64 {
    let mut buf = vec![0u8; buf_len];
    let mut n = 0u64;
    loop {
        match s.read(&mut buf).unwrap() {
            0 => break,
            k => n += k as u64,
        }
    }
    s.write_all(b"k").unwrap();
    n
}

/// Sends `bytes` in `CHUNK` writes, half-closes, and waits for the ack.
fn send_and_wait(mut c: TcpStream, bytes: u64) {
    let buf = &ONES;
    let mut left = bytes;
    while left > 0 {
        let k = left.min(CHUNK as u64) as usize;
        c.write_all(&buf[..k]).unwrap();
        left -= k as u64;
    }
    c.shutdown(Shutdown::Write).unwrap();
    let mut ack = [0u8; 1];
    c.read_exact(&mut ack).unwrap();
}

/// One connection streaming `CHUNK`s to a reader on the same hub; per chunk.
pub fn tcp_throughput_1(iters: u64) -> Duration {
    in_green(move || {
        let (c, s) = pair();
        let sink = spawn(move || drain_and_ack(s, CHUNK));
        let start = Instant::now();
        send_and_wait(c, iters * CHUNK as u64);
        let d = start.elapsed();
        assert_eq!(sink.join().unwrap(), iters * CHUNK as u64);
        d
    })
}

/// `n` loopback connections with `TCP_NODELAY`: the client ends and the accepted ends.
fn connections(n: usize) -> (Vec<TcpStream>, Vec<TcpStream>) {
    let l = net::listen("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let clients: Vec<TcpStream> = (0..n)
        .map(|_| {
            let c = TcpStream::connect(addr).unwrap();
            c.set_nodelay(true).unwrap();
            c
        })
        .collect();
    let servers = (0..n)
        .map(|_| {
            let (s, _) = l.accept().unwrap();
            s.set_nodelay(true).unwrap();
            s
        })
        .collect();
    (clients, servers)
}

/// Writes `bytes` in `CHUNK` writes; gives the stream back, so that closing it is not timed.
fn send(mut c: TcpStream, bytes: u64) -> TcpStream {
    let mut left = bytes;
    while left > 0 {
        let k = left.min(CHUNK as u64) as usize;
        c.write_all(&ONES[..k]).unwrap();
        left -= k as u64;
    }
    c
}

/// Counts itself in `waiting`, then reads `bytes` through a `SMALL_READ` buffer (the first
/// read waits, registering the socket with the hub); gives the stream back.
fn receive(mut s: TcpStream, bytes: u64, waiting: Rc<Cell<usize>>) -> TcpStream {
    waiting.set(waiting.get() + 1);
    let mut buf = [0u8; SMALL_READ];
    let mut n = 0u64;
    while n < bytes {
        match s.read(&mut buf).unwrap() {
            0 => panic!("end of file after {n} of {bytes} bytes"),
            k => n += k as u64,
        }
    }
    s
}

/// `CONNS` connections at once, each sending one `CHUNK` per iteration to its own reader.
/// Timed from when every reader waits in its first read and every sender is spawned (not yet
/// started) until all bytes are read; closing comes after. A cost paid once per sample (the
/// closing is mostly the kernel's work, about 40 µs per connection) would be spread over
/// however many iterations criterion runs, and the per-iteration time would move with that
/// count; so would iterations smaller than one write each.
pub fn tcp_throughput_1000(iters: u64) -> Duration {
    in_green(move || {
        let (clients, servers) = connections(CONNS);
        let bytes = iters * CHUNK as u64;
        let waiting = Rc::new(Cell::new(0));
        let sinks: Vec<_> = servers
            .into_iter()
            .map(|s| {
                let w = waiting.clone();
                spawn(move || receive(s, bytes, w))
            })
            .collect();
        while waiting.get() < CONNS {
            yield_now().unwrap();
        }
        let senders: Vec<_> = clients
            .into_iter()
            .map(|c| spawn(move || send(c, bytes)))
            .collect();
        let start = Instant::now();
        let streams: Vec<TcpStream> = senders
            .into_iter()
            .chain(sinks)
            .map(|t| t.join().unwrap())
            .collect();
        let d = start.elapsed();
        drop(streams);
        d
    })
}

/// Echoes 64-byte messages until end of file.
fn echo_64(mut s: TcpStream) {
    let mut buf = [0u8; 64];
    while s.read_exact(&mut buf).is_ok() {
        s.write_all(&buf).unwrap();
    }
}

/// `CONNS` connections at once, each making one 64-byte round trip per iteration. Every
/// connection first makes one untimed round trip, so that the clock runs only over round
/// trips of connections already in use: tokio registers a socket with its reactor when it
/// creates it, thicket at its first wait, and spawning is no part of a round trip. Timed from
/// when all connections are ready until the last one's last round trip; closing comes after.
pub fn tcp_echo_1000(iters: u64) -> Duration {
    in_green(move || {
        let (clients, servers) = connections(CONNS);
        let echoes: Vec<_> = servers
            .into_iter()
            .map(|s| spawn(move || echo_64(s)))
            .collect();
        let ready = Rc::new(Cell::new(0));
        let all_ready = Rc::new(Event::new());
        let go = Rc::new(Event::new());
        let pingers: Vec<_> = clients
            .into_iter()
            .map(|mut c| {
                let (ready, all_ready, go) = (ready.clone(), all_ready.clone(), go.clone());
                spawn(move || {
                    let mut buf = [7u8; 64];
                    c.write_all(&buf).unwrap();
                    c.read_exact(&mut buf).unwrap();
                    ready.set(ready.get() + 1);
                    if ready.get() == CONNS {
                        all_ready.set();
                    }
                    go.wait().unwrap();
                    for _ in 0..iters {
                        c.write_all(&buf).unwrap();
                        c.read_exact(&mut buf).unwrap();
                    }
                    c
                })
            })
            .collect();
        all_ready.wait().unwrap();
        let start = Instant::now();
        go.set();
        let streams: Vec<TcpStream> = pingers.into_iter().map(|p| p.join().unwrap()).collect();
        let d = start.elapsed();
        drop(streams);
        for e in echoes {
            e.join().unwrap();
        }
        d
    })
}

/// A plain thread that accepts one connection and reads it to end of file.
pub struct Sink {
    /// Where to send.
    pub addr: SocketAddr,
    thread: JoinHandle<u64>,
}

/// Starts a [`Sink`].
pub fn sink() -> Sink {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let thread = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = vec![0u8; CHUNK];
        let mut n = 0u64;
        loop {
            match s.read(&mut buf).unwrap() {
                0 => return n,
                k => n += k as u64,
            }
        }
    });
    Sink { addr, thread }
}

/// Sends `bytes` from this (plain) thread to `to`, which leads to `sink`; the time until the
/// sink has read them all.
pub fn send_through(to: SocketAddr, sink: Sink, bytes: u64) -> Duration {
    let mut c = std::net::TcpStream::connect(to).unwrap();
    let buf = &ONES;
    let start = Instant::now();
    let mut left = bytes;
    while left > 0 {
        let k = left.min(CHUNK as u64) as usize;
        c.write_all(&buf[..k]).unwrap();
        left -= k as u64;
    }
    c.shutdown(Shutdown::Write).unwrap();
    let got = sink.thread.join().unwrap();
    let d = start.elapsed();
    assert_eq!(got, bytes);
    d
}

/// `iters` MiB straight from sender to receiver.
pub fn forward_direct(iters: u64) -> Duration {
    let s = sink();
    send_through(s.addr, s, iters * MIB)
}

type Copy = fn(&TcpStream, &TcpStream) -> std::io::Result<u64>;

fn forward_with(iters: u64, copy: Copy) -> Duration {
    let s = sink();
    let target = s.addr;
    let rt = Runtime::new(1).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let fwd = rt.spawn(move || {
        let (client, _) = listener.accept().unwrap();
        let upstream = TcpStream::connect(target).unwrap();
        let (client, upstream) = (Arc::new(client), Arc::new(upstream));
        let (c, u) = (client.clone(), upstream.clone());
        let up = spawn(move || {
            let n = copy(&c, &u).unwrap();
            u.shutdown(Shutdown::Write).unwrap();
            n
        });
        let _ = copy(&upstream, &client);
        let _ = client.shutdown(Shutdown::Write);
        up.join().unwrap()
    });
    let d = send_through(addr, s, iters * MIB);
    assert_eq!(fwd.join().unwrap(), iters * MIB);
    d
}

/// `iters` MiB through a thicket forwarder pumping with `net::copy`.
pub fn forward(iters: u64) -> Duration {
    forward_with(iters, net::copy)
}

/// `iters` MiB through a thicket forwarder pumping with `net::copy_splice`.
pub fn forward_splice(iters: u64) -> Duration {
    forward_with(iters, net::copy_splice)
}
