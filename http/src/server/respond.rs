//! Writing a response: framing chosen from the body and the request, the
//! head and a small body in one write, streamed bodies chunked.

use std::io::{self, IoSlice, Read, Write};
use std::os::unix::fs::FileExt;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{StatusCode, Version};

use super::date;
use crate::body::Kind;
use crate::{Response, Upgraded};

/// Bodies up to this size are copied after the head and sent with it.
const COALESCE: usize = 16 * 1024;
/// Pipelined responses are held back until this much is buffered.
pub(crate) const FLUSH_AT: usize = 32 * 1024;
/// Streamed bodies are read in pieces of this size.
const STREAM_PIECE: usize = 64 * 1024;

/// What the request says about how to answer it.
pub(crate) struct ReqInfo {
    /// When the request started (the `Date` is taken from it).
    pub started: std::time::Instant,
    pub head: bool,
    pub connect: bool,
    pub version: Version,
    pub keep_alive: bool,
    pub http10_only: bool,
}

/// What happens to the connection after a response.
pub(crate) enum After {
    KeepAlive,
    Close,
    Upgrade(Box<dyn FnOnce(Upgraded) + Send>),
}

/// What was sent, for the access log.
pub(crate) struct Sent {
    pub status: StatusCode,
    pub body_bytes: u64,
    pub after: After,
}

enum Mode {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

/// Writes `resp` into `wbuf` (and through to `w` unless `defer` and the
/// buffer is small). On error the connection must be closed: the framing
/// may be broken.
pub(crate) fn write_response(
    w: &mut impl Write,
    wbuf: &mut Vec<u8>,
    resp: Response,
    req: &ReqInfo,
    defer: bool,
) -> io::Result<Sent> {
    let (parts, body) = resp.into_parts();
    let status = parts.status;
    let h = &parts.headers;
    let fields = Fields::of(h);
    let mut keep = req.keep_alive && !fields.close;
    let upgrade = body.is_upgrade();
    let chunked_ok = req.version == Version::HTTP_11 && !req.http10_only;
    // A 2xx to CONNECT has no content and no framing fields: what follows
    // its head is the tunnel (RFC 9110 9.3.6). Without an upgrade handler
    // to carry the tunnel, the connection ends after the head.
    let tunnel = req.connect && status.is_success();
    if tunnel && !upgrade {
        keep = false;
    }
    // The framing fields are the server's: the handler's Transfer-Encoding
    // always goes, its Content-Length goes unless noted below.
    let mut own = Framing::default();
    let mode = if upgrade || tunnel || status.is_informational() || status == StatusCode::NO_CONTENT
    {
        Mode::None
    } else if status == StatusCode::NOT_MODIFIED {
        own.keep_length = true;
        Mode::None
    } else if req.head {
        // The length a GET would have sent, when the handler knows it.
        match body.len() {
            Some(n) if n > 0 || !fields.content_length => own.length = Some(n),
            _ => own.keep_length = true,
        }
        Mode::None
    } else {
        match body.len() {
            Some(n) => {
                own.length = Some(n);
                Mode::Length(n)
            }
            None if chunked_ok => {
                own.chunked = true;
                Mode::Chunked
            }
            None => {
                keep = false;
                Mode::UntilClose
            }
        }
    };
    if !upgrade {
        if !keep {
            own.connection = Some("close");
        } else if req.version == Version::HTTP_10 || req.http10_only {
            own.connection = Some("keep-alive");
        }
    }
    encode(wbuf, status, h, &own, !fields.date, req);

    let mut sent = Sent {
        status,
        body_bytes: 0,
        after: if keep { After::KeepAlive } else { After::Close },
    };
    let kind = match body.kind {
        Kind::Upgrade(f) => {
            flush(w, wbuf)?;
            sent.after = After::Upgrade(f);
            return Ok(sent);
        }
        kind => kind,
    };
    match (mode, kind) {
        (Mode::None, _) | (_, Kind::Empty) => {}
        (_, Kind::Bytes(b)) => {
            sent.body_bytes = b.len() as u64;
            write_bytes(w, wbuf, &b)?;
        }
        (Mode::Length(n), Kind::Reader { mut reader, .. }) => {
            flush(w, wbuf)?;
            sent.body_bytes = copy_exact(&mut reader, w, n)?;
        }
        (Mode::Length(n), Kind::File { file, offset, len }) => {
            flush(w, wbuf)?;
            sent.body_bytes = copy_file(&file, offset, len.min(n), w)?;
        }
        (mode, kind) => {
            flush(w, wbuf)?;
            let chunked = matches!(mode, Mode::Chunked);
            let mut out = Streamer {
                w,
                wbuf,
                chunked,
                bytes: 0,
            };
            match kind {
                Kind::Reader { mut reader, .. } => {
                    let mut piece = vec![0u8; STREAM_PIECE];
                    loop {
                        let n = match reader.read(&mut piece) {
                            Ok(0) => break,
                            Ok(n) => n,
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                            Err(e) => return Err(e),
                        };
                        out.piece(&piece[..n])?;
                    }
                }
                Kind::Chunks(chunks) => {
                    for c in chunks {
                        out.piece(&c?)?;
                    }
                }
                Kind::File { file, offset, len } => {
                    let mut piece = vec![0u8; STREAM_PIECE];
                    let mut done = 0;
                    while done < len {
                        let k = (len - done).min(STREAM_PIECE as u64) as usize;
                        let n = file.read_at(&mut piece[..k], offset + done)?;
                        if n == 0 {
                            break;
                        }
                        out.piece(&piece[..n])?;
                        done += n as u64;
                    }
                }
                _ => {}
            }
            sent.body_bytes = out.bytes;
            if chunked {
                wbuf.extend_from_slice(b"0\r\n\r\n");
            }
        }
    }
    if !defer || wbuf.len() >= FLUSH_AT || !matches!(sent.after, After::KeepAlive) {
        flush(w, wbuf)?;
    }
    Ok(sent)
}

/// Writes a streamed body piece by piece, each piece a chunk when chunked.
struct Streamer<'a, W: Write> {
    w: &'a mut W,
    wbuf: &'a mut Vec<u8>,
    chunked: bool,
    bytes: u64,
}

impl<W: Write> Streamer<'_, W> {
    fn piece(&mut self, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        self.bytes += data.len() as u64;
        if self.chunked {
            self.wbuf
                .extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
            write_bytes(self.w, self.wbuf, data)?;
            self.wbuf.extend_from_slice(b"\r\n");
        } else {
            write_bytes(self.w, self.wbuf, data)?;
        }
        // Each piece goes out as it comes (server-sent events, progress).
        flush(self.w, self.wbuf)
    }
}

/// The framing and connection fields the server writes itself.
#[derive(Default)]
struct Framing {
    /// `Content-Length: n`, in place of the handler's.
    length: Option<u64>,
    /// Keep the handler's `Content-Length` (a HEAD or 304 answer that
    /// gives the length of what a GET would send).
    keep_length: bool,
    /// `Transfer-Encoding: chunked`.
    chunked: bool,
    /// `Connection: close` or `keep-alive`, in place of the handler's.
    connection: Option<&'static str>,
}

/// What the handler's own fields say about framing, found in one pass
/// instead of a lookup each.
#[derive(Default)]
struct Fields {
    close: bool,
    content_length: bool,
    date: bool,
}

impl Fields {
    fn of(h: &http::HeaderMap) -> Fields {
        let mut f = Fields::default();
        for (name, value) in h {
            if name == header::CONNECTION {
                f.close |= value
                    .as_bytes()
                    .split(|&b| b == b',')
                    .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"));
            } else if name == header::CONTENT_LENGTH {
                f.content_length = true;
            } else if name == header::DATE {
                f.date = true;
            }
        }
        f
    }
}

/// Writes the head: the status line, the handler's fields but those the
/// server replaces, then the server's framing, connection and date fields.
fn encode(
    wbuf: &mut Vec<u8>,
    status: StatusCode,
    headers: &http::HeaderMap,
    own: &Framing,
    date: bool,
    req: &ReqInfo,
) {
    status_line(wbuf, status, req.http10_only);
    for (name, value) in headers {
        let skip = (name == header::TRANSFER_ENCODING)
            || (name == header::CONTENT_LENGTH && !own.keep_length)
            || (name == header::CONNECTION && own.connection.is_some());
        if !skip {
            field(wbuf, name.as_str().as_bytes(), value.as_bytes());
        }
    }
    if let Some(n) = own.length {
        let mut digits = [0u8; 20];
        field(wbuf, b"content-length", decimal(n, &mut digits));
    }
    if own.chunked {
        field(wbuf, b"transfer-encoding", b"chunked");
    }
    if let Some(c) = own.connection {
        field(wbuf, b"connection", c.as_bytes());
    }
    if date {
        field(wbuf, b"date", &date::at(req.started));
    }
    wbuf.extend_from_slice(b"\r\n");
}

fn status_line(wbuf: &mut Vec<u8>, status: StatusCode, http10: bool) {
    wbuf.extend_from_slice(if http10 { b"HTTP/1.0 " } else { b"HTTP/1.1 " });
    wbuf.extend_from_slice(status.as_str().as_bytes());
    wbuf.push(b' ');
    wbuf.extend_from_slice(status.canonical_reason().unwrap_or("Unknown").as_bytes());
    wbuf.extend_from_slice(b"\r\n");
}

fn field(wbuf: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    wbuf.extend_from_slice(name);
    wbuf.extend_from_slice(b": ");
    wbuf.extend_from_slice(value);
    wbuf.extend_from_slice(b"\r\n");
}

/// `n` in decimal, written into the end of `buf`.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

fn write_bytes(w: &mut impl Write, wbuf: &mut Vec<u8>, data: &[u8]) -> io::Result<()> {
    if wbuf.len() + data.len() <= COALESCE.max(wbuf.capacity()) {
        wbuf.extend_from_slice(data);
        return Ok(());
    }
    let mut head_done = 0;
    let mut data_done = 0;
    while head_done < wbuf.len() || data_done < data.len() {
        let bufs = [
            IoSlice::new(&wbuf[head_done..]),
            IoSlice::new(&data[data_done..]),
        ];
        let n = w.write_vectored(&bufs)?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        let from_head = n.min(wbuf.len() - head_done);
        head_done += from_head;
        data_done += n - from_head;
    }
    wbuf.clear();
    Ok(())
}

pub(crate) fn flush(w: &mut impl Write, wbuf: &mut Vec<u8>) -> io::Result<()> {
    if !wbuf.is_empty() {
        let r = w.write_all(wbuf);
        wbuf.clear();
        r?;
    }
    Ok(())
}

fn copy_exact(r: &mut impl Read, w: &mut impl Write, n: u64) -> io::Result<u64> {
    let copied = io::copy(&mut r.take(n), w)?;
    if copied < n {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "response body reader ended {} bytes short of its length",
                n - copied
            ),
        ));
    }
    Ok(copied)
}

fn copy_file(file: &std::fs::File, offset: u64, len: u64, w: &mut impl Write) -> io::Result<u64> {
    let mut piece = vec![0u8; STREAM_PIECE.min(len as usize).max(1)];
    let mut done = 0;
    while done < len {
        let k = (len - done).min(piece.len() as u64) as usize;
        let n = file.read_at(&mut piece[..k], offset + done)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "file ended {} bytes short of the response length",
                    len - done
                ),
            ));
        }
        w.write_all(&piece[..n])?;
        done += n as u64;
    }
    Ok(done)
}

/// A plain-text response for an error the server answers itself.
pub(crate) fn error_response(status: StatusCode, reason: &str) -> Response {
    let text = format!(
        "{} {}: {}\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        reason
    );
    let mut r = Response::new(Bytes::from(text).into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Body;

    fn render(resp: Response, req: ReqInfo) -> (String, bool) {
        let mut out = Vec::new();
        let mut wbuf = Vec::new();
        let sent = write_response(&mut out, &mut wbuf, resp, &req, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        // Dates vary; blank them.
        let text = text
            .lines()
            .map(|l| {
                if l.starts_with("date: ") {
                    "date: -"
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        (text, matches!(sent.after, After::KeepAlive))
    }

    fn req11() -> ReqInfo {
        ReqInfo {
            started: std::time::Instant::now(),
            head: false,
            connect: false,
            version: Version::HTTP_11,
            keep_alive: true,
            http10_only: false,
        }
    }

    #[test]
    fn bytes_get_a_content_length() {
        let (t, keep) = render(Response::new(Body::from("hi")), req11());
        assert_eq!(t, "HTTP/1.1 200 OK\ncontent-length: 2\ndate: -\n\nhi");
        assert!(keep);
    }

    #[test]
    fn unknown_length_is_chunked_on_11_and_close_delimited_on_10() {
        let chunks = || Body::from_chunks(vec![Ok(Bytes::from("ab")), Ok(Bytes::from("c"))]);
        let (t, keep) = render(Response::new(chunks()), req11());
        assert_eq!(
            t,
            "HTTP/1.1 200 OK\ntransfer-encoding: chunked\ndate: -\n\n2\nab\n1\nc\n0\n"
        );
        assert!(keep);
        let req10 = ReqInfo {
            version: Version::HTTP_10,
            ..req11()
        };
        let (t, keep) = render(Response::new(chunks()), req10);
        assert_eq!(t, "HTTP/1.1 200 OK\nconnection: close\ndate: -\n\nabc");
        assert!(!keep);
    }

    #[test]
    fn head_204_and_304_carry_no_body() {
        let head = ReqInfo {
            head: true,
            ..req11()
        };
        let (t, _) = render(Response::new(Body::from("hello")), head);
        assert_eq!(t, "HTTP/1.1 200 OK\ncontent-length: 5\ndate: -\n");
        let mut r = Response::new(Body::from("x"));
        *r.status_mut() = StatusCode::NO_CONTENT;
        let (t, _) = render(r, req11());
        assert_eq!(t, "HTTP/1.1 204 No Content\ndate: -\n");
    }

    #[test]
    fn reader_shorter_than_its_length_is_an_error() {
        let r = Response::new(Body::from_reader(&b"abc"[..], Some(5)));
        let err = write_response(&mut Vec::new(), &mut Vec::new(), r, &req11(), false)
            .err()
            .unwrap();
        assert!(err.to_string().contains("2 bytes short"), "{err}");
    }

    #[test]
    fn handler_connection_close_is_honoured() {
        let mut r = Response::new(Body::from("x"));
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        let (_, keep) = render(r, req11());
        assert!(!keep);
    }
}
