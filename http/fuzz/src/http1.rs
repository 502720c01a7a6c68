//! HTTP/1.1 framing: request heads (the server), response heads (the
//! client), and the bodies after them.

use http::header::{HeaderMap, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{Method, StatusCode, Uri, Version};
use thicket_http::proto::{
    parse_request, parse_response, Decoder, Framing, Limits, ParseError, RequestHead, ResponseHead,
    Scan,
};

use crate::{hash, piece_sizes};

/// The statuses a refused request may be answered with.
const REQUEST_ERROR_STATUSES: [u16; 7] = [400, 413, 414, 417, 431, 501, 505];

/// Leading empty lines a head may start with (8 CRLFs).
const MAX_LEADING: usize = 16;

/// A request head as data that can be compared.
#[derive(Debug, PartialEq)]
struct Request {
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
    framing: Framing,
    keep_alive: bool,
    expect_continue: bool,
    upgrade: bool,
}

impl From<&RequestHead> for Request {
    fn from(h: &RequestHead) -> Request {
        Request {
            method: h.method.clone(),
            uri: h.uri.clone(),
            version: h.version,
            headers: h.headers.clone(),
            framing: h.framing,
            keep_alive: h.keep_alive,
            expect_continue: h.expect_continue,
            upgrade: h.upgrade,
        }
    }
}

/// A response head as data that can be compared.
#[derive(Debug, PartialEq)]
struct Response {
    status: StatusCode,
    reason: String,
    version: Version,
    headers: HeaderMap,
    framing: Framing,
    keep_alive: bool,
}

impl From<&ResponseHead> for Response {
    fn from(h: &ResponseHead) -> Response {
        Response {
            status: h.status,
            reason: h.reason.clone(),
            version: h.version,
            headers: h.headers.clone(),
            framing: h.framing,
            keep_alive: h.keep_alive,
        }
    }
}

/// What one parse call ended with, comparable.
type Outcome<T> = Result<Option<(T, usize)>, (u16, String)>;

fn outcome<H, T>(r: Result<Option<H>, ParseError>, len: impl Fn(&H) -> usize) -> Outcome<T>
where
    T: for<'a> From<&'a H>,
{
    match r {
        Ok(Some(h)) => Ok(Some((T::from(&h), len(&h)))),
        Ok(None) => Ok(None),
        Err(e) => Err((e.status().as_u16(), e.reason().to_string())),
    }
}

/// Parses `data` as it would arrive `step` bytes at a time, with one
/// `Scan` kept across the calls as the server and client do.
fn fed_in_pieces<H>(
    data: &[u8],
    step: usize,
    mut parse: impl FnMut(&mut Scan, &[u8]) -> Result<Option<H>, ParseError>,
) -> Result<Option<H>, ParseError> {
    let mut scan = Scan::default();
    let mut end: usize = 0;
    loop {
        end = end.saturating_add(step).min(data.len());
        match parse(&mut scan, &data[..end]) {
            Ok(None) if end < data.len() => {}
            other => return other,
        }
    }
}

/// `parse_request` on the input, fed whole and in pieces (the results must
/// agree); a head it accepts must be within the input, end with an empty
/// line, obey RFC 9112's framing rules, and parse to the same head once
/// written out again.
pub fn request_head(data: &[u8]) {
    let limits = Limits::default();
    let parse = |scan: &mut Scan, buf: &[u8]| parse_request(scan, buf, &limits);
    let whole: Outcome<Request> = outcome(parse(&mut Scan::default(), data), |h| h.len);
    for step in piece_sizes(data) {
        let fed: Outcome<Request> = outcome(fed_in_pieces(data, step, parse), |h| h.len);
        assert_eq!(fed, whole, "fed {step} bytes at a time");
    }
    match parse_request(&mut Scan::default(), data, &limits) {
        Ok(Some(head)) => {
            check_request(&head, data, &limits);
            let again = write_request(&head);
            let reparsed = parse_request(&mut Scan::default(), &again, &limits);
            let reparsed: Outcome<Request> = outcome(reparsed, |h| h.len);
            assert_eq!(
                reparsed,
                Ok(Some((Request::from(&head), again.len()))),
                "the head written out again: {:?}",
                String::from_utf8_lossy(&again)
            );
        }
        Ok(None) => {}
        Err(e) => assert!(
            REQUEST_ERROR_STATUSES.contains(&e.status().as_u16()),
            "unexpected status for {e}"
        ),
    }
}

fn check_request(head: &RequestHead, data: &[u8], limits: &Limits) {
    assert!(head.len <= data.len(), "head longer than the input");
    assert!(
        data[..head.len].ends_with(b"\r\n\r\n"),
        "a head ends with an empty line"
    );
    assert!(
        head.len <= limits.max_head + MAX_LEADING,
        "head over max_head"
    );
    assert!(head.headers.len() <= limits.max_headers);
    assert!(matches!(head.version, Version::HTTP_10 | Version::HTTP_11));
    let hosts = head.headers.get_all(HOST).iter().count();
    if head.version == Version::HTTP_11 {
        assert_eq!(hosts, 1, "HTTP/1.1 needs exactly one Host");
    } else {
        assert!(hosts <= 1);
        assert!(!head.expect_continue, "100-continue for an HTTP/1.0 client");
    }
    let te = head.headers.contains_key(TRANSFER_ENCODING);
    let lengths: Vec<_> = head.headers.get_all(CONTENT_LENGTH).iter().collect();
    match head.framing {
        Framing::Length(n) => {
            assert!(!te, "Transfer-Encoding with a length framing");
            match lengths[..] {
                [] => assert_eq!(n, 0),
                [v] => assert_eq!(v.to_str().ok().and_then(|v| v.parse().ok()), Some(n)),
                _ => panic!("several Content-Length fields accepted"),
            }
        }
        Framing::Chunked => {
            assert!(te && lengths.is_empty(), "chunked needs TE and no length");
            assert_eq!(head.version, Version::HTTP_11);
        }
        Framing::Eof => panic!("a request body delimited by EOF"),
    }
    if head.method == Method::CONNECT {
        assert!(head.upgrade);
    }
}

/// The head as a client would send it.
fn write_request(head: &RequestHead) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(head.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(head.uri.to_string().as_bytes());
    out.extend_from_slice(version(head.version).as_bytes());
    out.extend_from_slice(b"\r\n");
    write_fields(&head.headers, &mut out);
    out
}

fn version(v: Version) -> &'static str {
    if v == Version::HTTP_10 {
        " HTTP/1.0"
    } else {
        " HTTP/1.1"
    }
}

fn write_fields(headers: &HeaderMap, out: &mut Vec<u8>) {
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// A connection's bytes as the server reads them: heads and the bodies
/// they announce, pipelined, until one is refused or the connection would
/// close. Each body is decoded whole and in pieces (same body, same
/// outcome), within the bytes that follow its head.
pub fn request_stream(data: &[u8]) {
    let limits = Limits::default();
    let mut pos = 0;
    for _ in 0..64 {
        let head = match parse_request(&mut Scan::default(), &data[pos..], &limits) {
            Ok(Some(head)) => head,
            _ => return,
        };
        pos += head.len;
        assert!(pos <= data.len());
        let rest = &data[pos..];
        let Some(body) = decode_checked(head.framing, rest, false) else {
            return;
        };
        if let Framing::Length(n) = head.framing {
            let available = rest.len() as u64;
            assert_eq!(body.data.len() as u64, n.min(available));
            assert_eq!(body.done, n <= available);
        }
        if !body.done || !head.keep_alive || head.upgrade {
            return;
        }
        pos += body.consumed;
    }
}

/// `parse_response` for a `GET`, a `HEAD` and a `CONNECT`, fed whole and
/// in pieces; a head it accepts must be within the input, frame its body
/// as RFC 9112 section 6.3 says, and parse to the same head once written
/// out again; the body after it is decoded as for `request_stream`.
pub fn response(data: &[u8]) {
    let limits = Limits::default();
    for method in [Method::GET, Method::HEAD, Method::CONNECT] {
        let parse = |scan: &mut Scan, buf: &[u8]| parse_response(scan, buf, &limits, &method);
        let whole: Outcome<Response> = outcome(parse(&mut Scan::default(), data), |h| h.len);
        for step in piece_sizes(data) {
            let fed: Outcome<Response> = outcome(fed_in_pieces(data, step, parse), |h| h.len);
            assert_eq!(fed, whole, "{method}: fed {step} bytes at a time");
        }
        let Ok(Some(head)) = parse(&mut Scan::default(), data) else {
            continue;
        };
        check_response(&head, &method, data, &limits);
        let again = write_response(&head);
        let reparsed: Outcome<Response> = outcome(parse(&mut Scan::default(), &again), |h| h.len);
        assert_eq!(
            reparsed,
            Ok(Some((Response::from(&head), again.len()))),
            "{method}: the head written out again: {:?}",
            String::from_utf8_lossy(&again)
        );
        if method == Method::GET {
            decode_checked(head.framing, &data[head.len..], true);
        }
    }
}

fn check_response(head: &ResponseHead, method: &Method, data: &[u8], limits: &Limits) {
    assert!(head.len <= data.len(), "head longer than the input");
    assert!(head.headers.len() <= limits.max_headers);
    let status = head.status;
    let no_body = method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || (method == Method::CONNECT && status.is_success());
    if no_body {
        assert_eq!(head.framing, Framing::Length(0), "{method} {status}");
    }
    match head.framing {
        Framing::Chunked => assert!(head.headers.contains_key(TRANSFER_ENCODING)),
        Framing::Eof => assert!(!head.keep_alive, "EOF framing on a kept-alive connection"),
        Framing::Length(_) => {}
    }
}

fn write_response(head: &ResponseHead) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(version(head.version).trim_start().as_bytes());
    out.extend_from_slice(format!(" {} ", head.status.as_u16()).as_bytes());
    out.extend_from_slice(head.reason.as_bytes());
    out.extend_from_slice(b"\r\n");
    write_fields(&head.headers, &mut out);
    out
}

/// A chunked body fed whole, a byte at a time and in pieces: the same body,
/// trailers and error each way; the body no longer than the bytes used,
/// bytes after the end left alone, and a complete body, chunked again
/// differently, decoding to the same body and trailers.
pub fn chunked_body(data: &[u8]) {
    let Some(body) = decode_checked(Framing::Chunked, data, false) else {
        return;
    };
    assert!(body.data.len() < data.len().max(1));
    if !body.done {
        return;
    }
    let mut longer = data[..body.consumed].to_vec();
    longer.extend_from_slice(b"5\r\nextra\r\n");
    let again = decode_all(Framing::Chunked, &longer, usize::MAX, false);
    assert_eq!(again, Ok(body.clone()), "bytes after the end were used");

    let encoded = chunk(&body.data, body.trailers.as_ref(), hash(data));
    let again = decode_all(Framing::Chunked, &encoded, usize::MAX, false);
    let again = again.expect("a body chunked again decodes");
    assert!(again.done);
    assert_eq!(again.data, body.data, "the body chunked again");
    assert_eq!(again.trailers, body.trailers, "the trailers written again");
}

/// `body` in chunks of sizes picked by `seed`, then `trailers`.
fn chunk(body: &[u8], trailers: Option<&HeaderMap>, seed: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = body;
    let mut seed = seed;
    while !rest.is_empty() {
        let n = (1 + (seed % 300) as usize).min(rest.len());
        seed = seed.rotate_right(7) ^ 0x9e37_79b9;
        out.extend_from_slice(format!("{n:X}\r\n").as_bytes());
        out.extend_from_slice(&rest[..n]);
        out.extend_from_slice(b"\r\n");
        rest = &rest[n..];
    }
    out.extend_from_slice(b"0\r\n");
    match trailers {
        Some(t) => write_fields(t, &mut out),
        None => out.extend_from_slice(b"\r\n"),
    }
    out
}

/// What a body decoder made of some input.
#[derive(Debug, Clone, PartialEq)]
struct Body {
    data: Vec<u8>,
    /// Input bytes used.
    consumed: usize,
    done: bool,
    trailers: Option<HeaderMap>,
}

/// Decodes a body whole and in pieces and checks that the results agree
/// and stay within the input; `None` if it was refused.
fn decode_checked(framing: Framing, input: &[u8], at_eof: bool) -> Option<Body> {
    let whole = decode_all(framing, input, usize::MAX, at_eof);
    for step in piece_sizes(input).into_iter().skip(1) {
        let fed = decode_all(framing, input, step, at_eof);
        assert_eq!(fed, whole, "{framing:?} body fed {step} bytes at a time");
    }
    let body = whole.ok()?;
    assert!(body.consumed <= input.len());
    assert!(body.data.len() <= body.consumed, "more body than input");
    Some(body)
}

/// Decodes `input` arriving `step` bytes at a time into a buffer that
/// keeps what the decoder has not used, as a connection does; at the end
/// of the input the connection closes if `at_eof`.
fn decode_all(framing: Framing, input: &[u8], step: usize, at_eof: bool) -> Result<Body, String> {
    let mut d = Decoder::new(framing);
    let mut buf = Vec::new();
    let mut fed = 0;
    let mut body = Body {
        data: Vec::new(),
        consumed: 0,
        done: false,
        trailers: None,
    };
    while !d.is_done() {
        let s = d.decode(&buf).map_err(|e| e.reason().to_string())?;
        assert!(s.consumed <= buf.len(), "used more than it was given");
        assert!(
            s.data.start <= s.data.end && s.data.end <= s.consumed,
            "body bytes {:?} outside the {} bytes used",
            s.data,
            s.consumed
        );
        body.data.extend_from_slice(&buf[s.data.clone()]);
        buf.drain(..s.consumed);
        body.consumed += s.consumed;
        if s.consumed == 0 {
            assert!(buf.is_empty() || d.is_done(), "no progress on {buf:?}");
            if fed == input.len() {
                break;
            }
            let end = fed.saturating_add(step).min(input.len());
            buf.extend_from_slice(&input[fed..end]);
            fed = end;
        }
    }
    if at_eof && !d.is_done() {
        let complete = d.finish_at_eof();
        assert_eq!(complete, framing == Framing::Eof);
    }
    body.done = d.is_done();
    body.trailers = d.trailers().cloned();
    if let Some(t) = &body.trailers {
        assert_eq!(framing, Framing::Chunked);
        assert!(!t.contains_key(CONTENT_LENGTH) && !t.contains_key(TRANSFER_ENCODING));
    }
    Ok(body)
}
