//! The server side: [`upgrade`] turns a handshake request into the `101`
//! response that hands the connection to a WebSocket handler.

use http::header::{self, HeaderValue};
use http::StatusCode;

use super::codec::Role;
use super::config::Config;
use super::handshake::{self, has_token};
use super::socket::{Agreement, WebSocket};
use crate::{Body, Request, Response};

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
    let accepted = match handshake::check_request(req, config) {
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
