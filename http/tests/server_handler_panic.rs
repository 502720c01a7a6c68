//! A panicking handler gives its client a bare 500; the server goes on.

mod server_support;

use server_support::once;
use thicket_http::{Body, Request, Response, Server};

#[test]
fn panic_is_a_500_without_details() {
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .start(|req: Request| {
            if req.uri().path() == "/boom" {
                panic!("secret database password in a panic message");
            }
            Response::new(Body::from("fine"))
        })
        .unwrap();
    let addr = server.local_addr();
    let r = once(addr, "GET /boom HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(r.status, 500);
    assert!(!r.text().contains("secret"), "{}", r.text());
    for _ in 0..3 {
        let r = once(addr, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(r.text(), "fine");
    }
}
