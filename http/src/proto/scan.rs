//! Finding the end of a head in a buffer that grows a read at a time,
//! without rescanning what was already scanned.

use super::{Limits, ParseError};

/// Where a head scan stands. Keep one per message and pass it to each
/// parse call as more bytes arrive; reset it (`Scan::default()`) for the
/// next message.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// Where the head starts (after empty lines allowed before it).
    start: usize,
    /// The first byte not yet scanned.
    pos: usize,
    /// Where the current line starts.
    line_start: usize,
    /// The start line has ended.
    in_fields: bool,
    /// Leading empty lines have been skipped.
    started: bool,
}

/// How lenient a scan is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    /// Accept a bare LF as a line ending (RFC 9112 2.2 allows a recipient
    /// to; the server does not, the client does).
    pub bare_lf: bool,
    /// Status for a start line over the limit (414 for a request line).
    pub long_line_status: u16,
}

/// A complete head: `buf[start..end]`, where `end` is just past the empty
/// line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Found {
    pub start: usize,
    pub end: usize,
}

/// At most this many empty lines before a start line are skipped (RFC 9112
/// 2.2 asks servers to skip at least one).
const MAX_LEADING_EMPTY_LINES: usize = 8;

impl Scan {
    /// Scans `buf` for the end of a head. `Ok(None)`: more bytes needed.
    pub(crate) fn find(
        &mut self,
        buf: &[u8],
        limits: &Limits,
        rules: Rules,
    ) -> Result<Option<Found>, ParseError> {
        if !self.started {
            let mut i = self.start;
            let mut skipped = 0;
            loop {
                match buf.get(i..i + 2) {
                    Some(b"\r\n") => i += 2,
                    Some([b'\n', _]) if rules.bare_lf => i += 1,
                    Some(_) => break,
                    None => {
                        // A lone CR or LF at the end: wait for what follows.
                        self.start = i;
                        self.pos = i;
                        self.line_start = i;
                        return Ok(None);
                    }
                }
                skipped += 1;
                if skipped > MAX_LEADING_EMPTY_LINES {
                    return Err(ParseError::bad("too many empty lines before the request"));
                }
            }
            self.start = i;
            self.pos = i;
            self.line_start = i;
            self.started = true;
        }
        while self.pos < buf.len() {
            let Some(off) = memchr::memchr(b'\n', &buf[self.pos..]) else {
                self.pos = buf.len();
                break;
            };
            let lf = self.pos + off;
            self.pos = lf + 1;
            let has_cr = lf > self.line_start && buf[lf - 1] == b'\r';
            if !has_cr && !rules.bare_lf {
                return Err(ParseError::bad("bare LF where CRLF is required"));
            }
            let line_end = if has_cr { lf - 1 } else { lf };
            let line_len = line_end - self.line_start;
            if !self.in_fields {
                if line_len > limits.max_line {
                    return Err(long_line(limits, rules));
                }
                self.in_fields = true;
            } else if line_len == 0 {
                if self.pos - self.start > limits.max_head {
                    return Err(long_head(limits));
                }
                return Ok(Some(Found {
                    start: self.start,
                    end: self.pos,
                }));
            }
            self.line_start = self.pos;
        }
        if !self.in_fields && buf.len() - self.line_start > limits.max_line {
            return Err(long_line(limits, rules));
        }
        if buf.len() - self.start > limits.max_head {
            return Err(long_head(limits));
        }
        Ok(None)
    }
}

fn long_line(limits: &Limits, rules: Rules) -> ParseError {
    ParseError::new(
        rules.long_line_status,
        format!("start line is longer than {} bytes", limits.max_line),
    )
}

fn long_head(limits: &Limits) -> ParseError {
    ParseError::new(
        431,
        format!("header section is longer than {} bytes", limits.max_head),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: Rules = Rules {
        bare_lf: false,
        long_line_status: 414,
    };

    fn find_all(buf: &[u8], limits: &Limits) -> Result<Option<Found>, ParseError> {
        Scan::default().find(buf, limits, STRICT)
    }

    fn find_bytewise(buf: &[u8], limits: &Limits) -> Result<Option<Found>, ParseError> {
        let mut scan = Scan::default();
        for i in 1..=buf.len() {
            if let Some(f) = scan.find(&buf[..i], limits, STRICT)? {
                return Ok(Some(f));
            }
        }
        Ok(None)
    }

    #[test]
    fn finds_the_end_whole_and_bytewise() {
        let raw = b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nrest";
        let l = Limits::default();
        let want = Some(Found { start: 2, end: 29 });
        assert_eq!(find_all(raw, &l).unwrap(), want);
        assert_eq!(find_bytewise(raw, &l).unwrap(), want);
    }

    #[test]
    fn rejects_bare_lf() {
        let l = Limits::default();
        for raw in [
            &b"GET / HTTP/1.1\nHost: a\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nHost: a\n\r\n",
        ] {
            let e = find_all(raw, &l).unwrap_err();
            assert_eq!(e.status(), 400);
            assert!(e.reason().contains("bare LF"), "{e}");
            assert!(find_bytewise(raw, &l).is_err());
        }
    }

    #[test]
    fn long_request_line_is_414_even_before_it_ends() {
        let l = Limits {
            max_line: 20,
            ..Limits::default()
        };
        let e = find_all(b"GET /0123456789abcdef", &l).unwrap_err();
        assert_eq!(e.status(), 414);
        let e = find_all(b"GET /0123456789abcdef HTTP/1.1\r\n\r\n", &l).unwrap_err();
        assert_eq!(e.status(), 414);
        assert!(find_all(b"GET /0 HTTP/1.1\r\nX: y\r\n\r\n", &l)
            .unwrap()
            .is_some());
    }

    #[test]
    fn long_head_is_431() {
        let l = Limits {
            max_head: 32,
            ..Limits::default()
        };
        let e = find_all(b"GET / HTTP/1.1\r\nX: 0123456789012345678\r\n", &l).unwrap_err();
        assert_eq!(e.status(), 431);
    }

    #[test]
    fn leading_empty_lines_are_limited() {
        let l = Limits::default();
        let mut raw = b"\r\n".repeat(9);
        raw.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
        assert!(find_all(&raw, &l).is_err());
        assert!(find_all(&raw[2..], &l).unwrap().is_some());
    }
}
