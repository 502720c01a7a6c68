//! Serve a directory with `StaticFiles` under a router, next to an API route.
//!
//! ```text
//! cargo run -p thicket-http --example files -- --dir ./public --addr 127.0.0.1:8080
//! curl -i http://127.0.0.1:8080/static/index.html
//! curl -i -r 0-99 http://127.0.0.1:8080/static/index.html
//! ```
//!
//! With no arguments it serves a temporary directory on a free loopback
//! port, asks itself for a page, a byte range and a conditional page over
//! one keep-alive connection, checks the answers and exits.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use thicket_http::http::header::HeaderValue;
use thicket_http::{Body, Request, Response, Router, Server, StaticFiles};

fn app(dir: &str) -> Router {
    let files = StaticFiles::new(dir).cache_control(HeaderValue::from_static("max-age=60"));
    Router::new()
        .get("/static/*path", files)
        .get("/health", |_: Request| Response::new(Body::from("ok\n")))
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
    let dir = arg("--dir").unwrap_or_else(|| ".".into());
    let addr = arg("--addr").unwrap_or_else(|| "127.0.0.1:8080".into());
    let server = Server::bind(addr)?;
    eprintln!(
        "files: serving {dir} on http://{}/static/",
        server.local_addr()?
    );
    server.serve(app(&dir))
}

/// A response read off the connection: status, headers (lowercase names), body.
type Reply = (u16, Vec<(String, String)>, Vec<u8>);

/// Sends one request on a keep-alive connection and reads its response.
fn exchange(conn: &mut BufReader<TcpStream>, request: &str) -> io::Result<Reply> {
    conn.get_mut().write_all(request.as_bytes())?;
    let mut line = String::new();
    conn.read_line(&mut line)?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut headers = Vec::new();
    loop {
        line.clear();
        conn.read_line(&mut line)?;
        match line.trim_end().split_once(':') {
            Some((k, v)) => headers.push((k.to_ascii_lowercase(), v.trim().to_string())),
            None => break,
        }
    }
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let length = header("content-length").map_or(0, |v| v.parse().unwrap_or(0));
    let mut body = vec![0; if status == 304 { 0 } else { length }];
    conn.read_exact(&mut body)?;
    Ok((status, headers, body))
}

fn self_test() -> io::Result<()> {
    let dir = std::env::temp_dir().join(format!("thicket-files-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let page = "<!doctype html><title>thicket</title><p>served from a green thread\n";
    std::fs::write(dir.join("index.html"), page)?;

    let running = Server::bind("127.0.0.1:0")?.start(app(dir.to_str().unwrap()))?;
    let mut conn = BufReader::new(TcpStream::connect(running.local_addr())?);
    let get = |path: &str, extra: &str| format!("GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n");

    let (status, headers, body) = exchange(&mut conn, &get("/static/", ""))?;
    assert_eq!((status, body.as_slice()), (200, page.as_bytes()));
    let etag = headers.iter().find(|(k, _)| k == "etag").unwrap().1.clone();

    let (status, headers, body) = exchange(
        &mut conn,
        &get("/static/index.html", "Range: bytes=15-21\r\n"),
    )?;
    assert_eq!((status, body.as_slice()), (206, &b"<title>"[..]));
    let range = format!("bytes 15-21/{}", page.len());
    assert!(headers.contains(&("content-range".into(), range)));

    let cond = format!("If-None-Match: {etag}\r\nConnection: close\r\n");
    let (status, _, body) = exchange(&mut conn, &get("/static/index.html", &cond))?;
    assert_eq!((status, body.len()), (304, 0));

    running.stop();
    running.wait()?;
    std::fs::remove_dir_all(&dir)?;
    println!("files: index, byte range and If-None-Match answered over one connection; stopped");
    Ok(())
}
