//! Loading PEM files and building rustls configs on the ring provider.

use std::io;
use std::path::Path;
use std::sync::Arc;

use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// Reads every certificate (`BEGIN CERTIFICATE` section) of a PEM file, in file order: for
/// a server, its chain, leaf first; for a client, the CAs to trust.
///
/// # Errors
///
/// The file's I/O error (such as [`io::ErrorKind::NotFound`]) with the path in the message;
/// [`io::ErrorKind::InvalidData`] if the PEM is malformed or holds no certificate.
///
/// # Examples
///
/// ```no_run
/// let chain = thicket_green::tls::load_certs("/etc/thicket/cert.pem")?;
/// println!("{} certificates", chain.len());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn load_certs(path: impl AsRef<Path>) -> io::Result<Vec<CertificateDer<'static>>> {
    let path = path.as_ref();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error(e, "certificates", path))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(e, "certificates", path))?;
    if certs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "no certificate (BEGIN CERTIFICATE section) found in {}",
                path.display()
            ),
        ));
    }
    Ok(certs)
}

/// Reads the first private key of a PEM file: PKCS#8 (`BEGIN PRIVATE KEY`), PKCS#1
/// (`BEGIN RSA PRIVATE KEY`) or SEC1 (`BEGIN EC PRIVATE KEY`).
///
/// # Errors
///
/// The file's I/O error (such as [`io::ErrorKind::NotFound`]) with the path in the message;
/// [`io::ErrorKind::InvalidData`] if the PEM is malformed or holds no private key.
///
/// # Examples
///
/// ```no_run
/// let key = thicket_green::tls::load_private_key("/etc/thicket/key.pem")?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn load_private_key(path: impl AsRef<Path>) -> io::Result<PrivateKeyDer<'static>> {
    let path = path.as_ref();
    PrivateKeyDer::from_pem_file(path).map_err(|e| match e {
        pem::Error::NoItemsFound => io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "no private key (PKCS#8, PKCS#1 or SEC1 PEM section) found in {}",
                path.display()
            ),
        ),
        e => pem_error(e, "a private key", path),
    })
}

fn pem_error(e: pem::Error, what: &str, path: &Path) -> io::Error {
    let kind = match &e {
        pem::Error::Io(io) => io.kind(),
        _ => io::ErrorKind::InvalidData,
    };
    io::Error::new(
        kind,
        format!("cannot read {what} from {}: {e}", path.display()),
    )
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

fn alpn_list(alpn: &[&[u8]]) -> Vec<Vec<u8>> {
    alpn.iter().map(|p| p.to_vec()).collect()
}

fn config_error(what: &str, e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{what}: {e}"))
}

/// A server config from a certificate chain file (leaf first) and its private key file,
/// offering the ALPN protocols `alpn` in order of preference (`&[]` for none). Clients are
/// not asked for certificates.
///
/// # Errors
///
/// Those of [`load_certs`] and [`load_private_key`], and [`io::ErrorKind::InvalidData`] if
/// the key does not match the certificate or is of an unsupported type.
///
/// # Examples
///
/// ```no_run
/// use thicket_green::tls;
///
/// let config = tls::server_config("cert.pem", "key.pem", &[b"h2", b"http/1.1"])?;
/// assert_eq!(config.alpn_protocols.len(), 2);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn server_config(
    cert_path: impl AsRef<Path>,
    key_path: impl AsRef<Path>,
    alpn: &[&[u8]],
) -> io::Result<ServerConfig> {
    let (cert_path, key_path) = (cert_path.as_ref(), key_path.as_ref());
    let certs = load_certs(cert_path)?;
    let key = load_private_key(key_path)?;
    server_config_from_der(certs, key, alpn).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("{} and {}: {e}", cert_path.display(), key_path.display()),
        )
    })
}

/// A server config from a certificate chain (leaf first) and its private key already in
/// memory, offering the ALPN protocols `alpn` (`&[]` for none).
///
/// # Errors
///
/// [`io::ErrorKind::InvalidData`] if the key does not match the certificate or is of an
/// unsupported type.
pub fn server_config_from_der(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    alpn: &[&[u8]],
) -> io::Result<ServerConfig> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error("the ring provider supports no TLS version", e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| config_error("the certificate and key are not a usable identity", e))?;
    config.alpn_protocols = alpn_list(alpn);
    Ok(config)
}

/// A client config that trusts the CA certificates of a PEM file (and no others), offering
/// the ALPN protocols `alpn` (`&[]` for none).
///
/// # Errors
///
/// Those of [`load_certs`], and [`io::ErrorKind::InvalidData`] if a certificate cannot be
/// used as a trust anchor.
///
/// # Examples
///
/// ```no_run
/// let config = thicket_green::tls::client_config_with_ca("ca.pem", &[b"http/1.1"])?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn client_config_with_ca(
    ca_path: impl AsRef<Path>,
    alpn: &[&[u8]],
) -> io::Result<ClientConfig> {
    let ca_path = ca_path.as_ref();
    let mut roots = RootCertStore::empty();
    for (i, cert) in load_certs(ca_path)?.into_iter().enumerate() {
        roots.add(cert).map_err(|e| {
            config_error(
                &format!(
                    "certificate {} of {} is not usable as a trust anchor",
                    i + 1,
                    ca_path.display()
                ),
                e,
            )
        })?;
    }
    client_config(roots, alpn)
}

/// A client config that trusts the CAs of `roots`, offering the ALPN protocols `alpn`
/// (`&[]` for none).
///
/// # Errors
///
/// [`io::ErrorKind::InvalidData`] if the ring provider cannot be used (it always can with
/// the rustls this crate is built with).
///
/// # Examples
///
/// ```
/// use thicket_green::tls::{self, RootCertStore};
///
/// let config = tls::client_config(RootCertStore::empty(), &[b"h2", b"http/1.1"])?;
/// assert_eq!(config.alpn_protocols, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn client_config(roots: RootCertStore, alpn: &[&[u8]]) -> io::Result<ClientConfig> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error("the ring provider supports no TLS version", e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn_list(alpn);
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `contents` to a file of its own, removed when the guard drops.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn new(name: &str, contents: &str) -> TempFile {
            let path = std::env::temp_dir()
                .join(format!("thicket-tls-unit-{}-{name}", std::process::id()));
            std::fs::write(&path, contents).unwrap();
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn missing_file_keeps_its_kind_and_names_the_path() {
        let e = load_certs("/nonexistent/thicket/cert.pem").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound, "{e}");
        assert!(
            e.to_string().contains("/nonexistent/thicket/cert.pem"),
            "{e}"
        );
        let e = load_private_key("/nonexistent/thicket/key.pem").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound, "{e}");
    }

    #[test]
    fn file_without_items_is_invalid_data() {
        let file = TempFile::new("empty.pem", "not a pem file\n");
        let e = load_certs(&file.0).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("no certificate"), "{e}");
        let e = load_private_key(&file.0).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("no private key"), "{e}");
    }

    #[test]
    fn malformed_pem_is_invalid_data() {
        let file = TempFile::new("broken.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n");
        let e = load_certs(&file.0).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("broken.pem"), "{e}");
    }

    #[test]
    fn alpn_protocols_are_kept_in_order() {
        let config = client_config(RootCertStore::empty(), &[b"h2", b"http/1.1"]).unwrap();
        assert_eq!(
            config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
    }
}
