//! A request body as the handler reads it, straight from the connection.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use thicket_green::Mutex;

use super::buf::{ReadBuf, READ_BUF};
use crate::body::BodySource;
use crate::proto::{Decoder, ParseError};
use crate::transport::Transport;

/// The connection's stream and the bytes read from it and not yet used.
pub(crate) struct Io {
    pub transport: Transport,
    pub rbuf: ReadBuf,
}

/// Where the `100 Continue` interim response stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Continue {
    /// The client did not ask for one.
    NotExpected,
    /// Asked for and not sent: sent on the first read of the body.
    Pending,
    /// Sent.
    Sent,
}

/// The body's state while the handler runs; the connection takes `io`
/// back when the handler returns.
pub(crate) struct BodyState {
    pub io: Option<Io>,
    pub decoder: Decoder,
    pub received: u64,
    pub max_body: u64,
    pub timeout: Duration,
    pub expect: Continue,
    /// Why the body could not be read (bad framing, over the limit, the
    /// client stopped sending): the response becomes this error.
    pub error: Option<ParseError>,
}

pub(crate) type SharedBody = Arc<Mutex<BodyState>>;

/// The [`BodySource`] of a server request.
pub(crate) struct RequestBody {
    shared: SharedBody,
    content_length: Option<u64>,
    trailers: Option<HeaderMap>,
    done: bool,
}

impl RequestBody {
    pub fn new(shared: SharedBody, content_length: Option<u64>) -> RequestBody {
        RequestBody {
            shared,
            content_length,
            trailers: None,
            done: false,
        }
    }
}

fn invalid(e: &ParseError) -> io::Error {
    let kind = match e.status().as_u16() {
        408 => io::ErrorKind::TimedOut,
        499 => io::ErrorKind::UnexpectedEof,
        _ => io::ErrorKind::InvalidData,
    };
    io::Error::new(kind, format!("request body: {}", e.reason()))
}

impl BodySource for RequestBody {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.done {
            return Ok(0);
        }
        let mut guard = self
            .shared
            .lock()
            .map_err(|e| io::Error::other(format!("request body: {e}")))?;
        let n = read_body(&mut guard, out)?;
        if n == 0 {
            self.done = true;
            self.trailers = guard.decoder.trailers().cloned();
        }
        Ok(n)
    }

    fn trailers(&self) -> Option<&HeaderMap> {
        self.trailers.as_ref()
    }

    fn content_length(&self) -> Option<u64> {
        self.content_length
    }
}

/// Reads decoded body bytes into `out` (not empty); `Ok(0)` at the end.
fn read_body(st: &mut BodyState, out: &mut [u8]) -> io::Result<usize> {
    if let Some(e) = &st.error {
        return Err(invalid(e));
    }
    let Some(io) = st.io.as_mut() else {
        return Err(io::Error::new(
            io::ErrorKind::NotConnected,
            "request body: the response was already sent",
        ));
    };
    if st.expect == Continue::Pending {
        st.expect = Continue::Sent;
        io.transport.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    loop {
        if st.decoder.is_done() {
            return Ok(0);
        }
        let io = st.io.as_mut().expect("checked above");
        if !io.rbuf.is_empty() {
            let data = io.rbuf.data();
            let lim = data.len().min(out.len());
            let step = match st.decoder.decode(&data[..lim]) {
                Ok(step) => step,
                Err(e) => {
                    let err = invalid(&e);
                    st.error = Some(e);
                    return Err(err);
                }
            };
            let n = step.data.len();
            out[..n].copy_from_slice(&data[step.data]);
            io.rbuf.consume(step.consumed);
            if n > 0 {
                return account(st, n);
            }
            continue;
        }
        io.transport.set_read_timeout(Some(st.timeout))?;
        // A large read of a sized body skips the buffer.
        if let Some(rem) = st.decoder.remaining() {
            if out.len() >= READ_BUF {
                let k = (out.len() as u64).min(rem) as usize;
                let n = read_some(st, k, out)?;
                return account(st, n);
            }
        }
        let io = st.io.as_mut().expect("checked above");
        match io.rbuf.fill(&mut io.transport, READ_BUF) {
            Ok(0) => return Err(stopped_sending(st)),
            Ok(_) => {}
            Err(e) => return Err(read_failed(st, e)),
        }
    }
}

fn read_some(st: &mut BodyState, k: usize, out: &mut [u8]) -> io::Result<usize> {
    let io = st.io.as_mut().expect("checked by the caller");
    match io.transport.read(&mut out[..k]) {
        Ok(0) => Err(stopped_sending(st)),
        Ok(n) => {
            st.decoder
                .decode(&out[..n])
                .expect("a sized body takes any bytes");
            Ok(n)
        }
        Err(e) => Err(read_failed(st, e)),
    }
}

fn account(st: &mut BodyState, n: usize) -> io::Result<usize> {
    st.received += n as u64;
    if st.received > st.max_body {
        let e = ParseError::new(
            413,
            format!("request body is larger than {} bytes", st.max_body),
        );
        let err = invalid(&e);
        st.error = Some(e);
        return Err(err);
    }
    Ok(n)
}

fn stopped_sending(st: &mut BodyState) -> io::Error {
    // 499 marks "the client went away"; it is never sent.
    let e = ParseError::new(
        499,
        "the client closed the connection before the end of the body",
    );
    let err = invalid(&e);
    st.error = Some(e);
    err
}

fn read_failed(st: &mut BodyState, e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::TimedOut {
        let pe = ParseError::new(
            408,
            format!("no body data for {} ms", st.timeout.as_millis()),
        );
        let err = invalid(&pe);
        st.error = Some(pe);
        return err;
    }
    st.error = Some(ParseError::new(499, format!("reading failed: {e}")));
    e
}

/// Reads and discards what is left of a body, at most `limit` bytes.
/// Returns whether the body ended cleanly.
pub(crate) fn drain(st: &mut BodyState, limit: u64) -> bool {
    let mut scratch = vec![0u8; 4096];
    let mut drained = 0u64;
    st.max_body = u64::MAX;
    loop {
        match read_body(st, &mut scratch) {
            Ok(0) => return true,
            Ok(n) => {
                drained += n as u64;
                if drained > limit {
                    return false;
                }
            }
            Err(_) => return false,
        }
    }
}
