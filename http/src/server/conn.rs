//! One connection's life: read a head, call the handler, write the
//! response, repeat while keep-alive allows.

use std::cell::RefCell;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderMap, Method, StatusCode, Uri, Version};
use thicket_green::net::TcpStream;
use thicket_green::tls::TlsStream;
use thicket_green::Killer;

use super::body::{self, BodyState, Continue, Io, RequestBody};
use super::buf::{give_write_buf, take_write_buf, ReadBuf, READ_BUF};
use super::log::Entry;
use super::respond::{self, error_response, After, ReqInfo};
use super::{Config, Shared};
use crate::proto::{parse_request, Decoder, Framing, ParseError, Scan};
use crate::transport::Transport;
use crate::{BodyReader, Handler, Request, Response, Upgraded};

/// An unread body up to this size is read and discarded so the connection
/// can be kept; a larger one closes it.
const DRAIN_LIMIT: u64 = 64 * 1024;
/// How long a closing connection keeps reading what the client still sends
/// so the response is not lost to a reset.
const LINGER: Duration = Duration::from_secs(2);

/// A hub's idle keep-alive connections, so a stop can close them.
#[derive(Clone, Default)]
pub(crate) struct IdleSet(Rc<RefCell<IdleInner>>);

/// The connections waiting for their next request: a slab (each waiter
/// removes its own entry when the wait ends), so entering and leaving it
/// costs no hashing.
#[derive(Default)]
struct IdleInner {
    conns: Vec<Option<Killer>>,
    free: Vec<usize>,
    closed: bool,
}

impl IdleSet {
    fn insert(&self, waiter: Killer) -> Option<usize> {
        let mut i = self.0.borrow_mut();
        if i.closed {
            return None;
        }
        match i.free.pop() {
            Some(id) => {
                i.conns[id] = Some(waiter);
                Some(id)
            }
            None => {
                i.conns.push(Some(waiter));
                Some(i.conns.len() - 1)
            }
        }
    }

    fn remove(&self, id: usize) {
        let mut i = self.0.borrow_mut();
        if i.conns.get_mut(id).and_then(Option::take).is_some() {
            i.free.push(id);
        }
    }

    pub(crate) fn close_all(&self) {
        let conns: Vec<_> = {
            let mut i = self.0.borrow_mut();
            i.closed = true;
            i.free.clear();
            i.conns.drain(..).flatten().collect()
        };
        // Their green threads wait in `readable`, which fails at once.
        for c in conns {
            c.kill();
        }
    }
}

/// Serves one accepted connection until it closes.
pub(crate) fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    cfg: &Config,
    shared: &Shared,
    handler: &Arc<dyn Handler>,
    idle: &IdleSet,
) {
    let _ = tcp.set_nodelay(true);
    let _ = tcp.set_write_timeout(Some(cfg.write_timeout));
    let transport = match &cfg.tls {
        None => Transport::Tcp(tcp),
        Some(tls) => {
            let _ = tcp.set_read_timeout(Some(cfg.header_timeout));
            let handshake = TlsStream::server(tcp, tls.clone()).and_then(|mut s| {
                s.handshake()?;
                Ok(s)
            });
            match handshake {
                Ok(s) => Transport::Tls(Box::new(s)),
                Err(e) => {
                    log::debug!(target: "thicket_http", "{peer}: {e}");
                    return;
                }
            }
        }
    };
    let mut conn = Conn {
        io: Some(Io {
            transport,
            rbuf: ReadBuf::default(),
        }),
        wbuf: Vec::new(),
        peer,
        cfg,
        shared,
        handler,
        idle,
        waker: None,
        served: 0,
        linger: Linger::No,
    };
    conn.run();
}

struct Conn<'a> {
    io: Option<Io>,
    wbuf: Vec<u8>,
    peer: SocketAddr,
    cfg: &'a Config,
    shared: &'a Shared,
    handler: &'a Arc<dyn Handler>,
    idle: &'a IdleSet,
    /// How a stop ends this connection's green thread while it waits idle
    /// (no descriptor or buffer is held for it).
    waker: Option<Killer>,
    served: u64,
    /// Close slowly: the client may still be sending (an error answered
    /// early, a body not read).
    linger: Linger,
}

/// How waiting for a request ended.
enum Next {
    Request,
    Close,
}

impl Conn<'_> {
    fn io(&mut self) -> &mut Io {
        self.io.as_mut().expect("the connection's stream is home")
    }

    fn stopping(&self) -> bool {
        self.shared.stopping.load(Ordering::Acquire)
    }

    fn run(&mut self) {
        let mut since_yield = 0;
        loop {
            if self.io().rbuf.is_empty() {
                since_yield = 0;
                if let Next::Close = self.wait_for_request() {
                    break;
                }
            } else if since_yield >= self.cfg.pipeline_budget {
                // Pipelined requests are all in the buffer: without a
                // pause this connection would never block, and others on
                // the hub would wait for all of them.
                since_yield = 0;
                if self.flush().is_err() {
                    break;
                }
                if thicket_green::yield_now().is_err() {
                    break;
                }
            }
            since_yield += 1;
            match self.one_request() {
                Ok(true) => {}
                Ok(false) | Err(_) => break,
            }
        }
        self.close();
    }

    fn flush(&mut self) -> io::Result<()> {
        let io = self.io.as_mut().expect("home");
        respond::flush(&mut io.transport, &mut self.wbuf)
    }

    /// Waits, holding no buffers, until the next request starts arriving.
    fn wait_for_request(&mut self) -> Next {
        if self.flush().is_err() {
            return Next::Close;
        }
        give_write_buf(std::mem::take(&mut self.wbuf));
        let timeout = if self.served == 0 {
            self.cfg.header_timeout
        } else {
            match self.cfg.keep_alive {
                Some(d) => d,
                None => return Next::Close,
            }
        };
        if self.stopping() {
            return Next::Close;
        }
        let is_tcp = matches!(self.io().transport, Transport::Tcp(_));
        if !is_tcp {
            // TLS may hold decrypted bytes already: read instead of waiting
            // for the socket.
            let io = self.io.as_mut().expect("home");
            let _ = io.transport.set_read_timeout(Some(timeout));
            return match io.rbuf.fill(&mut io.transport, READ_BUF) {
                Ok(n) if n > 0 => Next::Request,
                _ => Next::Close,
            };
        }
        // The buffer goes back to the pool while the connection waits; the
        // wait itself costs no system call (the last read drained the
        // socket, so new data is a new readiness edge).
        self.io().rbuf.release_if_empty();
        if self.waker.is_none() {
            self.waker = thicket_green::current().killer();
        }
        let id = match self.waker {
            Some(w) => match self.idle.insert(w) {
                Some(id) => Some(id),
                None => return Next::Close,
            },
            None => None,
        };
        let tcp = self.io().transport.tcp();
        let _ = tcp.set_read_timeout(Some(timeout));
        let r = tcp.readable();
        if let Some(id) = id {
            self.idle.remove(id);
        }
        match r {
            Ok(()) => Next::Request,
            Err(_) => Next::Close,
        }
    }

    /// Serves one request. `Ok(true)`: the connection may go on.
    fn one_request(&mut self) -> io::Result<bool> {
        let started = Instant::now();
        let head = match self.read_head(started) {
            Ok(Some(h)) => h,
            Ok(None) => return Ok(false),
            Err(e) => {
                self.answer_error(&e, None);
                return Ok(false);
            }
        };
        self.io().rbuf.consume(head.len);
        if let Framing::Length(n) = head.framing {
            if n > self.cfg.max_body {
                let e = ParseError::new(
                    413,
                    format!("request body is larger than {} bytes", self.cfg.max_body),
                );
                self.answer_error(&e, Some(&head));
                return Ok(false);
            }
        }
        let method = head.method.clone();
        let uri = head.uri.clone();
        let version = head.version;
        let log_headers = self.cfg.access_log.as_ref().map(|_| head.headers.clone());

        let has_body = head.framing != Framing::Length(0);
        // Reading the body may wait for the client or send it `100
        // Continue`: responses held back for pipelining go out first.
        if has_body && self.flush().is_err() {
            return Ok(false);
        }
        let shared_body = has_body.then(|| {
            Arc::new(thicket_green::Mutex::new(BodyState {
                io: self.io.take(),
                decoder: Decoder::new(head.framing),
                received: 0,
                max_body: self.cfg.max_body,
                timeout: self.cfg.body_timeout,
                expect: if head.expect_continue {
                    Continue::Pending
                } else {
                    Continue::NotExpected
                },
                error: None,
            }))
        });
        let body = match &shared_body {
            None => BodyReader::empty(),
            Some(s) => {
                let len = match head.framing {
                    Framing::Length(n) => Some(n),
                    _ => None,
                };
                BodyReader::from_source(Box::new(RequestBody::new(s.clone(), len)))
            }
        };
        let mut req = Request::new(body.with_remote_addr(self.peer));
        *req.method_mut() = head.method;
        *req.uri_mut() = head.uri;
        *req.version_mut() = head.version;
        *req.headers_mut() = head.headers;

        let handler = self.handler.clone();
        let outcome = panic::catch_unwind(AssertUnwindSafe(move || handler.handle(req)));
        // In HTTP/1.0-only mode only a client that asks for keep-alive
        // (an HTTP/1.0 `Connection: keep-alive`) gets it.
        let mut keep = head.keep_alive
            && self.cfg.keep_alive.is_some()
            && (!self.cfg.http10_only || version == Version::HTTP_10);
        let mut resp = match outcome {
            Ok(r) => r,
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a non-string panic".to_owned());
                log::error!(
                    target: "thicket_http",
                    "handler panicked on {method} {uri} from {}: {msg}",
                    self.peer
                );
                error_response(StatusCode::INTERNAL_SERVER_ERROR, "the handler failed")
            }
        };

        if let Some(shared_body) = shared_body {
            // A body reader the handler kept (in another green thread) is
            // done with once we hold the lock: it gets an error from now on.
            let mut st = match shared_body.lock() {
                Ok(st) => st,
                Err(_) => return Ok(false),
            };
            if let Some(e) = st.error.take() {
                self.io = st.io.take();
                drop(st);
                if self.io.is_none() || e.status().as_u16() == 499 {
                    return Ok(false);
                }
                self.linger = Linger::UntilEof;
                resp = error_response(e.status(), e.reason());
                keep = false;
            } else {
                if !st.decoder.is_done() && !resp.body().is_upgrade() {
                    if st.expect == Continue::Pending {
                        // The client may be waiting for our go-ahead and
                        // will not send the body: the connection cannot
                        // carry another request.
                        keep = false;
                        self.linger = Linger::UntilEof;
                    } else if !keep || !body::drain(&mut st, DRAIN_LIMIT) {
                        keep = false;
                        self.linger = Linger::UntilEof;
                    }
                }
                self.io = st.io.take();
                if self.io.is_none() {
                    return Ok(false);
                }
            }
        }
        if self.stopping() {
            keep = false;
        }
        self.served += 1;
        let info = ReqInfo {
            started,
            head: method == Method::HEAD,
            connect: method == Method::CONNECT,
            version,
            keep_alive: keep,
            http10_only: self.cfg.http10_only,
        };
        self.send(resp, &info, started, &method, &uri, log_headers.as_ref())
    }

    /// Writes a response and decides what happens next.
    fn send(
        &mut self,
        resp: Response,
        info: &ReqInfo,
        started: Instant,
        method: &Method,
        uri: &Uri,
        log_headers: Option<&HeaderMap>,
    ) -> io::Result<bool> {
        if self.wbuf.capacity() == 0 {
            self.wbuf = take_write_buf();
        }
        let defer = !self.io().rbuf.is_empty();
        let io = self.io.as_mut().expect("home");
        let sent = respond::write_response(&mut io.transport, &mut self.wbuf, resp, info, defer);
        let sent = match sent {
            Ok(s) => s,
            Err(e) => {
                log::debug!(target: "thicket_http", "{}: writing a response: {e}", self.peer);
                self.wbuf.clear();
                return Ok(false);
            }
        };
        if let (Some(log), Some(headers)) = (&self.cfg.access_log, log_headers) {
            log.record(&Entry {
                peer: self.peer,
                method,
                uri,
                version: info.version,
                headers,
                status: sent.status,
                bytes: sent.body_bytes,
                duration: started.elapsed(),
            });
        }
        match sent.after {
            After::KeepAlive => Ok(true),
            After::Close => {
                // The client may still be sending (pipelined requests):
                // closing at once would answer those bytes with a reset
                // that can destroy the response in flight (RFC 9112 9.6).
                self.linger = self.linger.max(Linger::Pending);
                Ok(false)
            }
            After::Upgrade(f) => {
                let mut io = self.io.take().expect("home");
                let rest = io.rbuf.take_rest();
                let _ = io.transport.set_read_timeout(None);
                f(Upgraded::new(io.transport, rest));
                Ok(false)
            }
        }
    }

    /// Reads until a whole head is buffered. `Ok(None)`: the client closed
    /// or went quiet before a request began, or stopped in the middle of a
    /// head (nothing to answer).
    fn read_head(
        &mut self,
        started: Instant,
    ) -> Result<Option<crate::proto::RequestHead>, ParseError> {
        let deadline = started + self.cfg.header_timeout;
        let limits = self.cfg.limits;
        let max = limits.max_head + limits.max_line;
        let mut scan = Scan::default();
        loop {
            let io = self.io.as_mut().expect("home");
            if let Some(h) = parse_request(&mut scan, io.rbuf.data(), &limits)? {
                return Ok(Some(h));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ParseError::new(408, "the request head took too long"));
            }
            // Responses held back to go out with the next one are sent
            // before waiting for the rest of it: the client may be waiting
            // for them before it sends more.
            if respond::flush(&mut io.transport, &mut self.wbuf).is_err() {
                return Ok(None);
            }
            let _ = io.transport.set_read_timeout(Some(left));
            match io.rbuf.fill(&mut io.transport, max) {
                Ok(0) => return Ok(None),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    return Err(ParseError::new(408, "the request head took too long"));
                }
                Err(_) => return Ok(None),
            }
        }
    }

    /// Answers a request the server refuses, then closes.
    fn answer_error(&mut self, e: &ParseError, head: Option<&crate::proto::RequestHead>) {
        if self.wbuf.capacity() == 0 {
            self.wbuf = take_write_buf();
        }
        let version = head.map_or(Version::HTTP_11, |h| h.version);
        let info = ReqInfo {
            started: Instant::now(),
            head: false,
            connect: false,
            version,
            keep_alive: false,
            http10_only: self.cfg.http10_only,
        };
        let resp = error_response(e.status(), e.reason());
        let (method, uri) = match head {
            Some(h) => (h.method.clone(), h.uri.clone()),
            None => (Method::GET, Uri::from_static("/")),
        };
        log::debug!(target: "thicket_http", "{}: refused: {e}", self.peer);
        self.linger = Linger::UntilEof;
        let empty = HeaderMap::new();
        let _ = self.send(resp, &info, Instant::now(), &method, &uri, Some(&empty));
    }

    /// Ends the connection: what is buffered is sent, then the write side
    /// is shut and what the client still sends is read for a moment, so a
    /// reset does not destroy the response before the client reads it.
    fn close(&mut self) {
        let Some(mut io) = self.io.take() else {
            return;
        };
        let _ = respond::flush(&mut io.transport, &mut self.wbuf);
        give_write_buf(std::mem::take(&mut self.wbuf));
        if let Transport::Tls(s) = &mut io.transport {
            let _ = s.close();
        }
        let tcp = io.transport.tcp();
        if self.linger == Linger::No || tcp.shutdown(Shutdown::Write).is_err() {
            return;
        }
        // Read (and drop) what the client still sends: closing with unread
        // bytes answers them with a reset that can destroy the response
        // before the client reads it. After a refused request the client
        // may be mid-body, so wait a while for its end; otherwise only
        // bytes already here (pipelined requests) matter.
        let _ = tcp.set_read_timeout(Some(LINGER));
        let deadline = Instant::now() + LINGER;
        let mut scratch = vec![0u8; 4096];
        let mut total = 0usize;
        while total < 256 * 1024 {
            match tcp.try_read(&mut scratch) {
                Ok(0) => break,
                Ok(n) => total += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let waiting = self.linger == Linger::UntilEof || total > 0;
                    if !waiting || Instant::now() >= deadline || tcp.readable().is_err() {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
    }
}

/// How a closing connection treats what the client still sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Linger {
    /// Close at once: the client closed, or went quiet.
    No,
    /// Drain what has already arrived (and what follows it).
    Pending,
    /// Wait a while for the client to finish sending: a request was
    /// refused before its body was read.
    UntilEof,
}
