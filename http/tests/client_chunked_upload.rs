//! Request bodies of unknown length go out chunked, byte for byte as RFC
//! 9112 7.1 frames them; known lengths go out with Content-Length.

mod client_support;

use std::io::{self, Cursor};
use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use client_support::{answer_all, find, pattern, TestServer};
use thicket_http::{Body, Client, ErrorKind};

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

fn raw_body(raw: &[u8]) -> &[u8] {
    &raw[find(raw, b"\r\n\r\n").unwrap() + 4..]
}

#[test]
fn a_reader_without_length_is_sent_chunked() {
    let server = TestServer::start(answer_all(OK));
    let client = Client::new();
    let body = Body::from_reader(Cursor::new(b"hello world".to_vec()), None);
    let resp = client.post(server.url("/up")).body(body).send().unwrap();
    assert_eq!(resp.status(), 200);
    let req = &server.requests()[0];
    assert_eq!(req.header("transfer-encoding"), Some("chunked"));
    assert_eq!(req.header("content-length"), None);
    assert_eq!(raw_body(&req.raw), b"b\r\nhello world\r\n0\r\n\r\n");
}

#[test]
fn chunks_are_sent_as_they_come_and_empty_ones_skipped() {
    let server = TestServer::start(answer_all(OK));
    let client = Client::new();
    let chunks = vec![
        Ok(Bytes::from_static(b"ab")),
        Ok(Bytes::new()),
        Ok(Bytes::from(vec![b'z'; 300])),
    ];
    client
        .put(server.url("/up"))
        .body(Body::from_chunks(chunks))
        .send()
        .unwrap();
    let req = &server.requests()[0];
    let mut want = b"2\r\nab\r\n12c\r\n".to_vec();
    want.extend_from_slice(&[b'z'; 300]);
    want.extend_from_slice(b"\r\n0\r\n\r\n");
    assert_eq!(raw_body(&req.raw), want);
}

#[test]
fn a_large_streamed_upload_arrives_intact() {
    let server = TestServer::start(answer_all(OK));
    let client = Client::new();
    let data = pattern(3 * 1024 * 1024 + 17, 1);
    let body = Body::from_reader(Cursor::new(data.clone()), None);
    client.post(server.url("/up")).body(body).send().unwrap();
    let req = &server.requests()[0];
    assert_eq!(req.body.len(), data.len());
    assert!(req.body == data, "the decoded upload differs");
}

#[test]
fn a_known_length_is_sent_as_content_length() {
    let server = TestServer::start(answer_all(OK));
    let client = Client::new();
    let data = pattern(100_000, 2);
    let body = Body::from_reader(Cursor::new(data.clone()), Some(data.len() as u64));
    client.post(server.url("/up")).body(body).send().unwrap();
    client.post(server.url("/b")).body("bytes").send().unwrap();
    let reqs = server.requests();
    assert_eq!(reqs[0].header("content-length"), Some("100000"));
    assert_eq!(reqs[0].header("transfer-encoding"), None);
    assert!(raw_body(&reqs[0].raw) == data);
    assert_eq!(reqs[1].header("content-length"), Some("5"));
    assert_eq!(raw_body(&reqs[1].raw), b"bytes");
    assert_eq!(server.accepted(), 1, "both went over one connection");
}

#[test]
fn a_reader_shorter_than_its_length_is_an_error() {
    let server = TestServer::start(answer_all(OK));
    let client = Client::new();
    let body = Body::from_reader(Cursor::new(b"12345".to_vec()), Some(10));
    let e = client
        .post(server.url("/up"))
        .body(body)
        .send()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    assert!(
        e.to_string().contains("ended after 5 of its 10 bytes"),
        "{e}"
    );
}

#[test]
fn a_failing_chunk_aborts_without_the_last_chunk() {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let server = TestServer::start(move |c| {
        // The client must not complete the message: reading it fails.
        let complete = c.read_request().is_some();
        let _ = tx.lock().unwrap().send(complete);
    });
    let client = Client::new();
    let chunks = vec![
        Ok(Bytes::from_static(b"partial")),
        Err(io::Error::other("disk on fire")),
    ];
    let e = client
        .post(server.url("/up"))
        .body(Body::from_chunks(chunks))
        .send()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    assert!(e.to_string().contains("disk on fire"), "{e}");
    let complete = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(!complete, "the server saw a complete request");
}
