//! The crate's one error type.

use std::error::Error as StdError;
use std::fmt;
use std::io;

/// What went wrong, broadly; [`Error::kind`] returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The peer sent something that is not valid HTTP/1.1 (or that this
    /// implementation refuses, such as ambiguous framing).
    Parse,
    /// A configured limit was exceeded (head size, header count, body size,
    /// redirects).
    TooLarge,
    /// A deadline passed (connect, read, write, or a whole request).
    TimedOut,
    /// Connecting failed (refused, unreachable, name resolution).
    Connect,
    /// TLS failed (handshake, certificate, protocol).
    Tls,
    /// The connection closed before the message was complete.
    Closed,
    /// The URL or request could not be used (no host, unsupported scheme).
    InvalidRequest,
    /// A body could not be decoded (JSON, UTF-8).
    Decode,
    /// The server answered with an error status (4xx or 5xx); the client's
    /// `error_for_status` returns it.
    Status,
    /// Any other I/O error.
    Io,
}

/// An error from the HTTP server or client: a [`kind`](Error::kind), a
/// message naming what was wrong, and the underlying error as
/// [`source`](StdError::source) where there is one.
///
/// # Examples
///
/// ```
/// use thicket_http::{Error, ErrorKind};
///
/// let e = Error::new(ErrorKind::TooLarge, "response head is longer than 65536 bytes");
/// assert_eq!(e.kind(), ErrorKind::TooLarge);
/// assert!(e.to_string().contains("65536"));
/// ```
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl Error {
    /// An error of `kind` with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// An error of `kind` with a message and the error that caused it.
    pub fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Error {
        Error {
            kind,
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether a deadline passed.
    pub fn is_timeout(&self) -> bool {
        self.kind == ErrorKind::TimedOut
    }

    /// Classifies an I/O error from a connection; `context` says what was
    /// being done ("reading the response head").
    #[allow(dead_code)] // used by the client
    pub(crate) fn from_io(context: &str, e: io::Error) -> Error {
        let kind = match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ErrorKind::TimedOut,
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::NotConnected => ErrorKind::Closed,
            io::ErrorKind::InvalidData
                if e.get_ref()
                    .is_some_and(|i| i.is::<thicket_green::tls::rustls::Error>()) =>
            {
                ErrorKind::Tls
            }
            _ => ErrorKind::Io,
        };
        Error::with_source(kind, format!("{context}: {e}"), e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(s) = &self.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind = match e.kind {
            ErrorKind::TimedOut => io::ErrorKind::TimedOut,
            ErrorKind::Closed => io::ErrorKind::UnexpectedEof,
            ErrorKind::InvalidRequest => io::ErrorKind::InvalidInput,
            ErrorKind::Connect => io::ErrorKind::ConnectionRefused,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, e)
    }
}
