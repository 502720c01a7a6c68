//! Request and response heads: start line, fields, and the framing of the
//! body that follows (RFC 9112 sections 3, 5 and 6).

use std::mem::MaybeUninit;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Uri, Version};

use super::scan::{Rules, Scan};
use super::{Limits, ParseError};

/// How a message's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// A body of exactly this many bytes (`Content-Length`; 0 when a
    /// request has neither header).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the connection closes (responses only).
    Eof,
}

/// A parsed request head.
#[derive(Debug)]
pub struct RequestHead {
    /// The method.
    pub method: Method,
    /// The request target.
    pub uri: Uri,
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The header fields, names lowercased, in order.
    pub headers: HeaderMap,
    /// How the body is delimited.
    pub framing: Framing,
    /// Whether the connection may carry another request after this one.
    pub keep_alive: bool,
    /// The client sent `Expect: 100-continue` (HTTP/1.1 only).
    pub expect_continue: bool,
    /// The client asks to switch protocols (`Connection: upgrade` with an
    /// `Upgrade` field), or this is a `CONNECT`.
    pub upgrade: bool,
    /// The length of the head in the buffer, including empty lines before
    /// it: the body starts here.
    pub len: usize,
}

/// A parsed response head.
#[derive(Debug)]
pub struct ResponseHead {
    /// The status code.
    pub status: StatusCode,
    /// The reason phrase as sent.
    pub reason: String,
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The header fields.
    pub headers: HeaderMap,
    /// How the body is delimited.
    pub framing: Framing,
    /// Whether the connection may carry another request.
    pub keep_alive: bool,
    /// The length of the head in the buffer.
    pub len: usize,
}

const STACK_HEADERS: usize = 32;

/// Parses a request head from the start of `buf`, strictly (RFC 9112).
/// `Ok(None)`: the head is not complete yet; call again with the same
/// `scan` once more bytes are in `buf`.
///
/// # Errors
///
/// A [`ParseError`] with the status to answer and what was wrong: bare LF
/// (400), a request line over `max_line` (414), a head over `max_head` or
/// more than `max_headers` fields (431), an invalid method, target, field
/// name or value (400), a version other than 1.0 and 1.1 (505), ambiguous
/// or malformed framing (400: `Content-Length` with `Transfer-Encoding`,
/// several or malformed lengths, `chunked` not last), a transfer coding
/// other than `chunked` (501), HTTP/1.1 without exactly one valid `Host`
/// (400), and an `Expect` other than `100-continue` (417).
pub fn parse_request(
    scan: &mut Scan,
    buf: &[u8],
    limits: &Limits,
) -> Result<Option<RequestHead>, ParseError> {
    let rules = Rules {
        bare_lf: false,
        long_line_status: 414,
    };
    let Some(found) = scan.find(buf, limits, rules)? else {
        return Ok(None);
    };
    // One copy of the head; field values and the target are slices of it.
    let shared = Bytes::copy_from_slice(&buf[found.start..found.end]);
    let raw = &shared[..];
    // A few uninitialised slots on the stack (filling 100 empty headers per
    // request cost more than parsing a small head, and a big array would
    // keep pages of every connection's stack resident); a head with more
    // fields is parsed again with heap slots.
    let mut stack = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; STACK_HEADERS];
    let mut heap: Vec<MaybeUninit<httparse::Header<'_>>> = Vec::new();
    let mut req = httparse::Request::new(&mut []);
    let mut parsed =
        req.parse_with_uninit_headers(raw, &mut stack[..limits.max_headers.min(STACK_HEADERS)]);
    if matches!(parsed, Err(httparse::Error::TooManyHeaders)) && limits.max_headers > STACK_HEADERS
    {
        heap.resize_with(limits.max_headers, MaybeUninit::uninit);
        req = httparse::Request::new(&mut []);
        parsed = req.parse_with_uninit_headers(raw, &mut heap);
    }
    match parsed {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(ParseError::bad("incomplete request head")),
        Err(e) => return Err(request_error(e, raw, limits)),
    }
    let method = Method::from_bytes(req.method.unwrap_or_default().as_bytes())
        .map_err(|_| ParseError::bad("invalid method"))?;
    let version = match req.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let target = req.path.unwrap_or_default();
    let uri = parse_target(&method, target, &shared)?;
    let (headers, special) = to_header_map(req.headers, Some(&shared))?;

    let framing = request_framing(&headers, &special, version)?;
    if special.hosts > 1 {
        return Err(ParseError::bad("more than one Host field"));
    }
    match special.host {
        Some(host) if !host.is_empty() && !valid_host(host) => {
            return Err(ParseError::bad("invalid Host field"));
        }
        None if version == Version::HTTP_11 => {
            return Err(ParseError::bad("HTTP/1.1 request without a Host field"));
        }
        _ => {}
    }
    let conn = &special.connection;
    let keep_alive = match version {
        Version::HTTP_10 => conn.keep_alive && !conn.close,
        _ => !conn.close,
    };
    let mut expect_continue = false;
    if let Some(expect) = special.expect {
        if special.expects > 1 || !expect.eq_ignore_ascii_case(b"100-continue") {
            return Err(ParseError::new(417, "unsupported Expect field"));
        }
        // RFC 9110 10.1.1: an HTTP/1.0 client cannot be waiting for it.
        expect_continue = version == Version::HTTP_11;
    }
    let upgrade = method == Method::CONNECT || (conn.upgrade && special.upgrade);
    Ok(Some(RequestHead {
        method,
        uri,
        version,
        headers,
        framing,
        keep_alive,
        expect_continue,
        upgrade,
        len: found.end,
    }))
}

/// Parses a response head from the start of `buf`, as a client does: bare
/// LF line endings and obsolete line folding are tolerated (RFC 9112 2.2
/// and 5.2 allow a recipient to), framing is not. `request_method` is the
/// method of the request this answers (a response to `HEAD` has no body).
///
/// # Errors
///
/// A [`ParseError`] naming what was wrong (its status is not meaningful to
/// a client).
pub fn parse_response(
    scan: &mut Scan,
    buf: &[u8],
    limits: &Limits,
    request_method: &Method,
) -> Result<Option<ResponseHead>, ParseError> {
    let rules = Rules {
        bare_lf: true,
        long_line_status: 400,
    };
    let Some(found) = scan.find(buf, limits, rules)? else {
        return Ok(None);
    };
    let raw = &buf[found.start..found.end];
    let mut slots = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut resp = httparse::Response::new(&mut slots);
    let parsed = httparse::ParserConfig::default()
        .allow_obsolete_multiline_headers_in_responses(true)
        .allow_spaces_after_header_name_in_responses(true)
        .parse_response(&mut resp, raw);
    match parsed {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(ParseError::bad("incomplete response head"));
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Err(ParseError::new(
                431,
                format!("more than {} header fields", limits.max_headers),
            ));
        }
        Err(e) => return Err(ParseError::bad(format!("invalid response head: {e}"))),
    }
    let status = StatusCode::from_u16(resp.code.unwrap_or_default())
        .map_err(|_| ParseError::bad("invalid status code"))?;
    let version = match resp.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let reason = String::from_utf8_lossy(resp.reason.unwrap_or_default().as_bytes()).into_owned();
    let (headers, special) = to_header_map(resp.headers, None)?;
    let conn = special.connection;
    let mut keep_alive = match version {
        Version::HTTP_10 => conn.keep_alive && !conn.close,
        _ => !conn.close,
    };
    let framing = if request_method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || (request_method == Method::CONNECT && status.is_success())
    {
        Framing::Length(0)
    } else {
        match transfer_codings(&headers)? {
            Some(Codings { chunked_last: true }) => Framing::Chunked,
            // RFC 9112 6.3 (4): a coding other than chunked last means the
            // body runs until the connection closes.
            Some(Codings {
                chunked_last: false,
            }) => Framing::Eof,
            None => match content_length(&headers)? {
                Some(n) => Framing::Length(n),
                None => Framing::Eof,
            },
        }
    };
    if framing == Framing::Eof {
        keep_alive = false;
    }
    Ok(Some(ResponseHead {
        status,
        reason,
        version,
        headers,
        framing,
        keep_alive,
        len: found.end,
    }))
}

fn request_error(e: httparse::Error, raw: &[u8], limits: &Limits) -> ParseError {
    match e {
        httparse::Error::TooManyHeaders => ParseError::new(
            431,
            format!("more than {} header fields", limits.max_headers),
        ),
        httparse::Error::HeaderName => ParseError::bad("invalid header field name"),
        httparse::Error::HeaderValue => ParseError::bad("invalid header field value"),
        httparse::Error::NewLine => ParseError::bad("malformed line ending"),
        httparse::Error::Version => {
            // A well-formed version we do not speak is 505; garbage is 400,
            // and so is a line with more than three parts (a space in the
            // target), whatever its last word.
            let line = raw.split(|&b| b == b'\r').next().unwrap_or_default();
            let v = line.rsplit(|&b| b == b' ').next().unwrap_or_default();
            let well_formed = line.iter().filter(|&&b| b == b' ').count() == 2
                && v.len() == 8
                && v.starts_with(b"HTTP/")
                && v[5].is_ascii_digit()
                && v[6] == b'.'
                && v[7].is_ascii_digit();
            if well_formed {
                ParseError::new(505, "HTTP version not supported")
            } else {
                ParseError::bad("invalid HTTP version")
            }
        }
        httparse::Error::Token => ParseError::bad("invalid request line"),
        _ => ParseError::bad("invalid request line"),
    }
}

fn parse_target(method: &Method, target: &str, head: &Bytes) -> Result<Uri, ParseError> {
    let bytes = target.as_bytes();
    if bytes.is_empty() {
        return Err(ParseError::bad("empty request target"));
    }
    if let Some(&b) = bytes
        .iter()
        .find(|&&b| !(0x21..0x7f).contains(&b) || b == b'#')
    {
        return Err(ParseError::bad(if b == b'#' {
            "fragment in request target"
        } else {
            "invalid character in request target"
        }));
    }
    let invalid = || ParseError::bad("invalid request target");
    if method == Method::CONNECT {
        // authority-form only (RFC 9112 3.2.3).
        let auth = http::uri::Authority::try_from(target).map_err(|_| invalid())?;
        if auth.port_u16().is_none() || target.contains('@') {
            return Err(invalid());
        }
        return Uri::try_from(target).map_err(|_| invalid());
    }
    if bytes == b"*" {
        if method != Method::OPTIONS {
            return Err(ParseError::bad(
                "asterisk-form target with a method other than OPTIONS",
            ));
        }
        return Ok(Uri::from_static("*"));
    }
    let uri = Uri::from_maybe_shared(head.slice_ref(bytes)).map_err(|_| invalid())?;
    if bytes[0] == b'/' {
        if uri.scheme().is_some() || uri.authority().is_some() {
            return Err(invalid());
        }
        return Ok(uri);
    }
    // absolute-form (RFC 9112 3.2.2): http or https with a host and no
    // userinfo (RFC 9110 4.2.4 asks recipients to treat userinfo as an
    // error).
    match (uri.scheme_str(), uri.authority()) {
        (Some(s), Some(a))
            if (s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"))
                && !a.as_str().contains('@')
                && !a.host().is_empty() =>
        {
            Ok(uri)
        }
        _ => Err(invalid()),
    }
}

/// What the fields that decide framing and the connection's fate say,
/// gathered while the map is built (a lookup each would hash every name
/// again).
#[derive(Default)]
struct Special<'a> {
    /// The first `Host` value, and how many there are.
    host: Option<&'a [u8]>,
    hosts: u32,
    /// The first `Content-Length` value, and how many there are.
    content_length: Option<&'a [u8]>,
    content_lengths: u32,
    transfer_encoding: bool,
    /// The first `Expect` value, and how many there are.
    expect: Option<&'a [u8]>,
    expects: u32,
    upgrade: bool,
    connection: ConnectionTokens,
}

/// The fields as a map. With `head`, the bytes the fields were parsed
/// from, values are slices of it instead of copies.
fn to_header_map<'a>(
    fields: &[httparse::Header<'a>],
    head: Option<&Bytes>,
) -> Result<(HeaderMap, Special<'a>), ParseError> {
    let mut map = HeaderMap::with_capacity(fields.len());
    let mut special = Special::default();
    for f in fields {
        let name = HeaderName::from_bytes(f.name.as_bytes())
            .map_err(|_| ParseError::bad("invalid header field name"))?;
        let value = match head {
            Some(h) => {
                HeaderValue::from_maybe_shared(h.slice_ref(f.value)).map_err(|_| bad_value())
            }
            None => field_value(f.value),
        }?;
        if name == header::HOST {
            special.hosts += 1;
            special.host.get_or_insert(f.value);
        } else if name == header::CONTENT_LENGTH {
            special.content_lengths += 1;
            special.content_length.get_or_insert(f.value);
        } else if name == header::TRANSFER_ENCODING {
            special.transfer_encoding = true;
        } else if name == header::CONNECTION {
            special.connection.add(f.value);
        } else if name == header::EXPECT {
            special.expects += 1;
            special.expect.get_or_insert(f.value);
        } else if name == header::UPGRADE {
            special.upgrade = true;
        }
        map.append(name, value);
    }
    Ok((map, special))
}

fn bad_value() -> ParseError {
    ParseError::bad("control character in header field value")
}

/// A field value: no control characters other than HTAB (RFC 9110 5.5);
/// obs-text bytes are kept.
pub(super) fn field_value(v: &[u8]) -> Result<HeaderValue, ParseError> {
    HeaderValue::from_bytes(v).map_err(|_| bad_value())
}

/// Bytes of a reg-name or IPv4 address: unreserved, pct-encoded and
/// sub-delims (RFC 3986 3.2.2).
const REG_NAME: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric();
        c += 1;
    }
    let extra = b"-._~%!$&'()*+,;=";
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
};

/// `Host` = uri-host [ ":" port ] (RFC 9110 7.2): an IP literal in
/// brackets, or a reg-name or IPv4 address; no userinfo.
fn valid_host(b: &[u8]) -> bool {
    let (host, port) = if b.first() == Some(&b'[') {
        let Some(end) = b.iter().position(|&c| c == b']') else {
            return false;
        };
        let inside = &b[1..end];
        if inside.is_empty()
            || !inside
                .iter()
                .all(|&c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
        {
            return false;
        }
        match &b[end + 1..] {
            [] => return true,
            [b':', port @ ..] => (&b[..0], port),
            _ => return false,
        }
    } else {
        match b.iter().rposition(|&c| c == b':') {
            Some(i) => (&b[..i], &b[i + 1..]),
            None => (b, &b[..0]),
        }
    };
    host.iter().all(|&c| REG_NAME[usize::from(c)])
        && port.len() <= 5
        && port.iter().all(u8::is_ascii_digit)
}

#[derive(Default)]
struct ConnectionTokens {
    close: bool,
    keep_alive: bool,
    upgrade: bool,
}

impl ConnectionTokens {
    /// Adds the tokens of one `Connection` field value.
    fn add(&mut self, value: &[u8]) {
        for tok in value.split(|&b| b == b',') {
            let tok = tok.trim_ascii();
            if tok.eq_ignore_ascii_case(b"close") {
                self.close = true;
            } else if tok.eq_ignore_ascii_case(b"keep-alive") {
                self.keep_alive = true;
            } else if tok.eq_ignore_ascii_case(b"upgrade") {
                self.upgrade = true;
            }
        }
    }
}

struct Codings {
    chunked_last: bool,
}

/// The `Transfer-Encoding` list across all its fields. Every coding must
/// be `chunked`, exactly once, last: thicket implements no other transfer
/// coding (501), and `chunked` anywhere but last, or twice, is malformed.
/// Responses are allowed other codings (the body then runs to EOF).
fn transfer_codings(headers: &HeaderMap) -> Result<Option<Codings>, ParseError> {
    let mut any = false;
    let mut chunked_seen = false;
    let mut chunked_last = false;
    for v in headers.get_all(header::TRANSFER_ENCODING) {
        for coding in v.as_bytes().split(|&b| b == b',') {
            let coding = coding.trim_ascii();
            if coding.is_empty() {
                return Err(ParseError::bad("empty element in Transfer-Encoding"));
            }
            any = true;
            if coding.eq_ignore_ascii_case(b"chunked") {
                if chunked_seen {
                    return Err(ParseError::bad("chunked applied twice"));
                }
                chunked_seen = true;
                chunked_last = true;
            } else {
                if chunked_seen {
                    return Err(ParseError::bad("chunked is not the last transfer coding"));
                }
                chunked_last = false;
            }
        }
    }
    Ok(any.then_some(Codings { chunked_last }))
}

/// One `Content-Length` field of only digits; several (even equal) or a
/// list are refused rather than guessed at.
fn content_length(headers: &HeaderMap) -> Result<Option<u64>, ParseError> {
    let mut values = headers.get_all(header::CONTENT_LENGTH).iter();
    let Some(v) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ParseError::bad("more than one Content-Length field"));
    }
    length_digits(v.as_bytes()).map(Some)
}

/// A `Content-Length` value: only digits, at most 19 of them.
fn length_digits(b: &[u8]) -> Result<u64, ParseError> {
    if b.is_empty() || b.len() > 19 || !b.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::bad("malformed Content-Length"));
    }
    Ok(b.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')))
}

fn request_framing(
    headers: &HeaderMap,
    special: &Special<'_>,
    version: Version,
) -> Result<Framing, ParseError> {
    let te = special.transfer_encoding;
    let cl = special.content_lengths > 0;
    if te && cl {
        return Err(ParseError::bad(
            "Content-Length and Transfer-Encoding together",
        ));
    }
    if te {
        if version == Version::HTTP_10 {
            // RFC 9112 6.1: the framing of such a message is faulty.
            return Err(ParseError::bad("Transfer-Encoding in an HTTP/1.0 request"));
        }
        let codings = transfer_codings(headers)?;
        return match codings {
            Some(Codings { chunked_last: true }) => {
                let only_chunked = headers
                    .get_all(header::TRANSFER_ENCODING)
                    .iter()
                    .flat_map(|v| v.as_bytes().split(|&b| b == b','))
                    .all(|c| c.trim_ascii().eq_ignore_ascii_case(b"chunked"));
                if only_chunked {
                    Ok(Framing::Chunked)
                } else {
                    Err(ParseError::new(501, "unsupported transfer coding"))
                }
            }
            _ => {
                // Is it only an unknown coding, or chunked misplaced?
                Err(ParseError::new(501, "unsupported transfer coding"))
            }
        };
    }
    if special.content_lengths > 1 {
        return Err(ParseError::bad("more than one Content-Length field"));
    }
    Ok(Framing::Length(match special.content_length {
        Some(v) => length_digits(v)?,
        None => 0,
    }))
}

#[cfg(test)]
mod tests;
