//! Redirects: each status's rule for method and body, relative Location,
//! credentials dropped across origins, the limit, and 0 = off.

mod client_support;

use std::io::Cursor;

use client_support::{RawRequest, ServerConn, TestServer};
use thicket_http::{Body, Client, ErrorKind};

/// Redirects `/r/<status>/<rest>` to `/<rest>` with that status; answers
/// anything else with 200 and the method in the body.
fn redirector(c: &mut ServerConn) {
    while let Some(req) = c.read_request() {
        let resp = match req.target.strip_prefix("/r/") {
            Some(rest) => {
                let (status, to) = rest.split_once('/').unwrap();
                format!("HTTP/1.1 {status} Moved\r\nLocation: /{to}\r\nContent-Length: 0\r\n\r\n")
            }
            None => format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{}",
                req.method.len(),
                req.method
            ),
        };
        c.write(resp.as_bytes());
    }
}

fn last(server: &TestServer) -> RawRequest {
    server.requests().pop().unwrap()
}

#[test]
fn post_becomes_get_without_body_on_301_302_303() {
    let server = TestServer::start(redirector);
    let client = Client::new();
    for status in [301, 302, 303] {
        let resp = client
            .post(server.url(&format!("/r/{status}/done")))
            .header("content-type", "text/plain")
            .body("payload")
            .send()
            .unwrap();
        assert_eq!(resp.url().path(), "/done");
        assert_eq!(resp.text().unwrap(), "GET", "{status}");
        let req = last(&server);
        assert_eq!(req.method, "GET");
        assert!(req.body.is_empty());
        assert_eq!(req.header("content-length"), None, "{status}");
        assert_eq!(req.header("content-type"), None, "{status}");
    }
    assert_eq!(server.accepted(), 1, "the redirects reused the connection");
}

#[test]
fn see_other_turns_any_method_but_head_into_get() {
    let server = TestServer::start(redirector);
    let client = Client::new();
    let resp = client.put(server.url("/r/303/x")).body("p").send().unwrap();
    assert_eq!(resp.text().unwrap(), "GET");
    let resp = client.delete(server.url("/r/303/x")).send().unwrap();
    assert_eq!(resp.text().unwrap(), "GET");
    let resp = client.head(server.url("/r/303/x")).send().unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(last(&server).method, "HEAD");
}

#[test]
fn put_keeps_its_method_and_body_on_301_and_302() {
    let server = TestServer::start(redirector);
    let client = Client::new();
    for status in [301, 302] {
        let resp = client
            .put(server.url(&format!("/r/{status}/x")))
            .body("data")
            .send()
            .unwrap();
        assert_eq!(resp.text().unwrap(), "PUT");
        assert_eq!(last(&server).body, b"data");
    }
}

#[test]
fn temporary_and_permanent_redirects_resend_method_and_body() {
    let server = TestServer::start(redirector);
    let client = Client::new();
    for status in [307, 308] {
        let resp = client
            .post(server.url(&format!("/r/{status}/x")))
            .header("content-type", "text/plain")
            .body("the body")
            .send()
            .unwrap();
        assert_eq!(resp.text().unwrap(), "POST");
        let req = last(&server);
        assert_eq!(req.body, b"the body");
        assert_eq!(req.header("content-type"), Some("text/plain"));
    }
}

#[test]
fn a_streamed_body_is_not_resent_and_the_redirect_is_returned() {
    let server = TestServer::start(redirector);
    let body = Body::from_reader(Cursor::new(b"once".to_vec()), None);
    let resp = Client::new()
        .post(server.url("/r/307/x"))
        .body(body)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 307);
    assert_eq!(resp.headers()["location"], "/x");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn relative_locations_resolve_against_the_request_url() {
    let server = TestServer::start(|c| {
        while let Some(req) = c.read_request() {
            let resp = match req.target.as_str() {
                "/a/b/c?q=1" => {
                    "HTTP/1.1 302 Found\r\nLocation: ../d?e=f#frag\r\nContent-Length: 0\r\n\r\n"
                        .to_string()
                }
                "/a/d?e=f" => {
                    "HTTP/1.1 302 Found\r\nLocation: ?g=h\r\nContent-Length: 0\r\n\r\n".to_string()
                }
                "/a/d?g=h" => {
                    "HTTP/1.1 302 Found\r\nLocation: //HOST/final\r\nContent-Length: 0\r\n\r\n"
                        .to_string()
                }
                other => format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{other}",
                    other.len()
                ),
            };
            let host = req.header("host").unwrap().to_string();
            c.write(resp.replace("HOST", &host).as_bytes());
        }
    });
    let resp = Client::new().get(server.url("/a/b/c?q=1")).send().unwrap();
    assert_eq!(resp.url().to_string(), server.url("/final"));
    assert_eq!(resp.text().unwrap(), "/final");
    let targets: Vec<_> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(targets, ["/a/b/c?q=1", "/a/d?e=f", "/a/d?g=h", "/final"]);
}

#[test]
fn credentials_are_dropped_when_the_host_changes() {
    let other = TestServer::start(redirector);
    let to = other.url("/landing");
    let first = TestServer::start(move |c| {
        while let Some(req) = c.read_request() {
            let resp = if req.target == "/same" {
                "HTTP/1.1 302 Found\r\nLocation: /landing\r\nContent-Length: 0\r\n\r\n".to_string()
            } else if req.target == "/away" {
                format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n")
            } else {
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_string()
            };
            c.write(resp.as_bytes());
        }
    });
    let client = Client::new();
    let send = |path: &str| {
        client
            .get(first.url(path))
            .bearer_auth("secret")
            .header("cookie", "session=1")
            .header("x-other", "kept")
            .send()
            .unwrap()
    };
    send("/same");
    let same = last(&first);
    assert_eq!(same.target, "/landing");
    assert_eq!(same.header("authorization"), Some("Bearer secret"));
    assert_eq!(same.header("cookie"), Some("session=1"));

    let resp = send("/away");
    assert_eq!(resp.url().to_string(), other.url("/landing"));
    let away = last(&other);
    assert_eq!(away.header("authorization"), None);
    assert_eq!(away.header("cookie"), None);
    assert_eq!(away.header("x-other"), Some("kept"));
    assert_eq!(away.header("host"), Some(other.addr.to_string().as_str()));
}

#[test]
fn the_limit_is_enforced_and_named() {
    let server = TestServer::start(|c| {
        while c.read_request().is_some() {
            c.write(b"HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let client = Client::builder().max_redirects(3).build().unwrap();
    let e = client.get(server.url("/start")).send().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooLarge);
    let msg = e.to_string();
    assert!(msg.contains("too many redirects"), "{msg}");
    assert!(msg.contains("more than 3"), "{msg}");
    assert!(msg.contains("/start"), "{msg}");
    assert_eq!(
        server.requests().len(),
        4,
        "the first request and 3 redirects"
    );
}

#[test]
fn zero_turns_redirects_off() {
    let server = TestServer::start(redirector);
    let client = Client::builder().max_redirects(0).build().unwrap();
    let resp = client.get(server.url("/r/302/x")).send().unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], "/x");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_redirect_without_location_is_the_response() {
    let server = TestServer::start(|c| {
        while c.read_request().is_some() {
            c.write(b"HTTP/1.1 301 Moved\r\nContent-Length: 4\r\n\r\ngone");
        }
    });
    let resp = Client::new().get(server.url("/")).send().unwrap();
    assert_eq!(resp.status(), 301);
    assert_eq!(resp.text().unwrap(), "gone");
}

#[test]
fn a_location_with_another_scheme_is_an_error_naming_it() {
    let server = TestServer::start(|c| {
        while c.read_request().is_some() {
            c.write(
                b"HTTP/1.1 302 Found\r\nLocation: ftp://files.test/x\r\nContent-Length: 0\r\n\r\n",
            );
        }
    });
    let e = Client::new().get(server.url("/")).send().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidRequest);
    assert!(e.to_string().contains("ftp://files.test/x"), "{e}");
}
