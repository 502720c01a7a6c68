//! Close-delimited bodies (no Content-Length, no chunked) end at EOF and
//! never reuse their connection; a length or chunked body cut short is an
//! error, never a short success.

mod client_support;

use std::io::Read;

use client_support::TestServer;
use thicket_http::{Client, ErrorKind};

#[test]
fn a_close_delimited_body_ends_at_eof_and_is_not_reused() {
    let server = TestServer::start(|c| {
        if c.read_request().is_some() {
            c.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello ");
            c.write(b"world");
            c.close();
        }
    });
    let client = Client::new();
    for _ in 0..2 {
        let resp = client.get(server.url("/")).send().unwrap();
        assert_eq!(resp.content_length(), None);
        assert_eq!(resp.text().unwrap(), "hello world");
    }
    assert_eq!(server.accepted(), 2);
}

#[test]
fn a_truncated_length_body_is_an_error_naming_what_arrived() {
    let server = TestServer::start(|c| {
        if c.read_request().is_some() {
            c.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
            c.close();
        }
    });
    let e = Client::new()
        .get(server.url("/x"))
        .send()
        .unwrap()
        .text()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Closed);
    assert!(e.to_string().contains("3 of 10 bytes"), "{e}");
    assert!(e.to_string().contains("/x"), "{e}");
}

#[test]
fn a_truncated_chunked_body_is_an_error_and_stays_one() {
    let server = TestServer::start(|c| {
        if c.read_request().is_some() {
            c.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
            c.close();
        }
    });
    let mut resp = Client::new().get(server.url("/")).send().unwrap();
    let mut body = Vec::new();
    let e = resp.read_to_end(&mut body).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
    assert_eq!(body, b"hel");
    // Reading again does not pretend the body ended cleanly.
    assert!(resp.read(&mut [0u8; 16]).is_err());
}
