//! An upgrade handler takes the connection over after `101`.

mod server_support;

use std::io::{Read, Write};

use server_support::Conn;
use thicket_http::{Body, Request, Response, Server};

#[test]
fn upgraded_connection_echoes_including_bytes_sent_early() {
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .start(|req: Request| {
            assert_eq!(req.headers()["upgrade"], "echo");
            let mut r = Response::new(Body::upgrade(|mut conn| {
                let mut buf = [0u8; 64];
                loop {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if conn.write_all(&buf[..n].to_ascii_uppercase()).is_err() {
                                break;
                            }
                        }
                    }
                }
            }));
            *r.status_mut() = http::StatusCode::SWITCHING_PROTOCOLS;
            r.headers_mut().insert("upgrade", "echo".parse().unwrap());
            r.headers_mut()
                .insert("connection", "upgrade".parse().unwrap());
            r
        })
        .unwrap();
    let mut c = Conn::open(server.local_addr());
    // "early" arrives with the head, before the server has answered.
    c.send("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly");
    let r = c.response_to(true);
    assert_eq!(r.status, 101);
    assert_eq!(r.header("connection"), Some("upgrade"));
    assert_eq!(r.header("content-length"), None);
    let mut got = [0u8; 5];
    c.r.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"EARLY");
    c.send("later");
    c.r.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"LATER");
}
