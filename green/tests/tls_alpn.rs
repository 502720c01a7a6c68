//! ALPN: the protocols the config builders offer, and what `alpn_protocol` reports.

mod tls_support;

use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use thicket_green::tls;
use tls_support::{lines_until_exit, s_server, ChildGuard, Pki};

/// Our client offering `client` against `openssl s_server -alpn <server>`.
fn against_s_server(server: &str, client: &[&[u8]]) -> Option<Vec<u8>> {
    let pki = Pki::new();
    let (_server, port, _lines) = s_server(&[
        "-cert",
        pki.cert.to_str().unwrap(),
        "-key",
        pki.key.to_str().unwrap(),
        "-alpn",
        server,
    ]);
    let config = tls::client_config_with_ca(&pki.ca, client).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut stream = tls::wrap_client(tcp, "localhost", config).unwrap();
    let agreed = stream.alpn_protocol().map(<[u8]>::to_vec);
    stream.close().unwrap();
    agreed
}

#[test]
fn client_gets_the_protocol_s_server_chose() {
    assert_eq!(
        against_s_server("h2,http/1.1", &[b"http/1.1"]).as_deref(),
        Some(&b"http/1.1"[..])
    );
    // OpenSSL's server picks by its own order of preference.
    assert_eq!(
        against_s_server("h2,http/1.1", &[b"http/1.1", b"h2"]).as_deref(),
        Some(&b"h2"[..])
    );
}

#[test]
fn client_without_alpn_gets_none() {
    assert_eq!(against_s_server("h2,http/1.1", &[]), None);
}

#[test]
fn server_picks_its_protocol_for_s_client() {
    let pki = Pki::new();
    let config = tls::server_config(&pki.cert, &pki.key, &[b"thicket/1", b"http/1.1"]).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut client = ChildGuard::spawn(
        Command::new("openssl")
            .arg("s_client")
            .args(["-connect", &format!("127.0.0.1:{port}")])
            .args(["-CAfile", pki.ca.to_str().unwrap(), "-verify_return_error"])
            .args(["-alpn", "http/1.1,thicket/1", "-quiet", "-nocommands"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    let lines = client.stdout_lines();
    let (tcp, _) = listener.accept().unwrap();
    let mut stream = tls::wrap_server(tcp, config).unwrap();
    // rustls' server picks by its own order of preference too.
    assert_eq!(stream.alpn_protocol(), Some(&b"thicket/1"[..]));
    stream.write_all(b"ok\n").unwrap();
    stream.close().unwrap();
    assert_eq!(lines_until_exit(&lines, Duration::from_secs(20)), ["ok"]);
}

#[test]
fn no_common_protocol_fails_the_handshake_on_both_sides() {
    let pki = Pki::new();
    let config = tls::server_config(&pki.cert, &pki.key, &[b"h2"]).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tls::wrap_server(tcp, config).map(drop)
    });
    let client_config = tls::client_config_with_ca(&pki.ca, &[b"http/1.1"]).unwrap();
    let e = tls::wrap_client(
        TcpStream::connect(addr).unwrap(),
        "localhost",
        client_config,
    )
    .unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    assert_eq!(
        e.to_string(),
        "TLS handshake with localhost failed: received fatal alert: NoApplicationProtocol"
    );
    let e = server.join().unwrap().unwrap_err();
    assert!(
        e.to_string().starts_with(
            "TLS handshake with client failed: peer doesn't support any known protocol"
        ),
        "{e}"
    );
}
