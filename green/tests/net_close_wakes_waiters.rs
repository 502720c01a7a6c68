//! `close` from another green thread (or OS thread) wakes a green thread
//! parked on the socket with an error.

use std::io::{ErrorKind, Read};

use thicket_green::net::{TcpListener, TcpStream};
use thicket_green::spawn;

#[test]
fn close_wakes_a_parked_reader_and_the_peer_sees_eof() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = std::sync::Arc::new(TcpStream::connect(listener.local_addr().unwrap()).unwrap());
    let (mut server, _) = listener.accept().unwrap();
    let c = client.clone();
    let reader = spawn(move || (&*c).read(&mut [0; 8]).unwrap_err());
    thicket_green::yield_now().unwrap();
    client.close();
    let e = reader.join().unwrap();
    assert_eq!(e.kind(), ErrorKind::NotConnected, "{e}");
    assert!(client.is_closed());
    assert_eq!(server.read(&mut [0; 8]).unwrap(), 0);
    let e = (&*client).read(&mut [0; 8]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotConnected, "{e}");
}

#[test]
fn close_from_another_os_thread_wakes_accept() {
    let listener = std::sync::Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
    let l = listener.clone();
    let acceptor = spawn(move || l.accept().map(|_| ()).unwrap_err());
    thicket_green::yield_now().unwrap();
    let l = listener.clone();
    std::thread::spawn(move || l.close()).join().unwrap();
    let e = acceptor.join().unwrap();
    assert_eq!(e.kind(), ErrorKind::NotConnected, "{e}");
}
