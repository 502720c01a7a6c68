//! `TcpStream::readable`: waits without reading and without a system call,
//! and never misses data or an end of stream that came with earlier data.

use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::time::Duration;

use thicket_green::net::{TcpListener, TcpStream};

fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (client, server)
}

#[test]
fn end_of_stream_that_came_with_data_ends_the_next_wait() {
    let (mut client, mut server) = pair();
    client.write_all(b"hi").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    server.readable().unwrap();
    let mut buf = [0u8; 64];
    // A short read drains the socket; the end of stream must still be seen.
    assert_eq!(server.read(&mut buf).unwrap(), 2);
    server
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    server.readable().unwrap();
    assert_eq!(server.read(&mut buf).unwrap(), 0);
}

#[test]
fn data_after_a_drained_read_wakes_the_wait() {
    let (client, mut server) = pair();
    let mut buf = [0u8; 64];
    for round in 0..50u8 {
        let mut c = client.try_clone().unwrap();
        let writer = thicket_green::spawn(move || c.write_all(&[round; 3]));
        server.readable().unwrap();
        let mut got = 0;
        while got < 3 {
            got += server.read(&mut buf[got..]).unwrap();
        }
        assert_eq!(&buf[..3], &[round; 3]);
        writer.join().unwrap().unwrap();
    }
}

#[test]
fn nothing_to_read_times_out() {
    let (_client, server) = pair();
    server
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let err = server.readable().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
}
