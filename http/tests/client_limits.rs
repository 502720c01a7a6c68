//! Limits on what the client accepts: the response head's size and field
//! count, and the body read whole by bytes/text/json.

mod client_support;

use std::io::Read;

use client_support::{answer_all, TestServer};
use thicket_http::{Client, ErrorKind};

#[test]
fn a_head_over_the_limit_is_refused_naming_it() {
    static RESP: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let resp = RESP.get_or_init(|| {
        let mut r = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
        r.resize(r.len() + 4000, b'a');
        r.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
        r
    });
    let server = TestServer::start(move |c| {
        while c.read_request().is_some() {
            c.write(resp);
        }
    });
    let client = Client::builder()
        .max_response_head(1024, 100)
        .build()
        .unwrap();
    let e = client.get(server.url("/")).send().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooLarge);
    assert!(e.to_string().contains("1024 bytes"), "{e}");
    assert!(e.to_string().contains(&server.addr.to_string()), "{e}");
    // The default limit (64 KiB) takes it.
    assert_eq!(
        Client::new().get(server.url("/")).send().unwrap().status(),
        200
    );
}

#[test]
fn too_many_fields_are_refused() {
    let server = TestServer::start(answer_all(
        b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nContent-Length: 0\r\n\r\n",
    ));
    let client = Client::builder()
        .max_response_head(4096, 3)
        .build()
        .unwrap();
    let e = client.get(server.url("/")).send().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooLarge);
    assert!(e.to_string().contains("more than 3 header fields"), "{e}");
}

#[test]
fn whole_body_reads_stop_at_the_limit() {
    let server = TestServer::start(|c| {
        while let Some(req) = c.read_request() {
            let resp: &[u8] = if req.target == "/chunked" {
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n[1,2,]\r\n6\r\n[3,4,]\r\n0\r\n\r\n"
            } else {
                b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n\"0123456789\""
            };
            c.write(resp);
        }
    });
    let client = Client::builder().max_body_size(10).build().unwrap();
    let e = client
        .get(server.url("/len"))
        .send()
        .unwrap()
        .text()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooLarge);
    assert!(e.to_string().contains("10-byte limit"), "{e}");
    assert!(e.to_string().contains("Content-Length: 12"), "{e}");
    let e = client
        .get(server.url("/chunked"))
        .send()
        .unwrap()
        .json::<serde_json::Value>()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooLarge);
    // Per response, the limit can be raised; streaming has none.
    let mut resp = client.get(server.url("/len")).send().unwrap();
    resp.set_body_limit(100);
    assert_eq!(resp.json::<String>().unwrap(), "0123456789");
    let mut resp = client.get(server.url("/len")).send().unwrap();
    let mut all = Vec::new();
    resp.read_to_end(&mut all).unwrap();
    assert_eq!(all.len(), 12);
}
