//! End of stream: close_notify reads as `Ok(0)`, a bare transport EOF as `UnexpectedEof`,
//! and a closed side can still read.

mod tls_support;

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;

use thicket_green::tls::{self, TlsStream};
use tls_support::Pki;

/// A connected client and server over loopback; `server` runs on its own OS thread.
fn pair<T: Send + 'static>(
    server: impl FnOnce(TlsStream<TcpStream>) -> T + Send + 'static,
) -> (TlsStream<TcpStream>, JoinHandle<T>, Pki) {
    let pki = Pki::new();
    let config = tls::server_config(&pki.cert, &pki.key, &[]).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        server(tls::wrap_server(tcp, config).unwrap())
    });
    let config = tls::client_config_with_ca(&pki.ca, &[]).unwrap();
    let client = tls::wrap_client(TcpStream::connect(addr).unwrap(), "localhost", config).unwrap();
    (client, handle, pki)
}

#[test]
fn close_notify_is_a_clean_end_and_the_other_half_stays_open() {
    let (mut client, server, _pki) = pair(|mut stream| {
        let mut got = Vec::new();
        // Ends at the client's close_notify.
        stream.read_to_end(&mut got).unwrap();
        stream.write_all(b"bye").unwrap();
        stream.close().unwrap();
        got
    });
    client.write_all(b"request").unwrap();
    client.close().unwrap();
    let e = client.write(b"late").unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
    let mut reply = Vec::new();
    client.read_to_end(&mut reply).unwrap();
    assert_eq!(reply, b"bye");
    // The end stays the end.
    assert_eq!(client.read(&mut [0; 8]).unwrap(), 0);
    assert_eq!(server.join().unwrap(), b"request");
}

#[test]
fn transport_eof_without_close_notify_is_unexpected_eof() {
    let (mut client, server, _pki) = pair(|mut stream| {
        stream.write_all(b"partial").unwrap();
        stream.flush().unwrap();
        // Dropping does no TLS I/O: the peer sees the TCP FIN alone.
        drop(stream);
    });
    server.join().unwrap();
    let mut got = [0; 7];
    client.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"partial");
    let e = client.read(&mut [0; 8]).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    assert!(e.to_string().contains("close_notify"), "{e}");
}

#[test]
fn into_inner_gives_back_the_transport() {
    let (mut client, server, _pki) = pair(|mut stream| {
        stream.write_all(b"x").unwrap();
        stream.close().unwrap();
        stream.get_ref().peer_addr().unwrap()
    });
    let mut x = [0; 1];
    client.read_exact(&mut x).unwrap();
    let local = client.get_ref().local_addr().unwrap();
    client.get_mut().set_nodelay(true).unwrap();
    let tcp: TcpStream = client.into_inner();
    assert!(tcp.nodelay().unwrap());
    assert_eq!(tcp.local_addr().unwrap(), local);
    assert_eq!(server.join().unwrap(), local);
}
