//! The opening handshake (RFC 6455 §4): checking a client's request on the
//! server and answering it ([`upgrade`]), and the client's check of the
//! server's answer. Only `upgrade` touches a connection.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Version};

use super::codec::Role;
use super::config::Config;
use super::deflate::{self, Params};
use super::socket::{Agreement, WebSocket};
use crate::{Body, Request, Response};

/// The GUID of RFC 6455 §1.3, appended to the key before hashing.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64 of the SHA-1
/// of the key and the protocol's GUID.
///
/// # Examples
///
/// ```
/// // RFC 6455 §1.3.
/// assert_eq!(
///     thicket_http::ws::accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
///     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
/// );
/// ```
pub fn accept_key(key: &str) -> String {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key.trim().as_bytes());
    sha.update(GUID.as_bytes());
    BASE64.encode(sha.digest().bytes())
}

/// Whether a comma-separated header (over all its fields) has `token`.
pub(crate) fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.as_bytes()
            .split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    })
}

/// The comma-separated items of every field `name`, trimmed.
fn tokens(headers: &HeaderMap, name: HeaderName) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

/// A handshake the server accepts.
#[derive(Debug)]
pub(crate) struct Accepted {
    pub accept: String,
    pub protocol: Option<String>,
    pub deflate: Option<(Params, String)>,
}

/// Why the server refuses a handshake: the response to send.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub status: StatusCode,
    pub reason: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Refusal {
    fn new(status: StatusCode, reason: impl Into<String>) -> Refusal {
        Refusal {
            status,
            reason: reason.into(),
            headers: Vec::new(),
        }
    }
}

/// Checks a client's opening handshake (RFC 6455 §4.2.1) and negotiates
/// the subprotocol and extensions.
pub(crate) fn check_request(req: &Request, config: &Config) -> Result<Accepted, Refusal> {
    let h = req.headers();
    if !has_token(h, header::UPGRADE, "websocket") {
        let mut r = Refusal::new(
            StatusCode::UPGRADE_REQUIRED,
            "this URL takes WebSocket connections only (Upgrade: websocket)",
        );
        r.headers
            .push((header::UPGRADE, HeaderValue::from_static("websocket")));
        r.headers
            .push((header::CONNECTION, HeaderValue::from_static("Upgrade")));
        return Err(r);
    }
    if req.method() != Method::GET {
        let mut r = Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("a WebSocket handshake is a GET, not a {}", req.method()),
        );
        r.headers
            .push((header::ALLOW, HeaderValue::from_static("GET")));
        return Err(r);
    }
    if req.version() < Version::HTTP_11 {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "a WebSocket handshake needs HTTP/1.1",
        ));
    }
    if !has_token(h, header::CONNECTION, "upgrade") {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "a WebSocket handshake needs Connection: Upgrade",
        ));
    }
    let version_ok = h.get_all(header::SEC_WEBSOCKET_VERSION).iter().count() == 1
        && h.get(header::SEC_WEBSOCKET_VERSION)
            .is_some_and(|v| v.as_bytes().trim_ascii() == b"13");
    if !version_ok {
        let mut r = Refusal::new(
            StatusCode::UPGRADE_REQUIRED,
            "unsupported Sec-WebSocket-Version (this server speaks 13)",
        );
        r.headers.push((
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        ));
        return Err(r);
    }
    let mut keys = h.get_all(header::SEC_WEBSOCKET_KEY).iter();
    let key = match (keys.next(), keys.next()) {
        (Some(k), None) => k.to_str().unwrap_or("").trim(),
        _ => "",
    };
    if BASE64.decode(key).map(|k| k.len()) != Ok(16) {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "Sec-WebSocket-Key must be one base64-encoded 16-byte value",
        ));
    }
    if let Some(origin) = h.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        if !config.origin.allows(origin, req) {
            return Err(Refusal::new(
                StatusCode::FORBIDDEN,
                format!("WebSocket connections from origin {origin:?} are not allowed"),
            ));
        }
    }
    let offered = tokens(h, header::SEC_WEBSOCKET_PROTOCOL);
    let protocol = config
        .protocols
        .iter()
        .find(|p| offered.iter().any(|o| o == *p))
        .cloned();
    let deflate = if config.compression {
        let exts = deflate::parse_extensions(
            h.get_all(header::SEC_WEBSOCKET_EXTENSIONS)
                .iter()
                .map(HeaderValue::as_bytes),
        );
        match exts {
            Some(exts) => deflate::accept_offer(&exts),
            None => {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "malformed Sec-WebSocket-Extensions",
                ))
            }
        }
    } else {
        None
    };
    Ok(Accepted {
        accept: accept_key(key),
        protocol,
        deflate,
    })
}

/// Whether `req` asks for a WebSocket (`Upgrade: websocket`): for a URL
/// that serves a page to browsers and a socket to scripts.
pub fn is_upgrade_request(req: &Request) -> bool {
    has_token(req.headers(), header::UPGRADE, "websocket")
}

/// Answers a WebSocket handshake: when `req` is a valid one, the `101
/// Switching Protocols` response, after which `handler` runs with the
/// [`WebSocket`] on the connection's green thread (the connection is the
/// handler's until it returns). Otherwise an error response saying what was
/// wrong:
///
/// | problem | status |
/// | --- | --- |
/// | no `Upgrade: websocket` | `426 Upgrade Required` (with `Upgrade: websocket`) |
/// | not `GET` | `405 Method Not Allowed` |
/// | HTTP/1.0, or no `Connection: Upgrade` | `400 Bad Request` |
/// | `Sec-WebSocket-Version` other than 13 | `426` (with `Sec-WebSocket-Version: 13`) |
/// | `Sec-WebSocket-Key` not 16 bytes in base64 | `400` |
/// | an `Origin` the [`Config`]'s [`OriginCheck`](super::OriginCheck) refuses | `403 Forbidden` |
///
/// The subprotocol is the first of [`Config::protocols`] that the client
/// offered; permessage-deflate is agreed when the client offers it and
/// [`Config::compression`] is on.
///
/// # Examples
///
/// A page and its socket on one router:
///
/// ```
/// use thicket_http::ws::{self, Message};
/// use thicket_http::{Body, Request, Response, Router};
///
/// let config = ws::Config::new();
/// let router = Router::new()
///     .get("/", |_req: Request| Response::new(Body::from("<script>...</script>")))
///     .get("/socket", move |req: Request| {
///         ws::upgrade(&req, &config, |mut socket| {
///             let _ = socket.send(Message::text("welcome"));
///             while let Ok(msg) = socket.recv() {
///                 if msg.is_data() && socket.send(msg).is_err() {
///                     break;
///                 }
///             }
///         })
///     });
/// # drop(router);
/// ```
pub fn upgrade<F>(req: &Request, config: &Config, handler: F) -> Response
where
    F: FnOnce(WebSocket) + Send + 'static,
{
    let accepted = match check_request(req, config) {
        Ok(a) => a,
        Err(refusal) => {
            let mut resp = Response::new(Body::from(format!("{}\n", refusal.reason)));
            *resp.status_mut() = refusal.status;
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            for (k, v) in refusal.headers {
                h.insert(k, v);
            }
            return resp;
        }
    };
    let config = config.clone();
    let (params, extension) = match accepted.deflate {
        Some((p, e)) => (Some(p), Some(e)),
        None => (None, None),
    };
    let agreed = Agreement {
        role: Role::Server,
        protocol: accepted.protocol.clone(),
        deflate: params,
    };
    let mut resp = Response::new(Body::upgrade(move |conn| {
        let (io, buffered) = conn.into_parts();
        match WebSocket::from_transport(io, buffered, agreed, &config) {
            Ok(socket) => handler(socket),
            Err(e) => log::debug!(target: "thicket_http", "starting a WebSocket: {e}"),
        }
    }));
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(
        header::SEC_WEBSOCKET_ACCEPT,
        HeaderValue::from_str(&accepted.accept).expect("base64 is a valid header value"),
    );
    if let Some(p) = accepted
        .protocol
        .and_then(|p| HeaderValue::from_str(&p).ok())
    {
        h.insert(header::SEC_WEBSOCKET_PROTOCOL, p);
    }
    if let Some(e) = extension.and_then(|e| HeaderValue::from_str(&e).ok()) {
        h.insert(header::SEC_WEBSOCKET_EXTENSIONS, e);
    }
    resp
}

/// A fresh `Sec-WebSocket-Key`: 16 random bytes in base64.
pub(crate) fn new_key() -> Result<String, getrandom::Error> {
    let mut k = [0u8; 16];
    getrandom::getrandom(&mut k)?;
    Ok(BASE64.encode(k))
}

/// What the client agreed with the server.
#[derive(Debug)]
pub(crate) struct Agreed {
    pub protocol: Option<String>,
    pub deflate: Option<Params>,
}

/// Checks the server's answer to a client handshake (RFC 6455 §4.1).
/// `Err` says what is wrong.
pub(crate) fn check_response(
    status: u16,
    headers: &HeaderMap,
    key: &str,
    config: &Config,
) -> Result<Agreed, String> {
    if status != 101 {
        return Err(format!(
            "the server answered {status} instead of 101 Switching Protocols"
        ));
    }
    if !has_token(headers, header::UPGRADE, "websocket") {
        return Err("the server's 101 has no Upgrade: websocket".into());
    }
    if !has_token(headers, header::CONNECTION, "upgrade") {
        return Err("the server's 101 has no Connection: Upgrade".into());
    }
    let want = accept_key(key);
    match headers.get(header::SEC_WEBSOCKET_ACCEPT) {
        Some(v) if v.as_bytes().trim_ascii() == want.as_bytes() => {}
        Some(v) => {
            return Err(format!(
                "wrong Sec-WebSocket-Accept {v:?} (expected {want:?})"
            ))
        }
        None => return Err("the server's 101 has no Sec-WebSocket-Accept".into()),
    }
    let protocols = tokens(headers, header::SEC_WEBSOCKET_PROTOCOL);
    let protocol = match protocols.as_slice() {
        [] => None,
        [p] if config.protocols.contains(p) => Some(p.clone()),
        _ => {
            return Err(format!(
                "the server chose subprotocol {protocols:?}, which was not offered"
            ))
        }
    };
    let exts = deflate::parse_extensions(
        headers
            .get_all(header::SEC_WEBSOCKET_EXTENSIONS)
            .iter()
            .map(HeaderValue::as_bytes),
    )
    .ok_or("malformed Sec-WebSocket-Extensions in the server's answer")?;
    if !config.compression && !exts.is_empty() {
        return Err("the server enabled an extension that was not offered".into());
    }
    let deflate = deflate::check_response(&exts)?;
    Ok(Agreed { protocol, deflate })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BodyReader;

    fn request(extra: &[(&str, &str)], skip: &[&str]) -> Request {
        let mut b = http::Request::builder()
            .method("GET")
            .uri("/ws")
            .version(Version::HTTP_11);
        let base = [
            ("host", "example.com"),
            ("upgrade", "websocket"),
            ("connection", "keep-alive, Upgrade"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ];
        for (k, v) in base.iter().filter(|(k, _)| !skip.contains(k)) {
            b = b.header(*k, *v);
        }
        for (k, v) in extra {
            b = b.header(*k, *v);
        }
        b.body(BodyReader::empty()).unwrap()
    }

    #[test]
    fn accepts_a_good_handshake() {
        let a = check_request(&request(&[], &[]), &Config::new()).unwrap();
        assert_eq!(a.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(a.protocol, None);
        assert!(a.deflate.is_none());
    }

    #[test]
    fn refusals_table() {
        let cfg = Config::new();
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], u16);
        let cases: &[Case<'_>] = &[
            (&[], &["upgrade"], 426),
            (&[], &["connection"], 400),
            (&[], &["sec-websocket-version"], 426),
            (
                &[("sec-websocket-version", "8")],
                &["sec-websocket-version"],
                426,
            ),
            (&[], &["sec-websocket-key"], 400),
            (
                &[("sec-websocket-key", "c2hvcnQ=")],
                &["sec-websocket-key"],
                400,
            ),
            (
                &[("sec-websocket-key", "AAAAAAAAAAAAAAAAAAAAAA==")],
                &[],
                400,
            ),
            (&[("origin", "http://evil.com")], &[], 403),
            (&[("sec-websocket-extensions", "a; b=\"x")], &[], 400),
        ];
        for (extra, skip, status) in cases {
            let r = check_request(&request(extra, skip), &cfg).unwrap_err();
            assert_eq!(
                r.status.as_u16(),
                *status,
                "{extra:?} without {skip:?}: {r:?}"
            );
        }
        let r = check_request(&request(&[], &["sec-websocket-version"]), &cfg).unwrap_err();
        assert_eq!(r.headers[0].0, header::SEC_WEBSOCKET_VERSION);
        let mut post = request(&[], &[]);
        *post.method_mut() = Method::POST;
        assert_eq!(check_request(&post, &cfg).unwrap_err().status, 405);
        let mut old = request(&[], &[]);
        *old.version_mut() = Version::HTTP_10;
        assert_eq!(check_request(&old, &cfg).unwrap_err().status, 400);
    }

    #[test]
    fn same_origin_is_allowed_by_default() {
        let r = request(&[("origin", "https://example.com")], &[]);
        assert!(check_request(&r, &Config::new()).is_ok());
    }

    #[test]
    fn picks_the_servers_preferred_protocol_and_deflate() {
        let cfg = Config::new().protocols(["v2", "v1"]).compression(true);
        let r = request(
            &[
                ("sec-websocket-protocol", "v1, v2"),
                (
                    "sec-websocket-extensions",
                    "permessage-deflate; client_max_window_bits",
                ),
            ],
            &[],
        );
        let a = check_request(&r, &cfg).unwrap();
        assert_eq!(a.protocol.as_deref(), Some("v2"));
        assert_eq!(a.deflate.unwrap().1, "permessage-deflate");
        let none = request(&[("sec-websocket-protocol", "v3")], &[]);
        assert_eq!(check_request(&none, &cfg).unwrap().protocol, None);
        let off = check_request(&r, &Config::new().compression(false)).unwrap();
        assert!(off.deflate.is_none());
    }

    #[test]
    fn client_checks_the_answer() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let good = |extra: &[(&str, &str)]| {
            let mut h = HeaderMap::new();
            h.insert("upgrade", HeaderValue::from_static("websocket"));
            h.insert("connection", HeaderValue::from_static("Upgrade"));
            h.insert(
                "sec-websocket-accept",
                HeaderValue::from_static("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            );
            for (k, v) in extra {
                h.insert(
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                );
            }
            h
        };
        let cfg = Config::new().protocols(["chat"]);
        assert!(check_response(101, &good(&[]), key, &cfg).is_ok());
        assert!(check_response(200, &good(&[]), key, &cfg).is_err());
        assert!(check_response(101, &good(&[]), "AAAAAAAAAAAAAAAAAAAAAA==", &cfg).is_err());
        let p = check_response(101, &good(&[("sec-websocket-protocol", "chat")]), key, &cfg);
        assert_eq!(p.unwrap().protocol.as_deref(), Some("chat"));
        assert!(check_response(
            101,
            &good(&[("sec-websocket-protocol", "other")]),
            key,
            &cfg
        )
        .is_err());
        let d = check_response(
            101,
            &good(&[("sec-websocket-extensions", "permessage-deflate")]),
            key,
            &cfg,
        );
        assert!(d.unwrap().deflate.is_some());
        let off = Config::new().compression(false);
        assert!(check_response(
            101,
            &good(&[("sec-websocket-extensions", "permessage-deflate")]),
            key,
            &off
        )
        .is_err());
    }
}
