//! Trailer fields of a chunked response are available once the body has
//! been read to its end, and the connection is reused after them.

mod client_support;

use std::io::Read;

use client_support::{answer_all, TestServer};
use thicket_http::{Client, ErrorKind};

#[test]
fn trailers_arrive_after_the_body() {
    let server = TestServer::start(answer_all(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum\r\n\r\n\
          4\r\nwiki\r\n5;ext=1\r\npedia\r\n0\r\nX-Checksum: abc123\r\nX-Rows: 2\r\n\r\n",
    ));
    let client = Client::new();
    let mut resp = client.get(server.url("/")).send().unwrap();
    assert!(resp.trailers().is_none(), "no trailers before the end");
    let mut body = String::new();
    resp.read_to_string(&mut body).unwrap();
    assert_eq!(body, "wikipedia");
    let trailers = resp.trailers().expect("trailers after the end");
    assert_eq!(trailers["x-checksum"], "abc123");
    assert_eq!(trailers["x-rows"], "2");
    assert!(resp.headers().get("x-checksum").is_none());
    drop(resp);
    let again = client.get(server.url("/")).send().unwrap();
    assert_eq!(again.text().unwrap(), "wikipedia");
    assert_eq!(server.accepted(), 1);
}

#[test]
fn a_framing_field_as_trailer_is_refused() {
    let server = TestServer::start(answer_all(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nContent-Length: 5\r\n\r\n",
    ));
    let e = Client::new()
        .get(server.url("/"))
        .send()
        .unwrap()
        .bytes()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse);
    assert!(e.to_string().contains("not allowed as a trailer"), "{e}");
}
