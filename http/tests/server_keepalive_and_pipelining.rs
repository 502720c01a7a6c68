//! Keep-alive, pipelining and `Connection` handling.

mod server_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use server_support::Conn;
use thicket_http::{Body, Request, Response, Server};

fn echo_path(req: Request) -> Response {
    let peer = thicket_http::remote_addr(&req).unwrap();
    let mut r = Response::new(Body::from(format!("{} {}", req.uri().path(), peer.port())));
    r.headers_mut()
        .insert("x-method", req.method().as_str().parse().unwrap());
    r
}

#[test]
fn requests_on_one_connection_reuse_it() {
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .start(echo_path)
        .unwrap();
    let mut c = Conn::open(server.local_addr());
    let mut ports = Vec::new();
    for i in 0..3 {
        c.send(format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n"));
        let r = c.response();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("connection"), None);
        let text = r.text();
        let (path, port) = text.split_once(' ').unwrap();
        assert_eq!(path, format!("/{i}"));
        ports.push(port.to_owned());
    }
    assert!(ports.windows(2).all(|w| w[0] == w[1]), "{ports:?}");
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .start(echo_path)
        .unwrap();
    let mut c = Conn::open(server.local_addr());
    // 40 requests in one write: more than the per-turn budget, so the
    // connection yields between batches and still answers all in order.
    let mut all = String::new();
    for i in 0..40 {
        let method = if i % 3 == 0 { "HEAD" } else { "GET" };
        all.push_str(&format!("{method} /p{i} HTTP/1.1\r\nHost: x\r\n\r\n"));
    }
    c.send(all);
    for i in 0..40 {
        let head = i % 3 == 0;
        let r = c.response_to(head);
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("x-method"),
            Some(if head { "HEAD" } else { "GET" })
        );
        if head {
            assert!(r.body.is_empty());
            assert!(r.header("content-length").is_some());
        } else {
            assert!(r.text().starts_with(&format!("/p{i} ")), "{}", r.text());
        }
    }
}

#[test]
fn keepalive_after_chunked_body() {
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .start(|mut req: Request| {
            let body = req.body_mut().read_to_bytes(1 << 20).unwrap();
            Response::new(Body::from(body))
        })
        .unwrap();
    let mut c = Conn::open(server.local_addr());
    c.send("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    assert_eq!(c.response().text(), "abcde");
    c.send("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nxy");
    assert_eq!(c.response().text(), "xy");
}

#[test]
fn connection_close_is_honoured() {
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .start(echo_path)
        .unwrap();
    let mut c = Conn::open(server.local_addr());
    c.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let r = c.response();
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.closed());
}

#[test]
fn http10_closes_unless_asked_to_keep_alive() {
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .start(echo_path)
        .unwrap();
    let mut c = Conn::open(server.local_addr());
    c.send("GET / HTTP/1.0\r\n\r\n");
    let r = c.response();
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.closed());

    let mut c = Conn::open(server.local_addr());
    c.send("GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let r = c.response();
    assert_eq!(r.header("connection"), Some("keep-alive"));
    c.send("GET /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert!(c.response().text().starts_with("/2 "));
}

#[test]
fn unknown_length_body_is_chunked_to_11_and_closes_for_10() {
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .start(|_req: Request| Response::new(Body::from_reader(&b"streamed"[..], None)))
        .unwrap();
    let mut c = Conn::open(server.local_addr());
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let r = c.response();
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.text(), "streamed");
    // Still open: a second request works.
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(c.response().text(), "streamed");

    let mut c = Conn::open(server.local_addr());
    c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let r = c.response();
    assert_eq!(r.header("transfer-encoding"), None);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.text(), "streamed");
}

#[test]
fn many_connections_on_two_hubs() {
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .hubs(2)
        .start(move |req: Request| {
            s.fetch_add(1, Ordering::Relaxed);
            echo_path(req)
        })
        .unwrap();
    let addr = server.local_addr();
    let clients: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..25 {
                    let mut c = Conn::open(addr);
                    c.send(format!("GET /{t}/{i} HTTP/1.1\r\nHost: x\r\n\r\n"));
                    assert!(c.response().text().starts_with(&format!("/{t}/{i} ")));
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    assert_eq!(seen.load(Ordering::Relaxed), 200);
    server.stop();
    server.wait().unwrap();
}
