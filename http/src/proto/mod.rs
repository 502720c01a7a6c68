//! The sans-IO layer: message heads parsed from bytes and bodies decoded
//! from bytes, with no sockets involved. The server and the client drive it;
//! it is public so benchmarks and fuzzers can call it directly.
//!
//! Heads are parsed with `httparse` after a scan of our own that enforces
//! what `httparse` leaves to its caller: CRLF line endings, the request-line
//! and head size limits, and (for requests) RFC 9112's framing rules.
//!
//! # Examples
//!
//! ```
//! use thicket_http::proto::{parse_request, Framing, Limits, Scan};
//!
//! let mut scan = Scan::default();
//! let raw = b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";
//! let head = parse_request(&mut scan, raw, &Limits::default()).unwrap().unwrap();
//! assert_eq!(head.method, "POST");
//! assert_eq!(head.framing, Framing::Length(5));
//! assert_eq!(&raw[head.len..], b"hello");
//! ```

mod decode;
mod head;
mod scan;

use std::borrow::Cow;
use std::fmt;

use http::StatusCode;

pub use self::decode::{Decoded, Decoder};
pub use self::head::{parse_request, parse_response, Framing, RequestHead, ResponseHead};
pub use self::scan::Scan;

/// Size limits applied while parsing a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest request line (or status line) in bytes; longer gets 414.
    pub max_line: usize,
    /// The longest head (start line and fields) in bytes; longer gets 431.
    pub max_head: usize,
    /// The most header fields; more gets 431.
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_line: 8 * 1024,
            max_head: 64 * 1024,
            max_headers: 100,
        }
    }
}

/// A message the parser refuses: the status a server answers with and a
/// reason naming what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    status: StatusCode,
    reason: Cow<'static, str>,
}

impl ParseError {
    pub(crate) fn new(status: u16, reason: impl Into<Cow<'static, str>>) -> ParseError {
        ParseError {
            status: StatusCode::from_u16(status).expect("a valid status code"),
            reason: reason.into(),
        }
    }

    pub(crate) fn bad(reason: impl Into<Cow<'static, str>>) -> ParseError {
        ParseError::new(400, reason)
    }

    /// The status a server answers with (400, 413, 414, 417, 431, 501 or
    /// 505).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What was wrong, in a few words.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.reason, self.status.as_u16())
    }
}

impl std::error::Error for ParseError {}
