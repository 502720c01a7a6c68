//! A connection goes back to the pool only when its response body was read
//! to the end and the response allowed keep-alive.

mod client_support;

use std::io::Read;

use client_support::{answer_all, TestServer};
use thicket_http::Client;

#[test]
fn sequential_requests_share_one_connection() {
    let server = TestServer::start(answer_all(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    ));
    let client = Client::new();
    for _ in 0..5 {
        let resp = client.get(server.url("/")).send().unwrap();
        assert_eq!(resp.text().unwrap(), "hello");
    }
    assert_eq!(server.requests().len(), 5);
    assert_eq!(
        server.accepted(),
        1,
        "every request after the first reuses the connection"
    );
}

#[test]
fn chunked_bodies_read_to_the_end_free_the_connection() {
    let server = TestServer::start(answer_all(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    ));
    let client = Client::new();
    for _ in 0..3 {
        let mut resp = client.get(server.url("/")).send().unwrap();
        let mut body = String::new();
        resp.read_to_string(&mut body).unwrap();
        assert_eq!(body, "abcde");
    }
    assert_eq!(server.accepted(), 1);
}

#[test]
fn a_body_dropped_unread_closes_its_connection() {
    // Far more than one read: the body cannot have fully arrived when the
    // response is dropped.
    static BIG: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let big = BIG.get_or_init(|| {
        let mut r = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n".to_vec();
        r.resize(r.len() + 1_000_000, b'x');
        r
    });
    let server = TestServer::start(move |c| {
        while c.read_request().is_some() {
            c.write(big);
        }
    });
    let client = Client::new();
    let resp = client.get(server.url("/")).send().unwrap();
    assert_eq!(resp.status(), 200);
    drop(resp);
    let resp = client.get(server.url("/")).send().unwrap();
    assert_eq!(resp.bytes().unwrap().len(), 1_000_000);
    assert_eq!(
        server.accepted(),
        2,
        "the unread response's connection was not reused"
    );
    let _ = client.get(server.url("/")).send().unwrap().bytes().unwrap();
    assert_eq!(server.accepted(), 2, "the fully read one was");
}

#[test]
fn connection_close_and_http10_responses_are_not_reused() {
    for response in [
        &b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"[..],
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ] {
        let server = TestServer::start(move |c| {
            if c.read_request().is_some() {
                c.write(response);
            }
        });
        let client = Client::new();
        for _ in 0..2 {
            assert_eq!(
                client.get(server.url("/")).send().unwrap().text().unwrap(),
                "ok"
            );
        }
        assert_eq!(
            server.accepted(),
            2,
            "{}",
            String::from_utf8_lossy(response)
        );
    }
}

#[test]
fn http10_keep_alive_responses_are_reused() {
    let server = TestServer::start(answer_all(
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
    ));
    let client = Client::new();
    for _ in 0..3 {
        assert_eq!(
            client.get(server.url("/")).send().unwrap().text().unwrap(),
            "ok"
        );
    }
    assert_eq!(server.accepted(), 1);
}

#[test]
fn a_request_saying_close_does_not_pool_its_connection() {
    let server = TestServer::start(answer_all(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ));
    let client = Client::new();
    for _ in 0..2 {
        let resp = client
            .get(server.url("/"))
            .header("connection", "close")
            .send()
            .unwrap();
        assert_eq!(resp.text().unwrap(), "ok");
    }
    assert_eq!(server.accepted(), 2);
    assert_eq!(server.requests()[0].header("connection"), Some("close"));
}
