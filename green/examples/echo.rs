//! An echo server and a client that opens 1,000 connections at once, each
//! sending a few messages and checking the replies: one green thread per
//! connection on both sides, all on one OS thread. Ends by itself.
//!
//! `echo server ADDR` only serves (until killed), e.g.
//! `cargo run --example echo -- server 127.0.0.1:7000`;
//! `echo client ADDR [CONNECTIONS]` only runs the client against it.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::Instant;

use thicket_green::net::{self, Server, TcpStream};
use thicket_green::spawn;

const CONNECTIONS: usize = 1_000;
const MESSAGES: usize = 10;

/// The echo handler: whatever comes in goes back out.
fn echo(conn: TcpStream, _peer: SocketAddr) {
    let _ = net::copy(&conn, &conn);
    let _ = conn.shutdown(Shutdown::Write);
}

/// Opens `connections` connections at once; each sends `MESSAGES` numbered
/// lines and reads each echo before sending the next.
fn client(addr: SocketAddr, connections: usize) -> io::Result<()> {
    let started = Instant::now();
    let clients: Vec<_> = (0..connections)
        .map(|i| {
            spawn(move || -> io::Result<()> {
                let mut conn = TcpStream::connect(addr)?;
                conn.set_nodelay(true)?;
                for m in 0..MESSAGES {
                    let msg = format!("connection {i:04} message {m:02}\n");
                    conn.write_all(msg.as_bytes())?;
                    let mut back = vec![0; msg.len()];
                    conn.read_exact(&mut back)?;
                    if back != msg.as_bytes() {
                        return Err(io::Error::other(format!("bad echo on connection {i}")));
                    }
                }
                conn.shutdown(Shutdown::Write)?;
                let mut rest = Vec::new();
                conn.read_to_end(&mut rest)?;
                if !rest.is_empty() {
                    return Err(io::Error::other("bytes after the last echo"));
                }
                Ok(())
            })
        })
        .collect();
    for c in clients {
        c.join().map_err(|e| io::Error::other(e.to_string()))??;
    }
    println!(
        "echo: {connections} concurrent connections x {MESSAGES} round trips checked in {:?}",
        started.elapsed()
    );
    Ok(())
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => {
            let server = Server::new(net::listen("127.0.0.1:0")?).concurrency(10_000);
            let addr = server.local_addr()?;
            let stop = server.handle();
            let serving = spawn(move || server.serve(echo));
            client(addr, CONNECTIONS)?;
            stop.stop();
            serving
                .join()
                .map_err(|e| io::Error::other(e.to_string()))?
        }
        [mode, addr] if mode == "server" => {
            let listener = net::listen(addr.clone())?;
            println!("echo server on {}", listener.local_addr()?);
            net::serve(listener, echo, 10_000)
        }
        [mode, addr, rest @ ..] if mode == "client" && rest.len() <= 1 => {
            let n = match rest.first() {
                Some(n) => n.parse().map_err(io::Error::other)?,
                None => CONNECTIONS,
            };
            let addr = thicket_green::tpool::resolve(addr.clone())?
                .into_iter()
                .next()
                .ok_or_else(|| io::Error::other("the address resolved to nothing"))?;
            client(addr, n)
        }
        _ => Err(io::Error::other(
            "usage: echo [server ADDR | client ADDR [CONNECTIONS]]",
        )),
    }
}
