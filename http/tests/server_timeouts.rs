//! Deadlines: a slow head (slowloris), an idle keep-alive connection, a
//! body that stops arriving.

mod server_support;

use std::io::Read;
use std::time::Duration;

use server_support::Conn;
use thicket_http::{Body, Request, Response, Server};

fn hello(_req: Request) -> Response {
    Response::new(Body::from("hi"))
}

#[test]
fn slow_head_gets_408_and_is_closed() {
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .header_timeout(Duration::from_millis(200))
        .start(hello)
        .unwrap();
    let mut c = Conn::open(server.local_addr());
    // Half a head, then nothing: the server must not wait for ever.
    c.send("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    let r = c.response();
    assert_eq!(r.status, 408);
    assert!(r.text().contains("took too long"));
    assert!(c.closed());
}

#[test]
fn silent_connection_is_closed_without_an_answer() {
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .header_timeout(Duration::from_millis(100))
        .start(hello)
        .unwrap();
    let mut c = Conn::open(server.local_addr());
    let mut buf = Vec::new();
    // Nothing was asked, so nothing is answered: just EOF.
    c.r.read_to_end(&mut buf).unwrap();
    assert!(buf.is_empty(), "{:?}", String::from_utf8_lossy(&buf));
}

#[test]
fn idle_keepalive_connection_is_closed_after_its_timeout() {
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .keep_alive(Some(Duration::from_millis(100)))
        .start(hello)
        .unwrap();
    let mut c = Conn::open(server.local_addr());
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(c.response().text(), "hi");
    assert!(c.closed());
}

#[test]
fn keepalive_off_closes_after_one_response() {
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .keep_alive(None)
        .start(hello)
        .unwrap();
    let mut c = Conn::open(server.local_addr());
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let r = c.response();
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.closed());
}

#[test]
fn body_that_stops_arriving_gets_408() {
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .body_timeout(Duration::from_millis(150))
        .start(|mut req: Request| {
            let got = req.body_mut().read_to_bytes(1000);
            let err = got.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
            Response::new(Body::from("unreachable in the answer"))
        })
        .unwrap();
    let mut c = Conn::open(server.local_addr());
    c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    let r = c.response();
    assert_eq!(r.status, 408);
    assert!(r.text().contains("no body data"), "{}", r.text());
}
