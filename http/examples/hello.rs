//! The smallest thicket HTTP server: `Hello, World!` on every path.
//!
//! ```text
//! cargo run --release -p thicket-http --example hello -- --addr 127.0.0.1:8080 --threads 2
//! curl http://127.0.0.1:8080/
//! ```
//!
//! With no arguments it serves on a free loopback port, asks itself for a
//! few pages over one keep-alive connection, checks the answers and exits.
//!
//! With several hubs, each accepts from a `SO_REUSEPORT` listener of its own
//! (the kernel spreads connections among them); `--shared-listener` makes
//! them all accept from one listener instead.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use thicket_http::http;
use thicket_http::{Body, Request, Response, Server};

fn hello(_req: Request) -> Response {
    let mut resp = Response::new(Body::from("Hello, World!"));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain"),
    );
    resp
}

fn main() -> io::Result<()> {
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
    let server = if args.iter().any(|a| a == "--shared-listener") {
        let addr: std::net::SocketAddr = addr.parse().map_err(io::Error::other)?;
        Server::from_listener(thicket_green::net::listen(addr)?)
    } else {
        Server::bind(addr)?
    }
    .hubs(threads);
    eprintln!(
        "hello: serving on http://{} with {threads} hub(s)",
        server.local_addr()?
    );
    server.serve(hello)
}

fn self_test() -> io::Result<()> {
    let running = Server::bind("127.0.0.1:0")?.start(hello)?;
    let mut conn = BufReader::new(TcpStream::connect(running.local_addr())?);
    for i in 0..3 {
        let close = if i == 2 { "Connection: close\r\n" } else { "" };
        write!(
            conn.get_mut(),
            "GET /{i} HTTP/1.1\r\nHost: x\r\n{close}\r\n"
        )?;
        let mut status = String::new();
        conn.read_line(&mut status)?;
        assert_eq!(status, "HTTP/1.1 200 OK\r\n");
        let mut length = 0;
        loop {
            let mut line = String::new();
            conn.read_line(&mut line)?;
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length: ") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        conn.read_exact(&mut body)?;
        assert_eq!(body, b"Hello, World!");
    }
    running.stop();
    running.wait()?;
    println!("hello: 3 requests over one keep-alive connection answered; stopped cleanly");
    Ok(())
}
