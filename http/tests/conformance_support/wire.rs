//! The client side of a conformance exchange: exact bytes sent over a
//! real socket in pieces of a chosen shape, and every response read back
//! with thicket's own sans-IO response parser.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use thicket_http::http::{HeaderMap, Method};
use thicket_http::proto::{parse_response, Decoder, Framing, Limits, Scan};

/// How long one read may wait for the server before the exchange is
/// declared stuck. Generous: the machine is shared.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How the bytes of a case are cut into writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// One write.
    Whole,
    /// One write per line: split after each LF.
    Lines,
    /// One write per byte.
    Bytes,
    /// Writes of 1 to 64 bytes, sizes from a xorshift generator with this
    /// seed.
    Random(u64),
}

impl fmt::Display for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Delivery::Whole => f.write_str("whole"),
            Delivery::Lines => f.write_str("line by line"),
            Delivery::Bytes => f.write_str("byte by byte"),
            Delivery::Random(seed) => write!(f, "random chunks (seed {seed:#x})"),
        }
    }
}

/// A small deterministic generator (xorshift64*), enough for chunk sizes
/// and fuzz choices.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> XorShift {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }
}

/// A stable seed for a case id (FNV-1a), so a failure can be replayed.
pub fn seed_for(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Delivery {
    pub fn pieces<'a>(&self, raw: &'a [u8]) -> Vec<&'a [u8]> {
        match *self {
            Delivery::Whole => vec![raw],
            Delivery::Lines => raw.split_inclusive(|&b| b == b'\n').collect(),
            Delivery::Bytes => raw.chunks(1).collect(),
            Delivery::Random(seed) => {
                let mut rng = XorShift::new(seed);
                let mut out = Vec::new();
                let mut rest = raw;
                while !rest.is_empty() {
                    let n = rng.range(1, 64).min(rest.len());
                    out.push(&rest[..n]);
                    rest = &rest[n..];
                }
                out
            }
        }
    }
}

/// One response as the client parsed it.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the response says the connection closes after it.
    pub fn closes(&self) -> bool {
        self.headers
            .get_all("connection")
            .iter()
            .any(|v| v.as_bytes().eq_ignore_ascii_case(b"close"))
    }
}

/// How the byte stream from the server ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// A clean end of file after whole responses.
    Eof,
    /// The connection was reset.
    Reset(String),
    /// Nothing arrived for [`READ_TIMEOUT`]: the server neither answered
    /// nor closed.
    Timeout,
    /// Bytes that are not a response, or a response cut short.
    Garbage(String),
}

/// Everything one exchange produced.
#[derive(Debug)]
pub struct Exchange {
    /// Final responses, in order.
    pub responses: Vec<Resp>,
    /// Interim (1xx) responses seen.
    pub interim: Vec<u16>,
    pub end: End,
    /// A write failed (the server had closed): expected after an early
    /// error response, so only reported.
    pub write_error: Option<String>,
    /// Bytes arrived while the client was still holding the connection
    /// open and expected silence (see [`Finish::QuietThenClose`]).
    pub spoke_early: bool,
}

/// What the client does once every byte is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Shut down its write side (the server sees end of file) and read
    /// until the server closes.
    Close,
    /// Keep its write side open and read until the server closes by
    /// itself (an error response must end the connection).
    WaitForServer,
    /// Read `n` responses, check that nothing more arrives for a moment
    /// (the server waits for the rest of a message), then shut down the
    /// write side and read until the server closes.
    QuietThenClose(usize),
}

/// How long the server must stay silent for [`Finish::QuietThenClose`].
/// Silence can only be observed for a while: a shorter wait can only
/// miss a premature answer, never invent one.
pub const QUIET: Duration = Duration::from_millis(100);

/// Connects, sends `raw` cut as `delivery` says, finishes as `finish`
/// says, and reads every response. `method_of(i)` is the method of the
/// `i`-th request (a response to `HEAD` has no body).
pub fn exchange(
    addr: SocketAddr,
    raw: &[u8],
    delivery: Delivery,
    finish: Finish,
    method_of: &dyn Fn(usize) -> Method,
) -> Exchange {
    let mut s = connect(addr);
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(READ_TIMEOUT)).unwrap();
    let mut write_error = None;
    for piece in delivery.pieces(raw) {
        if let Err(e) = s.write_all(piece) {
            write_error = Some(e.to_string());
            break;
        }
    }
    let mut reader = Reader::new(s);
    let mut spoke_early = false;
    match finish {
        Finish::Close => {
            let _ = reader.stream.shutdown(Shutdown::Write);
        }
        Finish::WaitForServer => {}
        Finish::QuietThenClose(n) => {
            while reader.responses.len() < n && reader.end.is_none() {
                reader.next(method_of);
            }
            if reader.end.is_none() {
                spoke_early = reader.hears_within(QUIET);
            }
            let _ = reader.stream.shutdown(Shutdown::Write);
        }
    }
    while reader.end.is_none() {
        reader.next(method_of);
    }
    Exchange {
        responses: reader.responses,
        interim: reader.interim,
        end: reader.end.expect("the loop ran until an end"),
        write_error,
        spoke_early,
    }
}

/// Connects to the server, retrying briefly if the listen backlog is
/// momentarily full (many parallel tests on two cores).
pub fn connect(addr: SocketAddr) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
            Ok(s) => return s,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::yield_now();
            }
            Err(e) => panic!("cannot connect to the server at {addr}: {e}"),
        }
    }
}

/// Reads responses from a stream one at a time.
pub struct Reader {
    pub stream: TcpStream,
    buf: Vec<u8>,
    pub responses: Vec<Resp>,
    pub interim: Vec<u16>,
    pub end: Option<End>,
}

impl Reader {
    pub fn new(stream: TcpStream) -> Reader {
        Reader {
            stream,
            buf: Vec::new(),
            responses: Vec::new(),
            interim: Vec::new(),
            end: None,
        }
    }

    /// Reads more bytes; `false` when the stream ended (and `end` says
    /// how).
    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => {
                self.end = Some(if self.buf.is_empty() {
                    End::Eof
                } else {
                    End::Garbage(format!(
                        "the connection closed after {} bytes that are not a whole response: {}",
                        self.buf.len(),
                        super::echo::show(&self.buf)
                    ))
                });
                false
            }
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                self.end = Some(End::Timeout);
                false
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => true,
            Err(e) => {
                self.end = Some(End::Reset(e.to_string()));
                false
            }
        }
    }

    /// Whether any byte arrives within `d` (the bytes are kept).
    fn hears_within(&mut self, d: Duration) -> bool {
        if !self.buf.is_empty() {
            return true;
        }
        self.stream.set_read_timeout(Some(d)).unwrap();
        let mut chunk = [0u8; 4096];
        let heard = match self.stream.read(&mut chunk) {
            Ok(0) => {
                // Closed already: not an early answer, the end is read next.
                false
            }
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(_) => false,
        };
        self.stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        heard
    }

    /// Reads the next final response (skipping interim ones), or sets
    /// `end`.
    pub fn next(&mut self, method_of: &dyn Fn(usize) -> Method) {
        let method = method_of(self.responses.len());
        let limits = Limits::default();
        loop {
            let mut scan = Scan::default();
            let head = loop {
                match parse_response(&mut scan, &self.buf, &limits, &method) {
                    Ok(Some(h)) => break h,
                    Ok(None) => {
                        if !self.fill() {
                            return;
                        }
                    }
                    Err(e) => {
                        self.end = Some(End::Garbage(format!(
                            "unparseable response ({e}): {}",
                            super::echo::show(&self.buf)
                        )));
                        return;
                    }
                }
            };
            self.buf.drain(..head.len);
            let status = head.status.as_u16();
            if head.status.is_informational() {
                self.interim.push(status);
                continue;
            }
            let mut body = Vec::new();
            let mut decoder = Decoder::new(head.framing);
            let eof_body = head.framing == Framing::Eof;
            while !decoder.is_done() {
                if self.buf.is_empty() && !self.fill() {
                    if eof_body && self.end == Some(End::Eof) {
                        decoder.finish_at_eof();
                        break;
                    }
                    if self.end == Some(End::Eof) {
                        self.end = Some(End::Garbage(format!(
                            "a {status} response body was cut short"
                        )));
                    }
                    return;
                }
                match decoder.decode(&self.buf) {
                    Ok(step) => {
                        body.extend_from_slice(&self.buf[step.data.clone()]);
                        self.buf.drain(..step.consumed);
                        if step.consumed == 0 && !decoder.is_done() && !self.fill() {
                            return;
                        }
                    }
                    Err(e) => {
                        self.end = Some(End::Garbage(format!("bad response body framing: {e}")));
                        return;
                    }
                }
            }
            self.responses.push(Resp {
                status,
                headers: head.headers,
                body,
            });
            if eof_body {
                self.end = Some(End::Eof);
            }
            return;
        }
    }
}
