//! Request bodies: lengths, chunks and trailers, `100 Continue`, and what
//! happens to a body the handler does not read.

mod server_support;

use std::io::{BufRead, Read};

use server_support::Conn;
use thicket_http::{Body, Request, Response, RunningServer, Server};

fn start() -> RunningServer {
    Server::bind("127.0.0.1:0")
        .unwrap()
        .start(|mut req: Request| match req.uri().path() {
            "/echo" => {
                let body = req.body_mut().read_to_bytes(1 << 20).unwrap();
                let trailer = req
                    .body()
                    .trailers()
                    .and_then(|t| t.get("x-checksum"))
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default();
                let mut r = Response::new(Body::from(body));
                r.headers_mut()
                    .insert("x-trailer", trailer.parse().unwrap());
                r
            }
            // Answers without looking at the body.
            _ => Response::new(Body::from("ignored")),
        })
        .unwrap()
}

#[test]
fn chunked_body_and_its_trailers_reach_the_handler() {
    let s = start();
    let mut c = Conn::open(s.local_addr());
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nwiki\r\n5\r\npedia\r\n0\r\nX-Checksum: 42\r\n\r\n");
    let r = c.response();
    assert_eq!(r.text(), "wikipedia");
    assert_eq!(r.header("x-trailer"), Some("42"));
}

#[test]
fn large_body_arrives_intact() {
    let s = start();
    let body: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut c = Conn::open(s.local_addr());
    c.send(format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    c.send(&body);
    assert_eq!(c.response().body, body);
}

#[test]
fn small_unread_body_is_drained_and_the_connection_kept() {
    let s = start();
    let mut c = Conn::open(s.local_addr());
    c.send("POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    let r = c.response();
    assert_eq!(r.text(), "ignored");
    assert_eq!(r.header("connection"), None);
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    assert_eq!(c.response().text(), "abc");
}

#[test]
fn large_unread_body_closes_the_connection() {
    let s = start();
    let mut c = Conn::open(s.local_addr());
    c.send("POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n");
    c.send(vec![b'x'; 200_000]);
    let r = c.response();
    assert_eq!(r.text(), "ignored");
    assert_eq!(r.header("connection"), Some("close"));
}

#[test]
fn continue_is_sent_when_the_handler_reads() {
    let s = start();
    let mut c = Conn::open(s.local_addr());
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    // The go-ahead comes before we send a byte of the body.
    let mut line = String::new();
    c.r.read_line(&mut line).unwrap();
    assert_eq!(line, "HTTP/1.1 100 Continue\r\n");
    c.r.read_line(&mut line).unwrap();
    c.send("data");
    let r = c.response();
    assert_eq!((r.status, r.text().as_str()), (200, "data"));
}

#[test]
fn no_continue_when_the_handler_answers_without_reading() {
    let s = start();
    let mut c = Conn::open(s.local_addr());
    c.send("POST /ignore HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    let r = c.response();
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "ignored");
    // The body never came and never will: the connection ends.
    assert_eq!(r.header("connection"), Some("close"));
    let mut rest = Vec::new();
    c.r.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
}
