//! Server bugs the conformance corpora exposed, each pinned by a test
//! named after it, with exact bytes over a real socket.

mod conformance_support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use conformance_support::echo::echo;
use conformance_support::wire::{connect, Reader};
use thicket_http::http::{Method, StatusCode};
use thicket_http::{Body, Request, Response, RunningServer, Server};

fn start(handler: impl thicket_http::Handler) -> RunningServer {
    Server::bind("127.0.0.1:0").unwrap().start(handler).unwrap()
}

fn open(server: &RunningServer) -> TcpStream {
    let s = connect(server.local_addr());
    // Long enough for a loaded machine; far shorter than the server's
    // 30-second header timeout, which is what a stuck response would wait
    // for.
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

fn get(_: usize) -> Method {
    Method::GET
}

/// A response to a pipelined request was held back (to be sent with the
/// next one) while the server waited for the rest of the next request's
/// head: a client that sends half a request and waits got nothing until
/// the header timeout (llhttp `connection.md:159`).
#[test]
fn pipelined_response_is_sent_while_next_head_is_incomplete() {
    let server = start(echo);
    let mut s = open(&server);
    s.write_all(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost:")
        .unwrap();
    let mut r = Reader::new(s);
    r.next(&get);
    assert_eq!(r.end, None, "no response to the first request");
    assert_eq!(r.responses[0].status, 200);
    r.stream.write_all(b" x\r\n\r\n").unwrap();
    r.next(&get);
    assert_eq!(r.responses.len(), 2, "{:?}", r.end);
}

/// Same, while the handler of the next request waited for its body
/// (llhttp `pipelining.md:7`).
#[test]
fn pipelined_response_is_sent_before_next_body_is_read() {
    let server = start(echo);
    let mut s = open(&server);
    s.write_all(
        b"POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\na\
          POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab",
    )
    .unwrap();
    let mut r = Reader::new(s);
    r.next(&get);
    assert_eq!(r.end, None, "no response to the first request");
    r.stream.write_all(b"cde").unwrap();
    r.next(&get);
    assert_eq!(r.responses.len(), 2, "{:?}", r.end);
    assert!(r.responses.iter().all(|x| x.status == 200));
}

/// The `100 Continue` of a pipelined request went out before the final
/// response of the request ahead of it, which was still held back: the
/// client saw an interim response for the wrong request.
#[test]
fn interim_100_continue_follows_earlier_pipelined_response() {
    let server = start(echo);
    let mut s = open(&server);
    s.write_all(
        b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n\
          POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
    )
    .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !seen
        .windows(25)
        .any(|w| w == b"HTTP/1.1 100 Continue\r\n\r\n")
    {
        let n = s.read(&mut buf).expect("the server answered");
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&seen);
    assert!(
        text.starts_with("HTTP/1.1 200 OK\r\n"),
        "the 100 Continue for the second request came before the first request's response: {text:?}"
    );
    s.write_all(b"abc").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    assert!(String::from_utf8_lossy(&rest).contains("\"method\":\"POST\""));
}

/// A 2xx response to CONNECT was sent with `Content-Length` and a body,
/// which RFC 9110 9.3.6 forbids: the client takes everything after the
/// head as tunnel data (gunicorn `valid/rfc9112_target_authority_connect_01`).
#[test]
fn connect_2xx_carries_no_content_length_or_body() {
    let server = start(|_req: Request| Response::new(Body::from("not tunnel data")));
    let mut s = open(&server);
    s.write_all(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
        .unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let text = String::from_utf8_lossy(&all).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 200 ok\r\n"), "{text:?}");
    assert!(!text.contains("content-length"), "{text:?}");
    assert!(!text.contains("transfer-encoding"), "{text:?}");
    assert!(text.ends_with("\r\n\r\n"), "bytes after the head: {text:?}");
}

/// A CONNECT that is refused stays an ordinary exchange: the error
/// response keeps its body and framing.
#[test]
fn connect_refused_keeps_its_body() {
    let server = start(|_req: Request| {
        let mut r = Response::new(Body::from("no tunnels here"));
        *r.status_mut() = StatusCode::FORBIDDEN;
        r
    });
    let mut s = open(&server);
    s.write_all(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
        .unwrap();
    let mut r = Reader::new(s);
    r.next(&|_| Method::CONNECT);
    assert_eq!(r.responses[0].status, 403);
    assert_eq!(r.responses[0].body, b"no tunnels here");
}

/// A request line with a space inside the target (`GET /foo bar/
/// HTTP/1.1`) was answered 505 HTTP Version Not Supported, because the
/// version check looked at the last word of the line: the line is
/// malformed, the version fine (llhttp `uri.md:248`).
#[test]
fn space_in_target_is_400_not_505() {
    let server = start(echo);
    for raw in [
        &b"GET /foo bar/ HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"GET /foo bar/ HTTP/2.0\r\nHost: x\r\n\r\n",
    ] {
        let mut s = open(&server);
        s.write_all(raw).unwrap();
        let mut r = Reader::new(s);
        r.next(&get);
        assert_eq!(
            r.responses[0].status,
            400,
            "{}",
            String::from_utf8_lossy(raw)
        );
    }
    // A well-formed line with a version thicket does not speak is still 505.
    let mut s = open(&server);
    s.write_all(b"GET /foo HTTP/2.0\r\n\r\n").unwrap();
    let mut r = Reader::new(s);
    r.next(&get);
    assert_eq!(r.responses[0].status, 505);
}

/// After a response that ends the connection (HTTP/1.0, `Connection:
/// close`), the server closed at once while the client was still sending
/// pipelined bytes: the kernel answered those with a reset, which can
/// destroy the tail of the response still in flight. RFC 9112 9.6 asks for
/// a staged close (gunicorn `valid/019` sent byte by byte).
#[test]
fn close_after_response_is_staged_while_client_still_sends() {
    const BIG: usize = 4 * 1024 * 1024;
    let server = start(|_req: Request| Response::new(Body::from(vec![b'x'; BIG])));
    for _ in 0..3 {
        let mut s = open(&server);
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        // Once the response is under way (the server is blocked writing
        // it), more bytes that the server will never read.
        let mut first = [0u8; 1];
        s.read_exact(&mut first).unwrap();
        s.write_all(b"GET /second HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut all = first.to_vec();
        let r = s.read_to_end(&mut all);
        assert!(
            r.is_ok(),
            "the connection was reset after {} of {} response bytes: {r:?}",
            all.len(),
            BIG
        );
        let head_end = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        assert_eq!(all.len() - head_end, BIG, "the response was cut short");
    }
}
