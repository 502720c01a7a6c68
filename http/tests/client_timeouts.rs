//! Connect, read and total timeouts all end in `ErrorKind::TimedOut` with a
//! message naming which one passed. Servers here never answer; the test's
//! only wait is the client's own deadline.

mod client_support;

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use client_support::TestServer;
use thicket_http::{Client, ErrorKind};

/// A server that reads the request and then says nothing until the client
/// hangs up; reports whether the client did hang up.
fn silent() -> (TestServer, mpsc::Receiver<bool>) {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let server = TestServer::start(move |c| {
        let _ = c.read_head_only();
        let closed = c.wait_for_close();
        let _ = tx.lock().unwrap().send(closed);
    });
    (server, rx)
}

#[test]
fn read_timeout_while_waiting_for_the_head() {
    let (server, closed) = silent();
    let client = Client::builder()
        .read_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let e = client.get(server.url("/slow")).send().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut);
    assert!(e.is_timeout());
    let msg = e.to_string();
    assert!(msg.contains("read timeout"), "{msg}");
    assert!(msg.contains("/slow"), "{msg}");
    assert!(
        closed.recv_timeout(Duration::from_secs(10)).unwrap(),
        "the timed-out connection was closed"
    );
}

#[test]
fn total_timeout_while_waiting_for_the_head() {
    let (server, _closed) = silent();
    let e = Client::new()
        .get(server.url("/"))
        .timeout(Duration::from_millis(150))
        .send()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut);
    assert!(e.to_string().contains("total timeout of 150ms"), "{e}");
}

#[test]
fn total_timeout_covers_the_body() {
    let server = TestServer::start(|c| {
        if c.read_request().is_some() {
            c.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome of it");
            c.wait_for_close();
        }
    });
    let client = Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let resp = client.get(server.url("/")).send().unwrap();
    let e = resp.text().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut);
    assert!(e.to_string().contains("total timeout"), "{e}");
    assert!(e.to_string().contains("body"), "{e}");
}

#[test]
fn read_timeout_applies_to_each_body_read() {
    let server = TestServer::start(|c| {
        if c.read_request().is_some() {
            c.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
            c.wait_for_close();
        }
    });
    let client = Client::builder()
        .read_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let e = client
        .get(server.url("/"))
        .send()
        .unwrap()
        .bytes()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut);
    assert!(e.to_string().contains("read timeout"), "{e}");
}

/// A listener whose accept queue (backlog 0) is full and never drained:
/// the kernel drops further SYNs, so connecting hangs.
fn full_listener() -> (socket2::Socket, SocketAddr, Vec<std::net::TcpStream>) {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    s.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    s.listen(0).unwrap();
    let addr = s.local_addr().unwrap().as_socket().unwrap();
    let mut held = Vec::new();
    for _ in 0..16 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(c) => held.push(c),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return (s, addr, held),
            Err(e) => panic!("filling the accept queue: {e}"),
        }
    }
    panic!("the accept queue of a backlog-0 listener never filled (16 connections)");
}

#[test]
fn connect_timeout() {
    let (_listener, addr, _held) = full_listener();
    let client = Client::builder()
        .connect_timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    let e = client.get(format!("http://{addr}/")).send().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut);
    let msg = e.to_string();
    assert!(msg.contains("connect timeout"), "{msg}");
    assert!(msg.contains(&addr.to_string()), "{msg}");
}

#[test]
fn total_timeout_bounds_connecting_too() {
    let (_listener, addr, _held) = full_listener();
    let e = Client::new()
        .get(format!("http://{addr}/"))
        .timeout(Duration::from_millis(150))
        .send()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut);
    assert!(e.to_string().contains("total timeout"), "{e}");
}
