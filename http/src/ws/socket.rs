//! [`WebSocket`]: a connection after the handshake, split into a reading
//! half ([`Receiver`]) and a cloneable writing half ([`Sender`]).
//!
//! Over plain TCP both halves share the green `TcpStream` (one reader and
//! one writer may use it at once); writers take turns through a green
//! mutex, so messages are never interleaved. Over TLS the session is
//! behind a green mutex too: the reader holds it only while it decrypts
//! what has arrived, never while it waits (it waits on a duplicate of the
//! socket's descriptor, one more file descriptor per TLS connection), so a
//! `send` from another green thread goes through while `recv` waits.

use std::fmt;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use thicket_green::net::TcpStream;
use thicket_green::tls::TlsStream;
use thicket_green::{Event, Mutex};

use super::codec::{Decoder, Encoder, ProtocolError, Role};
use super::config::Config;
use super::deflate::Params;
use super::{CloseFrame, Message};
use crate::error::{Error, ErrorKind};
use crate::transport::Transport;

/// The read buffer starts small (an idle socket holds little) and doubles,
/// up to the most, while reads fill it.
const READ_BUF: usize = 4 * 1024;
const MAX_READ_BUF: usize = 64 * 1024;

/// How many bytes [`Sender::feed`] queues before it writes them anyway.
const FEED_LIMIT: usize = 64 * 1024;

/// A payload this long is written from the message itself, after its
/// header, rather than copied next to it first.
const WRITE_AS_IS: usize = 16 * 1024;

type Tls = Arc<Mutex<TlsStream<TcpStream>>>;

/// How the reader reaches the connection.
enum ReadIo {
    Tcp(Arc<TcpStream>),
    /// The TLS session, and a duplicate of its socket to wait on.
    Tls {
        tls: Tls,
        wait: Arc<TcpStream>,
    },
}

/// How writers reach it.
enum WriteIo {
    Tcp(Arc<TcpStream>),
    Tls(Tls),
}

struct Writer {
    io: WriteIo,
    encoder: Encoder,
    buf: Vec<u8>,
    close_sent: bool,
    broken: bool,
}

/// What both halves share.
struct Shared {
    role: Role,
    config: Config,
    protocol: Option<String>,
    compressed: bool,
    writer: Mutex<Writer>,
    /// The socket, to shut down from any thread.
    tcp: Arc<TcpStream>,
    /// Set once the connection has ended for good.
    done: Event,
    ended: AtomicBool,
    peer: Option<SocketAddr>,
    /// The writer's buffer holds fed frames not written yet.
    pending: AtomicBool,
    /// The receiver is waiting for the network (or about to): fed frames go out at once.
    reader_waiting: AtomicBool,
}

fn closed_error() -> Error {
    Error::new(ErrorKind::Closed, "the WebSocket is closed")
}

impl Shared {
    fn lock_writer(&self) -> Result<thicket_green::MutexGuard<'_, Writer>, Error> {
        self.writer
            .lock()
            .map_err(|e| Error::with_source(ErrorKind::Io, "waiting to send", e))
    }

    /// Encodes `msg` after any fed frames and writes them all.
    fn send(&self, msg: &Message) -> Result<(), Error> {
        let mut w = self.lock_writer()?;
        let tail = self.encode(&mut w, msg)?;
        self.write_out(&mut w, tail)
    }

    /// Encodes `msg` after any fed frames; writes them only once [`FEED_LIMIT`] bytes are
    /// queued, or if the receiver waits for the network (it would not flush them).
    fn feed(&self, msg: &Message) -> Result<(), Error> {
        let mut w = self.lock_writer()?;
        let tail = self.encode(&mut w, msg)?;
        if !tail.is_empty() || w.close_sent || w.buf.len() >= FEED_LIMIT {
            return self.write_out(&mut w, tail);
        }
        // Paired with `reader_waiting` in `Receiver::fill` (each side stores its flag, then
        // reads the other's): either the receiver sees this frame pending and flushes it, or
        // this sees the receiver waiting and writes it here.
        self.pending.store(true, Ordering::SeqCst);
        if self.reader_waiting.load(Ordering::SeqCst) {
            return self.write_out(&mut w, &[]);
        }
        Ok(())
    }

    /// Writes the fed frames, if any.
    fn flush(&self) -> Result<(), Error> {
        if !self.pending.load(Ordering::SeqCst) {
            return Ok(());
        }
        let mut w = self.lock_writer()?;
        if w.buf.is_empty() {
            return Ok(());
        }
        self.write_out(&mut w, &[])
    }

    /// Encodes `msg` into the writer's buffer; returns the part of it to write after the
    /// buffer (a long payload, not copied), else nothing.
    fn encode<'m>(&self, w: &mut Writer, msg: &'m Message) -> Result<&'m [u8], Error> {
        if w.close_sent || w.broken {
            return Err(closed_error());
        }
        let tail = w.encoder.encode_split(msg, &mut w.buf, WRITE_AS_IS)?;
        if matches!(msg, Message::Close(_)) {
            w.close_sent = true;
        }
        Ok(tail.unwrap_or_default())
    }

    /// Writes out the writer's buffer, then `tail`.
    fn write_out(&self, w: &mut Writer, tail: &[u8]) -> Result<(), Error> {
        self.pending.store(false, Ordering::SeqCst);
        let r = match &w.io {
            WriteIo::Tcp(tcp) => write_all_then(&**tcp, &w.buf, tail),
            WriteIo::Tls(tls) => match tls.lock() {
                Ok(mut s) => write_all_then(&mut *s, &w.buf, tail).and_then(|()| s.flush()),
                Err(e) => Err(io::Error::other(e)),
            },
        };
        w.buf.clear();
        // One big message should not pin its buffer for the connection's life.
        if w.buf.capacity() > 64 * 1024 {
            w.buf = Vec::new();
        }
        if let Err(e) = r {
            // Part of a frame may be out: nothing more can follow it.
            w.broken = true;
            let _ = self.tcp.shutdown(Shutdown::Both);
            return Err(Error::from_io("sending a WebSocket message", e));
        }
        Ok(())
    }

    fn close_sent(&self) -> bool {
        self.writer.lock().map(|w| w.close_sent).unwrap_or(true)
    }

    /// Ends the connection at once, waking anyone waiting on it.
    fn abort(&self) {
        self.tcp.close();
        self.end();
    }

    fn end(&self) {
        if !self.ended.swap(true, Ordering::AcqRel) {
            self.done.set();
        }
    }
}

/// Writes all of `head` then all of `tail`, in one system call when they fit.
fn write_all_then(mut out: impl Write, head: &[u8], tail: &[u8]) -> io::Result<()> {
    if tail.is_empty() {
        return out.write_all(head);
    }
    let mut slices = [IoSlice::new(head), IoSlice::new(tail)];
    let mut bufs = &mut slices[..];
    IoSlice::advance_slices(&mut bufs, 0);
    while !bufs.is_empty() {
        match out.write_vectored(bufs) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads from a green socket without waiting (`WouldBlock` instead).
struct TryRead<'a>(&'a TcpStream);

impl Read for TryRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

impl ReadIo {
    /// Reads some bytes, like [`read`](Self::read); `drained` says that the last read
    /// emptied the socket, so over TCP it waits for more without first trying a read that
    /// would only say `WouldBlock` (one system call less per message received one by one).
    fn read_more(&self, buf: &mut [u8], drained: bool) -> io::Result<usize> {
        if let (ReadIo::Tcp(tcp), true) = (self, drained) {
            tcp.readable()?;
        }
        self.read(buf)
    }

    /// Reads some bytes; 0 at the end of the stream.
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            ReadIo::Tcp(tcp) => (&**tcp).read(buf),
            ReadIo::Tls { tls, wait } => loop {
                {
                    let mut s = tls.lock().map_err(io::Error::other)?;
                    match s.connection_mut().reader().read(buf) {
                        Ok(n) => return Ok(n),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        // The peer ended the TCP stream without close_notify.
                        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                        Err(e) => return Err(e),
                    }
                    match s.connection_mut().read_tls(&mut TryRead(wait)) {
                        Ok(_) => {
                            if let Err(e) = s.connection_mut().process_new_packets() {
                                let _ = s.flush();
                                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                            }
                            if s.connection().wants_write() {
                                // Answer a key update before reading on.
                                s.flush()?;
                            }
                            continue;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) => return Err(e),
                    }
                }
                // Wait with the session unlocked, so that writers can use it.
                wait.readable()?;
            },
        }
    }
}

/// The reading half of a [`WebSocket`]: [`recv`](Self::recv) from one green
/// thread at a time. Dropping it before the connection has closed ends the
/// connection (close code 1001, best effort): nothing would answer the
/// peer's pings any more.
pub struct Receiver {
    shared: Arc<Shared>,
    io: ReadIo,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    decoder: Decoder,
    finished: bool,
    /// The last read returned less than the buffer could take: the socket was empty.
    drained: bool,
    last_read: Instant,
    ping_sent: Option<Instant>,
}

/// The writing half of a [`WebSocket`]: cheap to clone, `Send + Sync`; any
/// number of green threads (on any hub) may send at once, and each message
/// goes out whole.
#[derive(Clone)]
pub struct Sender {
    shared: Arc<Shared>,
}

/// A WebSocket connection, either side: [`recv`](Self::recv) messages,
/// [`send`](Self::send) them, [`close`](Self::close) with a code.
///
/// To send from other green threads while one waits in `recv`, give them
/// a [`sender`](Self::sender) (or [`split`](Self::split) the socket).
///
/// # Examples
///
/// A chat-like socket: one green thread forwards lines from a queue while
/// the handler reads.
///
/// ```no_run
/// use thicket_http::ws::{Message, WebSocket};
///
/// fn serve(mut socket: WebSocket, lines: thicket_green::Queue<String>) {
///     let tx = socket.sender();
///     let forward = thicket_green::spawn(move || {
///         while let Ok(line) = lines.get() {
///             if tx.send(Message::text(line)).is_err() {
///                 break;
///             }
///         }
///     });
///     while let Ok(msg) = socket.recv() {
///         println!("got {msg:?}");
///     }
///     forward.kill();
/// }
/// ```
pub struct WebSocket {
    rx: Receiver,
    tx: Sender,
}

/// What the handshake agreed.
pub(crate) struct Agreement {
    pub role: Role,
    pub protocol: Option<String>,
    pub deflate: Option<Params>,
}

impl WebSocket {
    /// A WebSocket over a connection whose handshake is done; `buffered`
    /// are bytes already read past the handshake.
    pub(crate) fn from_transport(
        io: Transport,
        buffered: Bytes,
        agreed: Agreement,
        config: &Config,
    ) -> io::Result<WebSocket> {
        let peer = io.peer_addr().ok();
        if let Some(t) = config.write_timeout {
            let _ = io.set_write_timeout(Some(t));
        }
        let _ = io.set_read_timeout(None);
        let (rio, wio, tcp) = match io {
            Transport::Tcp(tcp) => {
                let tcp = Arc::new(tcp);
                (ReadIo::Tcp(tcp.clone()), WriteIo::Tcp(tcp.clone()), tcp)
            }
            Transport::Tls(tls) => {
                let wait = Arc::new(tls.get_ref().try_clone()?);
                let tls = Arc::new(Mutex::new(*tls));
                (
                    ReadIo::Tls {
                        tls: tls.clone(),
                        wait: wait.clone(),
                    },
                    WriteIo::Tls(tls),
                    wait,
                )
            }
        };
        let level = config.compression_level;
        let shared = Arc::new(Shared {
            role: agreed.role,
            config: config.clone(),
            protocol: agreed.protocol,
            compressed: agreed.deflate.is_some(),
            writer: Mutex::new(Writer {
                io: wio,
                encoder: Encoder::with_deflate(agreed.role, agreed.deflate, level),
                buf: Vec::new(),
                close_sent: false,
                broken: false,
            }),
            tcp,
            done: Event::new(),
            ended: AtomicBool::new(false),
            peer,
            pending: AtomicBool::new(false),
            reader_waiting: AtomicBool::new(false),
        });
        let mut buf = vec![0u8; READ_BUF.max(buffered.len())];
        buf[..buffered.len()].copy_from_slice(&buffered);
        let rx = Receiver {
            shared: shared.clone(),
            io: rio,
            buf,
            pos: 0,
            end: buffered.len(),
            decoder: Decoder::with_deflate(agreed.role, config.limits, agreed.deflate),
            finished: false,
            drained: false,
            last_read: Instant::now(),
            ping_sent: None,
        };
        Ok(WebSocket {
            rx,
            tx: Sender { shared },
        })
    }

    /// The next message; see [`Receiver::recv`].
    ///
    /// # Errors
    ///
    /// As for [`Receiver::recv`].
    pub fn recv(&mut self) -> Result<Message, Error> {
        self.rx.recv()
    }

    /// The next message, waiting at most `timeout`; see
    /// [`Receiver::recv_timeout`].
    ///
    /// # Errors
    ///
    /// As for [`Receiver::recv_timeout`].
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Message, Error> {
        self.rx.recv_timeout(timeout)
    }

    /// Sends a message; see [`Sender::send`].
    ///
    /// # Errors
    ///
    /// As for [`Sender::send`].
    pub fn send(&self, msg: Message) -> Result<(), Error> {
        self.tx.send(msg)
    }

    /// Queues a message to go out with later ones; see [`Sender::feed`].
    ///
    /// # Errors
    ///
    /// As for [`Sender::feed`].
    pub fn feed(&self, msg: Message) -> Result<(), Error> {
        self.tx.feed(msg)
    }

    /// Writes the messages [`feed`](Self::feed) queued; see
    /// [`Sender::flush`].
    ///
    /// # Errors
    ///
    /// As for [`Sender::flush`].
    pub fn flush(&self) -> Result<(), Error> {
        self.tx.flush()
    }

    /// The closing handshake, started here: sends a close frame with `code`
    /// and `reason`, then reads (dropping data messages) until the peer's
    /// close frame arrives or the close timeout passes, and ends the TCP
    /// connection (a server at once, a client once the server has closed
    /// it or the close timeout has passed). Does nothing more if the
    /// connection has already closed.
    ///
    /// # Errors
    ///
    /// `InvalidRequest` for a code that may not be sent (see
    /// [`frame::is_valid_close_code`](super::frame::is_valid_close_code)).
    pub fn close(&mut self, code: u16, reason: &str) -> Result<(), Error> {
        self.rx.close(code, reason)
    }

    /// A handle that sends on this socket from other green threads.
    pub fn sender(&self) -> Sender {
        self.tx.clone()
    }

    /// The two halves, to move the reading one elsewhere.
    pub fn split(self) -> (Receiver, Sender) {
        (self.rx, self.tx)
    }

    /// The subprotocol agreed in the handshake.
    pub fn protocol(&self) -> Option<&str> {
        self.tx.protocol()
    }

    /// Whether permessage-deflate is on.
    pub fn is_compressed(&self) -> bool {
        self.tx.shared.compressed
    }

    /// Which side of the connection this is.
    pub fn role(&self) -> Role {
        self.tx.shared.role
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.tx.shared.peer
    }
}

impl fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocket")
            .field("role", &self.tx.shared.role)
            .field("peer", &self.tx.shared.peer)
            .field("protocol", &self.tx.shared.protocol)
            .field("compressed", &self.tx.shared.compressed)
            .finish_non_exhaustive()
    }
}

impl Sender {
    /// Sends `msg` as one frame (compressed if permessage-deflate is on).
    /// Waits while another green thread is sending, and while the peer is
    /// slow to take data (up to the write timeout).
    ///
    /// # Errors
    ///
    /// `Closed` once a close frame was sent or the connection ended;
    /// `InvalidRequest` for a ping or pong over 125 bytes or an invalid
    /// close code; an I/O error (`TimedOut` past the write timeout), after
    /// which the connection is shut down.
    pub fn send(&self, msg: Message) -> Result<(), Error> {
        self.shared.send(&msg)
    }

    /// Queues `msg` to go out with the frames after it: it is written by
    /// the next [`send`](Self::send) or [`flush`](Self::flush), once
    /// 64 KiB are queued, or when this socket's `recv` has no message
    /// left to return and waits for the network (at once if a `recv` is
    /// waiting already).
    ///
    /// An echo or a request-reply loop on the green thread that receives
    /// answers a burst of messages with one write instead of one each
    /// (tokio-tungstenite's `forward` does the same). Elsewhere, with no
    /// `recv` to come, [`flush`](Self::flush) after feeding.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use thicket_http::ws::WebSocket;
    ///
    /// fn echo(mut socket: WebSocket) {
    ///     while let Ok(msg) = socket.recv() {
    ///         if msg.is_data() && socket.feed(msg).is_err() {
    ///             break;
    ///         }
    ///     }
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// As for [`send`](Self::send) (an I/O error only if this call wrote).
    pub fn feed(&self, msg: Message) -> Result<(), Error> {
        self.shared.feed(&msg)
    }

    /// Writes the messages [`feed`](Self::feed) queued, if any.
    ///
    /// # Errors
    ///
    /// An I/O error (`TimedOut` past the write timeout), after which the
    /// connection is shut down.
    pub fn flush(&self) -> Result<(), Error> {
        self.shared.flush()
    }

    /// Sends the same message as [`send`](Self::send), by reference (for
    /// broadcasting one message to many sockets).
    ///
    /// # Errors
    ///
    /// As for [`send`](Self::send).
    pub fn send_ref(&self, msg: &Message) -> Result<(), Error> {
        self.shared.send(msg)
    }

    /// Starts the closing handshake from a green thread that does not
    /// read: sends the close frame; the green thread in `recv` then gets
    /// the peer's answer as [`Message::Close`]. If the handshake has not
    /// finished within the close timeout, the connection is cut.
    ///
    /// # Errors
    ///
    /// As for [`send`](Self::send).
    pub fn close(&self, code: u16, reason: &str) -> Result<(), Error> {
        self.shared
            .send(&Message::Close(Some(CloseFrame::new(code, reason))))?;
        let shared = self.shared.clone();
        let done = shared.done.clone();
        let limit = shared.config.close_timeout;
        thicket_green::spawn_n(move || {
            if done.wait_timeout(limit).is_err() {
                shared.abort();
            }
        });
        Ok(())
    }

    /// Cuts the connection without a closing handshake; green threads
    /// waiting on it wake with an error.
    pub fn abort(&self) {
        self.shared.abort();
    }

    /// Whether the connection has ended, or a close frame was sent.
    pub fn is_closed(&self) -> bool {
        self.shared.ended.load(Ordering::Acquire) || self.shared.close_sent()
    }

    /// The subprotocol agreed in the handshake.
    pub fn protocol(&self) -> Option<&str> {
        self.shared.protocol.as_deref()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.shared.peer
    }

    /// Whether two senders write to the same connection.
    pub fn same_socket(&self, other: &Sender) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("peer", &self.shared.peer)
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl Receiver {
    /// The next message, waiting as long as it takes (but see
    /// [`Config::ping_interval`]).
    ///
    /// Pings are answered before they are returned. When the peer's close
    /// frame arrives, it is answered (unless ours went first), the TCP
    /// connection is ended, and it is returned as [`Message::Close`].
    ///
    /// # Errors
    ///
    /// - `Closed`: the connection had ended (after `Message::Close`, or
    ///   the peer went away without a close frame: code 1006).
    /// - `Parse`, `Decode`, `TooLarge`: the peer broke the protocol, sent
    ///   text that is not UTF-8, or a message over the limit; the
    ///   connection was failed with close code 1002, 1007 or 1009.
    /// - `TimedOut`: the peer did not answer a keep-alive ping.
    /// - `Io`, `Tls`: the connection failed.
    pub fn recv(&mut self) -> Result<Message, Error> {
        self.recv_until(None)
    }

    /// The next message, waiting at most `timeout`. A timeout loses
    /// nothing: the part of a message that had arrived is kept for the
    /// next call.
    ///
    /// # Errors
    ///
    /// `TimedOut` when no whole message arrived in time; otherwise as for
    /// [`recv`](Self::recv).
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Message, Error> {
        self.recv_until(Some(Instant::now() + timeout))
    }

    /// A sender for this connection.
    pub fn sender(&self) -> Sender {
        Sender {
            shared: self.shared.clone(),
        }
    }

    fn recv_until(&mut self, deadline: Option<Instant>) -> Result<Message, Error> {
        if self.finished {
            return Err(closed_error());
        }
        loop {
            if self.pos < self.end {
                match self.decoder.decode(&self.buf[self.pos..self.end]) {
                    Ok((n, msg)) => {
                        self.pos += n;
                        if let Some(msg) = msg {
                            return Ok(self.handle(msg));
                        }
                    }
                    Err(e) => return Err(self.fail(e)),
                }
                continue;
            }
            self.pos = 0;
            self.end = 0;
            match self.fill(deadline) {
                Ok(0) => {
                    self.finish(false);
                    return Err(Error::new(
                        ErrorKind::Closed,
                        "the WebSocket peer went away without a close frame (1006)",
                    ));
                }
                Ok(n) => {
                    self.end = n;
                    if n == self.buf.len() && n < MAX_READ_BUF {
                        self.buf.resize(n * 2, 0);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads into the buffer, waiting until `deadline` and sending
    /// keep-alive pings on the way. Fed frames (see [`Sender::feed`]) go
    /// out first, unless more input has already arrived: then they wait
    /// for the answers to it, to go out in one write.
    fn fill(&mut self, deadline: Option<Instant>) -> Result<usize, Error> {
        if !self.drained && self.shared.pending.load(Ordering::SeqCst) {
            if let ReadIo::Tcp(tcp) = &self.io {
                match tcp.try_read(&mut self.buf) {
                    Ok(n) => return Ok(self.got(n)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(self.broke(e)),
                }
            }
        }
        // Paired with `pending` in `Shared::feed`.
        self.shared.reader_waiting.store(true, Ordering::SeqCst);
        let r = match self.shared.flush() {
            Ok(()) => self.wait_and_read(deadline),
            Err(e) => {
                self.finished = true;
                self.shared.abort();
                Err(e)
            }
        };
        self.shared.reader_waiting.store(false, Ordering::SeqCst);
        r
    }

    /// Notes a read of `n` bytes.
    fn got(&mut self, n: usize) -> usize {
        self.drained = n < self.buf.len();
        if self.shared.config.ping_interval.is_some() {
            self.last_read = Instant::now();
        }
        self.ping_sent = None;
        n
    }

    /// Ends the connection after a failed read.
    fn broke(&mut self, e: io::Error) -> Error {
        self.finished = true;
        self.shared.abort();
        Error::from_io("reading a WebSocket", e)
    }

    fn wait_and_read(&mut self, deadline: Option<Instant>) -> Result<usize, Error> {
        loop {
            let ping_at = self
                .shared
                .config
                .ping_interval
                .map(|every| match self.ping_sent {
                    Some(sent) => sent + every,
                    None => self.last_read + every,
                });
            let wake = match (deadline, ping_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let (io, buf, drained) = (&self.io, &mut self.buf[..], self.drained);
            let r = match wake {
                None => Ok(io.read_more(buf, drained)),
                Some(t) => match t.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => {
                        thicket_green::with_timeout(left, || io.read_more(buf, drained))
                    }
                    _ => Err(thicket_green::Elapsed),
                },
            };
            match r {
                Ok(Ok(n)) => return Ok(self.got(n)),
                Ok(Err(e)) => return Err(self.broke(e)),
                Err(_) => {
                    let now = Instant::now();
                    if deadline.is_some_and(|d| now >= d) {
                        return Err(Error::new(
                            ErrorKind::TimedOut,
                            "no WebSocket message arrived in time",
                        ));
                    }
                    if self.ping_sent.is_some() {
                        self.finished = true;
                        self.shared.abort();
                        return Err(Error::new(
                            ErrorKind::TimedOut,
                            "the WebSocket peer did not answer a keep-alive ping",
                        ));
                    }
                    self.ping_sent = Some(now);
                    if let Err(e) = self.shared.send(&Message::Ping(Bytes::new())) {
                        self.finished = true;
                        self.shared.abort();
                        return Err(e);
                    }
                }
            }
        }
    }

    fn handle(&mut self, msg: Message) -> Message {
        match &msg {
            // A pong cannot go after our close frame; a failed send shows
            // up at the next read.
            Message::Ping(p) if !self.shared.close_sent() => {
                let _ = self.shared.send(&Message::Pong(p.clone()));
            }
            Message::Close(frame) => {
                if !self.shared.close_sent() {
                    // Echo the code (RFC 6455 §5.5.1), not the reason.
                    let echo = frame.as_ref().map(|f| CloseFrame::new(f.code, ""));
                    let _ = self.shared.send(&Message::Close(echo));
                }
                self.finish(true);
            }
            _ => {}
        }
        msg
    }

    /// Fails the connection: a close frame with the error's code, then the
    /// end of the TCP connection.
    fn fail(&mut self, e: ProtocolError) -> Error {
        if !self.shared.close_sent() {
            let frame = CloseFrame::new(e.close_code(), "");
            let _ = self.shared.send(&Message::Close(Some(frame)));
        }
        self.finish(true);
        e.into()
    }

    /// Ends the TCP connection after the closing handshake (or a failure).
    /// The server closes first (RFC 6455 §7.1.1): it shuts its side down,
    /// then drains what the client still sends until the client closes
    /// too. A client waits for the server to close, then closes.
    fn finish(&mut self, linger: bool) {
        if self.finished {
            return;
        }
        self.finished = true;
        if linger {
            if self.shared.role == Role::Server {
                if let ReadIo::Tls { tls, .. } = &self.io {
                    if let Ok(mut s) = tls.lock() {
                        let _ = s.close();
                    }
                }
                let _ = self.shared.tcp.shutdown(Shutdown::Write);
            }
            let (io, buf) = (&self.io, &mut self.buf[..]);
            let _ = thicket_green::with_timeout(self.shared.config.close_timeout, || loop {
                match io.read(buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            });
        }
        self.shared.abort();
    }

    fn close(&mut self, code: u16, reason: &str) -> Result<(), Error> {
        if self.finished {
            return Ok(());
        }
        match self
            .shared
            .send(&Message::Close(Some(CloseFrame::new(code, reason))))
        {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::InvalidRequest => return Err(e),
            // Already sent (by a Sender), or the connection is broken:
            // either way, wait for the end below.
            Err(_) => {}
        }
        let deadline = Instant::now() + self.shared.config.close_timeout;
        while !self.finished {
            match self.recv_until(Some(deadline)) {
                Ok(Message::Close(_)) => break,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        if !self.finished {
            self.finished = true;
            self.shared.abort();
        }
        Ok(())
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if !self.finished {
            // Best effort, and only if no writer is busy (one that is may
            // be stuck on the peer).
            let free = self
                .shared
                .writer
                .try_lock()
                .is_some_and(|w| !w.close_sent && !w.broken);
            if free {
                let bye = CloseFrame::new(CloseFrame::GOING_AWAY, "");
                let _ = self.shared.send(&Message::Close(Some(bye)));
            }
            self.shared.abort();
        }
    }
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("peer", &self.shared.peer)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}
