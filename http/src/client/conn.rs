//! One client connection: connecting (DNS, TCP, TLS), the read buffer,
//! reading a response head, and the deadlines every wait is held to.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::Method;
use thicket_green::net::TcpStream;
use thicket_green::tls::{self, ClientConfig, HandshakeError};

use super::pool::Slot;
use super::target::Target;
use crate::error::{Error, ErrorKind};
use crate::proto::{parse_response, Limits, ResponseHead, Scan};
use crate::transport::Transport;

/// How much is read from the socket at a time.
const READ_CHUNK: usize = 16 * 1024;
/// At most this many informational (1xx) responses before the final one.
const MAX_INFORMATIONAL: usize = 16;

/// The deadlines of one request: each socket wait is bounded by the read
/// timeout and by what is left of the total timeout.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    pub read_timeout: Option<Duration>,
    pub total: Option<(Instant, Duration)>,
}

impl Deadline {
    pub fn new(read_timeout: Option<Duration>, total: Option<Duration>) -> Deadline {
        Deadline {
            read_timeout,
            total: total.map(|d| (Instant::now() + d, d)),
        }
    }

    pub fn at(&self) -> Option<Instant> {
        self.total.map(|(at, _)| at)
    }

    /// What is left of the total timeout; `Err` once it has passed.
    pub fn left(&self, url: &dyn fmt::Display, doing: &str) -> Result<Option<Duration>, Error> {
        match self.total {
            None => Ok(None),
            Some((at, total)) => match at.checked_duration_since(Instant::now()) {
                Some(left) if left >= Duration::from_micros(1) => Ok(Some(left)),
                _ => Err(self.total_error(url, doing, total)),
            },
        }
    }

    fn total_error(&self, url: &dyn fmt::Display, doing: &str, total: Duration) -> Error {
        Error::new(
            ErrorKind::TimedOut,
            format!(
                "request to {url} timed out: the total timeout of {total:?} passed while {doing}"
            ),
        )
    }

    /// Sets the socket's read and write timeouts for the next wait.
    pub fn apply(&self, io: &Transport, url: &dyn fmt::Display, doing: &str) -> Result<(), Error> {
        let left = self.left(url, doing)?;
        let t = match (self.read_timeout, left) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let set = io
            .set_read_timeout(t)
            .and_then(|()| io.set_write_timeout(t));
        set.map_err(|e| Error::from_io("setting socket timeouts", e))
    }

    /// Classifies an I/O error met while `doing` something for `url`,
    /// naming the timeout that ended it.
    pub fn io_error(&self, url: &dyn fmt::Display, doing: &str, e: io::Error) -> Error {
        if e.kind() == io::ErrorKind::TimedOut || e.kind() == io::ErrorKind::WouldBlock {
            if let Some((at, total)) = self.total {
                if Instant::now() >= at {
                    return self.total_error(url, doing, total);
                }
            }
            if let Some(rt) = self.read_timeout {
                return Error::with_source(
                    ErrorKind::TimedOut,
                    format!("{doing} for {url} timed out: nothing for {rt:?} (the read timeout)"),
                    e,
                );
            }
        }
        Error::from_io(&format!("{doing} for {url}"), e)
    }
}

/// A connection to a server, with the bytes read but not yet used.
pub(crate) struct Conn {
    pub io: Transport,
    buf: Vec<u8>,
    start: usize,
    /// Whether it came from the pool (and so may have been closed by the
    /// server while idle).
    pub reused: bool,
    _slot: Slot,
}

/// The settings a new connection needs.
pub(crate) struct ConnectSettings<'a> {
    pub connect_timeout: Option<Duration>,
    pub tls: &'a Arc<ClientConfig>,
    pub nodelay: bool,
}

impl Conn {
    /// Connects to `target`'s host: resolves it (on the thread pool), tries
    /// each address in turn, and starts TLS for `https`.
    pub fn connect(
        target: &Target,
        settings: &ConnectSettings<'_>,
        deadline: &Deadline,
        slot: Slot,
    ) -> Result<Conn, Error> {
        let host = target.bare_host().to_string();
        let port = target.port;
        let hostport = format!("{}:{port}", target.host);
        let bound = |deadline: &Deadline| -> Result<Option<Duration>, Error> {
            let left = deadline.left(target, "connecting")?;
            Ok(match (settings.connect_timeout, left) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            })
        };
        let limit = bound(deadline)?;
        let addrs = resolve(&host, port, limit).map_err(|e| {
            let kind = if e.kind() == io::ErrorKind::TimedOut {
                ErrorKind::TimedOut
            } else {
                ErrorKind::Connect
            };
            Error::with_source(kind, format!("cannot resolve host {}: {e}", target.host), e)
        })?;
        let mut last: Option<(SocketAddr, io::Error)> = None;
        let mut tcp = None;
        for addr in addrs {
            let r = match bound(deadline)? {
                Some(t) => TcpStream::connect_timeout(&addr, t),
                None => TcpStream::connect(addr),
            };
            match r {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = Some((addr, e)),
            }
        }
        let tcp = match (tcp, last) {
            (Some(s), _) => s,
            (None, Some((addr, e))) => {
                if e.kind() == io::ErrorKind::TimedOut {
                    if deadline.left(target, "connecting").is_err() {
                        return Err(deadline.io_error(target, "connecting", e));
                    }
                    let t = settings.connect_timeout.unwrap_or_default();
                    return Err(Error::with_source(
                        ErrorKind::TimedOut,
                        format!("connecting to {hostport} ({addr}) timed out after {t:?} (the connect timeout)"),
                        e,
                    ));
                }
                return Err(Error::with_source(
                    ErrorKind::Connect,
                    format!("cannot connect to {hostport} ({addr}): {e}"),
                    e,
                ));
            }
            (None, None) => {
                return Err(Error::new(
                    ErrorKind::Connect,
                    format!("host {} resolved to no address", target.host),
                ))
            }
        };
        if settings.nodelay {
            let _ = tcp.set_nodelay(true);
        }
        let mut io = Transport::Tcp(tcp);
        if target.tls {
            deadline.apply(&io, target, "the TLS handshake")?;
            if let Some(t) = settings.connect_timeout {
                // The handshake is part of connecting.
                let t = deadline
                    .left(target, "the TLS handshake")?
                    .map_or(t, |l| l.min(t));
                let _ = io.set_read_timeout(Some(t));
                let _ = io.set_write_timeout(Some(t));
            }
            let Transport::Tcp(tcp) = io else {
                unreachable!("a fresh connection is plain TCP")
            };
            let stream = tls::wrap_client(tcp, &host, settings.tls.clone())
                .map_err(|e| tls_error(target, deadline, settings.connect_timeout, e))?;
            io = Transport::Tls(Box::new(stream));
        }
        Ok(Conn {
            io,
            buf: Vec::new(),
            start: 0,
            reused: false,
            _slot: slot,
        })
    }

    /// Whether a pooled connection was closed by the server while it was
    /// idle (or has unasked-for bytes waiting): either way it cannot carry
    /// a request. Looks without waiting more than a microsecond.
    pub fn is_stale(&self) -> bool {
        let tcp = self.io.tcp();
        if tcp
            .set_read_timeout(Some(Duration::from_micros(1)))
            .is_err()
        {
            return true;
        }
        let mut byte = [0u8; 1];
        !matches!(
            tcp.peek(&mut byte),
            Err(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock)
        )
    }

    /// The bytes read and not used yet.
    pub fn buffered(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Marks `n` buffered bytes used.
    pub fn consume(&mut self, n: usize) {
        self.start += n;
        debug_assert!(self.start <= self.buf.len());
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
    }

    /// Reads more bytes into the buffer; `Ok(0)` at end of file.
    pub fn fill(&mut self) -> io::Result<usize> {
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + READ_CHUNK, 0);
        let r = self.io.read(&mut self.buf[len..]);
        let n = *r.as_ref().unwrap_or(&0);
        self.buf.truncate(len + n);
        r
    }

    /// Reads the final response head (skipping `100 Continue` and other
    /// informational responses, but not `101`).
    ///
    /// `Err` carries whether nothing at all had been received, which is how
    /// a connection the server closed while it was idle looks.
    pub fn read_head(
        &mut self,
        method: &Method,
        limits: &Limits,
        deadline: &Deadline,
        url: &Target,
        stop_at_continue: bool,
    ) -> Result<ResponseHead, HeadError> {
        let mut received = !self.buffered().is_empty();
        let mut informational = 0;
        loop {
            let mut scan = Scan::default();
            let head = loop {
                match parse_response(&mut scan, self.buffered(), limits, method) {
                    Ok(Some(head)) => break head,
                    Ok(None) => {}
                    Err(e) => {
                        let error = if e.status() == 431 {
                            Error::new(
                                ErrorKind::TooLarge,
                                format!(
                                    "response head from {} is too large: {}",
                                    url.host_header(),
                                    e.reason()
                                ),
                            )
                        } else {
                            Error::with_source(
                                ErrorKind::Parse,
                                format!(
                                    "invalid response from {}: {}",
                                    url.host_header(),
                                    e.reason()
                                ),
                                e,
                            )
                        };
                        return Err(HeadError {
                            error,
                            nothing_received: false,
                        });
                    }
                }
                deadline
                    .apply(&self.io, url, "waiting for the response head")
                    .map_err(|error| HeadError {
                        error,
                        nothing_received: false,
                    })?;
                match self.fill() {
                    Ok(0) => {
                        let what = if received {
                            "connection closed in the middle of the response head"
                        } else {
                            "connection closed before any response"
                        };
                        return Err(HeadError {
                            error: Error::new(
                                ErrorKind::Closed,
                                format!(
                                    "{what} from {} (request {method} {url})",
                                    url.host_header()
                                ),
                            ),
                            nothing_received: !received,
                        });
                    }
                    Ok(_) => received = true,
                    Err(e) => {
                        let reset = matches!(
                            e.kind(),
                            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                        );
                        return Err(HeadError {
                            error: deadline.io_error(url, "reading the response head", e),
                            nothing_received: !received && reset,
                        });
                    }
                }
            };
            let status = head.status.as_u16();
            if !(100..200).contains(&status) || status == 101 {
                self.consume(head.len);
                return Ok(head);
            }
            self.consume(head.len);
            if stop_at_continue && status == 100 {
                return Ok(head);
            }
            informational += 1;
            if informational > MAX_INFORMATIONAL {
                return Err(HeadError {
                    error: Error::new(
                        ErrorKind::TooLarge,
                        format!(
                            "{} sent more than {MAX_INFORMATIONAL} informational (1xx) responses",
                            url.host_header()
                        ),
                    ),
                    nothing_received: false,
                });
            }
        }
    }

    /// Writes all of `buf`, mapping errors for `url`.
    pub fn write_all(
        &mut self,
        buf: &[u8],
        deadline: &Deadline,
        url: &Target,
    ) -> Result<(), Error> {
        deadline.apply(&self.io, url, "sending the request")?;
        self.io
            .write_all(buf)
            .map_err(|e| deadline.io_error(url, "sending the request", e))
    }
}

/// A failure to read a response head.
pub(crate) struct HeadError {
    pub error: Error,
    /// The connection ended (or was reset) before a single byte arrived.
    pub nothing_received: bool,
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn")
            .field("peer", &self.io.peer_addr().ok())
            .field("tls", &self.io.is_tls())
            .field("buffered", &self.buffered().len())
            .field("reused", &self.reused)
            .finish()
    }
}

/// Resolves `host`, bounded by `limit`: names go to the thread pool (only
/// the calling green thread waits), IP literals do not.
fn resolve(host: &str, port: u16, limit: Option<Duration>) -> io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let host = host.to_string();
    match limit {
        None => thicket_green::tpool::resolve((host, port)),
        Some(t) => thicket_green::with_timeout(t, || thicket_green::tpool::resolve((host, port)))
            .unwrap_or_else(|_| {
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("name resolution took longer than {t:?}"),
                ))
            }),
    }
}

fn tls_error(
    target: &Target,
    deadline: &Deadline,
    connect_timeout: Option<Duration>,
    e: io::Error,
) -> Error {
    let handshake = e
        .get_ref()
        .and_then(|i| i.downcast_ref::<HandshakeError>())
        .is_some_and(|h| h.tls_error().is_some());
    if handshake {
        return Error::with_source(
            ErrorKind::Tls,
            format!("HTTPS connection to {} failed: {e}", target.host_header()),
            e,
        );
    }
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            match (deadline.left(target, "the TLS handshake"), connect_timeout) {
                (Ok(_), Some(t)) => Error::with_source(
                    ErrorKind::TimedOut,
                    format!(
                        "TLS handshake with {} timed out after {t:?} (the connect timeout)",
                        target.host_header()
                    ),
                    e,
                ),
                _ => deadline.io_error(target, "the TLS handshake", e),
            }
        }
        io::ErrorKind::InvalidInput => Error::with_source(
            ErrorKind::InvalidRequest,
            format!("{} is not a valid TLS server name: {e}", target.host),
            e,
        ),
        _ => Error::with_source(
            ErrorKind::Connect,
            format!("TLS handshake with {} failed: {e}", target.host_header()),
            e,
        ),
    }
}
