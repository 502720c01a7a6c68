//! Informational responses: 100 Continue and 103 Early Hints are skipped,
//! 101 Switching Protocols is final; `Expect: 100-continue` when enabled.

mod client_support;

use std::sync::mpsc;
use std::time::Duration;

use client_support::TestServer;
use thicket_http::{Body, Client};

#[test]
fn interim_responses_are_skipped() {
    let server = TestServer::start(|c| {
        while c.read_request().is_some() {
            c.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n");
            c.write(b"HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone");
        }
    });
    let client = Client::new();
    for _ in 0..2 {
        let resp = client.post(server.url("/")).body("x").send().unwrap();
        assert_eq!(resp.status(), 201);
        assert!(resp.headers().get("link").is_none());
        assert_eq!(resp.text().unwrap(), "done");
    }
    assert_eq!(server.accepted(), 1);
}

#[test]
fn switching_protocols_is_final_and_not_pooled() {
    let server = TestServer::start(|c| {
        if c.read_request().is_some() {
            c.write(b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\nproto");
        }
    });
    let client = Client::new();
    let resp = client
        .get(server.url("/"))
        .header("upgrade", "echo")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 101);
    assert_eq!(resp.headers()["upgrade"], "echo");
    assert_eq!(resp.bytes().unwrap(), "");
    let _ = client.get(server.url("/")).send();
    assert_eq!(server.accepted(), 2);
}

#[test]
fn expect_continue_waits_for_the_go_ahead() {
    let server = TestServer::start(|c| {
        let Some(head) = c.read_head_only() else {
            return;
        };
        assert!(head.contains("expect: 100-continue"), "{head}");
        c.write(b"HTTP/1.1 100 Continue\r\n\r\n");
        let body = c.read_rest_exact(11);
        let resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{}",
            body.len(),
            String::from_utf8_lossy(&body)
        );
        c.write(resp.as_bytes());
    });
    let client = Client::builder().expect_continue(10).build().unwrap();
    let resp = client
        .put(server.url("/"))
        .body("hello world")
        .send()
        .unwrap();
    assert_eq!(resp.text().unwrap(), "hello world");
}

#[test]
fn a_refused_upload_is_not_sent() {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let server = TestServer::start(move |c| {
        let Some(_head) = c.read_head_only() else {
            return;
        };
        c.write(b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n");
        // Everything else the client sends before it hangs up.
        let rest = c.read_rest();
        let _ = tx.lock().unwrap().send(rest);
    });
    let client = Client::builder().expect_continue(0).build().unwrap();
    let resp = client
        .post(server.url("/"))
        .body(Body::from(vec![b'x'; 100_000]))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 413);
    drop(resp);
    drop(client);
    let rest = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(rest.is_empty(), "{} body bytes were sent", rest.len());
}

#[test]
fn small_bodies_do_not_expect() {
    let server = TestServer::start(client_support::answer_all(
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    ));
    let client = Client::builder().expect_continue(1024).build().unwrap();
    client.post(server.url("/")).body("small").send().unwrap();
    assert_eq!(server.requests()[0].header("expect"), None);
}
