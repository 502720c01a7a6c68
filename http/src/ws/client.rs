//! The client side: [`connect`] and [`Connector`] open `ws://` and `wss://`
//! URLs.

use std::fmt;
use std::io::{Read, Write};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::Uri;
use thicket_green::net::TcpStream;
use thicket_green::tls::{self, ClientConfig};

use super::codec::Role;
use super::config::Config;
use super::deflate;
use super::handshake;
use super::socket::{Agreement, WebSocket};
use crate::error::{Error, ErrorKind};
use crate::transport::Transport;
use crate::Client;

const MAX_RESPONSE_HEAD: usize = 64 * 1024;

/// Opens a WebSocket to `url` (`ws://host[:port]/path?query` or `wss://`)
/// with the default [`Config`], trusting the roots an HTTP
/// [`Client`] trusts by default.
///
/// # Errors
///
/// As for [`Connector::connect`].
///
/// # Examples
///
/// ```no_run
/// use thicket_http::ws::{self, Message};
///
/// let mut socket = ws::connect("wss://echo.example.com/")?;
/// socket.send(Message::text("hi"))?;
/// println!("{:?}", socket.recv()?);
/// # Ok::<(), thicket_http::Error>(())
/// ```
pub fn connect(url: &str) -> Result<WebSocket, Error> {
    Connector::new(url).connect()
}

/// A client handshake with options: the [`Config`], extra request headers
/// (`Origin`, `Authorization`, cookies), the TLS settings and a timeout.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use thicket_http::ws::{Config, Connector};
///
/// let socket = Connector::new("ws://127.0.0.1:8080/chat")
///     .config(Config::new().protocols(["chat.v1"]))
///     .header("origin", "http://127.0.0.1:8080")
///     .timeout(Duration::from_secs(5))
///     .connect()?;
/// assert_eq!(socket.protocol(), Some("chat.v1"));
/// # Ok::<(), thicket_http::Error>(())
/// ```
pub struct Connector {
    url: String,
    config: Config,
    headers: HeaderMap,
    tls: Option<Arc<ClientConfig>>,
    timeout: Option<Duration>,
    error: Option<Error>,
}

impl Connector {
    /// A handshake to `url`, with the defaults: [`Config::new`], the
    /// default roots of trust, a 30 s limit on connecting and the
    /// handshake.
    pub fn new(url: impl Into<String>) -> Connector {
        Connector {
            url: url.into(),
            config: Config::new(),
            headers: HeaderMap::new(),
            tls: None,
            timeout: Some(Duration::from_secs(30)),
            error: None,
        }
    }

    /// The settings of the connection.
    #[must_use]
    pub fn config(mut self, config: Config) -> Connector {
        self.config = config;
        self
    }

    /// A header field for the handshake request (the handshake's own
    /// fields cannot be replaced).
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Connector {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(v)) => {
                self.headers.append(n, v);
            }
            _ => {
                self.error.get_or_insert(Error::new(
                    ErrorKind::InvalidRequest,
                    format!("invalid header field {name}: {value:?}"),
                ));
            }
        }
        self
    }

    /// The TLS settings of `client` (its roots of trust, client
    /// certificates) for `wss://`.
    #[must_use]
    pub fn client(mut self, client: &Client) -> Connector {
        self.tls = Some(client.inner().config.tls.clone());
        self
    }

    /// A rustls configuration of your own for `wss://`.
    #[must_use]
    pub fn tls_config(mut self, config: impl Into<Arc<ClientConfig>>) -> Connector {
        self.tls = Some(config.into());
        self
    }

    /// The limit on name resolution, connecting, TLS and the handshake
    /// together (default 30 s); `None` for none.
    #[must_use]
    pub fn timeout(mut self, t: impl Into<Option<Duration>>) -> Connector {
        self.timeout = t.into();
        self
    }

    /// Connects and completes the handshake.
    ///
    /// # Errors
    ///
    /// `InvalidRequest` for a URL that is not `ws://` or `wss://` with a
    /// host; `Connect` when connecting fails; `Tls`; `TimedOut` past the
    /// timeout; `Status` when the server answers other than `101`, `Parse`
    /// when its `101` is not a valid WebSocket answer (wrong accept key, a
    /// subprotocol or extension that was not offered).
    pub fn connect(mut self) -> Result<WebSocket, Error> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        match self.timeout {
            Some(t) => thicket_green::with_timeout(t, || self.handshake()).unwrap_or_else(|_| {
                Err(Error::new(
                    ErrorKind::TimedOut,
                    format!("the WebSocket handshake with {} took over {t:?}", self.url),
                ))
            }),
            None => self.handshake(),
        }
    }

    fn handshake(&self) -> Result<WebSocket, Error> {
        let invalid =
            |why: &str| Error::new(ErrorKind::InvalidRequest, format!("{why}: {:?}", self.url));
        let uri: Uri = self.url.parse().map_err(|_| invalid("not a valid URL"))?;
        let secure = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("ws" | "http") => false,
            Some("wss" | "https") => true,
            _ => return Err(invalid("a WebSocket URL starts with ws:// or wss://")),
        };
        let authority = uri
            .authority()
            .ok_or_else(|| invalid("the URL has no host"))?;
        if authority.as_str().contains('@') {
            return Err(invalid("credentials in URLs are not supported"));
        }
        let host = authority.host();
        let bare = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = authority
            .port_u16()
            .unwrap_or(if secure { 443 } else { 80 });
        let target = uri.path_and_query().map_or("/", |p| p.as_str());

        let tcp = TcpStream::connect((bare.clone(), port)).map_err(|e| {
            Error::with_source(
                ErrorKind::Connect,
                format!("cannot connect to {}: {e}", authority),
                e,
            )
        })?;
        let _ = tcp.set_nodelay(true);
        let mut io = if secure {
            let config = self.tls.clone().unwrap_or_else(default_tls);
            let s = tls::wrap_client(tcp, &bare, config)
                .map_err(|e| Error::from_io(&format!("TLS with {authority}"), e))?;
            Transport::Tls(Box::new(s))
        } else {
            Transport::Tcp(tcp)
        };

        let key = handshake::new_key()
            .map_err(|e| Error::with_source(ErrorKind::Io, "no randomness for a key", e))?;
        let mut req = format!(
            "GET {target} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n",
            authority.as_str()
        );
        if !self.config.protocols.is_empty() {
            req.push_str(&format!(
                "Sec-WebSocket-Protocol: {}\r\n",
                self.config.protocols.join(", ")
            ));
        }
        if self.config.compression {
            req.push_str(&format!(
                "Sec-WebSocket-Extensions: {}\r\n",
                deflate::CLIENT_OFFER
            ));
        }
        let mut head = req.into_bytes();
        for (name, value) in &self.headers {
            head.extend_from_slice(name.as_str().as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(b"\r\n");
        io.write_all(&head)
            .and_then(|()| io.flush())
            .map_err(|e| Error::from_io("sending the WebSocket handshake", e))?;

        let (status, headers, rest) = read_response_head(&mut io)?;
        let agreed =
            handshake::check_response(status, &headers, &key, &self.config).map_err(|why| {
                let kind = if status == 101 {
                    ErrorKind::Parse
                } else {
                    ErrorKind::Status
                };
                Error::new(
                    kind,
                    format!("WebSocket handshake with {}: {why}", self.url),
                )
            })?;
        WebSocket::from_transport(
            io,
            rest,
            Agreement {
                role: Role::Client,
                protocol: agreed.protocol,
                deflate: agreed.deflate,
            },
            &self.config,
        )
        .map_err(|e| Error::from_io("starting the WebSocket", e))
    }
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("url", &self.url)
            .field("config", &self.config)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The roots an HTTP client trusts by default, built once.
fn default_tls() -> Arc<ClientConfig> {
    static TLS: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    TLS.get_or_init(|| Client::new().inner().config.tls.clone())
        .clone()
}

/// Reads the server's answer up to its blank line: the status, the fields,
/// and the bytes that came after (the first frames, already).
fn read_response_head(io: &mut Transport) -> Result<(u16, HeaderMap, Bytes), Error> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = io
            .read(&mut chunk)
            .map_err(|e| Error::from_io("reading the WebSocket handshake answer", e))?;
        if n == 0 {
            return Err(Error::new(
                ErrorKind::Closed,
                "the server closed the connection during the WebSocket handshake",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut fields = [httparse::EMPTY_HEADER; 64];
        let mut resp = httparse::Response::new(&mut fields);
        match resp.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let status = resp.code.unwrap_or(0);
                let mut headers = HeaderMap::new();
                for f in resp.headers.iter() {
                    if let (Ok(n), Ok(v)) = (
                        HeaderName::from_bytes(f.name.as_bytes()),
                        HeaderValue::from_bytes(f.value),
                    ) {
                        headers.append(n, v);
                    }
                }
                let rest = Bytes::copy_from_slice(&buf[len..]);
                return Ok((status, headers, rest));
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_RESPONSE_HEAD => {}
            Ok(httparse::Status::Partial) => {
                return Err(Error::new(
                    ErrorKind::TooLarge,
                    format!("the WebSocket handshake answer is over {MAX_RESPONSE_HEAD} bytes"),
                ))
            }
            Err(e) => {
                return Err(Error::with_source(
                    ErrorKind::Parse,
                    format!("the WebSocket handshake answer is not HTTP: {e}"),
                    e,
                ))
            }
        }
    }
}
