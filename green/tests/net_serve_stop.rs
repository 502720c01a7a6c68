//! `serve`: a panicking handler does not stop the server; stop waits for the
//! handlers in flight, and a grace period ends those that overstay.

use std::io::{Read, Write};
use std::time::Duration;

use thicket_green::net::{self, Server, TcpStream};
use thicket_green::{spawn, Event};

#[test]
fn a_handler_panic_leaves_the_server_serving() {
    let listener = net::listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::new(listener);
    let stop = server.handle();
    let serving = spawn(move || {
        server.serve(|mut conn: TcpStream, _| {
            let mut b = [0; 1];
            conn.read_exact(&mut b).unwrap();
            assert_ne!(b[0], b'!', "the handler panics on '!'");
            conn.write_all(&b).unwrap();
        })
    });
    let mut bad = TcpStream::connect(addr).unwrap();
    bad.write_all(b"!").unwrap();
    assert_eq!(bad.read(&mut [0; 1]).unwrap(), 0); // the handler died, the socket closed
    let mut good = TcpStream::connect(addr).unwrap();
    good.write_all(b"x").unwrap();
    let mut b = [0; 1];
    good.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"x");
    stop.stop();
    serving.join().unwrap().unwrap();
    assert!(stop.is_finished());
    let e = TcpStream::connect(addr).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused, "{e}");
}

#[test]
fn stop_waits_for_handlers_in_flight() {
    let listener = net::listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::new(listener);
    let stop = server.handle();
    let entered = Event::new();
    let e = entered.clone();
    let serving = spawn(move || {
        server.serve(move |mut conn: TcpStream, _| {
            e.set();
            let mut rest = Vec::new();
            conn.read_to_end(&mut rest).unwrap();
            conn.write_all(b"bye").unwrap();
        })
    });
    let mut client = TcpStream::connect(addr).unwrap();
    entered.wait().unwrap();
    stop.stop();
    assert!(stop.is_stopped());
    // The handler is still running, so serve has not returned.
    assert!(stop.wait_timeout(Duration::from_millis(20)).is_err());
    assert!(!stop.is_finished());
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut reply = String::new();
    client.read_to_string(&mut reply).unwrap();
    assert_eq!(reply, "bye");
    serving.join().unwrap().unwrap();
    stop.wait().unwrap();
}

#[test]
fn grace_period_kills_handlers_that_overstay() {
    let listener = net::listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::new(listener).grace(Duration::from_millis(30));
    let stop = server.handle();
    let entered = Event::new();
    let e = entered.clone();
    let serving = spawn(move || {
        server.serve(move |mut conn: TcpStream, _| {
            e.set();
            // Waits for a client that never writes; killed after the grace.
            let _ = conn.read(&mut [0; 1]);
        })
    });
    let _client = TcpStream::connect(addr).unwrap();
    entered.wait().unwrap();
    stop.stop();
    serving.join().unwrap().unwrap();
    assert!(stop.is_finished());
}
