//! A peer that resets the connection makes the next read fail with
//! `ConnectionReset` instead of hanging or reading end of file.

use std::io::{ErrorKind, Read};

use thicket_green::net::{TcpListener, TcpStream};
use thicket_green::spawn;

#[test]
fn reset_by_peer_surfaces_as_connection_reset() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    let reader = spawn(move || client.read(&mut [0; 16]).unwrap_err());
    thicket_green::yield_now().unwrap(); // the reader is parked
                                         // SO_LINGER with a zero timeout: close sends RST, not FIN.
    socket2::SockRef::from(&server)
        .set_linger(Some(std::time::Duration::ZERO))
        .unwrap();
    drop(server);
    let e = reader.join().unwrap();
    assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}");
}
