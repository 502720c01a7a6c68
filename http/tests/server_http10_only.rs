//! HTTP/1.0-only mode: 1.0 responses, no chunked encoding.

mod server_support;

use server_support::Conn;
use thicket_http::{Body, Request, Response, Server};

#[test]
fn answers_in_http10_and_closes_streamed_bodies() {
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .http10_only(true)
        .start(|req: Request| {
            if req.uri().path() == "/stream" {
                Response::new(Body::from_reader(&b"no length"[..], None))
            } else {
                Response::new(Body::from("sized"))
            }
        })
        .unwrap();
    let mut c = Conn::open(server.local_addr());
    c.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    let r = c.response();
    assert_eq!(r.version, "HTTP/1.0");
    assert_eq!(r.header("transfer-encoding"), None);
    assert_eq!(r.text(), "no length");
    assert!(c.closed());

    // A 1.0 client asking for keep-alive gets it when the length is known.
    let mut c = Conn::open(server.local_addr());
    c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let r = c.response();
    assert_eq!(r.header("connection"), Some("keep-alive"));
    c.send("GET / HTTP/1.0\r\n\r\n");
    assert_eq!(c.response().text(), "sized");
    assert!(c.closed());
}
