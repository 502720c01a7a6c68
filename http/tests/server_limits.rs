//! Every limit answers with its status, names what was wrong, and closes.

mod server_support;

use server_support::Conn;
use thicket_http::{Body, Request, Response, RunningServer, Server};

fn start() -> RunningServer {
    Server::bind("127.0.0.1:0")
        .unwrap()
        .max_request_line(256)
        .max_head(1024)
        .max_headers(10)
        .max_body(100)
        .start(
            |mut req: Request| match req.body_mut().read_to_bytes(1 << 20) {
                Ok(b) => Response::new(Body::from(b)),
                // The server replaces this with the body's own error.
                Err(_) => Response::new(Body::from("handler saw an error")),
            },
        )
        .unwrap()
}

fn refused(server: &RunningServer, raw: &[u8], status: u16, says: &str) {
    let mut c = Conn::open(server.local_addr());
    c.send(raw);
    let r = c.response();
    assert_eq!(r.status, status, "{}", r.text());
    assert!(r.text().contains(says), "{:?} lacks {says:?}", r.text());
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.closed());
}

#[test]
fn long_request_line_is_414() {
    let s = start();
    let raw = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(300));
    refused(&s, raw.as_bytes(), 414, "longer than 256 bytes");
}

#[test]
fn long_head_is_431() {
    let s = start();
    let raw = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "b".repeat(1100)
    );
    refused(&s, raw.as_bytes(), 431, "longer than 1024 bytes");
}

#[test]
fn too_many_fields_is_431() {
    let s = start();
    let mut raw = String::from("GET / HTTP/1.1\r\nHost: x\r\n");
    for i in 0..12 {
        raw.push_str(&format!("X-{i}: v\r\n"));
    }
    raw.push_str("\r\n");
    refused(&s, raw.as_bytes(), 431, "more than 10 header fields");
}

#[test]
fn declared_body_over_the_limit_is_413_before_reading_it() {
    let s = start();
    refused(
        &s,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n",
        413,
        "larger than 100 bytes",
    );
}

#[test]
fn chunked_body_over_the_limit_is_413() {
    let s = start();
    let mut raw = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..3 {
        raw.extend_from_slice(b"40\r\n");
        raw.extend_from_slice(&[b'z'; 64]);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    refused(&s, &raw, 413, "larger than 100 bytes");
}

#[test]
fn bad_chunk_framing_mid_body_is_400() {
    let s = start();
    refused(
        &s,
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
        400,
        "chunk data longer than its size",
    );
}

#[test]
fn smuggling_shapes_are_refused() {
    let s = start();
    refused(
        &s,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
        "Content-Length and Transfer-Encoding together",
    );
    refused(
        &s,
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        501,
        "unsupported transfer coding",
    );
    refused(
        &s,
        b"GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n",
        400,
        "bare LF",
    );
    refused(&s, b"GET / HTTP/1.1\r\n\r\n", 400, "without a Host");
}

#[test]
fn a_refused_request_after_good_ones_loses_nothing_before_it() {
    let s = start();
    let mut c = Conn::open(s.local_addr());
    c.send("POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nokGET /2 HTTP/1.1\r\n\r\n");
    let first = c.response();
    assert_eq!((first.status, first.text().as_str()), (200, "ok"));
    let second = c.response();
    assert_eq!(second.status, 400);
    assert!(c.closed());
}
