//! Failed handshakes say with whom and why, on both sides.

mod tls_support;

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use thicket_green::tls::{self, rustls, HandshakeError};
use tls_support::{lines_until_exit, s_server, ChildGuard, Pki};

fn handshake_error(e: &io::Error) -> &HandshakeError {
    e.get_ref()
        .and_then(|e| e.downcast_ref::<HandshakeError>())
        .unwrap_or_else(|| panic!("not a HandshakeError: {e:?}"))
}

#[test]
fn client_names_an_untrusted_certificate() {
    let pki = Pki::new();
    let (_server, port, _lines) = s_server(&[
        "-cert",
        pki.rogue_cert.to_str().unwrap(),
        "-key",
        pki.rogue_key.to_str().unwrap(),
    ]);
    let config = tls::client_config_with_ca(&pki.ca, &[]).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let e = tls::wrap_client(tcp, "localhost", config).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    assert_eq!(
        e.to_string(),
        "TLS handshake with localhost failed: invalid peer certificate: UnknownIssuer"
    );
    let h = handshake_error(&e);
    assert_eq!(h.peer(), "localhost");
    assert!(matches!(
        h.tls_error(),
        Some(rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer
        ))
    ));
}

#[test]
fn client_names_a_wrong_server_name() {
    let pki = Pki::new();
    let (_server, port, _lines) = s_server(&[
        "-cert",
        pki.cert.to_str().unwrap(),
        "-key",
        pki.key.to_str().unwrap(),
    ]);
    let config = tls::client_config_with_ca(&pki.ca, &[]).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let e = tls::wrap_client(tcp, "example.com", config).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    let msg = e.to_string();
    assert!(
        msg.starts_with("TLS handshake with example.com failed: invalid peer certificate: "),
        "{msg}"
    );
    assert!(msg.contains("not valid for name \"example.com\""), "{msg}");
    assert!(msg.contains("localhost"), "{msg}");
}

#[test]
fn server_names_the_alert_of_a_client_that_rejects_it() {
    let pki = Pki::new();
    let config = tls::server_config(&pki.rogue_cert, &pki.rogue_key, &[]).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut curl = ChildGuard::spawn(
        Command::new("curl")
            .args(["--silent", "--max-time", "30"])
            .args(["--cacert", pki.ca.to_str().unwrap()])
            .arg(format!("https://127.0.0.1:{port}/"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    let lines = curl.stdout_lines();
    let (tcp, _) = listener.accept().unwrap();
    let e = tls::wrap_server(tcp, config).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    assert_eq!(
        e.to_string(),
        "TLS handshake with client failed: received fatal alert: UnknownCA"
    );
    lines_until_exit(&lines, Duration::from_secs(30));
    // curl's "peer certificate cannot be authenticated with given CA certificates".
    assert_eq!(curl.0.wait().unwrap().code(), Some(60));
}

#[test]
fn server_and_client_both_report_a_rejected_certificate() {
    let pki = Pki::new();
    let config = tls::server_config(&pki.rogue_cert, &pki.rogue_key, &[]).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tls::wrap_server(tcp, config).map(drop)
    });
    let client_config = tls::client_config_with_ca(&pki.ca, &[]).unwrap();
    let e = tls::wrap_client(
        TcpStream::connect(addr).unwrap(),
        "localhost",
        client_config,
    )
    .unwrap_err();
    assert!(e.to_string().ends_with("UnknownIssuer"), "{e}");
    let e = server.join().unwrap().unwrap_err();
    assert_eq!(handshake_error(&e).peer(), "client");
    assert!(matches!(
        handshake_error(&e).tls_error(),
        Some(rustls::Error::AlertReceived(
            rustls::AlertDescription::UnknownCA
        ))
    ));
}

#[test]
fn peer_closing_during_the_handshake_is_unexpected_eof() {
    let pki = Pki::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        // Take the ClientHello, then end the stream without a word.
        let mut hello = [0; 5];
        tcp.read_exact(&mut hello).unwrap();
        assert_eq!(hello[0], 22, "a handshake record");
        tcp.shutdown(Shutdown::Write).unwrap();
        let _ = io::copy(&mut tcp, &mut io::sink());
    });
    let config = tls::client_config_with_ca(&pki.ca, &[]).unwrap();
    let e = tls::wrap_client(TcpStream::connect(addr).unwrap(), "localhost", config).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    assert_eq!(
        e.to_string(),
        "TLS handshake with localhost failed: peer closed the connection during the handshake"
    );
    assert!(handshake_error(&e).tls_error().is_none());
    server.join().unwrap();
}

#[test]
fn a_peer_that_does_not_speak_tls_is_invalid_data() {
    let pki = Pki::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let mut hello = [0; 5];
        tcp.read_exact(&mut hello).unwrap();
        tcp.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").unwrap();
        let _ = io::copy(&mut tcp, &mut io::sink());
    });
    let config = tls::client_config_with_ca(&pki.ca, &[]).unwrap();
    let e = tls::wrap_client(TcpStream::connect(addr).unwrap(), "localhost", config).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    assert!(
        e.to_string()
            .starts_with("TLS handshake with localhost failed: received corrupt message"),
        "{e}"
    );
    server.join().unwrap();
}

#[test]
fn a_bad_server_name_is_invalid_input() {
    let config = tls::client_config(tls::RootCertStore::empty(), &[]).unwrap();
    let e = tls::TlsStream::client(Vec::<u8>::new(), "not a name!", config).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("\"not a name!\""), "{e}");
}

#[test]
fn a_key_that_does_not_match_the_certificate_is_refused() {
    let pki = Pki::new();
    let e = tls::server_config(&pki.cert, &pki.rogue_key, &[]).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    let msg = e.to_string();
    assert!(
        msg.contains("cert.pem") && msg.contains("rogue-key.pem"),
        "{msg}"
    );
}
