//! HTTP hello-world peer: hyper 1 (`http1`, `pipeline_flush`) on tokio, for `cargo xtask bench`.
//!
//! `hyper_hello --addr 127.0.0.1:PORT [--threads N] [--runtime multi|per-thread]`
//!
//! - `multi` (default): one multi-thread runtime with N workers, one accept loop, a task per
//!   connection (the usual hyper server).
//! - `per-thread`: N OS threads, each with its own `current_thread` runtime and its own
//!   `SO_REUSEPORT` listener on the address (thread-per-core, as thicket's hubs are).
//!
//! Runs until killed.

#![forbid(unsafe_code)]

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use thicket_peers::hello::{Args, BODY};
use tokio::net::{TcpListener, TcpSocket};
use tokio::runtime::Builder;

async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut res = Response::new(Full::new(Bytes::from_static(BODY.as_bytes())));
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(res)
}

/// Accepts forever, serving each connection on its own task.
async fn serve(listener: TcpListener) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // EMFILE and friends: report and go on, as a server would.
                eprintln!("hyper_hello: accept: {e}");
                tokio::task::yield_now().await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .pipeline_flush(true)
                .serve_connection(TokioIo::new(stream), service_fn(hello))
                .await;
        });
    }
}

fn reuseport_listener(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.set_reuseport(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

fn main() {
    let args = Args::from_env("hyper_hello", &["runtime"]);
    match args.get("runtime").unwrap_or("multi") {
        "multi" => {
            let rt = Builder::new_multi_thread()
                .worker_threads(args.threads)
                .enable_io()
                .build()
                .expect("cannot build the tokio runtime");
            rt.block_on(async {
                let listener = TcpListener::bind(args.addr)
                    .await
                    .unwrap_or_else(|e| panic!("cannot listen on {}: {e}", args.addr));
                serve(listener).await;
            });
        }
        "per-thread" => {
            // Bind every listener before serving, so that a bad address fails at once.
            let listeners: Vec<std::net::TcpListener> = (0..args.threads)
                .map(|_| {
                    let rt = Builder::new_current_thread().enable_io().build().unwrap();
                    let l = rt.block_on(async { reuseport_listener(args.addr) });
                    l.and_then(|l| l.into_std())
                        .unwrap_or_else(|e| panic!("cannot listen on {}: {e}", args.addr))
                })
                .collect();
            let threads: Vec<_> = listeners
                .into_iter()
                .map(|l| {
                    std::thread::spawn(move || {
                        let rt = Builder::new_current_thread()
                            .enable_io()
                            .build()
                            .expect("cannot build a tokio runtime");
                        rt.block_on(async move {
                            serve(TcpListener::from_std(l).expect("listener")).await;
                        });
                    })
                })
                .collect();
            for t in threads {
                let _ = t.join();
            }
        }
        other => {
            eprintln!("hyper_hello: `--runtime` is `multi` or `per-thread`, got `{other}`");
            std::process::exit(2);
        }
    }
}
