//! WebSockets (RFC 6455), with permessage-deflate (RFC 7692), on green
//! threads: a socket is read with a blocking [`WebSocket::recv`] and written
//! with [`WebSocket::send`] from any number of green threads.
//!
//! - Server: a handler answers a request with [`upgrade`], which checks the
//!   handshake and returns the `101` response; the closure it was given
//!   then runs with the [`WebSocket`] on the connection's green thread. It
//!   is routed like any other URL (a [`Router`](crate::Router) route, say).
//! - Client: [`connect`] (or a [`Connector`] for options) opens `ws://` and
//!   `wss://` URLs and returns the same [`WebSocket`].
//! - [`Config`] holds the limits, timeouts, subprotocols, compression and
//!   (for servers) the origin policy.
//! - [`Sender`] is a cloneable handle that writes to a socket while another
//!   green thread waits in `recv`; [`Room`] sends a message to many sockets
//!   without a slow one holding up the others.
//! - [`WebSocket::feed`] queues a message instead of writing it: the
//!   queue goes out when `recv` has no message left and waits for more, so
//!   an echo or a reply loop answers a burst of messages with one write.
//! - Under it, sans I/O: [`Decoder`] and [`Encoder`] (messages to and from
//!   bytes) and [`frame`] (the header format).
//!
//! The protocol is handled for you: pings are answered with pongs, the
//! close handshake echoes the peer's code, fragments are reassembled, text
//! is checked to be UTF-8 as it arrives, and a peer that breaks a rule gets
//! a close frame with the right code (1002, 1007, 1009) before the
//! connection ends.
//!
//! # Details
//!
//! - **Origins.** Browsers send `Origin` with every handshake; by default a
//!   server accepts only its own host (the `Host` header) and origins
//!   listed with [`Config::allow_origin`], and answers others `403`. A
//!   handshake without `Origin` (not from a browser) is accepted. See
//!   [`OriginCheck`].
//! - **Compression.** permessage-deflate is negotiated when both sides
//!   want it (the default): context takeover on or off either way, and
//!   windows of 9 to 15 bits (zlib, on the pure-Rust zlib-rs backend,
//!   cannot make the 8-bit window an offer may ask for: such an offer is
//!   declined). Compressed messages are capped after inflation by the
//!   message size limit.
//! - **Closing.** The server closes the TCP connection first (RFC 6455
//!   §7.1.1): after the closing handshake it shuts its side down and reads
//!   until the client has closed too (at most the close timeout); a client
//!   waits for the server to close.
//! - **TLS.** Over TLS the session is behind a green mutex that the reading
//!   green thread holds only while it decrypts, so sending is never held up
//!   by a `recv` that waits; this costs one more file descriptor per
//!   connection (a duplicate of the socket to wait on).
//! - **Server shutdown.** An upgraded connection is a request in flight
//!   for [`ServerHandle::stop`](crate::ServerHandle::stop): it may run
//!   until the grace period ends, then its green thread is killed.
//!
//! Conformance: the Autobahn|Testsuite runs against both the server and
//! the client in the tests (`http/tests/ws_autobahn.rs`), compression
//! cases included.
//!
//! # Examples
//!
//! An echo server and a client:
//!
//! ```
//! use thicket_http::ws::{self, Message};
//! use thicket_http::{Request, Server};
//!
//! let config = ws::Config::new();
//! let server = Server::bind("127.0.0.1:0")?.start(move |req: Request| {
//!     ws::upgrade(&req, &config, |mut socket| {
//!         while let Ok(msg) = socket.recv() {
//!             if let Message::Text(_) | Message::Binary(_) = msg {
//!                 if socket.send(msg).is_err() {
//!                     break;
//!                 }
//!             }
//!         }
//!     })
//! })?;
//!
//! let mut socket = ws::connect(&format!("ws://{}/echo", server.local_addr()))?;
//! socket.send(Message::text("hello"))?;
//! assert_eq!(socket.recv()?, Message::text("hello"));
//! socket.close(1000, "done")?;
//! # server.stop();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod codec;
mod config;
pub(crate) mod deflate;
pub mod frame;
pub(crate) mod handshake;
mod room;
mod socket;

use std::fmt;

use bytes::Bytes;

pub use self::client::{connect, Connector};
pub use self::codec::{Decoder, Encoder, Limits, ProtocolError, Role};
pub use self::config::{Config, OriginCheck, OriginFn};
pub use self::handshake::{accept_key, is_upgrade_request, upgrade};
pub use self::room::{MemberId, Room};
pub use self::socket::{Receiver, Sender, WebSocket};

/// A WebSocket message: what [`WebSocket::recv`] returns and
/// [`WebSocket::send`] takes.
#[derive(Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message (always valid UTF-8).
    Text(String),
    /// A binary message.
    Binary(Bytes),
    /// A ping (at most 125 bytes). Received pings are answered with a pong
    /// before `recv` returns them.
    Ping(Bytes),
    /// A pong (at most 125 bytes).
    Pong(Bytes),
    /// The close handshake: the peer's close frame, with its code and
    /// reason if it gave one. After `recv` returns it, the connection is
    /// closed (the close was answered) and `recv` fails with
    /// [`ErrorKind::Closed`](crate::ErrorKind::Closed).
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    pub fn text(s: impl Into<String>) -> Message {
        Message::Text(s.into())
    }

    /// A binary message.
    pub fn binary(b: impl Into<Bytes>) -> Message {
        Message::Binary(b.into())
    }

    /// The text of a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The payload: text as bytes, binary, ping or pong data, or a close
    /// frame's reason.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(t) => t.as_bytes(),
            Message::Binary(b) | Message::Ping(b) | Message::Pong(b) => b,
            Message::Close(Some(f)) => f.reason.as_bytes(),
            Message::Close(None) => &[],
        }
    }

    /// Whether this is a text or binary message (not a control frame).
    pub fn is_data(&self) -> bool {
        matches!(self, Message::Text(_) | Message::Binary(_))
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Long payloads are summarised: a 16 MiB message in a test failure
        // is no help.
        fn short(b: &[u8]) -> String {
            if b.len() <= 64 {
                format!("{:?}", String::from_utf8_lossy(b))
            } else {
                format!("<{} bytes>", b.len())
            }
        }
        match self {
            Message::Text(t) => write!(f, "Text({})", short(t.as_bytes())),
            Message::Binary(b) => write!(f, "Binary({})", short(b)),
            Message::Ping(b) => write!(f, "Ping({})", short(b)),
            Message::Pong(b) => write!(f, "Pong({})", short(b)),
            Message::Close(c) => write!(f, "Close({c:?})"),
        }
    }
}

impl From<String> for Message {
    fn from(s: String) -> Message {
        Message::Text(s)
    }
}

impl From<&str> for Message {
    fn from(s: &str) -> Message {
        Message::Text(s.to_owned())
    }
}

impl From<Vec<u8>> for Message {
    fn from(b: Vec<u8>) -> Message {
        Message::Binary(b.into())
    }
}

impl From<Bytes> for Message {
    fn from(b: Bytes) -> Message {
        Message::Binary(b)
    }
}

/// The payload of a close frame: a status code and a reason.
///
/// The constants name the codes of RFC 6455 §7.4.1; applications may use
/// 4000–4999 for their own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CloseFrame {
    /// The status code (see [`frame::is_valid_close_code`] for which may be
    /// sent).
    pub code: u16,
    /// Why, for people (UTF-8, at most 123 bytes on the wire).
    pub reason: String,
}

impl CloseFrame {
    /// 1000: the purpose of the connection is fulfilled.
    pub const NORMAL: u16 = 1000;
    /// 1001: the endpoint is going away (a server shutting down, a page
    /// left).
    pub const GOING_AWAY: u16 = 1001;
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// 1003: a kind of data the endpoint cannot take (binary to a text-only
    /// endpoint).
    pub const UNSUPPORTED: u16 = 1003;
    /// 1005: reported locally when a close frame had no code; never sent.
    pub const NO_STATUS: u16 = 1005;
    /// 1006: reported locally when the connection ended without a close
    /// frame; never sent.
    pub const ABNORMAL: u16 = 1006;
    /// 1007: data inconsistent with the message type (text that is not
    /// UTF-8).
    pub const INVALID_DATA: u16 = 1007;
    /// 1008: a message that violates the endpoint's policy.
    pub const POLICY: u16 = 1008;
    /// 1009: a message too big to process.
    pub const TOO_BIG: u16 = 1009;
    /// 1010: the client needed an extension the server did not agree to.
    pub const EXTENSION: u16 = 1010;
    /// 1011: the server hit an unexpected condition.
    pub const INTERNAL: u16 = 1011;

    /// A close frame with `code` and `reason`.
    pub fn new(code: u16, reason: impl Into<String>) -> CloseFrame {
        CloseFrame {
            code,
            reason: reason.into(),
        }
    }
}
