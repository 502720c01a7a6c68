//! WebSocket echo peer: tokio-tungstenite on a multi-thread tokio runtime, for
//! `cargo xtask bench --only ws` (next to thicket's `http/examples/ws_echo.rs`).
//!
//! `tungstenite_echo --addr 127.0.0.1:PORT [--threads N] [--style forward|loop]`
//!
//! One accept loop, a task per connection; every text and binary message is sent back as it
//! came, pings are answered by tungstenite, a close ends the connection. No compression:
//! tungstenite has no permessage-deflate, so none is ever agreed.
//!
//! - `forward` (default, the one measured): `read.try_filter(data).forward(write)` on the
//!   split stream, as in tokio-tungstenite's `echo-server` example: echoes are buffered while
//!   more messages are ready to be read and flushed when the read side would wait, so a
//!   stream of small messages is echoed with a few writes instead of one each. It was as
//!   fast as `loop` or faster in every load of the benchmark, up to 5x on small messages
//!   streamed.
//! - `loop`: `while let Some(msg) = ws.next().await { ws.send(msg).await }`, as in
//!   tokio-tungstenite's Autobahn server example: each echo is written (flushed) before the
//!   next message is read.
//!
//! Runs until killed.

#![forbid(unsafe_code)]

use futures_util::{future, SinkExt, StreamExt, TryStreamExt};
use thicket_peers::hello::Args;
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Builder;

#[derive(Debug, Clone, Copy)]
enum Style {
    Loop,
    Forward,
}

async fn echo(stream: TcpStream, style: Style) {
    let _ = stream.set_nodelay(true);
    // tungstenite's defaults: a 128 KiB read buffer, writes buffered up to 128 KiB until a
    // flush (`send` flushes).
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    match style {
        Style::Loop => {
            while let Some(Ok(msg)) = ws.next().await {
                if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
                    break;
                }
            }
        }
        Style::Forward => {
            let (write, read) = ws.split();
            let _ = read
                .try_filter(|msg| future::ready(msg.is_text() || msg.is_binary()))
                .forward(write)
                .await;
        }
    }
}

fn main() {
    let args = Args::from_env("tungstenite_echo", &["style"]);
    let style = match args.get("style").unwrap_or("forward") {
        "loop" => Style::Loop,
        "forward" => Style::Forward,
        other => {
            eprintln!("tungstenite_echo: `--style` is `loop` or `forward`, got `{other}`");
            std::process::exit(2);
        }
    };
    let rt = Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_io()
        .build()
        .expect("cannot build the tokio runtime");
    rt.block_on(async {
        let listener = TcpListener::bind(args.addr)
            .await
            .unwrap_or_else(|e| panic!("cannot listen on {}: {e}", args.addr));
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(echo(stream, style));
                }
                Err(e) => {
                    // EMFILE and friends: report and go on, as a server would.
                    eprintln!("tungstenite_echo: accept: {e}");
                    tokio::task::yield_now().await;
                }
            }
        }
    });
}
