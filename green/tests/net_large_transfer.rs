//! 64 MiB each way at once over one connection, checksummed, through plain
//! reads and writes and through `net::copy` and `net::copy_splice`.

use std::hash::Hasher;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::sync::Arc;

use thicket_green::net::{self, TcpListener, TcpStream};
use thicket_green::spawn;

const BYTES: usize = 64 << 20;

/// A deterministic byte stream: chunk `i` of 64 KiB filled from `seed` and `i`.
fn chunk(seed: u64, i: usize) -> Vec<u8> {
    let mut x = seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..64 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn send(s: &TcpStream, seed: u64) -> io::Result<u64> {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for i in 0..BYTES / (64 * 1024) {
        let c = chunk(seed, i);
        h.write(&c);
        let mut w = s;
        w.write_all(&c)?;
    }
    s.shutdown(Shutdown::Write)?;
    Ok(h.finish())
}

fn receive(mut s: &TcpStream) -> io::Result<(usize, u64)> {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut buf = vec![0; 100_000]; // not a multiple of the chunk size
    let mut total = 0;
    let mut pending = Vec::new();
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n;
        // Hash in 64 KiB units, as the sender did.
        pending.extend_from_slice(&buf[..n]);
        while pending.len() >= 64 * 1024 {
            let rest = pending.split_off(64 * 1024);
            h.write(&pending);
            pending = rest;
        }
    }
    h.write(&pending);
    Ok((total, h.finish()))
}

fn pair() -> (Arc<TcpStream>, Arc<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (Arc::new(client), Arc::new(server))
}

#[test]
fn both_directions_at_once_arrive_intact() {
    let (a, b) = pair();
    let threads: Vec<_> = [(a.clone(), 1u64), (b.clone(), 2u64)]
        .into_iter()
        .map(|(s, seed)| spawn(move || send(&s, seed).unwrap()))
        .collect();
    let (ra, rb) = (a.clone(), b.clone());
    let recv_a = spawn(move || receive(&ra).unwrap());
    let recv_b = spawn(move || receive(&rb).unwrap());
    let sent: Vec<u64> = threads.iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(recv_b.join().unwrap(), (BYTES, sent[0]));
    assert_eq!(recv_a.join().unwrap(), (BYTES, sent[1]));
}

#[test]
fn copy_and_copy_splice_move_every_byte() {
    type Copy = fn(&TcpStream, &TcpStream) -> io::Result<u64>;
    let copies: [(&str, Copy); 2] = [("buffered", net::copy), ("splice", net::copy_splice)];
    for (name, copy) in copies {
        // client -> (a, b) pump -> server
        let (client, a) = pair();
        let (b, server) = pair();
        let pump = spawn(move || {
            let n = copy(&a, &b).unwrap();
            b.shutdown(Shutdown::Write).unwrap();
            n
        });
        let c = client.clone();
        let sender = spawn(move || send(&c, 7).unwrap());
        let (n, h) = receive(&server).unwrap();
        assert_eq!((n, h), (BYTES, sender.join().unwrap()), "{name}");
        assert_eq!(pump.join().unwrap(), BYTES as u64, "{name}");
    }
}
