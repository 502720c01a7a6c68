//! Helpers for the interop tests: the application real clients talk to, a
//! test PKI made at run time, and checksummed data.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use thicket_green::tls::rustls::pki_types::PrivatePkcs8KeyDer;
use thicket_green::tls::{self, CertificateDer, PrivateKeyDer, ServerConfig};
use thicket_http::http::{HeaderValue, StatusCode};
use thicket_http::{Body, Handler, Request, Response};

/// FNV-1a, enough to tell two large buffers apart.
pub fn checksum(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `len` bytes that differ from position to position and from seed to
/// seed (binary, all 256 values).
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = super::wire::XorShift::new(seed);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    out.truncate(len);
    out
}

/// What the interop application saw: the peer port of every request, in
/// order.
#[derive(Default)]
pub struct Seen {
    pub peers: Vec<u16>,
}

/// The application real clients talk to:
///
/// - `GET /peer...`: answers `peer=<client port>` (and `x-peer-port`).
/// - `POST /echo`: reads the body, answers with it, with `x-te` (the
///   request's Transfer-Encoding), `x-len` and `x-sum` (its checksum).
/// - `POST /count`: reads the body, answers `len=<n> sum=<checksum>`.
/// - `POST /refuse`: answers 413 without reading the body.
///
/// Every request's peer port is recorded in `seen`.
pub fn app(seen: Arc<Mutex<Seen>>) -> impl Handler {
    move |mut req: Request| {
        let port = thicket_http::remote_addr(&req).map_or(0, |a| a.port());
        seen.lock().unwrap().peers.push(port);
        let path = req.uri().path().to_owned();
        let te = req
            .headers()
            .get("transfer-encoding")
            .cloned()
            .unwrap_or(HeaderValue::from_static("none"));
        let mut resp = match path.as_str() {
            "/echo" | "/count" => {
                let mut body = Vec::new();
                if let Err(e) = req.body_mut().read_to_end(&mut body) {
                    let mut r = Response::new(Body::from(format!("reading the body: {e}")));
                    *r.status_mut() = StatusCode::BAD_REQUEST;
                    return r;
                }
                let (len, sum) = (body.len(), checksum(&body));
                let mut r = if path == "/echo" {
                    Response::new(Body::from(body))
                } else {
                    Response::new(Body::from(format!("len={len} sum={sum:x}")))
                };
                let h = r.headers_mut();
                h.insert("x-te", te);
                h.insert("x-len", HeaderValue::from(len));
                h.insert("x-sum", HeaderValue::from_str(&format!("{sum:x}")).unwrap());
                r
            }
            "/refuse" => {
                let mut r = Response::new(Body::from("too large, not read\n"));
                *r.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
                r
            }
            _ => Response::new(Body::from(format!("peer={port}\n"))),
        };
        resp.headers_mut()
            .insert("x-peer-port", HeaderValue::from(port));
        resp
    }
}

/// A CA and a leaf for `localhost` and `127.0.0.1` it signed, made at run
/// time: the CA as a PEM file for clients, the leaf as a server config.
pub struct Pki {
    pub dir: tempfile::TempDir,
    pub ca_pem: PathBuf,
    pub server: Arc<ServerConfig>,
}

impl Pki {
    pub fn new() -> Pki {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "thicket http test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().unwrap();
        let ca = ca_params.self_signed(&ca_key).unwrap();

        let mut leaf_params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &ca, &ca_key).unwrap();

        let dir = tempfile::tempdir().unwrap();
        let ca_pem = dir.path().join("ca.pem");
        std::fs::write(&ca_pem, ca.pem()).unwrap();
        let server = tls::server_config_from_der(
            vec![CertificateDer::from(leaf.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            &[b"http/1.1"],
        )
        .unwrap();
        Pki {
            dir,
            ca_pem,
            server: Arc::new(server),
        }
    }
}

/// Runs a client program to completion. The programs bound their own time
/// (curl's `--max-time`, the Python script's alarm).
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} (is it installed?): {e}"))
}

/// stdout and stderr as text, for assertions and messages.
pub fn texts(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
