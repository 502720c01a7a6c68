//! A stream accepted (and first used) on one hub is used by a green thread
//! on another hub, and dropped there.

use std::io::{Read, Write};

use thicket_green::net::{TcpListener, TcpStream};
use thicket_green::Runtime;

#[test]
fn a_stream_moves_to_another_hub_and_keeps_working() {
    let rt = Runtime::new(1).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = rt.spawn(move || {
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(b"one").unwrap();
        let mut buf = [0; 3];
        c.read_exact(&mut buf).unwrap();
        c.write_all(b"two").unwrap();
        c.read_exact(&mut buf).unwrap();
        buf
    });
    let (mut conn, _) = listener.accept().unwrap();
    // Registered with this hub by a parked read...
    let mut buf = [0; 3];
    conn.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"one");
    conn.write_all(b"ONE").unwrap();
    // ...then served from the runtime's hub, and dropped there.
    let served = rt.spawn(move || {
        let mut buf = [0; 3];
        conn.read_exact(&mut buf).unwrap();
        conn.write_all(&buf.to_ascii_uppercase()).unwrap();
        buf
    });
    assert_eq!(&served.join().unwrap(), b"two");
    assert_eq!(&client.join().unwrap(), b"TWO");
}
