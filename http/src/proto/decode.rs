//! Body decoding: `Content-Length`, chunked (with trailers) and
//! close-delimited bodies, fed from a buffer in pieces of any size.

use std::ops::Range;

use http::header::{self, HeaderMap, HeaderName};

use super::head::field_value;
use super::{Framing, ParseError};

/// The longest chunk-size line (size and extensions) accepted.
const MAX_CHUNK_LINE: usize = 4096;
/// The most trailer bytes accepted.
const MAX_TRAILERS: usize = 16 * 1024;
/// The most trailer fields accepted.
const MAX_TRAILER_FIELDS: usize = 64;

/// What one [`Decoder::decode`] call found in its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// How many input bytes were used (framing and data); drop them from
    /// the buffer.
    pub consumed: usize,
    /// Body bytes: this range of the input (empty when there were none).
    pub data: Range<usize>,
}

/// Decodes a body from bytes as they arrive.
///
/// # Examples
///
/// ```
/// use thicket_http::proto::{Decoder, Framing};
///
/// let mut d = Decoder::new(Framing::Chunked);
/// let input = b"5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n";
/// let mut body = Vec::new();
/// let mut rest = &input[..];
/// while !d.is_done() {
///     let step = d.decode(rest).unwrap();
///     body.extend_from_slice(&rest[step.data.clone()]);
///     rest = &rest[step.consumed..];
/// }
/// assert_eq!(body, b"hello");
/// assert_eq!(d.trailers().unwrap()["x-sum"], "1");
/// ```
#[derive(Debug)]
pub struct Decoder {
    state: State,
    trailers: Option<HeaderMap>,
}

#[derive(Debug)]
enum State {
    Length(u64),
    Eof,
    Size { value: u64, digits: u8, line: usize },
    SizeWs { value: u64, line: usize },
    Ext { value: u64, line: usize },
    SizeLf { value: u64 },
    Data(u64),
    DataCr,
    DataLf,
    Trailers(Vec<u8>),
    Done,
}

impl Decoder {
    /// A decoder for a body framed as `framing`.
    pub fn new(framing: Framing) -> Decoder {
        let state = match framing {
            Framing::Length(0) => State::Done,
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => State::Size {
                value: 0,
                digits: 0,
                line: 0,
            },
            Framing::Eof => State::Eof,
        };
        Decoder {
            state,
            trailers: None,
        }
    }

    /// Whether the whole body has been decoded.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Whether the body runs until the connection closes.
    pub fn is_eof_delimited(&self) -> bool {
        matches!(self.state, State::Eof)
    }

    /// Body bytes still expected, when known (`Content-Length` bodies).
    pub fn remaining(&self) -> Option<u64> {
        match self.state {
            State::Length(n) => Some(n),
            State::Done => Some(0),
            _ => None,
        }
    }

    /// The trailer fields of a chunked body, once it is done.
    pub fn trailers(&self) -> Option<&HeaderMap> {
        self.trailers.as_ref()
    }

    /// Marks a close-delimited body complete (the connection reached end of
    /// file). Returns whether the body was complete at EOF: `false` for a
    /// length or chunked body cut short.
    pub fn finish_at_eof(&mut self) -> bool {
        match self.state {
            State::Eof | State::Done => {
                self.state = State::Done;
                true
            }
            _ => false,
        }
    }

    /// Decodes from `input`, returning how much of it was used and which
    /// part of it is body data. Call again with the rest of the input (and
    /// more, when everything was used) until [`is_done`](Self::is_done).
    ///
    /// # Errors
    ///
    /// Malformed chunked framing (400), or forbidden trailer fields (400);
    /// the connection cannot be used after this.
    pub fn decode(&mut self, input: &[u8]) -> Result<Decoded, ParseError> {
        let mut i = 0;
        while i < input.len() {
            let b = input[i];
            match &mut self.state {
                State::Done => break,
                State::Eof => {
                    return Ok(Decoded {
                        consumed: input.len(),
                        data: 0..input.len(),
                    });
                }
                State::Length(n) => {
                    let take = (*n).min((input.len() - i) as u64) as usize;
                    *n -= take as u64;
                    if *n == 0 {
                        self.state = State::Done;
                    }
                    return Ok(Decoded {
                        consumed: i + take,
                        data: i..i + take,
                    });
                }
                State::Data(n) => {
                    let take = (*n).min((input.len() - i) as u64) as usize;
                    *n -= take as u64;
                    if *n == 0 {
                        self.state = State::DataCr;
                    }
                    return Ok(Decoded {
                        consumed: i + take,
                        data: i..i + take,
                    });
                }
                State::Size {
                    value,
                    digits,
                    line,
                } => {
                    *line += 1;
                    if let Some(d) = hex(b) {
                        if *digits >= 16 {
                            return Err(ParseError::bad("chunk size too large"));
                        }
                        *value = (*value << 4) | u64::from(d);
                        *digits += 1;
                    } else if *digits == 0 {
                        return Err(ParseError::bad("invalid chunk size"));
                    } else {
                        let (value, line) = (*value, *line);
                        self.state = match b {
                            b'\r' => State::SizeLf { value },
                            b';' => State::Ext { value, line },
                            b' ' | b'\t' => State::SizeWs { value, line },
                            _ => return Err(ParseError::bad("invalid chunk size")),
                        };
                    }
                }
                State::SizeWs { value, line } => {
                    *line += 1;
                    let (value, line) = (*value, *line);
                    match b {
                        b' ' | b'\t' if line < MAX_CHUNK_LINE => {}
                        b';' => self.state = State::Ext { value, line },
                        _ => {
                            return Err(ParseError::bad(
                                "whitespace after chunk size without an extension",
                            ))
                        }
                    }
                }
                State::Ext { value, line } => {
                    *line += 1;
                    if *line > MAX_CHUNK_LINE {
                        return Err(ParseError::bad("chunk extension too long"));
                    }
                    match b {
                        b'\r' => {
                            let value = *value;
                            self.state = State::SizeLf { value };
                        }
                        b'\t' => {}
                        0..=0x1f | 0x7f => {
                            return Err(ParseError::bad("control character in chunk extension"))
                        }
                        _ => {}
                    }
                }
                State::SizeLf { value } => {
                    if b != b'\n' {
                        return Err(ParseError::bad("bare CR after chunk size"));
                    }
                    self.state = if *value == 0 {
                        State::Trailers(Vec::new())
                    } else {
                        State::Data(*value)
                    };
                }
                State::DataCr => {
                    if b != b'\r' {
                        return Err(ParseError::bad("chunk data longer than its size"));
                    }
                    self.state = State::DataLf;
                }
                State::DataLf => {
                    if b != b'\n' {
                        return Err(ParseError::bad("missing CRLF after chunk data"));
                    }
                    self.state = State::Size {
                        value: 0,
                        digits: 0,
                        line: 0,
                    };
                }
                State::Trailers(buf) => {
                    if b == b'\n' && buf.last() != Some(&b'\r') {
                        return Err(ParseError::bad("bare LF in trailer section"));
                    }
                    buf.push(b);
                    if buf.len() > MAX_TRAILERS {
                        return Err(ParseError::new(
                            431,
                            format!("trailer section longer than {MAX_TRAILERS} bytes"),
                        ));
                    }
                    if buf == b"\r\n" {
                        self.state = State::Done;
                    } else if buf.ends_with(b"\r\n\r\n") {
                        self.trailers = Some(parse_trailers(buf)?);
                        self.state = State::Done;
                    } else if buf.len() >= 2 && buf[buf.len() - 2] == b'\r' && b != b'\n' {
                        return Err(ParseError::bad("bare CR in trailer section"));
                    }
                }
            }
            i += 1;
        }
        Ok(Decoded {
            consumed: i,
            data: 0..0,
        })
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Fields that must not arrive as trailers (RFC 9110 6.5.1): framing,
/// routing and control data that was decided by the head. They are
/// refused, not silently dropped, so a smuggling attempt is visible.
fn forbidden_trailer(name: &HeaderName) -> bool {
    [
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::HOST,
        header::CONNECTION,
        header::TE,
        header::TRAILER,
        header::EXPECT,
        header::UPGRADE,
        header::CONTENT_TYPE,
        header::CONTENT_ENCODING,
        header::CONTENT_RANGE,
        header::AUTHORIZATION,
        header::SET_COOKIE,
        header::COOKIE,
    ]
    .contains(name)
        || name.as_str() == "keep-alive"
}

fn parse_trailers(raw: &[u8]) -> Result<HeaderMap, ParseError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_TRAILER_FIELDS];
    let fields = match httparse::parse_headers(raw, &mut slots) {
        Ok(httparse::Status::Complete((_, fields))) => fields,
        Ok(httparse::Status::Partial) => return Err(ParseError::bad("incomplete trailers")),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(ParseError::new(431, "too many trailer fields"))
        }
        Err(_) => return Err(ParseError::bad("invalid trailer field")),
    };
    let mut map = HeaderMap::with_capacity(fields.len());
    for f in fields {
        let name = HeaderName::from_bytes(f.name.as_bytes())
            .map_err(|_| ParseError::bad("invalid trailer field name"))?;
        if forbidden_trailer(&name) {
            return Err(ParseError::bad(format!(
                "{name} is not allowed as a trailer"
            )));
        }
        map.append(name, field_value(f.value)?);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Decodes `input` fed in pieces of `step` bytes (keeping unconsumed
    /// bytes, as a connection's buffer does).
    fn decode_in_steps(framing: Framing, input: &[u8], step: usize) -> Result<Vec<u8>, ParseError> {
        let mut d = Decoder::new(framing);
        let mut buf = Vec::new();
        let mut body = Vec::new();
        let mut fed = 0;
        while !d.is_done() {
            if fed < input.len() {
                let end = (fed + step).min(input.len());
                buf.extend_from_slice(&input[fed..end]);
                fed = end;
            } else if buf.is_empty() {
                return Err(ParseError::bad("incomplete"));
            }
            let step = d.decode(&buf)?;
            body.extend_from_slice(&buf[step.data.clone()]);
            buf.drain(..step.consumed);
        }
        Ok(body)
    }

    #[test]
    fn chunked_with_extensions_and_trailers() {
        let raw = b"5;name=value\r\nhello\r\n6 ; x\r\n world\r\n0\r\nX-A: 1\r\nX-B: 2\r\n\r\n";
        for step in [1, 2, 3, 7, raw.len()] {
            let mut d = Decoder::new(Framing::Chunked);
            let mut buf = Vec::new();
            let mut body = Vec::new();
            for piece in raw.chunks(step) {
                buf.extend_from_slice(piece);
                loop {
                    let s = d.decode(&buf).unwrap();
                    body.extend_from_slice(&buf[s.data.clone()]);
                    buf.drain(..s.consumed);
                    if s.consumed == 0 || d.is_done() {
                        break;
                    }
                }
            }
            assert!(d.is_done(), "step {step}");
            assert_eq!(body, b"hello world");
            let t = d.trailers().unwrap();
            assert_eq!(t["x-a"], "1");
            assert_eq!(t["x-b"], "2");
        }
    }

    #[test]
    fn malformed_chunked_is_refused() {
        let cases: &[(&[u8], &str)] = &[
            (b"x\r\n", "invalid chunk size"),
            (b"\r\n", "invalid chunk size"),
            (b"-5\r\n", "invalid chunk size"),
            (b"5 \r\nhello\r\n0\r\n\r\n", "whitespace"),
            (b"5\nhello", "invalid chunk size"),
            (b"5\r\nhelloX\r\n", "longer than its size"),
            (b"5\r\nhello\rX", "missing CRLF"),
            (b"11111111111111111\r\n", "too large"),
            (
                b"0\r\nContent-Length: 5\r\n\r\n",
                "not allowed as a trailer",
            ),
            (b"0\r\nX: a\nY: b\r\n\r\n", "bare LF"),
            (b"1;\x01\r\n", "control character"),
        ];
        for (raw, want) in cases {
            let e = decode_in_steps(Framing::Chunked, raw, 1).unwrap_err();
            assert!(
                e.reason().contains(want),
                "{:?}: {e}",
                String::from_utf8_lossy(raw)
            );
            assert_eq!(e.status(), 400);
        }
    }

    #[test]
    fn length_body_stops_at_its_length() {
        let mut d = Decoder::new(Framing::Length(3));
        let s = d.decode(b"abcdef").unwrap();
        assert_eq!(
            s,
            Decoded {
                consumed: 3,
                data: 0..3
            }
        );
        assert!(d.is_done());
        assert_eq!(d.decode(b"def").unwrap().consumed, 0);
    }

    #[test]
    fn eof_body_takes_everything_until_finished() {
        let mut d = Decoder::new(Framing::Eof);
        assert_eq!(d.decode(b"abc").unwrap().data, 0..3);
        assert!(!d.is_done());
        assert!(d.finish_at_eof());
        assert!(d.is_done());
        let mut cut = Decoder::new(Framing::Length(10));
        assert!(!cut.finish_at_eof());
    }

    fn chunk_encode(body: &[u8], sizes: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = body;
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes[i % sizes.len()].clamp(1, rest.len());
            out.extend_from_slice(format!("{n:x}\r\n").as_bytes());
            out.extend_from_slice(&rest[..n]);
            out.extend_from_slice(b"\r\n");
            rest = &rest[n..];
            i += 1;
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    }

    proptest! {
        #[test]
        fn chunked_roundtrip_any_split(
            body in proptest::collection::vec(any::<u8>(), 0..2000),
            sizes in proptest::collection::vec(1usize..300, 1..8),
            step in 1usize..64,
        ) {
            let raw = chunk_encode(&body, &sizes);
            prop_assert_eq!(decode_in_steps(Framing::Chunked, &raw, step).unwrap(), body);
        }

        #[test]
        fn decoder_never_panics(input in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_in_steps(Framing::Chunked, &input, 3);
        }
    }
}
