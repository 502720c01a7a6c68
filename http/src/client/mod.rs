//! The HTTP/1.1 client: blocking-style calls that park only the calling
//! green thread, with a keep-alive pool, redirects, timeouts and HTTPS.
//!
//! - [`Client`] holds the settings and the connection pool. It is cheap to
//!   clone (clones share the pool) and `Send + Sync`: use one from any green
//!   thread on any hub, or from plain code.
//! - [`RequestBuilder`] (from [`Client::get`], [`Client::post`], ...) sets
//!   headers, a query, a [`Body`] or JSON, and a timeout, then
//!   [`send`](RequestBuilder::send)s.
//! - [`Response`] is an `http::Response<BodyReader>`: the body streams from
//!   the connection, which returns to the pool when the body has been read
//!   to its end.
//!
//! Redirects are followed (10 at most by default): `303` turns any method
//! but `HEAD` into `GET`, `301` and `302` turn `POST` into `GET`, and `307`
//! and `308` resend the method and body (when the body is in memory; a
//! streamed body cannot be sent twice, so the redirect response is returned
//! instead). `Authorization`, `Cookie` and `Proxy-Authorization` are not
//! sent to another origin.
//!
//! A request on a pooled connection that the server had closed while it was
//! idle is retried once on a new connection if it is idempotent (`GET`,
//! `HEAD`, `PUT`, `DELETE`, `OPTIONS`, `TRACE`) or was not written at all.
//!
//! # Examples
//!
//! A server on a green thread answering one request, and the client in
//! `main`:
//!
//! ```
//! use std::io::{Read, Write};
//! use thicket_green::net::TcpListener;
//! use thicket_http::Client;
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let url = format!("http://{}/hello", listener.local_addr()?);
//! thicket_green::spawn(move || {
//!     let (mut conn, _) = listener.accept().unwrap();
//!     let mut buf = [0; 1024];
//!     let _ = conn.read(&mut buf).unwrap(); // a short GET fits in one read
//!     conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello").unwrap();
//! });
//!
//! let client = Client::new();
//! let resp = client.get(&url).header("x-trace", "1").send()?;
//! assert_eq!(resp.status(), 200);
//! assert_eq!(resp.text()?, "hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod conn;
mod exec;
mod pool;
mod redirect;
mod request;
mod response;
mod stream;
pub(crate) mod target;

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderMap, HeaderValue, ACCEPT, USER_AGENT};
use http::Method;
use thicket_green::tls::{self, CertificateDer, ClientConfig, RootCertStore};

use self::pool::{Pool, PoolConfig};
use crate::body::Body;
use crate::error::{Error, ErrorKind};
use crate::proto::Limits;

pub use self::request::{IntoUrl, RequestBuilder};
pub use self::response::Response;

/// The default limit of [`Response::bytes`], [`text`](Response::text) and
/// [`json`](Response::json): 16 MiB.
pub const DEFAULT_MAX_BODY: usize = 16 * 1024 * 1024;

/// The `User-Agent` sent unless another is set.
pub const DEFAULT_USER_AGENT: &str = concat!("thicket/", env!("CARGO_PKG_VERSION"));

/// An HTTP/1.1 client with a keep-alive connection pool.
///
/// Cheap to clone: clones share the settings and the pool, so make one
/// client and pass clones around. Every call blocks only the calling green
/// thread (or, from plain code, drives the thread's hub until it is done).
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use thicket_http::Client;
///
/// let client = Client::builder()
///     .timeout(Duration::from_secs(10))
///     .max_redirects(3)
///     .build()?;
/// let body = client.get("http://127.0.0.1:8080/").send()?.error_for_status()?.text()?;
/// # Ok::<(), thicket_http::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

pub(crate) struct ClientInner {
    pub config: Config,
    pub pool: Pool,
}

/// The settings a [`ClientBuilder`] makes.
#[derive(Clone)]
pub(crate) struct Config {
    pub connect_timeout: Option<Duration>,
    pub read_timeout: Option<Duration>,
    pub timeout: Option<Duration>,
    pub max_redirects: usize,
    pub limits: Limits,
    pub max_body: usize,
    pub default_headers: HeaderMap,
    pub tls: Arc<ClientConfig>,
    pub expect_continue: Option<u64>,
    pub nodelay: bool,
    pub keep_alive: bool,
}

impl Client {
    /// A client with the default settings (see [`ClientBuilder`]).
    ///
    /// # Panics
    ///
    /// If the TLS configuration cannot be built, which does not happen with
    /// the defaults ([`ClientBuilder::build`] reports it as an error).
    pub fn new() -> Client {
        ClientBuilder::new()
            .build()
            .expect("the default client settings are valid")
    }

    /// A builder to change the settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A `GET` request to `url`.
    pub fn get(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// A `POST` request to `url`.
    pub fn post(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// A `PUT` request to `url`.
    pub fn put(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::PUT, url)
    }

    /// A `PATCH` request to `url`.
    pub fn patch(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::PATCH, url)
    }

    /// A `DELETE` request to `url`.
    pub fn delete(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }

    /// A `HEAD` request to `url`.
    pub fn head(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::HEAD, url)
    }

    /// A request with any method to `url`. An invalid URL is reported by
    /// [`send`](RequestBuilder::send).
    pub fn request(&self, method: Method, url: impl IntoUrl) -> RequestBuilder {
        RequestBuilder::new(self.clone(), method, url.into_uri())
    }

    /// Sends a request built with the `http` crate, following redirects
    /// and applying the client's timeouts.
    ///
    /// # Errors
    ///
    /// As for [`RequestBuilder::send`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use thicket_http::{Body, Client};
    ///
    /// let req = http::Request::put("http://127.0.0.1:8080/notes/1")
    ///     .header("content-type", "text/plain")
    ///     .body(Body::from("remember the milk"))
    ///     .unwrap();
    /// let resp = Client::new().send(req)?;
    /// # Ok::<(), thicket_http::Error>(())
    /// ```
    pub fn send(&self, req: http::Request<Body>) -> Result<Response, Error> {
        let (parts, body) = req.into_parts();
        let mut b = RequestBuilder::new(self.clone(), parts.method, Ok(parts.uri));
        *b.headers_mut() = parts.headers;
        b.body(body).send()
    }

    /// Closes every idle pooled connection.
    pub fn close_idle_connections(&self) {
        self.inner.pool.clear_idle();
    }

    pub(crate) fn inner(&self) -> &ClientInner {
        &self.inner
    }
}

impl Default for Client {
    fn default() -> Client {
        Client::new()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.inner.config;
        f.debug_struct("Client")
            .field("connect_timeout", &c.connect_timeout)
            .field("read_timeout", &c.read_timeout)
            .field("timeout", &c.timeout)
            .field("max_redirects", &c.max_redirects)
            .finish_non_exhaustive()
    }
}

/// Settings for a [`Client`]. The defaults:
///
/// | setting | default |
/// | --- | --- |
/// | [`connect_timeout`](Self::connect_timeout) | 30 s (DNS, TCP and TLS) |
/// | [`read_timeout`](Self::read_timeout) | none (each read and write) |
/// | [`timeout`](Self::timeout) | none (the whole request, body included) |
/// | [`pool_idle_timeout`](Self::pool_idle_timeout) | 90 s |
/// | [`pool_max_idle_per_host`](Self::pool_max_idle_per_host) | 32 |
/// | [`max_connections_per_host`](Self::max_connections_per_host) | no limit |
/// | [`max_redirects`](Self::max_redirects) | 10 |
/// | [`max_response_head`](Self::max_response_head) | 64 KiB, 100 fields |
/// | [`max_body_size`](Self::max_body_size) | 16 MiB ([`DEFAULT_MAX_BODY`]) |
/// | roots of trust | Mozilla's (feature `webpki-roots`), plus any added |
/// | headers | `User-Agent: thicket/<version>`, `Accept: */*` |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use thicket_http::Client;
///
/// let client = Client::builder()
///     .connect_timeout(Duration::from_secs(2))
///     .read_timeout(Duration::from_secs(5))
///     .pool_max_idle_per_host(4)
///     .max_connections_per_host(8)
///     .user_agent("scraper/1.0")
///     .build()?;
/// # drop(client);
/// # Ok::<(), thicket_http::Error>(())
/// ```
pub struct ClientBuilder {
    config: Config,
    pool: PoolConfig,
    built_in_roots: bool,
    roots: Vec<CertificateDer<'static>>,
    tls: Option<Arc<ClientConfig>>,
    error: Option<Error>,
}

impl ClientBuilder {
    /// The default settings.
    pub fn new() -> ClientBuilder {
        let mut default_headers = HeaderMap::new();
        default_headers.insert(USER_AGENT, HeaderValue::from_static(DEFAULT_USER_AGENT));
        default_headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        ClientBuilder {
            config: Config {
                connect_timeout: Some(Duration::from_secs(30)),
                read_timeout: None,
                timeout: None,
                max_redirects: 10,
                limits: Limits::default(),
                max_body: DEFAULT_MAX_BODY,
                default_headers,
                // Replaced in `build`.
                tls: Arc::new(
                    tls::client_config(RootCertStore::empty(), &[]).expect("ring is built in"),
                ),
                expect_continue: None,
                nodelay: true,
                keep_alive: true,
            },
            pool: PoolConfig {
                idle_timeout: Some(Duration::from_secs(90)),
                max_idle_per_host: 32,
                max_per_host: None,
            },
            built_in_roots: cfg!(feature = "webpki-roots"),
            roots: Vec::new(),
            tls: None,
            error: None,
        }
    }

    /// How long connecting may take: name resolution, TCP and the TLS
    /// handshake, each bounded by it. `None`: no limit of its own.
    pub fn connect_timeout(mut self, t: impl Into<Option<Duration>>) -> Self {
        self.config.connect_timeout = t.into();
        self
    }

    /// How long each read (and each write) may wait for the server.
    pub fn read_timeout(mut self, t: impl Into<Option<Duration>>) -> Self {
        self.config.read_timeout = t.into();
        self
    }

    /// How long a whole request may take, from connecting to the end of the
    /// response body, redirects included (a request can set its own with
    /// [`RequestBuilder::timeout`]).
    pub fn timeout(mut self, t: impl Into<Option<Duration>>) -> Self {
        self.config.timeout = t.into();
        self
    }

    /// How long an idle connection is kept for reuse; `None`: until the
    /// server closes it. There is no reaper thread: expired connections are
    /// closed by the next request to the client (at most once a second for
    /// all hosts), or by [`Client::close_idle_connections`].
    pub fn pool_idle_timeout(mut self, t: impl Into<Option<Duration>>) -> Self {
        self.pool.idle_timeout = t.into();
        self
    }

    /// At most `n` idle connections kept per host; 0 turns keep-alive off
    /// (every request then says `Connection: close`).
    pub fn pool_max_idle_per_host(mut self, n: usize) -> Self {
        self.pool.max_idle_per_host = n;
        self.config.keep_alive = n > 0;
        self
    }

    /// At most `n` connections open to one host at once; further requests
    /// wait (until the total timeout) for one to be free.
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    pub fn max_connections_per_host(mut self, n: usize) -> Self {
        assert!(n > 0, "max_connections_per_host must be at least 1");
        self.pool.max_per_host = Some(n);
        self
    }

    /// Follow at most `n` redirects; 0 returns redirect responses as they
    /// are.
    pub fn max_redirects(mut self, n: usize) -> Self {
        self.config.max_redirects = n;
        self
    }

    /// The largest response head accepted, in bytes, and the most header
    /// fields.
    pub fn max_response_head(mut self, bytes: usize, fields: usize) -> Self {
        self.config.limits.max_head = bytes;
        self.config.limits.max_line = self.config.limits.max_line.min(bytes);
        self.config.limits.max_headers = fields;
        self
    }

    /// The longest body [`Response::bytes`], [`text`](Response::text) and
    /// [`json`](Response::json) read (streaming through the
    /// [`BodyReader`](crate::BodyReader) has no limit).
    pub fn max_body_size(mut self, bytes: usize) -> Self {
        self.config.max_body = bytes;
        self
    }

    /// The `User-Agent` field (default `thicket/<version>`).
    pub fn user_agent(mut self, value: impl AsRef<str>) -> Self {
        match HeaderValue::from_str(value.as_ref()) {
            Ok(v) => {
                self.config.default_headers.insert(USER_AGENT, v);
            }
            Err(e) => self.fail(Error::with_source(
                ErrorKind::InvalidRequest,
                format!("invalid User-Agent {:?}", value.as_ref()),
                e,
            )),
        }
        self
    }

    /// Fields sent with every request (a request's own fields of the same
    /// name replace them).
    pub fn default_headers(mut self, headers: HeaderMap) -> Self {
        for name in headers.keys() {
            self.config.default_headers.remove(name);
        }
        for (name, value) in &headers {
            self.config
                .default_headers
                .append(name.clone(), value.clone());
        }
        self
    }

    /// Sends `Expect: 100-continue` before a body of at least `threshold`
    /// bytes (or of unknown length) and waits up to a second for the server
    /// to accept it, so that a refused upload is not sent. Off by default.
    pub fn expect_continue(mut self, threshold: impl Into<Option<u64>>) -> Self {
        self.config.expect_continue = threshold.into();
        self
    }

    /// Sets `TCP_NODELAY` on connections (default: on).
    pub fn tcp_nodelay(mut self, on: bool) -> Self {
        self.config.nodelay = on;
        self
    }

    /// Trusts `cert` as a root certificate authority, besides the bundled
    /// roots.
    pub fn add_root_certificate(mut self, cert: CertificateDer<'static>) -> Self {
        self.roots.push(cert);
        self
    }

    /// Trusts the CA certificates of a PEM file.
    pub fn add_root_certificates_pem(mut self, path: impl AsRef<Path>) -> Self {
        match tls::load_certs(path.as_ref()) {
            Ok(certs) => self.roots.extend(certs),
            Err(e) => self.fail(Error::with_source(
                ErrorKind::Tls,
                format!(
                    "cannot load CA certificates from {}: {e}",
                    path.as_ref().display()
                ),
                e,
            )),
        }
        self
    }

    /// Whether to trust the bundled Mozilla roots (feature `webpki-roots`,
    /// on by default). Off: only certificates added here are trusted.
    pub fn tls_built_in_root_certs(mut self, on: bool) -> Self {
        self.built_in_roots = on;
        self
    }

    /// A rustls configuration of your own (client certificates, custom
    /// verification...); the root settings here are then ignored. Its ALPN
    /// list is replaced by `http/1.1`.
    pub fn tls_config(mut self, config: impl Into<Arc<ClientConfig>>) -> Self {
        self.tls = Some(config.into());
        self
    }

    fn fail(&mut self, e: Error) {
        self.error.get_or_insert(e);
    }

    /// The client.
    ///
    /// # Errors
    ///
    /// An invalid setting given earlier ([`ErrorKind::InvalidRequest`]), a
    /// CA file that could not be read or a certificate that cannot be a
    /// root ([`ErrorKind::Tls`]).
    pub fn build(mut self) -> Result<Client, Error> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let alpn: &[&[u8]] = &[b"http/1.1"];
        let tls = match self.tls.take() {
            Some(c) => {
                let mut c = (*c).clone();
                c.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
                c
            }
            None => {
                let mut roots = RootCertStore::empty();
                #[cfg(feature = "webpki-roots")]
                if self.built_in_roots {
                    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                }
                for (i, cert) in self.roots.drain(..).enumerate() {
                    roots.add(cert).map_err(|e| {
                        Error::with_source(
                            ErrorKind::Tls,
                            format!(
                                "root certificate {} cannot be used as a trust anchor",
                                i + 1
                            ),
                            e,
                        )
                    })?;
                }
                tls::client_config(roots, alpn)
                    .map_err(|e| Error::with_source(ErrorKind::Tls, "TLS configuration", e))?
            }
        };
        self.config.tls = Arc::new(tls);
        Ok(Client {
            inner: Arc::new(ClientInner {
                config: self.config,
                pool: Pool::new(self.pool),
            }),
        })
    }
}

impl Default for ClientBuilder {
    fn default() -> ClientBuilder {
        ClientBuilder::new()
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_is_send_sync_and_cheap_to_clone() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<Client>();
        let c = Client::new();
        let d = c.clone();
        assert!(Arc::ptr_eq(&c.inner, &d.inner));
    }

    #[test]
    fn builder_reports_bad_settings() {
        let e = Client::builder()
            .user_agent("bad\nagent")
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidRequest);
        let e = Client::builder()
            .add_root_certificates_pem("/nonexistent/ca.pem")
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Tls);
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    }

    #[test]
    fn alpn_is_http_1_1() {
        let c = Client::new();
        assert_eq!(
            c.inner.config.tls.alpn_protocols,
            vec![b"http/1.1".to_vec()]
        );
    }
}
