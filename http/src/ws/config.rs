//! [`Config`]: the settings of WebSocket connections, both sides.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::codec::Limits;
use crate::Request;

/// A custom origin check: the `Origin` value and the handshake request.
pub type OriginFn = Arc<dyn Fn(&str, &Request) -> bool + Send + Sync>;

/// Which browser origins a server accepts (the `Origin` header of the
/// handshake; RFC 6455 §10.2).
///
/// Browsers send `Origin` on every WebSocket handshake, and a page from any
/// site may open a socket to any server, with the user's cookies: checking
/// the origin is what stops another site's page from using a logged-in
/// user's session (cross-site WebSocket hijacking). Clients that are not
/// browsers usually send no `Origin`; a handshake without one is always
/// accepted (such a client could send any origin it liked anyway).
#[derive(Clone)]
pub enum OriginCheck {
    /// The default: the origin's host and port must be those of the
    /// request's `Host` header (a page served by this same server), or the
    /// origin must be one of these, compared without regard to case, such
    /// as `"https://app.example.com"`.
    SameHostOr(Vec<String>),
    /// Any origin (for a public API that uses no cookies).
    Any,
    /// A function of the origin and the request decides.
    Custom(OriginFn),
}

impl OriginCheck {
    /// Whether the handshake `req` with `Origin: origin` is accepted.
    pub fn allows(&self, origin: &str, req: &Request) -> bool {
        match self {
            OriginCheck::Any => true,
            OriginCheck::Custom(f) => f(origin, req),
            OriginCheck::SameHostOr(list) => {
                list.iter().any(|o| o.eq_ignore_ascii_case(origin))
                    || req
                        .headers()
                        .get(http::header::HOST)
                        .and_then(|h| h.to_str().ok())
                        .is_some_and(|host| same_host(origin, host))
            }
        }
    }
}

impl fmt::Debug for OriginCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OriginCheck::SameHostOr(list) => f.debug_tuple("SameHostOr").field(list).finish(),
            OriginCheck::Any => f.write_str("Any"),
            OriginCheck::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// Whether `origin` (`scheme://host[:port]`) names the host and port of a
/// `Host` header value; a missing port is the scheme's default.
fn same_host(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false; // "null", or garbage
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => 80,
        "https" | "wss" => 443,
        _ => return false,
    };
    let split = |s: &str| -> Option<(String, u16)> {
        let s = s.trim().to_ascii_lowercase();
        // An IPv6 literal keeps its brackets; its port follows "]:".
        let (h, p) = match s.rfind(':') {
            Some(i) if !s[i..].contains(']') => (s[..i].to_owned(), Some(&s[i + 1..])),
            _ => (s.clone(), None),
        };
        let port = match p {
            Some(p) => p.parse().ok()?,
            None => default_port,
        };
        (!h.is_empty()).then_some((h, port))
    };
    match (split(authority), split(host)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The settings of WebSocket connections: limits, subprotocols,
/// compression, timeouts, and the origin policy of a server. Cheap to
/// clone; build it once and share it.
///
/// | setting | default |
/// | --- | --- |
/// | [`max_message_size`](Self::max_message_size) | 16 MiB (after decompression) |
/// | [`max_frame_size`](Self::max_frame_size) | 16 MiB |
/// | [`protocols`](Self::protocols) | none |
/// | [`compression`](Self::compression) | on (permessage-deflate, level 6) |
/// | [`origin`](Self::origin) | [`OriginCheck::SameHostOr`] with no extra origins |
/// | [`ping_interval`](Self::ping_interval) | none |
/// | [`close_timeout`](Self::close_timeout) | 5 s |
/// | [`write_timeout`](Self::write_timeout) | 30 s |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use thicket_http::ws::Config;
///
/// let config = Config::new()
///     .protocols(["chat.v2", "chat.v1"])
///     .max_message_size(1 << 20)
///     .allow_origin("https://app.example.com")
///     .ping_interval(Some(Duration::from_secs(20)));
/// # drop(config);
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) limits: Limits,
    pub(crate) protocols: Vec<String>,
    pub(crate) compression: bool,
    pub(crate) compression_level: u32,
    pub(crate) origin: OriginCheck,
    pub(crate) ping_interval: Option<Duration>,
    pub(crate) close_timeout: Duration,
    pub(crate) write_timeout: Option<Duration>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            limits: Limits::default(),
            protocols: Vec::new(),
            compression: true,
            compression_level: 6,
            origin: OriginCheck::SameHostOr(Vec::new()),
            ping_interval: None,
            close_timeout: Duration::from_secs(5),
            write_timeout: Some(Duration::from_secs(30)),
        }
    }
}

impl Config {
    /// The defaults (see the table above).
    pub fn new() -> Config {
        Config::default()
    }

    /// The largest message accepted, after decompression (default 16 MiB).
    /// A larger one fails the connection with close code 1009.
    #[must_use]
    pub fn max_message_size(mut self, bytes: usize) -> Config {
        self.limits.max_message = bytes;
        self
    }

    /// The largest frame accepted (default 16 MiB); 1009 beyond it.
    #[must_use]
    pub fn max_frame_size(mut self, bytes: u64) -> Config {
        self.limits.max_frame = bytes;
        self
    }

    /// Subprotocols (`Sec-WebSocket-Protocol`), most preferred first. A
    /// server picks the first of these that the client offered (none if
    /// the client offered none of them: the handshake still succeeds and
    /// the client decides); a client offers them all and fails the
    /// handshake if the server picks another.
    #[must_use]
    pub fn protocols<I, S>(mut self, protocols: I) -> Config
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Whether to use permessage-deflate when the peer agrees (default on):
    /// a client offers it, a server accepts an offer it can honour
    /// (`server_max_window_bits` from 9 to 15, either side's
    /// `no_context_takeover`; an offer of an 8-bit window is declined,
    /// which zlib cannot produce). Browsers offer it.
    ///
    /// The compression state is made when the first message goes each way:
    /// about 300 KiB to send with a 15-bit window and 40 KiB to receive,
    /// kept for the life of the connection. For many connections that each
    /// carry little, turn it off.
    #[must_use]
    pub fn compression(mut self, on: bool) -> Config {
        self.compression = on;
        self
    }

    /// The deflate level, 0 (store) to 9 (smallest); default 6.
    #[must_use]
    pub fn compression_level(mut self, level: u32) -> Config {
        self.compression_level = level.min(9);
        self
    }

    /// How a server checks the `Origin` of a handshake (default: the same
    /// host as the `Host` header); a refused origin gets `403 Forbidden`.
    #[must_use]
    pub fn origin(mut self, check: OriginCheck) -> Config {
        self.origin = check;
        self
    }

    /// Accepts `origin` (`"https://app.example.com"`) besides the server's
    /// own host; `"*"` accepts any. Turns a custom check back into the
    /// default one.
    #[must_use]
    pub fn allow_origin(mut self, origin: impl Into<String>) -> Config {
        let origin = origin.into();
        if origin == "*" {
            self.origin = OriginCheck::Any;
            return self;
        }
        match &mut self.origin {
            OriginCheck::SameHostOr(list) => list.push(origin),
            OriginCheck::Any => {}
            OriginCheck::Custom(_) => self.origin = OriginCheck::SameHostOr(vec![origin]),
        }
        self
    }

    /// Keep-alive: when nothing has arrived for this long, send a ping; if
    /// nothing arrives within the same time again, the peer is taken for
    /// dead: `recv` fails with `TimedOut` and the connection is closed.
    /// Pings are sent by the green thread in `recv`. Default: none.
    #[must_use]
    pub fn ping_interval(mut self, every: Option<Duration>) -> Config {
        self.ping_interval = every;
        self
    }

    /// How long the closing handshake may take: waiting for the peer's
    /// close frame after sending ours, and for the TCP connection to end
    /// (default 5 s).
    #[must_use]
    pub fn close_timeout(mut self, d: Duration) -> Config {
        self.close_timeout = d;
        self
    }

    /// How long one write may wait for the peer to take data (default
    /// 30 s); past it the send fails and the connection is closed.
    #[must_use]
    pub fn write_timeout(mut self, d: Option<Duration>) -> Config {
        self.write_timeout = d;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BodyReader;

    fn req(host: &str) -> Request {
        http::Request::builder()
            .header("host", host)
            .body(BodyReader::empty())
            .unwrap()
    }

    #[test]
    fn same_host_table() {
        let cases = [
            ("http://localhost:8080", "localhost:8080", true),
            ("http://LOCALHOST:8080", "localhost:8080", true),
            ("http://localhost:8080", "localhost:8081", false),
            ("http://example.com", "example.com", true),
            ("http://example.com", "example.com:80", true),
            ("https://example.com", "example.com:443", true),
            ("https://example.com", "example.com:80", false),
            ("http://evil.com", "example.com", false),
            ("http://example.com.evil.com", "example.com", false),
            ("http://[::1]:9000", "[::1]:9000", true),
            ("http://[::1]", "[::1]:80", true),
            ("null", "example.com", false),
            ("file://", "example.com", false),
        ];
        for (origin, host, want) in cases {
            assert_eq!(same_host(origin, host), want, "{origin} vs {host}");
        }
    }

    #[test]
    fn origin_policies() {
        let r = req("app.local:8000");
        let default = Config::new().origin;
        assert!(default.allows("http://app.local:8000", &r));
        assert!(!default.allows("http://other.local:8000", &r));
        let listed = Config::new().allow_origin("https://other.local").origin;
        assert!(listed.allows("HTTPS://other.local", &r));
        assert!(listed.allows("http://app.local:8000", &r));
        assert!(Config::new()
            .allow_origin("*")
            .origin
            .allows("http://x", &r));
        let custom = OriginCheck::Custom(Arc::new(|o, _| o.ends_with(".trusted")));
        assert!(custom.allows("https://a.trusted", &r));
        assert!(!custom.allows("http://app.local:8000", &r));
    }
}
