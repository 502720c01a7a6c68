//! A server refuses bad WebSocket handshakes with the status that says
//! why, serves other routes of the same router normally, and accepts a
//! good handshake byte for byte as RFC 6455 §1.3 shows it.

mod ws_support;

use std::io::{Read, Write};
use std::time::Duration;

use thicket_http::ws::{self, Message};
use thicket_http::{Body, Request, Response, Router, Server};
use ws_support::RawClient;

fn server() -> thicket_http::RunningServer {
    let config = ws::Config::new()
        .allow_origin("https://trusted.example")
        .compression(false);
    let router = Router::new()
        .get("/", |_req: Request| Response::new(Body::from("a page")))
        .get("/ws", move |req: Request| {
            ws::upgrade(&req, &config, ws_support::echo)
        });
    Server::bind("127.0.0.1:0").unwrap().start(router).unwrap()
}

/// Sends `request` and returns the status code and the whole answer.
fn status_of(addr: std::net::SocketAddr, request: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "no answer to {request:?}");
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got).into_owned();
    let status = text[9..12].parse().unwrap();
    (status, text)
}

#[test]
fn bad_handshakes_get_the_right_status() {
    let server = server();
    let addr = server.local_addr();
    let base = "Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
    let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let cases = [
        // A plain GET of the socket's URL.
        (
            "GET /ws HTTP/1.1\r\nHost: h\r\n\r\n".to_string(),
            426,
            "upgrade: websocket",
        ),
        (
            format!("GET /ws HTTP/1.1\r\n{base}Sec-WebSocket-Version: 8\r\n{key}\r\n"),
            426,
            "sec-websocket-version: 13",
        ),
        (
            format!("GET /ws HTTP/1.1\r\n{base}Sec-WebSocket-Version: 13\r\n\r\n"),
            400,
            "sec-websocket-key",
        ),
        (
            format!(
                "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\
                 Sec-WebSocket-Version: 13\r\n{key}\r\n"
            ),
            400,
            "connection: upgrade",
        ),
        (
            format!(
                "GET /ws HTTP/1.1\r\n{base}Sec-WebSocket-Version: 13\r\n{key}\
                 Origin: https://evil.example\r\n\r\n"
            ),
            403,
            "evil.example",
        ),
    ];
    for (request, status, says) in cases {
        let (got, text) = status_of(addr, &request);
        assert_eq!(got, status, "{request:?} got {text}");
        assert!(
            text.to_ascii_lowercase().contains(says),
            "{request:?}: {text:?} should mention {says:?}"
        );
    }
    // The page next to the socket is served as usual.
    let (got, text) = status_of(addr, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(got, 200, "{text}");
}

#[test]
fn a_good_handshake_is_answered_as_the_rfc_shows() {
    let server = server();
    let (mut c, head) = RawClient::handshake(
        server.local_addr(),
        "Origin: https://trusted.example\r\nSec-WebSocket-Protocol: chat\r\n",
    );
    let lower = head.to_ascii_lowercase();
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(lower.contains("upgrade: websocket"), "{head}");
    assert!(lower.contains("connection: upgrade"), "{head}");
    assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
    // No protocol was configured, so none is chosen.
    assert!(!lower.contains("sec-websocket-protocol"), "{head}");
    assert!(!lower.contains("sec-websocket-extensions"), "{head}");
    c.send_frame(true, 1, b"hi");
    assert_eq!(c.read_frame(), Some((true, 1, b"hi".to_vec())));
}

#[test]
fn a_same_origin_browser_is_accepted_and_others_need_listing() {
    let config = ws::Config::new();
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .start(move |req: Request| ws::upgrade(&req, &config, ws_support::echo))
        .unwrap();
    let addr = server.local_addr();
    let url = format!("ws://{addr}/");
    let mut s = ws::Connector::new(&url)
        .header("origin", &format!("http://{addr}"))
        .connect()
        .unwrap();
    s.send(Message::text("same origin")).unwrap();
    assert_eq!(s.recv().unwrap(), Message::text("same origin"));
    let e = ws::Connector::new(&url)
        .header("origin", "http://elsewhere.example")
        .connect()
        .unwrap_err();
    assert_eq!(e.kind(), thicket_http::ErrorKind::Status);
    assert!(e.to_string().contains("403"), "{e}");
}
