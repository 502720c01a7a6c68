//! Responses without a body (to HEAD, 204, 304) end at their head whatever
//! Content-Length says, and leave the connection ready for the next one.

mod client_support;

use client_support::TestServer;
use thicket_http::Client;

#[test]
fn bodiless_responses_free_the_connection_at_once() {
    let server = TestServer::start(|c| {
        while let Some(req) = c.read_request() {
            let resp: &[u8] = match (req.method.as_str(), req.target.as_str()) {
                ("HEAD", _) => {
                    b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: text/html\r\n\r\n"
                }
                (_, "/204") => b"HTTP/1.1 204 No Content\r\n\r\n",
                (_, "/304") => b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n",
                _ => b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody",
            };
            c.write(resp);
        }
    });
    let client = Client::new();
    let head = client.head(server.url("/")).send().unwrap();
    assert_eq!(head.headers()["content-length"], "1000");
    // Not even read: the body is known to be empty, so the connection is
    // already back in the pool.
    drop(head);
    let no_content = client.delete(server.url("/204")).send().unwrap();
    assert_eq!(no_content.status(), 204);
    drop(no_content);
    let not_modified = client
        .get(server.url("/304"))
        .header("if-none-match", "\"v1\"")
        .send()
        .unwrap();
    assert_eq!(not_modified.status(), 304);
    assert_eq!(not_modified.bytes().unwrap(), "");
    let get = client.get(server.url("/")).send().unwrap();
    assert_eq!(get.text().unwrap(), "body");
    assert_eq!(server.accepted(), 1);
}

#[test]
fn a_fully_arrived_body_dropped_unread_still_frees_the_connection() {
    let server = TestServer::start(client_support::answer_all(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    ));
    let client = Client::new();
    for _ in 0..3 {
        // The 5 bytes arrive with the head; dropping decodes them without
        // waiting.
        let resp = client.get(server.url("/")).send().unwrap();
        assert_eq!(resp.status(), 200);
    }
    let resp = client.get(server.url("/")).send().unwrap();
    assert_eq!(resp.text().unwrap(), "hello");
    assert!(server.accepted() <= 2, "accepted {}", server.accepted());
}
