//! Two green threads reading one stream at once is an error for the second,
//! not a race; a reader and a writer at once are fine.

use std::io::{ErrorKind, Read, Write};
use std::sync::Arc;

use thicket_green::net::{TcpListener, TcpStream};
use thicket_green::spawn;

#[test]
fn a_second_concurrent_reader_gets_resource_busy() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = Arc::new(TcpStream::connect(listener.local_addr().unwrap()).unwrap());
    let (mut server, _) = listener.accept().unwrap();
    let c = client.clone();
    let first = spawn(move || {
        let mut buf = [0; 2];
        (&*c).read_exact(&mut buf).map(|()| buf)
    });
    thicket_green::yield_now().unwrap(); // first is parked in read
    let c = client.clone();
    let e = spawn(move || (&*c).read(&mut [0; 2]).unwrap_err())
        .join()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::ResourceBusy, "{e}");
    // A writer alongside the parked reader is allowed.
    let c = client.clone();
    spawn(move || (&*c).write_all(b"to server").unwrap())
        .join()
        .unwrap();
    let mut got = [0; 9];
    server.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"to server");
    server.write_all(b"ok").unwrap();
    assert_eq!(&first.join().unwrap().unwrap(), b"ok");
}
