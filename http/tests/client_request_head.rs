//! What the client puts in a request head: the request line, Host,
//! User-Agent and Accept by default, the caller's fields, and framing.

mod client_support;

use std::collections::HashMap;

use client_support::{answer_all, TestServer};
use thicket_http::http::{HeaderMap, HeaderValue};
use thicket_http::{Body, Client};

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

#[test]
fn a_plain_get_has_exactly_the_default_fields() {
    let server = TestServer::start(answer_all(OK));
    Client::new()
        .get(server.url("/p?x=1"))
        .query(&[("q", "a b"), ("é", "&")])
        .send()
        .unwrap();
    let want = format!(
        "GET /p?x=1&q=a%20b&%C3%A9=%26 HTTP/1.1\r\nhost: {}\r\nuser-agent: thicket/{}\r\naccept: */*\r\n\r\n",
        server.addr,
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(server.requests()[0].head_text(), want);
}

#[test]
fn callers_fields_replace_defaults_and_framing_is_the_clients() {
    let server = TestServer::start(answer_all(OK));
    let client = Client::builder().user_agent("scraper/2").build().unwrap();
    client
        .post(server.url("/"))
        .header("accept", "text/plain")
        .header("x-tag", "a")
        .header("x-tag", "b")
        .header("host", "example.test")
        .header("content-length", "999")
        .body("four")
        .send()
        .unwrap();
    let req = &server.requests()[0];
    let count = |n: &str| {
        req.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(n))
            .count()
    };
    assert_eq!(req.header("user-agent"), Some("scraper/2"));
    assert_eq!(req.header("accept"), Some("text/plain"));
    assert_eq!(count("accept"), 1);
    assert_eq!(count("x-tag"), 2);
    assert_eq!(req.header("host"), Some("example.test"));
    assert_eq!(req.header("content-length"), Some("4"));
    assert_eq!(count("content-length"), 1);
    assert_eq!(req.body, b"four");
}

#[test]
fn empty_bodies_say_content_length_zero_only_where_a_body_is_expected() {
    let server = TestServer::start(answer_all(OK));
    let client = Client::new();
    client.get(server.url("/")).send().unwrap();
    client.delete(server.url("/")).send().unwrap();
    client.post(server.url("/")).send().unwrap();
    client
        .put(server.url("/"))
        .body(Body::empty())
        .send()
        .unwrap();
    let reqs = server.requests();
    let lengths: Vec<_> = reqs
        .iter()
        .map(|r| (r.method.as_str(), r.header("content-length")))
        .collect();
    assert_eq!(
        lengths,
        [
            ("GET", None),
            ("DELETE", None),
            ("POST", Some("0")),
            ("PUT", Some("0"))
        ]
    );
}

#[test]
fn default_headers_and_forms() {
    let server = TestServer::start(answer_all(OK));
    let mut defaults = HeaderMap::new();
    defaults.insert("x-api-key", HeaderValue::from_static("k1"));
    let client = Client::builder().default_headers(defaults).build().unwrap();
    client
        .post(server.url("/form"))
        .form(&[("name", "Zoë Ng"), ("x", "1+1")])
        .send()
        .unwrap();
    let req = &server.requests()[0];
    assert_eq!(req.header("x-api-key"), Some("k1"));
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(req.body, b"name=Zo%C3%AB%20Ng&x=1%2B1");
}

#[test]
fn send_takes_an_http_request() {
    let server = TestServer::start(answer_all(OK));
    let req = thicket_http::http::Request::put(server.url("/notes/1"))
        .header("content-type", "text/plain")
        .body(Body::from("milk"))
        .unwrap();
    let resp = Client::new().send(req).unwrap();
    assert_eq!(resp.status(), 200);
    let got = &server.requests()[0];
    let fields: HashMap<_, _> = got.headers.iter().cloned().collect();
    assert_eq!(got.method, "PUT");
    assert_eq!(got.target, "/notes/1");
    assert_eq!(fields["content-type"], "text/plain");
    assert_eq!(got.body, b"milk");
}

#[test]
fn keep_alive_off_says_close() {
    let server = TestServer::start(answer_all(OK));
    let client = Client::builder().pool_max_idle_per_host(0).build().unwrap();
    client.get(server.url("/")).send().unwrap();
    client.get(server.url("/")).send().unwrap();
    assert_eq!(server.requests()[0].header("connection"), Some("close"));
    assert_eq!(server.accepted(), 2);
}
