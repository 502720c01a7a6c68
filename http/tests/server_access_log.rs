//! The access log writes one templated line per request.

mod server_support;

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use server_support::once;
use thicket_http::server::AccessLog;
use thicket_http::{Body, Request, Response, Server};

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn one_line_per_request_from_the_template() {
    let lines = Lines::default();
    let log = AccessLog::to_writer(lines.clone())
        .template("{client} \"{request}\" {status} {bytes} {user_agent}")
        .unwrap()
        .trust_forwarded(true);
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .access_log(log)
        .start(|req: Request| {
            let mut r = Response::new(Body::from("twelve bytes"));
            if req.uri().path() == "/missing" {
                *r.status_mut() = http::StatusCode::NOT_FOUND;
            }
            r
        })
        .unwrap();
    let addr = server.local_addr();
    once(
        addr,
        "GET /a?b=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: t/1\r\nConnection: close\r\n\r\n",
    );
    once(
        addr,
        "GET /missing HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9, 10.1.1.1\r\nConnection: close\r\n\r\n",
    );
    server.stop();
    server.wait().unwrap();
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(
        got,
        [
            "127.0.0.1 \"GET /a?b=1 HTTP/1.1\" 200 12 t/1",
            "203.0.113.9 \"GET /missing HTTP/1.1\" 404 12 -",
        ]
    );
}
