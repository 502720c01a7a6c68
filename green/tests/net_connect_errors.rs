//! Connecting to a closed port is refused; a connect that gets no answer
//! times out.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

use thicket_green::net::{self, TcpStream};

#[test]
fn a_closed_port_gives_connection_refused() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }; // closed again
    let e = TcpStream::connect(("127.0.0.1", port)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
    let e = net::connect(format!("127.0.0.1:{port}")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
}

#[test]
fn connect_timeout_gives_timed_out_when_syns_are_dropped() {
    // A listener that never accepts, with the smallest backlog: once its
    // queue is full the kernel drops further SYNs, so a connect hangs.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    sock.listen(0).unwrap();
    let addr = sock.local_addr().unwrap().as_socket().unwrap();
    let mut held = Vec::new();
    let e = loop {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
            Ok(s) => held.push(s),
            Err(e) => break e,
        }
        assert!(held.len() < 64, "the backlog never filled");
    };
    assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
    let e = TcpStream::connect_timeout(&addr, Duration::ZERO).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    // An enclosing deadline bounds a plain connect as well.
    let r = thicket_green::with_timeout(Duration::from_millis(50), || TcpStream::connect(addr));
    assert!(!matches!(r, Ok(Ok(_))), "connected past a full backlog");
}
