//! A WebSocket echo server: every text and binary message is sent back as
//! it came, on any path. No compression (the benchmark's peer,
//! tokio-tungstenite, has none). `cargo xtask bench --only ws` measures it.
//!
//! ```text
//! cargo run --release -p thicket-http --example ws_echo -- --addr 127.0.0.1:8080 --threads 2
//! # then any WebSocket client on ws://127.0.0.1:8080/
//! ```
//!
//! With no arguments it serves on a free loopback port, has a few clients
//! at once send it text and binary messages of 0 bytes to 64 KiB, checks
//! every echo, and exits.

use std::io;

use thicket_http::ws::{self, Message};
use thicket_http::{Request, Response, Server};

fn config() -> ws::Config {
    ws::Config::new().compression(false)
}

/// Upgrades any request and echoes until the peer closes or goes away.
/// `feed` queues each echo; they go out when `recv` has no more messages
/// at hand, so a burst of messages is answered with one write.
fn echo(req: Request) -> Response {
    ws::upgrade(&req, &config(), |mut socket| {
        while let Ok(msg) = socket.recv() {
            if msg.is_data() && socket.feed(msg).is_err() {
                break;
            }
        }
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    if args.is_empty() {
        return self_test();
    }
    let addr = arg("--addr").unwrap_or_else(|| "127.0.0.1:8080".into());
    let threads: usize = arg("--threads")
        .map_or(Ok(1), |t| t.parse())
        .map_err(io::Error::other)?;
    let server = Server::bind(addr)?.hubs(threads);
    eprintln!(
        "ws_echo: echoing on ws://{} with {threads} hub(s)",
        server.local_addr()?
    );
    Ok(server.serve(echo)?)
}

fn self_test() -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::bind("127.0.0.1:0")?.hubs(2).start(echo)?;
    let url = format!("ws://{}/", server.local_addr());
    let clients: Vec<_> = (0..4u8)
        .map(|c| {
            let url = url.clone();
            thicket_green::spawn(move || -> Result<usize, thicket_http::Error> {
                let mut socket = ws::Connector::new(url).config(config()).connect()?;
                assert!(!socket.is_compressed());
                let mut echoed = 0;
                for size in [0, 1, 32, 125, 126, 4096, 65_535, 65_536] {
                    let binary = Message::binary(vec![c ^ (size as u8); size]);
                    let text = Message::text("é".repeat(size / 2));
                    for msg in [binary, text] {
                        socket.send(msg.clone())?;
                        assert_eq!(socket.recv()?, msg);
                        echoed += 1;
                    }
                }
                socket.close(1000, "done")?;
                Ok(echoed)
            })
        })
        .collect();
    let mut echoed = 0;
    for client in clients {
        echoed += client
            .join()
            .map_err(|e| io::Error::other(e.to_string()))??;
    }
    server.stop();
    server.wait()?;
    println!("ws_echo: {echoed} messages from 4 clients echoed intact; stopped cleanly");
    Ok(())
}
