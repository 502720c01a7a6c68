//! A chat room: every line a member sends is broadcast to all members by a
//! [`Room`] (a slow member is dropped rather than holding up the others).
//! The page and its socket are served from one port.
//!
//! ```text
//! cargo run -p thicket-http --example chat -- --addr 127.0.0.1:8080
//! # then open http://127.0.0.1:8080/ in two browser windows
//! ```
//!
//! With no arguments it serves on a free loopback port, has two thicket
//! clients chat, checks that each sees the other's lines, and exits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use thicket_http::http::header::CONTENT_TYPE;
use thicket_http::ws::{self, Message, Room, WebSocket};
use thicket_http::{Body, Request, Response, Router, Server};

const PAGE: &str = r##"<!doctype html>
<html><head><meta charset="utf-8"><title>thicket chat</title>
<style>body{font:15px sans-serif;margin:2em}#log{height:20em;overflow:auto;border:1px solid #ccc;padding:.5em}</style>
</head><body>
<h1>Chat</h1><div id="log"></div>
<form id="f"><input id="line" size="60" autofocus> <button>Send</button></form>
<script>
const $ = id => document.getElementById(id);
const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
ws.onmessage = e => {
  const p = document.createElement("p");
  p.textContent = e.data;
  $("log").appendChild(p);
  $("log").scrollTop = 1e9;
};
ws.onclose = () => $("log").append("(disconnected)");
$("f").onsubmit = e => { e.preventDefault(); if ($("line").value) ws.send($("line").value); $("line").value = ""; };
</script></body></html>
"##;

fn app() -> Router {
    let room = Room::new();
    let guests = Arc::new(AtomicU64::new(0));
    let config = ws::Config::new().max_message_size(4096);
    Router::new()
        .get("/", |_req: Request| {
            let mut r = Response::new(Body::from(PAGE));
            r.headers_mut()
                .insert(CONTENT_TYPE, "text/html; charset=utf-8".parse().unwrap());
            r
        })
        .get("/ws", move |req: Request| {
            let (room, name) = (
                room.clone(),
                format!("guest-{}", guests.fetch_add(1, Ordering::Relaxed) + 1),
            );
            ws::upgrade(&req, &config, move |mut socket| {
                let me = room.join(socket.sender());
                room.broadcast(Message::text(format!("* {name} joined")));
                while let Ok(msg) = socket.recv() {
                    if let Message::Text(line) = msg {
                        room.broadcast(Message::text(format!("{name}: {line}")));
                    }
                }
                room.leave(me);
                room.broadcast(Message::text(format!("* {name} left")));
            })
        })
}

fn expect(socket: &mut WebSocket, want: &str) -> Result<(), Box<dyn std::error::Error>> {
    let got = socket.recv_timeout(Duration::from_secs(10))?;
    assert_eq!(got.as_text(), Some(want), "got {got:?}");
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--addr") {
        let addr = args
            .get(i + 1)
            .cloned()
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let server = Server::bind(addr)?;
        eprintln!("chat: open http://{}/ in two windows", server.local_addr()?);
        return Ok(server.serve(app())?);
    }
    // Self-test: two guests chat, then one leaves.
    let server = Server::bind("127.0.0.1:0")?.start(app())?;
    let url = format!("ws://{}/ws", server.local_addr());
    let mut alice = ws::connect(&url)?;
    expect(&mut alice, "* guest-1 joined")?;
    let mut bob = ws::connect(&url)?;
    expect(&mut bob, "* guest-2 joined")?;
    expect(&mut alice, "* guest-2 joined")?;
    alice.send(Message::text("hi bob"))?;
    expect(&mut alice, "guest-1: hi bob")?;
    expect(&mut bob, "guest-1: hi bob")?;
    bob.send(Message::text("hi alice, bye"))?;
    expect(&mut alice, "guest-2: hi alice, bye")?;
    expect(&mut bob, "guest-2: hi alice, bye")?;
    bob.close(1000, "bye")?;
    expect(&mut alice, "* guest-2 left")?;
    alice.close(1000, "bye")?;
    server.stop();
    println!("chat: two guests chatted through the room; stopped cleanly");
    Ok(())
}
