//! A response body streamed from its connection: decoded with
//! [`Decoder`], and the connection handed back to the pool the moment the
//! body ends (when the response allowed keep-alive).

use std::io;
use std::sync::Arc;

use http::HeaderMap;

use super::conn::{Conn, Deadline};
use super::pool::{Key, Pool};
use super::target::Target;
use crate::body::BodySource;
use crate::error::{Error, ErrorKind};
use crate::proto::{Decoder, Framing};

/// The [`BodySource`] of a client response.
pub(crate) struct ResponseStream {
    conn: Option<Conn>,
    decoder: Decoder,
    /// The connection may carry another request once the body has ended.
    keep_alive: bool,
    pool: Pool,
    key: Key,
    deadline: Deadline,
    url: Arc<Target>,
    content_length: Option<u64>,
    trailers: Option<HeaderMap>,
    /// Bytes of body delivered so far.
    read: u64,
    /// The error that ended the body, repeated by later reads so that a
    /// cut-short body is never mistaken for a complete one.
    failed: Option<(ErrorKind, String)>,
}

impl ResponseStream {
    pub fn new(
        conn: Conn,
        framing: Framing,
        keep_alive: bool,
        pool: Pool,
        key: Key,
        deadline: Deadline,
        url: Arc<Target>,
    ) -> ResponseStream {
        let content_length = match framing {
            Framing::Length(n) => Some(n),
            _ => None,
        };
        let mut s = ResponseStream {
            conn: Some(conn),
            decoder: Decoder::new(framing),
            keep_alive,
            pool,
            key,
            deadline,
            url,
            content_length,
            trailers: None,
            read: 0,
            failed: None,
        };
        if s.decoder.is_done() {
            s.finish();
        }
        s
    }

    /// The body has ended: keep the trailers, and pool the connection if
    /// the response allowed it and the server sent nothing beyond the body.
    fn finish(&mut self) {
        self.trailers = self.decoder.trailers().cloned();
        if let Some(mut conn) = self.conn.take() {
            if self.keep_alive && conn.buffered().is_empty() {
                conn.reused = true;
                self.pool.put(&self.key, conn);
            }
        }
    }

    fn fail(&mut self, error: Error) -> io::Error {
        self.conn = None;
        self.failed = Some((error.kind(), error.to_string()));
        error.into()
    }

    fn read_body(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if let Some((kind, msg)) = &self.failed {
            return Err(Error::new(*kind, msg.clone()));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.decoder.is_done() {
                if self.conn.is_some() {
                    self.finish();
                }
                return Ok(0);
            }
            let Some(conn) = self.conn.as_mut() else {
                return Ok(0);
            };
            if !conn.buffered().is_empty() {
                let avail = conn.buffered();
                let input = &avail[..avail.len().min(buf.len())];
                let step = self.decoder.decode(input).map_err(|e| {
                    Error::with_source(
                        ErrorKind::Parse,
                        format!(
                            "invalid response body from {}: {}",
                            self.url.host_header(),
                            e.reason()
                        ),
                        e,
                    )
                })?;
                let n = step.data.len();
                buf[..n].copy_from_slice(&input[step.data.clone()]);
                conn.consume(step.consumed);
                self.read += n as u64;
                if self.decoder.is_done() {
                    self.finish();
                }
                if n > 0 {
                    return Ok(n);
                }
                continue;
            }
            self.deadline
                .apply(&conn.io, &*self.url, "reading the response body")?;
            match conn.fill() {
                Ok(0) => {
                    if self.decoder.finish_at_eof() {
                        // Close-delimited: the connection cannot be reused.
                        self.conn = None;
                        return Ok(0);
                    }
                    let expected = match self.decoder.remaining() {
                        Some(left) => format!(" ({} of {} bytes)", self.read, self.read + left),
                        None => format!(" ({} bytes)", self.read),
                    };
                    return Err(Error::new(
                        ErrorKind::Closed,
                        format!(
                            "connection closed before the end of the response body from {}{expected}",
                            self.url
                        ),
                    ));
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(self
                        .deadline
                        .io_error(&*self.url, "reading the response body", e))
                }
            }
        }
    }

    /// Decodes what is already buffered without waiting: a body that was
    /// dropped unread but has fully arrived still frees its connection for
    /// reuse.
    fn drain_buffered(&mut self) {
        while let Some(conn) = self.conn.as_mut() {
            if self.decoder.is_done() {
                self.finish();
                return;
            }
            if conn.buffered().is_empty() {
                return;
            }
            match self.decoder.decode(conn.buffered()) {
                Ok(step) if step.consumed > 0 => conn.consume(step.consumed),
                _ => return,
            }
        }
    }
}

impl BodySource for ResponseStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_body(buf).map_err(|e| self.fail(e))
    }

    fn trailers(&self) -> Option<&HeaderMap> {
        self.trailers.as_ref()
    }

    fn content_length(&self) -> Option<u64> {
        self.content_length
    }
}

impl Drop for ResponseStream {
    fn drop(&mut self) {
        if self.failed.is_none() {
            self.drain_buffered();
        }
    }
}
