//! Shutting down the writing side sends end of file while the other
//! direction keeps working.

use std::io::{Read, Write};
use std::net::Shutdown;

use thicket_green::net::{TcpListener, TcpStream};
use thicket_green::spawn;

#[test]
fn write_shutdown_is_eof_for_the_peer_and_the_reply_still_arrives() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut request = String::new();
        conn.read_to_string(&mut request).unwrap(); // ends at the client's shutdown
        conn.write_all(format!("got {} bytes", request.len()).as_bytes())
            .unwrap();
        request
    });
    let mut client = TcpStream::connect(addr).unwrap();
    client.write_all(b"the whole request").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let mut reply = String::new();
    client.read_to_string(&mut reply).unwrap();
    assert_eq!(reply, "got 17 bytes");
    assert_eq!(server.join().unwrap(), "the whole request");
    let e = client.write(b"late").unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
}
