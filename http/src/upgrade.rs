//! A connection taken over after an upgrade response (WebSocket, reverse
//! HTTP).

use std::io::{self, Read, Write};

use bytes::{Buf, Bytes};

use crate::transport::Transport;

/// The connection, handed to an [`upgrade`](crate::Body::upgrade) handler
/// after the response head was sent. Bytes the client sent after its
/// request head (already read by the server) come first when reading.
///
/// # Examples
///
/// ```no_run
/// use std::io::{Read, Write};
/// use thicket_http::http::Response;
/// use thicket_http::Body;
///
/// // An echo protocol after `101 Switching Protocols`.
/// let response = Response::builder()
///     .status(101)
///     .header("upgrade", "echo")
///     .header("connection", "upgrade")
///     .body(Body::upgrade(|mut conn| {
///         let mut buf = [0u8; 1024];
///         while let Ok(n) = conn.read(&mut buf) {
///             if n == 0 || conn.write_all(&buf[..n]).is_err() {
///                 break;
///             }
///         }
///     }))
///     .unwrap();
/// # drop(response);
/// ```
#[derive(Debug)]
pub struct Upgraded {
    io: Transport,
    buffered: Bytes,
}

impl Upgraded {
    pub(crate) fn new(io: Transport, buffered: Bytes) -> Upgraded {
        Upgraded { io, buffered }
    }

    /// The connection's stream.
    pub fn transport(&self) -> &Transport {
        &self.io
    }

    /// The stream and the bytes already read from it that belong to the
    /// new protocol.
    pub fn into_parts(self) -> (Transport, Bytes) {
        (self.io, self.buffered)
    }
}

impl Read for Upgraded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.buffered.is_empty() {
            let n = self.buffered.len().min(buf.len());
            buf[..n].copy_from_slice(&self.buffered[..n]);
            self.buffered.advance(n);
            return Ok(n);
        }
        self.io.read(buf)
    }
}

impl Write for Upgraded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.io.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.io.flush()
    }
}
