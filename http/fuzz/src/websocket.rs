//! WebSocket: frame headers, the message decoder (both roles, with and
//! without permessage-deflate), the extension negotiation and the opening
//! handshake.

use http::header::{
    HeaderMap, HeaderValue, CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_EXTENSIONS,
    SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL, UPGRADE,
};
use http::{Method, StatusCode, Version};
use thicket_http::fuzzing::{self, Deflate, Extension};
use thicket_http::proto::{parse_request, parse_response, Limits, Scan};
use thicket_http::ws::frame::{self, apply_mask, extend_masked, FrameHeader, HeaderError};
use thicket_http::ws::{self, Message, Role};
use thicket_http::BodyReader;

use crate::piece_sizes;

/// A frame header: within the input and as long as its second byte says;
/// written out again, it parses to the same header and is no longer (the
/// writer picks the shortest length encoding). Masking the rest of the
/// input with its key, whole or in two pieces, in place or copied, gives
/// the same bytes, and masking twice gives the input back.
pub fn ws_frame_header(data: &[u8]) {
    match FrameHeader::parse(data) {
        Ok(Some((h, n))) => {
            assert_eq!(n, frame::header_len(data[1]));
            assert!(n <= data.len() && n <= frame::MAX_HEADER_LEN);
            assert_eq!(h.mask.is_some(), data[1] & 0x80 != 0);
            assert!(h.len >> 63 == 0);
            let mut out = Vec::new();
            h.write(&mut out);
            assert!(out.len() <= n, "written longer than parsed");
            assert_eq!(FrameHeader::parse(&out), Ok(Some((h, out.len()))));
            if let Some(key) = h.mask {
                check_masking(&data[n..], key, n);
            }
        }
        Ok(None) => assert!(data.len() < 2 || data.len() < frame::header_len(data[1])),
        Err(HeaderError::ReservedOpcode(op)) => {
            assert_eq!(op, data[0] & 0x0F);
            assert!(frame::Opcode::from_u8(op).is_none());
        }
        Err(HeaderError::LengthOverflow) => assert_eq!(data[1] & 0x7F, 127),
    }
}

fn check_masking(payload: &[u8], key: [u8; 4], seed: usize) {
    let mut whole = payload.to_vec();
    apply_mask(&mut whole, key, 0);
    let mut copied = Vec::new();
    extend_masked(&mut copied, payload, key, 0);
    assert_eq!(copied, whole, "extend_masked differs from apply_mask");
    let split = seed % (payload.len() + 1);
    let mut pieces = payload.to_vec();
    let (a, b) = pieces.split_at_mut(split);
    apply_mask(a, key, 0);
    apply_mask(b, key, split);
    assert_eq!(pieces, whole, "masking in two pieces at {split}");
    apply_mask(&mut whole, key, 0);
    assert_eq!(whole, payload, "masking twice");
}

/// Small limits, so that a message of a few bytes can inflate past them.
const LIMITS: ws::Limits = ws::Limits {
    max_frame: 1 << 17,
    max_message: 1 << 16,
};

const DEFLATE: Deflate = Deflate {
    server_no_context_takeover: false,
    client_no_context_takeover: false,
    server_max_window_bits: 15,
    client_max_window_bits: 15,
};

/// The input as the bytes a server receives and as those a client
/// receives, each with and without permessage-deflate. Fed whole and in
/// pieces, the decoder returns the same messages and fails with the same
/// close code; each call uses only what it is given (all of it when it has
/// no message yet); messages keep to the limits and the rules (control
/// payloads of 125 bytes at most, sendable close codes). The messages,
/// encoded by the other side, decode to the same messages.
pub fn ws_decode(data: &[u8]) {
    for role in [Role::Server, Role::Client] {
        for deflate in [None, Some(DEFLATE)] {
            let whole = decode_messages(role, deflate, data, usize::MAX);
            for step in piece_sizes(data).into_iter().skip(1) {
                let fed = decode_messages(role, deflate, data, step);
                assert_eq!(
                    fed,
                    whole,
                    "{role:?} deflate {}: fed {step} bytes at a time",
                    deflate.is_some()
                );
            }
            round_trip(role, deflate, &whole.0);
        }
    }
}

/// The messages decoded and the close code of the error that stopped the
/// decoder, if one did.
type Decoded = (Vec<Message>, Option<u16>);

fn decode_messages(role: Role, deflate: Option<Deflate>, data: &[u8], step: usize) -> Decoded {
    let mut d = fuzzing::ws_decoder(role, LIMITS, deflate);
    let mut messages = Vec::new();
    let mut buf = Vec::new();
    let mut fed = 0;
    loop {
        loop {
            match d.decode(&buf) {
                Ok((n, msg)) => {
                    assert!(n <= buf.len(), "used more than it was given");
                    buf.drain(..n);
                    let Some(msg) = msg else {
                        assert!(buf.is_empty(), "stopped with {} bytes left", buf.len());
                        break;
                    };
                    check_message(&msg);
                    let close = matches!(msg, Message::Close(_));
                    messages.push(msg);
                    if close {
                        return (messages, None);
                    }
                }
                Err(e) => {
                    assert!(matches!(e.close_code(), 1002 | 1007 | 1009), "{e}");
                    return (messages, Some(e.close_code()));
                }
            }
        }
        if fed == data.len() {
            return (messages, None);
        }
        let end = fed.saturating_add(step).min(data.len());
        buf.extend_from_slice(&data[fed..end]);
        fed = end;
    }
}

fn check_message(msg: &Message) {
    match msg {
        Message::Text(t) => assert!(t.len() <= LIMITS.max_message),
        Message::Binary(b) => assert!(b.len() <= LIMITS.max_message),
        Message::Ping(p) | Message::Pong(p) => assert!(p.len() <= frame::MAX_CONTROL_PAYLOAD),
        Message::Close(Some(f)) => {
            assert!(frame::is_valid_close_code(f.code), "close code {}", f.code);
            assert!(f.reason.len() <= frame::MAX_CONTROL_PAYLOAD - 2);
        }
        Message::Close(None) => {}
    }
}

/// `messages`, as received by `role`, sent again by the other side.
fn round_trip(role: Role, deflate: Option<Deflate>, messages: &[Message]) {
    let peer = match role {
        Role::Server => Role::Client,
        Role::Client => Role::Server,
    };
    let mut encoder = fuzzing::ws_encoder(peer, deflate);
    let mut wire = Vec::new();
    for msg in messages {
        encoder
            .encode(msg, &mut wire)
            .expect("a received message can be sent");
    }
    let (again, error) = decode_messages(role, deflate, &wire, usize::MAX);
    assert_eq!(error, None, "messages sent again fail to decode");
    assert_eq!(again, messages, "messages sent again decode differently");
}

/// `Sec-WebSocket-Extensions` values (one per line of the input): a list
/// that parses, written out again, parses to the same list; the server's
/// answer to it, checked by the client, agrees on the same parameters; and
/// any answer the client accepts has windows it can use.
pub fn ws_extensions(data: &[u8]) {
    let values: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let Some(exts) = fuzzing::ws_extensions(values.iter().copied()) else {
        return;
    };
    for (name, params) in &exts {
        assert!(is_lowercase_token(name), "extension name {name:?}");
        for (k, _) in params {
            assert!(is_lowercase_token(k), "parameter name {k:?}");
        }
    }
    let written = write_extensions(&exts);
    assert_eq!(
        fuzzing::ws_extensions([written.as_bytes()]).as_ref(),
        Some(&exts),
        "written out again as {written:?}"
    );
    if let Some((agreed, answer)) = fuzzing::ws_accept_offer(&exts) {
        // The server compresses with its window, so it must be one zlib can
        // make; it never limits the client's.
        check_windows(&agreed, 9);
        assert_eq!(agreed.client_max_window_bits, 15);
        let answer = fuzzing::ws_extensions([answer.as_bytes()]).expect("the answer parses");
        assert_eq!(fuzzing::ws_check_answer(&answer), Ok(Some(agreed)));
    }
    if let Ok(Some(agreed)) = fuzzing::ws_check_answer(&exts) {
        // The client inflates any window and compresses with its own.
        check_windows(&agreed, 8);
    }
}

fn is_lowercase_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            (b.is_ascii_alphanumeric() && !b.is_ascii_uppercase())
                || b"!#$%&'*+-.^_`|~".contains(&b)
        })
}

/// Windows the two sides can use: the client compresses with its own (9
/// to 15 bits with zlib), and the server's is at least `min_server` bits.
fn check_windows(p: &Deflate, min_server: u8) {
    assert!(
        (min_server..=15).contains(&p.server_max_window_bits),
        "{p:?}"
    );
    assert!((9..=15).contains(&p.client_max_window_bits), "{p:?}");
}

/// Every value quoted, so that the writer needs no token check.
fn write_extensions(exts: &[Extension]) -> String {
    let mut out = String::new();
    for (i, (name, params)) in exts.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(name);
        for (k, v) in params {
            out.push_str("; ");
            out.push_str(k);
            if let Some(v) = v {
                out.push_str("=\"");
                for c in v.chars() {
                    if c == '"' || c == '\\' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            }
        }
    }
    out
}

const PROTOCOLS: [&str; 2] = ["chat", "superchat"];

/// The key of RFC 6455 section 1.3, for answers read as a client's.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// The input as a request head: a handshake the server accepts was a GET
/// over HTTP/1.1 with one valid key, answers with that key's accept value
/// and a subprotocol that was offered, and the answer built from it
/// satisfies a client with the same configuration, which agrees on the
/// same subprotocol and deflate parameters. The input as a response head:
/// whatever the client accepts was a `101` with the right accept value.
pub fn ws_handshake(data: &[u8]) {
    let config = ws::Config::new().protocols(PROTOCOLS);
    let limits = Limits::default();
    if let Ok(Some(head)) = parse_request(&mut Scan::default(), data, &limits) {
        let mut req = http::Request::new(BodyReader::empty());
        *req.method_mut() = head.method;
        *req.uri_mut() = head.uri;
        *req.version_mut() = head.version;
        *req.headers_mut() = head.headers;
        server_side(&req, &config);
    }
    if let Ok(Some(head)) = parse_response(&mut Scan::default(), data, &limits, &Method::GET) {
        let agreed = fuzzing::ws_check_response(head.status.as_u16(), &head.headers, KEY, &config);
        if let Ok((protocol, deflate)) = agreed {
            assert_eq!(head.status, StatusCode::SWITCHING_PROTOCOLS);
            assert_eq!(
                head.headers
                    .get(SEC_WEBSOCKET_ACCEPT)
                    .map(|v| v.as_bytes().trim_ascii()),
                Some(ws::accept_key(KEY).as_bytes())
            );
            assert!(protocol.is_none_or(|p| PROTOCOLS.contains(&p.as_str())));
            if let Some(d) = deflate {
                check_windows(&d, 8);
            }
        }
    }
}

fn server_side(req: &thicket_http::Request, config: &ws::Config) {
    let accepted = fuzzing::ws_check_request(req, config);
    if !ws::is_upgrade_request(req) {
        assert!(
            matches!(&accepted, Err((StatusCode::UPGRADE_REQUIRED, _))),
            "{accepted:?}"
        );
    }
    let Ok((accept, protocol, deflate)) = accepted else {
        return;
    };
    assert_eq!(req.method(), Method::GET);
    assert_eq!(req.version(), Version::HTTP_11);
    let keys: Vec<_> = req.headers().get_all(SEC_WEBSOCKET_KEY).iter().collect();
    assert_eq!(keys.len(), 1);
    let key = keys[0].to_str().expect("an accepted key is text").trim();
    assert_eq!(accept, ws::accept_key(key));
    assert_eq!(accept.len(), 28);
    if let Some(p) = &protocol {
        assert!(PROTOCOLS.contains(&p.as_str()));
    }

    let mut answer = HeaderMap::new();
    answer.insert(UPGRADE, HeaderValue::from_static("websocket"));
    answer.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    answer.insert(SEC_WEBSOCKET_ACCEPT, accept.parse().expect("base64"));
    if let Some(p) = &protocol {
        answer.insert(SEC_WEBSOCKET_PROTOCOL, p.parse().expect("a token"));
    }
    if let Some((_, value)) = &deflate {
        answer.insert(SEC_WEBSOCKET_EXTENSIONS, value.parse().expect("ASCII"));
    }
    let agreed = fuzzing::ws_check_response(101, &answer, key, config);
    assert_eq!(
        agreed,
        Ok((protocol, deflate.map(|(d, _)| d))),
        "{answer:?}"
    );
}
