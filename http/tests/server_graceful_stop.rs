//! Graceful shutdown: idle connections close, requests in flight finish,
//! what outlives the grace period is cancelled.

mod server_support;

use std::net::TcpStream;
use std::time::Duration;

use server_support::Conn;
use thicket_green::Event;
use thicket_http::{Body, Request, Response, Server};

#[test]
fn idle_connections_close_and_serve_returns() {
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .keep_alive(Some(Duration::from_secs(60)))
        .start(|_req: Request| Response::new(Body::from("hi")))
        .unwrap();
    let addr = server.local_addr();
    let mut idle = Conn::open(addr);
    idle.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(idle.response().text(), "hi");
    server.stop();
    // Closed long before the 60 s keep-alive.
    assert!(idle.closed());
    server.wait().unwrap();
    assert!(
        TcpStream::connect(addr).is_err(),
        "still accepting after stop"
    );
}

#[test]
fn request_in_flight_finishes_with_connection_close() {
    // Shared by cloning: an Event behind an Arc would look unreachable to
    // green's deadlock check.
    let entered = Event::new();
    let release = Event::new();
    let (e, r) = (entered.clone(), release.clone());
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .start(move |_req: Request| {
            e.set();
            r.wait().unwrap();
            Response::new(Body::from("finished"))
        })
        .unwrap();
    let mut c = Conn::open(server.local_addr());
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    entered.wait().unwrap();
    let handle = server.handle();
    handle.stop();
    release.set();
    let resp = c.response();
    assert_eq!(resp.text(), "finished");
    assert_eq!(resp.header("connection"), Some("close"));
    assert!(c.closed());
    server.wait().unwrap();
}

#[test]
fn handlers_outliving_the_grace_period_are_cancelled() {
    let entered = Event::new();
    let e = entered.clone();
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .grace(Duration::from_millis(100))
        .start(move |_req: Request| {
            e.set();
            // Blocks "for ever"; the kill after the grace period ends it.
            let r = thicket_green::sleep(Duration::from_secs(3600));
            assert!(r.is_err());
            Response::new(Body::from("late"))
        })
        .unwrap();
    let mut c = Conn::open(server.local_addr());
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    entered.wait().unwrap();
    server.stop();
    server.wait().unwrap();
    // The killed connection never answers "late" with keep-alive; it is
    // closed (possibly after a final response).
    let mut rest = Vec::new();
    let _ = std::io::Read::read_to_end(&mut c.r, &mut rest);
    assert!(!String::from_utf8_lossy(&rest).contains("keep-alive"));
}

#[test]
fn handle_wait_works_from_another_plain_thread() {
    let server = Server::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let handle = server.handle();
    let serving =
        std::thread::spawn(move || server.serve(|_req: Request| Response::new(Body::from("hi"))));
    assert_eq!(
        server_support::once(
            addr,
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .text(),
        "hi"
    );
    handle.stop();
    // Used to fail at once with a deadlock error: the done event looked
    // unreachable from here.
    handle.wait().unwrap();
    serving.join().unwrap().unwrap();
}

#[test]
fn a_connection_that_never_sent_a_request_does_not_hold_up_a_stop() {
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .grace(Duration::from_secs(60))
        .header_timeout(Duration::from_secs(60))
        .start(|_req: Request| Response::new(Body::from("hi")))
        .unwrap();
    let addr = server.local_addr();
    let mut silent = Conn::open(addr);
    // A request on another connection shows the silent one was accepted
    // before the stop (connections are accepted in order).
    assert_eq!(
        server_support::once(
            addr,
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .text(),
        "hi"
    );
    server.stop();
    // Closed at once (end of file well within the client's 10 s read
    // timeout), not after the 60 s header timeout or grace period.
    let mut byte = [0u8; 1];
    let r = std::io::Read::read(&mut silent.r, &mut byte);
    assert!(matches!(r, Ok(0)), "not closed by the stop: {r:?}");
    server.wait().unwrap();
}
