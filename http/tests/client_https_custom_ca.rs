//! HTTPS with a CA made at test time: the client trusts it when told to,
//! sends SNI and ALPN `http/1.1`, reuses TLS connections, and refuses
//! untrusted or misnamed certificates with a TLS error.

mod client_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use client_support::{find, TempDir};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use thicket_green::tls;
use thicket_http::{Client, ErrorKind};

/// A CA, and a leaf for `localhost` and 127.0.0.1 signed by it.
struct Pki {
    _dir: TempDir,
    ca: PathBuf,
    ca_der: Vec<u8>,
    cert: PathBuf,
    key: PathBuf,
    /// A leaf signed by the same CA for `other.test` only.
    misnamed_cert: PathBuf,
    misnamed_key: PathBuf,
}

fn pki() -> Pki {
    let dir = TempDir::new("https");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "thicket client test CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    let other_key = KeyPair::generate().unwrap();
    let other = CertificateParams::new(vec!["other.test".to_string()])
        .unwrap()
        .signed_by(&other_key, &ca, &ca_key)
        .unwrap();
    Pki {
        misnamed_cert: dir.write("other.pem", other.pem()),
        misnamed_key: dir.write("other-key.pem", other_key.serialize_pem()),
        ca: dir.write("ca.pem", ca.pem()),
        ca_der: ca.der().to_vec(),
        cert: dir.write("cert.pem", leaf.pem()),
        key: dir.write("key.pem", key.serialize_pem()),
        _dir: dir,
    }
}

/// A TLS server on a thread: answers every request on a connection with
/// the SNI name and ALPN protocol it saw.
struct TlsServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
}

fn tls_server(pki: &Pki) -> TlsServer {
    tls_server_with(&pki.cert, &pki.key)
}

fn tls_server_with(cert: &PathBuf, key: &PathBuf) -> TlsServer {
    let config = Arc::new(tls::server_config(cert, key, &[b"http/1.1"]).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let config = config.clone();
            std::thread::spawn(move || {
                let Ok(mut s) = tls::wrap_server(tcp, config) else {
                    return;
                };
                let sni = s.sni_hostname().unwrap_or("-").to_string();
                let alpn = String::from_utf8_lossy(s.alpn_protocol().unwrap_or(b"-")).into_owned();
                let body = format!("{sni} {alpn}");
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    while let Some(i) = find(&buf, b"\r\n\r\n") {
                        buf.drain(..i + 4);
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if s.write_all(resp.as_bytes()).is_err() {
                            return;
                        }
                    }
                    match s.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
            });
        }
    });
    TlsServer { addr, accepted }
}

#[test]
fn a_custom_ca_is_trusted_with_sni_alpn_and_keep_alive() {
    let pki = pki();
    let server = tls_server(&pki);
    let client = Client::builder()
        .add_root_certificates_pem(&pki.ca)
        .build()
        .unwrap();
    let url = format!("https://localhost:{}/", server.addr.port());
    for _ in 0..3 {
        let resp = client.get(&url).send().unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.text().unwrap(), "localhost http/1.1");
    }
    assert_eq!(
        server.accepted.load(Ordering::SeqCst),
        1,
        "the TLS connection was reused"
    );
    // An IP address is verified against the certificate's IP names, and
    // sent without SNI (RFC 6066 3).
    let resp = client
        .get(format!("https://127.0.0.1:{}/", server.addr.port()))
        .send()
        .unwrap();
    assert_eq!(resp.text().unwrap(), "- http/1.1");
}

#[test]
fn root_certificates_and_whole_configs_can_be_given_directly() {
    let pki = pki();
    let server = tls_server(&pki);
    let url = format!("https://localhost:{}/", server.addr.port());
    let der = tls::CertificateDer::from(pki.ca_der.clone());
    let client = Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(der)
        .build()
        .unwrap();
    assert_eq!(client.get(&url).send().unwrap().status(), 200);

    // A config of our own, without ALPN: the client offers http/1.1 anyway.
    let config = tls::client_config_with_ca(&pki.ca, &[]).unwrap();
    let client = Client::builder().tls_config(config).build().unwrap();
    assert_eq!(
        client.get(&url).send().unwrap().text().unwrap(),
        "localhost http/1.1"
    );
}

#[test]
fn an_untrusted_certificate_is_a_tls_error() {
    let pki = pki();
    let server = tls_server(&pki);
    // The bundled roots do not include the test CA.
    let e = Client::new()
        .get(format!("https://localhost:{}/", server.addr.port()))
        .send()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Tls, "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("localhost"), "{msg}");
    assert!(msg.contains("UnknownIssuer"), "{msg}");
}

#[test]
fn a_certificate_for_another_name_is_a_tls_error() {
    let pki = pki();
    let server = tls_server_with(&pki.misnamed_cert, &pki.misnamed_key);
    let client = Client::builder()
        .add_root_certificates_pem(&pki.ca)
        .build()
        .unwrap();
    let e = client
        .get(format!("https://localhost:{}/", server.addr.port()))
        .send()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Tls, "{e:?}");
    assert!(
        e.to_string().contains("not valid for name \"localhost\""),
        "{e}"
    );
}
