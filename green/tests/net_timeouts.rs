//! Read and write timeouts end a wait with `TimedOut` and leave the stream
//! usable.

use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use thicket_green::net::{TcpListener, TcpStream};

fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (client, server)
}

#[test]
fn read_timeout_then_the_data_still_arrives() {
    let (mut client, mut server) = pair();
    client
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    assert_eq!(
        client.read_timeout().unwrap(),
        Some(Duration::from_millis(20))
    );
    let e = client.read(&mut [0; 8]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
    server.write_all(b"late").unwrap();
    let mut buf = [0; 4];
    client.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"late");
    assert!(client.set_read_timeout(Some(Duration::ZERO)).is_err());
    client.set_read_timeout(None).unwrap();
    assert_eq!(client.read_timeout().unwrap(), None);
}

#[test]
fn write_timeout_with_a_peer_that_never_reads() {
    let (mut client, server) = pair();
    client
        .set_write_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let chunk = vec![0u8; 1 << 20];
    let mut sent = 0usize;
    let e = loop {
        match client.write(&chunk) {
            Ok(n) => sent += n,
            Err(e) => break e,
        }
        assert!(sent < 1 << 30, "the socket buffers never filled");
    };
    assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
    assert!(sent > 0);
    drop(server);
}

#[test]
fn with_timeout_bounds_a_read_without_a_socket_timeout() {
    let (mut client, _server) = pair();
    let r = thicket_green::with_timeout(Duration::from_millis(10), || client.read(&mut [0; 8]));
    match r {
        Ok(Err(e)) => assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}"),
        Err(_elapsed) => {}
        Ok(Ok(n)) => panic!("read {n} bytes from a silent peer"),
    }
}
