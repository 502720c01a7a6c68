//! A live graph in the browser: a green thread produces a value every
//! 200 ms and a [`Room`] pushes it over a WebSocket to every open page,
//! which draws it in an inline SVG (no external script). The page and its
//! socket are served from one port.
//!
//! ```text
//! cargo run -p thicket-http --example live_graph -- --addr 127.0.0.1:8080
//! # then open http://127.0.0.1:8080/ in a browser
//! ```
//!
//! With no arguments it serves on a free loopback port, fetches the page,
//! reads a few values from the socket with the thicket client, checks
//! them and exits.

use std::time::Duration;

use thicket_http::http::header::CONTENT_TYPE;
use thicket_http::ws::{self, Message, Room};
use thicket_http::{Body, Client, Request, Response, Router, Server};

const PAGE: &str = r##"<!doctype html>
<html><head><meta charset="utf-8"><title>thicket live graph</title>
<style>body{font:15px sans-serif;margin:2em}svg{border:1px solid #ccc;background:#fafafa}</style>
</head><body>
<h1>Live graph</h1>
<p>values received: <span id="count">0</span>, last: <span id="last">-</span>
(<span id="state">connecting</span>)</p>
<svg width="600" height="200" viewBox="0 0 600 200">
<polyline id="line" fill="none" stroke="#2a6" stroke-width="2" points=""/></svg>
<script>
const pts = [], $ = id => document.getElementById(id);
let n = 0;
const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
ws.onopen = () => $("state").textContent = "live";
ws.onclose = () => $("state").textContent = "closed";
ws.onmessage = e => {
  const v = Number(e.data.split(" ")[1]);
  pts.push(v);
  if (pts.length > 120) pts.shift();
  $("count").textContent = ++n;
  $("last").textContent = v.toFixed(1);
  $("line").setAttribute("points", pts.map((v, i) => i * 5 + "," + (200 - 2 * v).toFixed(1)).join(" "));
};
</script></body></html>
"##;

/// The value at tick `t`: a wave between 10 and 90 with some wobble.
fn value(t: u64) -> f64 {
    let x = t as f64;
    50.0 + 30.0 * (x / 8.0).sin() + 10.0 * (x / 2.7).cos()
}

/// Pushes `"tick value"` to everyone in `room` every `every`, forever.
pub fn produce(room: Room, every: Duration) {
    thicket_green::spawn_n(move || {
        for t in 0.. {
            room.broadcast(Message::text(format!("{t} {:.2}", value(t))));
            if thicket_green::sleep(every).is_err() {
                return;
            }
        }
    });
}

/// The page at `/` and its socket at `/ws`, fed from `room`.
pub fn app(room: Room) -> Router {
    let config = ws::Config::new();
    Router::new()
        .get("/", |_req: Request| {
            let mut r = Response::new(Body::from(PAGE));
            r.headers_mut()
                .insert(CONTENT_TYPE, "text/html; charset=utf-8".parse().unwrap());
            r
        })
        .get("/ws", move |req: Request| {
            let room = room.clone();
            ws::upgrade(&req, &config, move |mut socket| {
                let me = room.join(socket.sender());
                // The page sends nothing; recv answers pings and sees the close.
                while socket.recv().is_ok() {}
                room.leave(me);
            })
        })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let room = Room::new();
    if let Some(i) = args.iter().position(|a| a == "--addr") {
        let addr = args
            .get(i + 1)
            .cloned()
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let server = Server::bind(addr)?;
        eprintln!("live_graph: open http://{}/", server.local_addr()?);
        produce(room.clone(), Duration::from_millis(200));
        return Ok(server.serve(app(room))?);
    }
    // Self-test: the page, then five values from the socket.
    let server = Server::bind("127.0.0.1:0")?.start(app(room.clone()))?;
    produce(room, Duration::from_millis(10));
    let page = Client::new()
        .get(format!("http://{}/", server.local_addr()))
        .send()?
        .text()?;
    assert!(page.contains("<svg") && page.contains("new WebSocket"));
    let mut socket = ws::connect(&format!("ws://{}/ws", server.local_addr()))?;
    let mut last = None;
    for _ in 0..5 {
        let msg = socket.recv_timeout(Duration::from_secs(10))?;
        let text = msg.as_text().ok_or("expected text")?.to_owned();
        let (t, v) = text.split_once(' ').ok_or("expected \"tick value\"")?;
        let (t, v): (u64, f64) = (t.parse()?, v.parse()?);
        assert!((10.0..=90.0).contains(&v), "value {v} out of range");
        assert!(last.is_none_or(|l| t > l), "ticks go up");
        last = Some(t);
    }
    socket.close(1000, "seen enough")?;
    server.stop();
    println!("live_graph: page served, 5 values pushed over the WebSocket; stopped cleanly");
    Ok(())
}
