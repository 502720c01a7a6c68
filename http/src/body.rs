//! Message bodies: [`Body`] is what you send (a response from a server, a
//! request from the client); [`BodyReader`] is what you receive (a request
//! body in a handler, a response body from the client).

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::net::SocketAddr;

use bytes::Bytes;
use http::HeaderMap;

use crate::upgrade::Upgraded;

/// A body to send: bytes, a reader, an iterator of chunks, a file, or an
/// upgrade handler that takes the connection over after the head.
///
/// The framing follows from the kind: a body whose length is known is sent
/// with `Content-Length`; one whose length is not is sent chunked to
/// HTTP/1.1 peers and close-delimited to HTTP/1.0 ones.
///
/// # Examples
///
/// ```
/// use thicket_http::Body;
///
/// assert_eq!(Body::from("hello").len(), Some(5));
/// assert_eq!(Body::empty().len(), Some(0));
/// let chunks = vec![Ok(bytes::Bytes::from("a")), Ok(bytes::Bytes::from("b"))];
/// assert_eq!(Body::from_chunks(chunks).len(), None);
/// ```
pub struct Body {
    pub(crate) kind: Kind,
}

pub(crate) enum Kind {
    Empty,
    Bytes(Bytes),
    Reader {
        reader: Box<dyn Read + Send>,
        len: Option<u64>,
    },
    Chunks(Box<dyn Iterator<Item = io::Result<Bytes>> + Send>),
    File {
        file: File,
        offset: u64,
        len: u64,
    },
    Upgrade(Box<dyn FnOnce(Upgraded) + Send>),
}

impl Body {
    /// No body (`Content-Length: 0` where a length is sent at all).
    pub fn empty() -> Body {
        Body { kind: Kind::Empty }
    }

    /// A body read from `reader` until end of file. With `len` the body is
    /// sent with that `Content-Length` and a reader ending early is an
    /// error; without it, chunked (or close-delimited to HTTP/1.0).
    pub fn from_reader(reader: impl Read + Send + 'static, len: Option<u64>) -> Body {
        Body {
            kind: Kind::Reader {
                reader: Box::new(reader),
                len,
            },
        }
    }

    /// A body made of the chunks an iterator yields, sent as they come
    /// (chunked to HTTP/1.1 peers). An `Err` item aborts the message: the
    /// connection is closed without the final chunk, so the peer sees a
    /// truncated body rather than a complete wrong one.
    pub fn from_chunks<I>(chunks: I) -> Body
    where
        I: IntoIterator<Item = io::Result<Bytes>>,
        I::IntoIter: Send + 'static,
    {
        Body {
            kind: Kind::Chunks(Box::new(chunks.into_iter())),
        }
    }

    /// The whole of an open file, with its current length.
    ///
    /// # Errors
    ///
    /// Reading the file's metadata failed.
    pub fn from_file(file: File) -> io::Result<Body> {
        let len = file.metadata()?.len();
        Ok(Body::from_file_range(file, 0, len))
    }

    /// `len` bytes of `file` from `offset` (for `Range` responses).
    pub fn from_file_range(file: File, offset: u64, len: u64) -> Body {
        Body {
            kind: Kind::File { file, offset, len },
        }
    }

    /// An upgrade: after the response head (normally `101 Switching
    /// Protocols`) is sent, `f` runs on the connection's green thread with
    /// the connection, which it owns from then on (WebSocket, reverse
    /// HTTP). The server forgets the connection when `f` returns.
    pub fn upgrade(f: impl FnOnce(Upgraded) + Send + 'static) -> Body {
        Body {
            kind: Kind::Upgrade(Box::new(f)),
        }
    }

    /// The length in bytes when it is known before sending.
    pub fn len(&self) -> Option<u64> {
        match &self.kind {
            Kind::Empty | Kind::Upgrade(_) => Some(0),
            Kind::Bytes(b) => Some(b.len() as u64),
            Kind::Reader { len, .. } => *len,
            Kind::Chunks(_) => None,
            Kind::File { len, .. } => Some(*len),
        }
    }

    /// Whether the body is known to be empty.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// Whether this is an [`upgrade`](Self::upgrade) body.
    pub fn is_upgrade(&self) -> bool {
        matches!(self.kind, Kind::Upgrade(_))
    }

    /// The bytes of an in-memory body, if it is one.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.kind {
            Kind::Empty => Some(&[]),
            Kind::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The bytes the server would send, as a reader: for testing a handler
    /// without a socket, or for middleware that transforms a body. A file
    /// body reads its range; an [`upgrade`](Self::upgrade) body reads as
    /// empty; an `Err` chunk is returned as the read error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    /// use thicket_http::Body;
    ///
    /// let body = Body::from_chunks(vec![Ok("ab".into()), Ok("cd".into())]);
    /// let mut text = String::new();
    /// body.into_reader().read_to_string(&mut text)?;
    /// assert_eq!(text, "abcd");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_reader(self) -> Box<dyn Read + Send> {
        match self.kind {
            Kind::Empty | Kind::Upgrade(_) => Box::new(io::empty()),
            Kind::Bytes(b) => Box::new(io::Cursor::new(b)),
            Kind::Reader { reader, len: None } => reader,
            Kind::Reader {
                reader,
                len: Some(n),
            } => Box::new(reader.take(n)),
            Kind::Chunks(chunks) => Box::new(ChunksReader {
                chunks,
                current: Bytes::new(),
            }),
            Kind::File { file, offset, len } => Box::new(FileRange {
                file: Some(file),
                offset,
                inner: None,
                len,
            }),
        }
    }
}

struct ChunksReader {
    chunks: Box<dyn Iterator<Item = io::Result<Bytes>> + Send>,
    current: Bytes,
}

impl Read for ChunksReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.next() {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        let n = self.current.len().min(buf.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// A file range read lazily, so that a failing seek is a read error.
struct FileRange {
    file: Option<File>,
    offset: u64,
    len: u64,
    inner: Option<io::Take<File>>,
}

impl Read for FileRange {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(mut file) = self.file.take() {
            io::Seek::seek(&mut file, io::SeekFrom::Start(self.offset))?;
            self.inner = Some(file.take(self.len));
        }
        match &mut self.inner {
            Some(inner) => inner.read(buf),
            None => Ok(0),
        }
    }
}

impl Default for Body {
    fn default() -> Body {
        Body::empty()
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Body {
        Body {
            kind: Kind::Bytes(b),
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Body {
        Body::from(Bytes::from(v))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Body {
        Body::from(Bytes::from(s))
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Body {
        Body::from(Bytes::from_static(s.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(s: &'static [u8]) -> Body {
        Body::from(Bytes::from_static(s))
    }
}

impl From<()> for Body {
    fn from((): ()) -> Body {
        Body::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Empty => "empty",
            Kind::Bytes(_) => "bytes",
            Kind::Reader { .. } => "reader",
            Kind::Chunks(_) => "chunks",
            Kind::File { .. } => "file",
            Kind::Upgrade(_) => "upgrade",
        };
        f.debug_struct("Body")
            .field("kind", &kind)
            .field("len", &self.len())
            .finish()
    }
}

/// Where a streamed [`BodyReader`] gets its bytes: the server's connection
/// for a request body, a client connection for a response body.
pub(crate) trait BodySource: Send {
    /// Reads decoded body bytes; `Ok(0)` at the end of the body.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// The trailer fields, once the body has been read to its end.
    fn trailers(&self) -> Option<&HeaderMap>;
    /// The declared length, if the message had a `Content-Length`.
    fn content_length(&self) -> Option<u64>;
}

/// A received body: read it with [`Read`] (or the helpers here) as it
/// arrives. A body that is not read is drained (up to a limit) or the
/// connection is closed, so nothing on the connection is misread.
///
/// # Examples
///
/// ```
/// use std::io::Read;
/// use thicket_http::BodyReader;
///
/// let mut body = BodyReader::from_bytes("hello");
/// assert_eq!(body.content_length(), Some(5));
/// let mut s = String::new();
/// body.read_to_string(&mut s).unwrap();
/// assert_eq!(s, "hello");
/// ```
pub struct BodyReader {
    inner: Inner,
    /// The client's address, when the server received the request.
    remote: Option<SocketAddr>,
}

enum Inner {
    Memory { bytes: Bytes, pos: usize },
    Stream(Box<dyn BodySource>),
}

impl BodyReader {
    /// An empty body.
    pub fn empty() -> BodyReader {
        BodyReader::from_bytes(Bytes::new())
    }

    /// A body already in memory (for tests, and for handlers called
    /// directly).
    pub fn from_bytes(bytes: impl Into<Bytes>) -> BodyReader {
        BodyReader {
            inner: Inner::Memory {
                bytes: bytes.into(),
                pos: 0,
            },
            remote: None,
        }
    }

    pub(crate) fn from_source(source: Box<dyn BodySource>) -> BodyReader {
        BodyReader {
            inner: Inner::Stream(source),
            remote: None,
        }
    }

    /// Records the address of the client that sent the request.
    pub(crate) fn with_remote_addr(mut self, addr: SocketAddr) -> BodyReader {
        self.remote = Some(addr);
        self
    }

    /// The address of the client that sent this request body, when the
    /// server received it (see [`remote_addr`](crate::remote_addr)).
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.remote
    }

    /// The declared length (`Content-Length`), if the message had one.
    pub fn content_length(&self) -> Option<u64> {
        match &self.inner {
            Inner::Memory { bytes, .. } => Some(bytes.len() as u64),
            Inner::Stream(s) => s.content_length(),
        }
    }

    /// The trailer fields of a chunked body, once it has been read to its
    /// end (`None` before that, or when there were none).
    pub fn trailers(&self) -> Option<&HeaderMap> {
        match &self.inner {
            Inner::Memory { .. } => None,
            Inner::Stream(s) => s.trailers(),
        }
    }

    /// Reads the rest of the body into memory, refusing more than `limit`
    /// bytes.
    ///
    /// # Errors
    ///
    /// `InvalidData` naming the limit when the body is longer than
    /// `limit`; any error reading the body.
    pub fn read_to_bytes(&mut self, limit: usize) -> io::Result<Bytes> {
        if let Inner::Memory { bytes, pos } = &mut self.inner {
            let rest = bytes.slice(*pos..);
            if rest.len() > limit {
                return Err(too_long(limit));
            }
            *pos = bytes.len();
            return Ok(rest);
        }
        let mut out = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = self.read(&mut buf)?;
            if n == 0 {
                return Ok(Bytes::from(out));
            }
            if out.len() + n > limit {
                return Err(too_long(limit));
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    /// Reads the rest of the body as UTF-8 text, refusing more than `limit`
    /// bytes.
    ///
    /// # Errors
    ///
    /// As for [`read_to_bytes`](Self::read_to_bytes), and `InvalidData`
    /// when the body is not UTF-8.
    pub fn read_to_text(&mut self, limit: usize) -> io::Result<String> {
        let bytes = self.read_to_bytes(limit)?;
        String::from_utf8(bytes.to_vec()).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("body is not UTF-8: {}", e.utf8_error()),
            )
        })
    }
}

fn too_long(limit: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("body is longer than the {limit}-byte limit"),
    )
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Memory { bytes, pos } => {
                let n = (bytes.len() - *pos).min(buf.len());
                buf[..n].copy_from_slice(&bytes[*pos..*pos + n]);
                *pos += n;
                Ok(n)
            }
            Inner::Stream(s) => s.read(buf),
        }
    }
}

impl Default for BodyReader {
    fn default() -> BodyReader {
        BodyReader::empty()
    }
}

impl fmt::Debug for BodyReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyReader")
            .field("content_length", &self.content_length())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_to_bytes_enforces_the_limit() {
        let mut b = BodyReader::from_bytes("0123456789");
        let err = b.read_to_bytes(4).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("4-byte limit"), "{err}");
        // Nothing was consumed by the refused read.
        assert_eq!(b.read_to_bytes(10).unwrap(), "0123456789");
        assert_eq!(b.read_to_bytes(10).unwrap(), "");
    }

    #[test]
    fn read_to_text_rejects_invalid_utf8() {
        let mut b = BodyReader::from_bytes(&b"\xff\xfe"[..]);
        let err = b.read_to_text(10).unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }

    #[test]
    fn body_lengths() {
        assert_eq!(Body::from(String::from("abc")).len(), Some(3));
        assert_eq!(Body::from_reader(io::empty(), None).len(), None);
        assert_eq!(Body::from_reader(io::empty(), Some(7)).len(), Some(7));
        assert!(Body::upgrade(|_| {}).is_upgrade());
        assert_eq!(Body::from("x").as_bytes(), Some(&b"x"[..]));
    }
}
