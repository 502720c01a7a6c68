//! Past `max_connections`, accepting waits: the next client is served as
//! soon as a connection ends, and nothing is dropped.

mod server_support;

use std::io::Read;
use std::time::Duration;

use server_support::Conn;
use thicket_http::{Body, Request, Response, Server};

#[test]
fn the_next_client_waits_for_a_free_slot() {
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .max_connections(1)
        .start(|req: Request| Response::new(Body::from(req.uri().path().to_owned())))
        .unwrap();
    let addr = server.local_addr();
    let mut first = Conn::open(addr);
    first.send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(first.response().text(), "/first");

    // The second client connects (the kernel's backlog holds it) but is
    // not served while the first keeps its connection.
    let mut second = Conn::open(addr);
    second.send("GET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    second
        .r
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut byte = [0u8; 1];
    let early = second.r.read(&mut byte);
    assert!(
        matches!(&early, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut),
        "served past the limit: {early:?}"
    );

    // The first leaves; the second is served, its request intact.
    drop(first);
    second
        .r
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert_eq!(second.response().text(), "/second");
}
