//! JSON request bodies and responses (feature `json`, on by default).

mod client_support;

use client_support::TestServer;
use serde_json::{json, Value};
use thicket_http::{Client, ErrorKind};

#[test]
fn json_goes_out_and_comes_back() {
    let server = TestServer::start(|c| {
        while let Some(req) = c.read_request() {
            let got: Value = serde_json::from_slice(&req.body).unwrap();
            let reply = json!({"received": got, "type": req.header("content-type")}).to_string();
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{reply}",
                reply.len()
            );
            c.write(resp.as_bytes());
        }
    });
    let client = Client::new();
    let sent = json!({"name": "thicket", "tags": ["green", "http"], "n": 3});
    let reply: Value = client
        .post(server.url("/echo"))
        .json(&sent)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(reply["received"], sent);
    assert_eq!(reply["type"], "application/json");
    let reply: Value = client
        .post(server.url("/echo"))
        .header("content-type", "application/vnd.api+json")
        .json(&[1, 2])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(reply["type"], "application/vnd.api+json");
}

#[test]
fn the_wrong_shape_is_a_decode_error() {
    let server = TestServer::start(client_support::answer_all(
        b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
    ));
    let e = Client::new()
        .get(server.url("/"))
        .send()
        .unwrap()
        .json::<Vec<u8>>()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode);
    assert!(e.to_string().contains("JSON"), "{e}");
}
