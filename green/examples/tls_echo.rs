//! TLS echo on green threads: one server and three clients on one hub, over loopback.
//!
//! Each accepted connection gets its own green thread; the clients are green threads too, so
//! the handshakes and echoes of all of them interleave on the one OS thread, each blocking
//! only itself. The certificates are made at start-up with rcgen: a CA, and a leaf for
//! `localhost` signed by it, which is what a client checks the server against.
//!
//! Run with `cargo run -p thicket-green --example tls_echo`.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;

use thicket_green::net::{TcpListener, TcpStream};
use thicket_green::tls::{
    self, CertificateDer, ClientConfig, PrivateKeyDer, RootCertStore, ServerConfig,
};

const CLIENTS: usize = 3;

fn main() -> io::Result<()> {
    let (ca, cert, key) = make_certs();
    let server_config = Arc::new(tls::server_config_from_der(vec![cert], key, &[b"echo/1"])?);
    let mut roots = RootCertStore::empty();
    roots.add(ca).map_err(io::Error::other)?;
    let client_config = Arc::new(tls::client_config(roots, &[b"echo/1"])?);

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = thicket_green::spawn(move || -> io::Result<()> {
        for _ in 0..CLIENTS {
            let (tcp, peer) = listener.accept()?;
            let config = server_config.clone();
            thicket_green::spawn_n(move || {
                if let Err(e) = echo(tcp, config) {
                    eprintln!("{peer}: {e}");
                }
            });
        }
        Ok(())
    });

    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let config = client_config.clone();
            thicket_green::spawn(move || client(i, addr, config))
        })
        .collect();
    for client in clients {
        println!("{}", client.join().expect("client panicked")?);
    }
    server.join().expect("server panicked")
}

/// Echoes until the client's close_notify, then closes in turn.
fn echo(tcp: TcpStream, config: Arc<ServerConfig>) -> io::Result<()> {
    let mut stream = tls::wrap_server(tcp, config)?;
    let mut buf = [0; 4096];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return stream.close();
        }
        stream.write_all(&buf[..n])?;
    }
}

fn client(i: usize, addr: SocketAddr, config: Arc<ClientConfig>) -> io::Result<String> {
    let mut stream = tls::wrap_client(TcpStream::connect(addr)?, "localhost", config)?;
    let message = format!("hello from client {i}");
    stream.write_all(message.as_bytes())?;
    // Our close_notify ends the server's reads; its own ends ours.
    stream.close()?;
    let mut echoed = String::new();
    stream.read_to_string(&mut echoed)?;
    assert_eq!(echoed, message);
    let conn = stream.connection();
    Ok(format!(
        "client {i}: {echoed:?} echoed over {:?}, ALPN {:?}",
        conn.protocol_version().expect("handshake done"),
        String::from_utf8_lossy(stream.alpn_protocol().unwrap_or_default()),
    ))
}

/// A CA certificate, and a certificate for `localhost` signed by it with its private key.
fn make_certs() -> (
    CertificateDer<'static>,
    CertificateDer<'static>,
    PrivateKeyDer<'static>,
) {
    let ca_key = rcgen::KeyPair::generate().expect("CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
    let key = rcgen::KeyPair::generate().expect("server key");
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .expect("server params")
        .signed_by(&key, &ca, &ca_key)
        .expect("server certificate");
    let key = PrivateKeyDer::Pkcs8(key.serialize_der().into());
    (ca.der().clone(), cert.der().clone(), key)
}
