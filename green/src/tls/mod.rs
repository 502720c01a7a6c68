//! TLS over green streams, with rustls.
//!
//! [`TlsStream<S>`] is a TLS session (client or server side) over any blocking-style stream
//! `S: Read + Write`, and is itself `Read + Write`. Over a green socket, a read or write that
//! has to wait parks only the calling green thread, like the socket's own calls; over a plain
//! `std::net::TcpStream` it blocks the OS thread.
//!
//! - [`wrap_client`] and [`wrap_server`] start a session and complete the handshake, so a
//!   bad certificate or an unwilling peer is reported there, saying with whom and why.
//! - [`load_certs`] and [`load_private_key`] read PEM files; [`server_config`],
//!   [`client_config_with_ca`] and the other builders make the rustls configs, with the
//!   ALPN protocols to offer. Build a config once and share it: it is cheap to clone as an
//!   `Arc`, and the functions taking one accept either a config or an `Arc` of it.
//! - [`rustls`] is re-exported, for what the builders do not cover (client certificates,
//!   session caches, custom verifiers).
//!
//! The cryptography is rustls' `ring` provider; the builders here name it explicitly, so
//! they work whichever other providers the dependency graph enables.
//!
//! # Examples
//!
//! A server on a green thread and a client in `main`, over green sockets on loopback (the
//! hidden lines make the certificate and key files with rcgen):
//!
//! ```
//! use std::io::{Read, Write};
//! use thicket_green::net::{TcpListener, TcpStream};
//! use thicket_green::tls;
//!
//! # let dir = std::env::temp_dir().join(format!("thicket-tls-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # let ca_key = rcgen::KeyPair::generate().unwrap();
//! # let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
//! # ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
//! # let ca = ca_params.self_signed(&ca_key).unwrap();
//! # let key = rcgen::KeyPair::generate().unwrap();
//! # let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap()
//! #     .signed_by(&key, &ca, &ca_key).unwrap();
//! # std::fs::write(dir.join("ca.pem"), ca.pem())?;
//! # std::fs::write(dir.join("cert.pem"), leaf.pem())?;
//! # std::fs::write(dir.join("key.pem"), key.serialize_pem())?;
//! # let (cert_pem, key_pem, ca_pem) = (dir.join("cert.pem"), dir.join("key.pem"), dir.join("ca.pem"));
//! let server_config = tls::server_config(cert_pem, key_pem, &[b"echo/1"])?;
//! let client_config = tls::client_config_with_ca(ca_pem, &[b"echo/1"])?;
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let addr = listener.local_addr()?;
//! let server = thicket_green::spawn(move || -> std::io::Result<()> {
//!     let (tcp, _) = listener.accept()?;
//!     let mut stream = tls::wrap_server(tcp, server_config)?;
//!     let mut word = [0; 5];
//!     stream.read_exact(&mut word)?;
//!     stream.write_all(&word)?;
//!     stream.close()
//! });
//!
//! // The handshake parks `main` until the server green thread has answered.
//! let mut stream = tls::wrap_client(TcpStream::connect(addr)?, "localhost", client_config)?;
//! assert_eq!(stream.alpn_protocol(), Some(&b"echo/1"[..]));
//! stream.write_all(b"hello")?;
//! let mut echoed = String::new();
//! stream.read_to_string(&mut echoed)?; // ends at the server's close_notify
//! assert_eq!(echoed, "hello");
//! server.join().unwrap()?;
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::error::Error as StdError;
use std::fmt;
use std::io::{self, Read, Write};
use std::sync::Arc;

mod config;
mod stream;

pub use self::config::{
    client_config, client_config_with_ca, load_certs, load_private_key, server_config,
    server_config_from_der,
};
pub use self::stream::TlsStream;
pub use rustls;
pub use rustls::pki_types::{CertificateDer, PrivateKeyDer};
pub use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// Starts the client side of a TLS session over `stream` and completes the handshake.
///
/// `server_name` is the DNS name (or IP address) the server's certificate must be valid
/// for, also sent as SNI. `config` is a [`ClientConfig`] or an `Arc<ClientConfig>`.
///
/// # Errors
///
/// [`io::ErrorKind::InvalidInput`] for a `server_name` that is neither a DNS name nor an IP
/// address. A failed handshake gives an error saying with whom and why, such as "TLS
/// handshake with localhost failed: invalid peer certificate: UnknownIssuer" (see
/// [`TlsStream::handshake`]).
///
/// # Examples
///
/// ```no_run
/// use std::io::{Read, Write};
/// use thicket_green::net::TcpStream;
/// use thicket_green::tls;
///
/// let config = tls::client_config_with_ca("ca.pem", &[b"http/1.1"])?;
/// let tcp = TcpStream::connect("127.0.0.1:8443")?;
/// let mut stream = tls::wrap_client(tcp, "localhost", config)?;
/// stream.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
/// let mut response = Vec::new();
/// stream.read_to_end(&mut response)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn wrap_client<S: Read + Write>(
    stream: S,
    server_name: &str,
    config: impl Into<Arc<ClientConfig>>,
) -> io::Result<TlsStream<S>> {
    let mut tls = TlsStream::client(stream, server_name, config)?;
    tls.handshake()?;
    Ok(tls)
}

/// Starts the server side of a TLS session over `stream` and completes the handshake.
///
/// `config` is a [`ServerConfig`] or an `Arc<ServerConfig>`; share one `Arc` between the
/// connections of a listener.
///
/// # Errors
///
/// A failed handshake gives an error saying why, such as "TLS handshake with client
/// failed: received fatal alert: UnknownCA" (see [`TlsStream::handshake`]).
///
/// # Examples
///
/// ```no_run
/// use std::io::Write;
/// use std::sync::Arc;
/// use thicket_green::net::TcpListener;
/// use thicket_green::tls;
///
/// let config = Arc::new(tls::server_config("cert.pem", "key.pem", &[])?);
/// let listener = TcpListener::bind("127.0.0.1:8443")?;
/// loop {
///     let (tcp, peer) = listener.accept()?;
///     let config = config.clone();
///     // A green thread per connection: a slow handshake holds up no other.
///     thicket_green::spawn_n(move || {
///         let greet = || -> std::io::Result<()> {
///             let mut stream = tls::wrap_server(tcp, config)?;
///             stream.write_all(b"hello\n")?;
///             stream.close()
///         };
///         if let Err(e) = greet() {
///             eprintln!("{peer}: {e}");
///         }
///     });
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn wrap_server<S: Read + Write>(
    stream: S,
    config: impl Into<Arc<ServerConfig>>,
) -> io::Result<TlsStream<S>> {
    let mut tls = TlsStream::server(stream, config)?;
    tls.handshake()?;
    Ok(tls)
}

/// Why a handshake failed: the inner error of the [`io::Error`] that
/// [`TlsStream::handshake`], [`wrap_client`] and [`wrap_server`] return.
///
/// # Examples
///
/// ```
/// use std::io;
/// use thicket_green::tls::{rustls, HandshakeError};
///
/// fn is_untrusted(e: &io::Error) -> bool {
///     let tls = e.get_ref()
///         .and_then(|e| e.downcast_ref::<HandshakeError>())
///         .and_then(HandshakeError::tls_error);
///     matches!(
///         tls,
///         Some(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer))
///     )
/// }
/// # assert!(!is_untrusted(&io::Error::other("x")));
/// ```
#[derive(Debug)]
pub struct HandshakeError {
    peer: String,
    source: io::Error,
}

impl HandshakeError {
    fn new(peer: String, source: io::Error) -> Self {
        Self { peer, source }
    }

    /// Wraps `self` in an `io::Error` of the same kind as the cause.
    fn into_io(self) -> io::Error {
        io::Error::new(self.source.kind(), self)
    }

    /// Whom the handshake was with: the server name on the client side, "client" on the
    /// server side.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// The TLS protocol error, if that is what failed (not the transport).
    pub fn tls_error(&self) -> Option<&rustls::Error> {
        self.source.get_ref()?.downcast_ref()
    }

    /// The underlying error: the transport's, or an [`io::ErrorKind::InvalidData`] one
    /// holding the [`rustls::Error`].
    pub fn io_error(&self) -> &io::Error {
        &self.source
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TLS handshake with {} failed: {}",
            self.peer, self.source
        )
    }
}

impl StdError for HandshakeError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.source)
    }
}
