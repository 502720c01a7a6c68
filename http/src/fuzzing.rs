//! The parsers of untrusted input that are not public API, behind thin
//! wrappers, for the fuzz targets in `http/fuzz/` (one per parser entry
//! point; the public ones, [`proto`](crate::proto),
//! [`ws::Decoder`](crate::ws::Decoder), [`ws::frame`](crate::ws::frame) and
//! [`Router`](crate::Router), are fuzzed directly).
//!
//! Hidden from the docs and outside semver: nothing here is meant for
//! applications, and any of it may change with the code it wraps.

use std::path::PathBuf;

use http::header::HeaderMap;
use http::{StatusCode, Uri};

use crate::client::target::Target;
use crate::files::conditional::{self, Validators as FileValidators};
use crate::files::range::{self, Ranged};
use crate::ws::{self, deflate, handshake};
use crate::{Error, Request};

/// What to send for a `Range` header (`files::range`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// The whole representation (`200`).
    Full,
    /// `206` with `start..start + len`.
    Part {
        /// The first byte.
        start: u64,
        /// How many bytes.
        len: u64,
    },
    /// `416`.
    Unsatisfiable,
}

/// The `Range` header `value` against a representation of `len` bytes.
pub fn range(value: &str, len: u64) -> Range {
    match range::parse(value, len) {
        Ranged::Full => Range::Full,
        Ranged::Part { start, len } => Range::Part { start, len },
        Ranged::Unsatisfiable => Range::Unsatisfiable,
    }
}

/// A file's validators, as `StaticFiles` computes them from its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validators {
    /// The opaque part of the strong entity tag, without quotes.
    pub opaque: String,
    /// `Last-Modified`, in seconds since the epoch.
    pub last_modified: u64,
    /// When the validators were taken, in seconds since the epoch.
    pub now: u64,
}

/// The outcome of a `GET`'s preconditions (`files::conditional`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Send the representation.
    Proceed,
    /// `304`.
    NotModified,
    /// `412`.
    Failed,
}

/// Evaluates `If-Match`, `If-Unmodified-Since`, `If-None-Match` and
/// `If-Modified-Since`, and whether `If-Range` lets a range be served.
pub fn preconditions(headers: &HeaderMap, validators: Option<&Validators>) -> (Precondition, bool) {
    let v =
        validators.map(|v| FileValidators::from_parts(v.opaque.clone(), v.last_modified, v.now));
    let outcome = match conditional::evaluate(headers, v.as_ref()) {
        conditional::Precondition::Proceed => Precondition::Proceed,
        conditional::Precondition::NotModified => Precondition::NotModified,
        conditional::Precondition::Failed => Precondition::Failed,
    };
    (outcome, conditional::if_range_allows(headers, v.as_ref()))
}

/// The relative file path `StaticFiles` serves for a percent-encoded
/// request path (below its mount point), or the status refusing it.
///
/// # Errors
///
/// The status `StaticFiles` answers: 400 for a path that tries to leave
/// the root or does not decode, 404 for a hidden file.
pub fn static_path(raw: &str, serve_hidden: bool) -> Result<PathBuf, StatusCode> {
    crate::files::relative_path(raw, serve_hidden)
}

/// Where the client goes for a redirect to `location` from `base` (an
/// absolute `http` or `https` URL): the next URL, whether it is TLS, its
/// lowercased host and its port.
///
/// # Errors
///
/// `base` or the resolved location is not a URL the client can send to.
pub fn resolve_location(base: Uri, location: &str) -> Result<(Uri, bool, String, u16), Error> {
    let next = Target::parse(base)?.join(location)?;
    Ok((next.uri, next.tls, next.host, next.port))
}

/// Agreed permessage-deflate parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deflate {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// The server's window, 9 to 15.
    pub server_max_window_bits: u8,
    /// The client's window, 9 to 15.
    pub client_max_window_bits: u8,
}

impl From<deflate::Params> for Deflate {
    fn from(p: deflate::Params) -> Deflate {
        Deflate {
            server_no_context_takeover: p.server_no_context_takeover,
            client_no_context_takeover: p.client_no_context_takeover,
            server_max_window_bits: p.server_max_window_bits,
            client_max_window_bits: p.client_max_window_bits,
        }
    }
}

impl From<Deflate> for deflate::Params {
    fn from(p: Deflate) -> deflate::Params {
        deflate::Params {
            server_no_context_takeover: p.server_no_context_takeover,
            client_no_context_takeover: p.client_no_context_takeover,
            server_max_window_bits: p.server_max_window_bits,
            client_max_window_bits: p.client_max_window_bits,
        }
    }
}

/// A WebSocket decoder for `role`, with permessage-deflate when given.
pub fn ws_decoder(role: ws::Role, limits: ws::Limits, deflate: Option<Deflate>) -> ws::Decoder {
    ws::Decoder::with_deflate(role, limits, deflate.map(Into::into))
}

/// A WebSocket encoder for `role`, with permessage-deflate when given.
pub fn ws_encoder(role: ws::Role, deflate: Option<Deflate>) -> ws::Encoder {
    ws::Encoder::with_deflate(role, deflate.map(Into::into), 6)
}

/// One extension of a `Sec-WebSocket-Extensions` list: its lowercased name
/// and parameters (values unquoted).
pub type Extension = (String, Vec<(String, Option<String>)>);

/// Parses `Sec-WebSocket-Extensions` field values; `None` when malformed.
pub fn ws_extensions<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Option<Vec<Extension>> {
    let exts = deflate::parse_extensions(values)?;
    Some(exts.into_iter().map(|e| (e.name, e.params)).collect())
}

/// The server's side of the negotiation: the parameters it agrees to for
/// the client's `offers` and the extension value it answers with.
pub fn ws_accept_offer(offers: &[Extension]) -> Option<(Deflate, String)> {
    let offers: Vec<deflate::Extension> = offers.iter().map(to_extension).collect();
    deflate::accept_offer(&offers).map(|(p, answer)| (p.into(), answer))
}

/// The client's side: checks the server's `answer` to its offer.
///
/// # Errors
///
/// What is wrong with the answer.
pub fn ws_check_answer(answer: &[Extension]) -> Result<Option<Deflate>, String> {
    let answer: Vec<deflate::Extension> = answer.iter().map(to_extension).collect();
    deflate::check_response(&answer).map(|p| p.map(Into::into))
}

fn to_extension((name, params): &Extension) -> deflate::Extension {
    deflate::Extension {
        name: name.clone(),
        params: params.clone(),
    }
}

/// What the client offers in `Sec-WebSocket-Extensions`.
pub const WS_CLIENT_OFFER: &str = deflate::CLIENT_OFFER;

/// A handshake the server accepts: `Sec-WebSocket-Accept`, the chosen
/// subprotocol, and the agreed deflate parameters with the extension value
/// answered.
pub type Accepted = (String, Option<String>, Option<(Deflate, String)>);

/// The server's check of a client's opening handshake.
///
/// # Errors
///
/// The status of the refusal and why.
pub fn ws_check_request(
    req: &Request,
    config: &ws::Config,
) -> Result<Accepted, (StatusCode, String)> {
    match handshake::check_request(req, config) {
        Ok(a) => Ok((
            a.accept,
            a.protocol,
            a.deflate.map(|(p, answer)| (p.into(), answer)),
        )),
        Err(r) => Err((r.status, r.reason)),
    }
}

/// The client's check of the server's answer to a handshake sent with
/// `key`: the subprotocol and the deflate parameters agreed.
///
/// # Errors
///
/// What is wrong with the answer.
pub fn ws_check_response(
    status: u16,
    headers: &HeaderMap,
    key: &str,
    config: &ws::Config,
) -> Result<(Option<String>, Option<Deflate>), String> {
    let agreed = handshake::check_response(status, headers, key, config)?;
    Ok((agreed.protocol, agreed.deflate.map(Into::into)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrappers_reach_the_parsers() {
        assert_eq!(range("bytes=0-1", 10), Range::Part { start: 0, len: 2 });
        assert_eq!(static_path("a/%2e%2e", false), Err(StatusCode::BAD_REQUEST));
        let (uri, tls, host, port) =
            resolve_location(Uri::from_static("http://a/b/c"), "../d").unwrap();
        assert_eq!(
            (uri.to_string(), tls, &host[..], port),
            ("http://a/d".into(), false, "a", 80)
        );
        let offers = ws_extensions([WS_CLIENT_OFFER.as_bytes()]).unwrap();
        let (agreed, answer) = ws_accept_offer(&offers).unwrap();
        let answer = ws_extensions([answer.as_bytes()]).unwrap();
        assert_eq!(ws_check_answer(&answer), Ok(Some(agreed)));
        let v = Validators {
            opaque: "x".into(),
            last_modified: 10,
            now: 20,
        };
        let mut h = HeaderMap::new();
        h.insert(http::header::IF_NONE_MATCH, "\"x\"".parse().unwrap());
        assert_eq!(
            preconditions(&h, Some(&v)),
            (Precondition::NotModified, true)
        );
    }
}
