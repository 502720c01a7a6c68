//! eventlet's port forwarder: accept connections on one port and pump each,
//! both ways, to a target address, with a green thread per direction. When
//! one side finishes sending, the other side's writing half is shut down, so
//! half-closed connections behave as if connected directly.
//!
//! `forwarder LISTEN_ADDR TARGET_ADDR` forwards until killed, e.g.
//! `cargo run --example forwarder -- 127.0.0.1:8080 example.com:80`.
//! With no arguments it tests itself and ends: an echo server as the target,
//! the forwarder in front of it, and 20 clients each pushing 2 MiB through
//! both and checking every byte that comes back.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;

use thicket_green::net::{self, Server, TcpStream};
use thicket_green::spawn;

/// The forwarder: a connection handler for `serve`. This is all the user
/// code it takes.
fn forward_to(target: SocketAddr) -> impl Fn(TcpStream, SocketAddr) {
    move |client, _peer| {
        let Ok(upstream) = net::connect(target) else {
            return;
        };
        let (client, upstream) = (Arc::new(client), Arc::new(upstream));
        let (c, u) = (client.clone(), upstream.clone());
        let up = spawn(move || pump(&c, &u));
        pump(&upstream, &client);
        let _ = up.join();
    }
}

fn pump(from: &TcpStream, to: &TcpStream) {
    let _ = net::copy(from, to);
    let _ = to.shutdown(Shutdown::Write);
}

const CLIENTS: usize = 20;
const BYTES: usize = 2 << 20;

fn self_test() -> io::Result<()> {
    // The target: an echo server.
    let echo = Server::new(net::listen("127.0.0.1:0")?);
    let target = echo.local_addr()?;
    let echo_stop = echo.handle();
    let echo_done = spawn(move || {
        echo.serve(|conn, _| {
            let _ = net::copy(&conn, &conn);
            let _ = conn.shutdown(Shutdown::Write);
        })
    });

    let fwd = Server::new(net::listen("127.0.0.1:0")?);
    let addr = fwd.local_addr()?;
    let fwd_stop = fwd.handle();
    let fwd_done = spawn(move || fwd.serve(forward_to(target)));

    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| spawn(move || client(addr, i as u8)))
        .collect();
    for c in clients {
        c.join().map_err(|e| io::Error::other(e.to_string()))??;
    }
    fwd_stop.stop();
    echo_stop.stop();
    fwd_done
        .join()
        .map_err(|e| io::Error::other(e.to_string()))??;
    echo_done
        .join()
        .map_err(|e| io::Error::other(e.to_string()))??;
    println!(
        "forwarder: {CLIENTS} clients x {} MiB echoed through the forwarder, all bytes checked",
        BYTES >> 20
    );
    Ok(())
}

/// Sends `BYTES` of a pattern seeded by `seed` while reading the echo back,
/// then half-closes and expects end of file right after the last byte.
fn client(addr: SocketAddr, seed: u8) -> io::Result<()> {
    let conn = Arc::new(TcpStream::connect(addr)?);
    let pattern = move |i: usize| (i as u8).wrapping_mul(31).wrapping_add(seed);
    let w = conn.clone();
    let writer = spawn(move || -> io::Result<()> {
        let chunk: Vec<u8> = (0..BYTES).map(pattern).collect();
        (&*w).write_all(&chunk)?;
        w.shutdown(Shutdown::Write)
    });
    let mut got = Vec::with_capacity(BYTES);
    (&*conn).read_to_end(&mut got)?;
    writer
        .join()
        .map_err(|e| io::Error::other(e.to_string()))??;
    if got.len() != BYTES || got.iter().enumerate().any(|(i, b)| *b != pattern(i)) {
        return Err(io::Error::other(format!(
            "client {seed}: {} bytes came back, not the {BYTES} sent",
            got.len()
        )));
    }
    Ok(())
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => self_test(),
        [listen, target] => {
            let target = thicket_green::tpool::resolve(target.clone())?
                .into_iter()
                .next()
                .ok_or_else(|| io::Error::other("the target resolved to no address"))?;
            let listener = net::listen(listen.clone())?;
            println!("forwarding {} -> {target}", listener.local_addr()?);
            net::serve(listener, forward_to(target), 10_000)
        }
        _ => Err(io::Error::other(
            "usage: forwarder [LISTEN_ADDR TARGET_ADDR]",
        )),
    }
}
