//! UDP: send_to/recv_from between two sockets, connected send/recv, peek,
//! and a receive timeout.

use std::io::ErrorKind;
use std::time::Duration;

use thicket_green::net::UdpSocket;
use thicket_green::spawn;

#[test]
fn datagrams_both_ways_connected_and_not() {
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
    let receiver = spawn(move || {
        let mut buf = [0; 32];
        let (n, from) = b.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"first"[..], a_addr));
        b.connect(a_addr).unwrap();
        b.send(b"reply").unwrap();
        let n = b.peek(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"third");
        let n = b.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"third");
    });
    a.send_to(b"first", b_addr).unwrap();
    let mut buf = [0; 32];
    let (n, from) = a.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"reply"[..], b_addr));
    a.connect(b_addr).unwrap();
    assert_eq!(a.peer_addr().unwrap(), b_addr);
    a.send(b"third").unwrap();
    receiver.join().unwrap();
}

#[test]
fn recv_timeout() {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
    let e = s.recv_from(&mut [0; 8]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
}
