//! A pooled connection the server closed while it was idle: noticed before
//! use when the close has arrived, otherwise met as a connection closed
//! before any response, and then retried once on a fresh connection when
//! the request is idempotent.

mod client_support;

use std::sync::mpsc;
use std::time::Duration;

use client_support::TestServer;
use thicket_http::{Client, ErrorKind};

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// The answer to `req`: without the body for HEAD.
fn ok_for(req: &client_support::RawRequest) -> &'static [u8] {
    if req.method == "HEAD" {
        &OK[..OK.len() - 2]
    } else {
        OK
    }
}

/// The first connection answers one request, then reads the next and
/// closes without answering (the race of a server's idle timeout with a
/// new request); later connections answer everything.
fn closes_on_second_request(c: &mut client_support::ServerConn) {
    if c.index == 0 {
        if let Some(req) = c.read_request() {
            c.write(ok_for(&req));
        }
        let _ = c.read_request();
        c.close();
    } else {
        while let Some(req) = c.read_request() {
            c.write(ok_for(&req));
        }
    }
}

#[test]
fn an_idempotent_request_is_retried_on_a_fresh_connection() {
    for method in ["GET", "PUT", "DELETE", "HEAD"] {
        let server = TestServer::start(closes_on_second_request);
        let client = Client::new();
        let m = method.parse().unwrap();
        let first = client.request(m, server.url("/")).send().unwrap();
        assert_eq!(
            first.bytes().unwrap().len(),
            if method == "HEAD" { 0 } else { 2 }
        );
        let m = method.parse().unwrap();
        let second = client.request(m, server.url("/")).body("x").send();
        let second = second.unwrap_or_else(|e| panic!("{method}: {e}"));
        assert_eq!(second.status(), 200);
        assert_eq!(server.accepted(), 2, "{method}");
        let reqs = server.requests();
        assert_eq!(reqs.len(), 3, "{method}: the second request arrived twice");
        assert_eq!(reqs[2].body, reqs[1].body, "{method}: the body was resent");
    }
}

#[test]
fn a_post_that_was_sent_is_not_retried() {
    let server = TestServer::start(closes_on_second_request);
    let client = Client::new();
    client
        .post(server.url("/"))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    let e = client
        .post(server.url("/"))
        .body("once")
        .send()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Closed);
    assert!(e.to_string().contains("closed before any response"), "{e}");
    assert_eq!(server.accepted(), 1);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn a_connection_closed_while_idle_is_not_used() {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let server = TestServer::start(move |c| {
        if c.index == 0 {
            if c.read_request().is_some() {
                c.write(OK);
            }
            c.close();
            let _ = tx.lock().unwrap().send(());
        } else {
            while c.read_request().is_some() {
                c.write(OK);
            }
        }
    });
    let client = Client::new();
    assert_eq!(
        client.get(server.url("/")).send().unwrap().text().unwrap(),
        "ok"
    );
    rx.recv_timeout(Duration::from_secs(10)).unwrap();
    // Not idempotent, so it would not be retried: it must go straight to a
    // new connection.
    let resp = client.post(server.url("/")).body("data").send().unwrap();
    assert_eq!(resp.text().unwrap(), "ok");
    assert_eq!(server.accepted(), 2);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn a_fresh_connection_is_not_retried() {
    let server = TestServer::start(|c| {
        let _ = c.read_request();
        c.close();
    });
    let e = Client::new().get(server.url("/")).send().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Closed);
    assert_eq!(server.accepted(), 1);
}
