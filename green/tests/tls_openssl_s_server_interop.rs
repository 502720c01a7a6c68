//! Our TLS client against `openssl s_server -rev` (which answers each line reversed).

mod tls_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use thicket_green::tls;
use tls_support::{checksum, lines_until_exit, reversed_lines, s_server, text_lines, Pki};

fn rev_server(
    pki: &Pki,
) -> (
    tls_support::ChildGuard,
    u16,
    std::sync::mpsc::Receiver<String>,
) {
    s_server(&[
        "-rev",
        "-cert",
        pki.cert.to_str().unwrap(),
        "-key",
        pki.key.to_str().unwrap(),
    ])
}

#[test]
fn client_exchanges_lines_with_s_server_and_closes_cleanly() {
    let pki = Pki::new();
    let (mut server, port, lines) = rev_server(&pki);
    let config = tls::client_config_with_ca(&pki.ca, &[]).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut stream = tls::wrap_client(tcp, "localhost", config).unwrap();

    let chain = stream
        .peer_certificates()
        .expect("server sent its certificate");
    assert_eq!(
        chain[0].as_ref(),
        tls::load_certs(&pki.cert).unwrap()[0].as_ref()
    );
    assert_eq!(stream.alpn_protocol(), None);

    stream.write_all(b"hello thicket\n").unwrap();
    let mut reader = BufReader::new(&mut stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, "tekciht olleh\n");

    stream.close().unwrap();
    let err = stream.write(b"more").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
    drop(stream);
    // s_server (-naccept 1) sees the close and exits by itself.
    let output = lines_until_exit(&lines, Duration::from_secs(20));
    assert!(
        server.0.wait().unwrap().success(),
        "s_server failed: {output:?}"
    );
}

#[test]
fn client_verifies_the_ip_address_name() {
    let pki = Pki::new();
    let (_server, port, _lines) = rev_server(&pki);
    let config = tls::client_config_with_ca(&pki.ca, &[]).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut stream = tls::wrap_client(tcp, "127.0.0.1", config).unwrap();
    stream.write_all(b"abc\n").unwrap();
    let mut reply = [0; 4];
    stream.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"cba\n");
}

#[test]
fn four_mib_each_way_through_s_server() {
    const TOTAL: usize = 4 << 20;
    const CHUNK: usize = 64 << 10;
    let pki = Pki::new();
    let (_server, port, _lines) = rev_server(&pki);
    let config = tls::client_config_with_ca(&pki.ca, &[]).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut stream = tls::wrap_client(tcp, "localhost", config).unwrap();

    let sent = text_lines(TOTAL, 1);
    let mut received = Vec::with_capacity(TOTAL);
    // A chunk at a time, so neither side's buffers fill while the other waits.
    for chunk in sent.chunks(CHUNK) {
        stream.write_all(chunk).unwrap();
        let start = received.len();
        received.resize(start + chunk.len(), 0);
        stream.read_exact(&mut received[start..]).unwrap();
    }
    let expected = reversed_lines(&sent);
    assert_eq!(received.len(), expected.len());
    assert_eq!(checksum(&received), checksum(&expected));
    assert!(received == expected);
    stream.close().unwrap();
}

#[test]
fn client_speaks_tls12_when_s_server_offers_only_that() {
    let pki = Pki::new();
    let (_server, port, _lines) = s_server(&[
        "-rev",
        "-tls1_2",
        "-cert",
        pki.cert.to_str().unwrap(),
        "-key",
        pki.key.to_str().unwrap(),
    ]);
    let config = tls::client_config_with_ca(&pki.ca, &[]).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut stream = tls::wrap_client(tcp, "localhost", config).unwrap();
    assert_eq!(
        stream.connection().protocol_version(),
        Some(tls::rustls::ProtocolVersion::TLSv1_2)
    );
    stream.write_all(b"twelve\n").unwrap();
    let mut reply = [0; 7];
    stream.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"evlewt\n");
    stream.close().unwrap();
}
