//! `TlsStream`: the rustls connection state machine driven over a blocking-style stream.

use std::fmt;
use std::io::{self, Read, Write};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, Connection, ServerConfig, ServerConnection};

use super::HandshakeError;

/// A TLS session over a stream `S`: the client or the server side.
///
/// `TlsStream` drives a rustls [`Connection`] with `read_tls` / `write_tls` over any
/// blocking-style `S: Read + Write`: a green socket (where blocking parks only the calling
/// green thread) or a plain `std::net::TcpStream`. It implements [`Read`] and [`Write`], so
/// code written for a plain stream works unchanged over TLS.
///
/// Build one with [`wrap_client`](super::wrap_client) or [`wrap_server`](super::wrap_server),
/// which complete the handshake before returning, or with [`TlsStream::client`] /
/// [`TlsStream::server`], which handshake on first use (or on [`TlsStream::handshake`]).
///
/// # Semantics
///
/// - `read` returns decrypted application data. It returns `Ok(0)` only once the peer has
///   sent `close_notify` (a clean end of stream). If the transport reaches end of file
///   without one, `read` fails with [`io::ErrorKind::UnexpectedEof`] ("peer closed connection
///   without sending TLS close_notify"), since the data may have been truncated by an
///   attacker; a protocol that frames its own messages (an HTTP body with a length, say) may
///   choose to treat that error as the end.
/// - `write` encrypts and sends at once, like a socket `write`: the bytes it reports as
///   written were accepted by the TLS session. If sending them fails, the error is reported
///   by the next `write`, [`flush`](Write::flush) or [`close`](TlsStream::close), which
///   retry; call `flush` before dropping the stream when that matters.
/// - [`close`](TlsStream::close) sends `close_notify`. Dropping a `TlsStream` does no I/O:
///   it closes the transport (by dropping `S`) without `close_notify`, which the peer may
///   report as a truncation.
/// - Errors of the transport (a timeout from `with_timeout`, a cancellation, a reset) are
///   returned with their kind unchanged. Errors of the TLS protocol are
///   [`io::ErrorKind::InvalidData`] with the [`rustls::Error`] inside.
pub struct TlsStream<S> {
    conn: Connection,
    sock: S,
    /// Whom the handshake is with, for error messages: the server name or "client".
    peer: String,
    /// `close_notify` was queued: no more application data may be written.
    closed: bool,
}

impl<S> TlsStream<S> {
    /// Starts the client side of a TLS session over `stream`, without doing any I/O: the
    /// handshake runs on the first read or write, or on [`handshake`](Self::handshake).
    ///
    /// `server_name` is the DNS name (or IP address) the server's certificate must be
    /// valid for; it is also sent as SNI. `config` is a [`ClientConfig`] or an
    /// `Arc<ClientConfig>` (share one `Arc` between connections).
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] if `server_name` is neither a DNS name nor an IP
    /// address; [`io::ErrorKind::InvalidData`] if rustls refuses the configuration.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use thicket_green::net::TcpStream;
    /// use thicket_green::tls::{self, TlsStream};
    ///
    /// let config = tls::client_config_with_ca("ca.pem", &[])?;
    /// let tcp = TcpStream::connect("127.0.0.1:8443")?;
    /// let mut stream = TlsStream::client(tcp, "localhost", config)?;
    /// stream.handshake()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn client(
        stream: S,
        server_name: &str,
        config: impl Into<Arc<ClientConfig>>,
    ) -> io::Result<Self> {
        let name = ServerName::try_from(server_name.to_owned()).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid TLS server name {server_name:?}: {e}"),
            )
        })?;
        let conn = ClientConnection::new(config.into(), name).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("cannot start a TLS client session with {server_name}: {e}"),
            )
        })?;
        Ok(Self::new(conn.into(), stream, server_name.to_owned()))
    }

    /// Starts the server side of a TLS session over `stream`, without doing any I/O: the
    /// handshake runs on the first read or write, or on [`handshake`](Self::handshake).
    ///
    /// `config` is a [`ServerConfig`] or an `Arc<ServerConfig>` (share one `Arc` between
    /// connections).
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidData`] if rustls refuses the configuration.
    pub fn server(stream: S, config: impl Into<Arc<ServerConfig>>) -> io::Result<Self> {
        let conn = ServerConnection::new(config.into()).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("cannot start a TLS server session: {e}"),
            )
        })?;
        Ok(Self::new(conn.into(), stream, "client".to_owned()))
    }

    fn new(conn: Connection, sock: S, peer: String) -> Self {
        Self {
            conn,
            sock,
            peer,
            closed: false,
        }
    }

    /// Whether the handshake is still to be completed.
    pub fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// The application protocol agreed by ALPN, once the handshake is done: `None` if
    /// either side offered none or the handshake has not completed.
    ///
    /// The protocols offered are the `alpn` argument of the config builders of this module
    /// (or the `alpn_protocols` field of a rustls config).
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.conn.alpn_protocol()
    }

    /// The peer's certificate chain, leaf first, once the handshake is done. A client
    /// always gets the server's; a server gets the client's only if it asked for one.
    pub fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.conn.peer_certificates()
    }

    /// The server name the client sent (SNI), on the server side; `None` on the client side
    /// or if the client sent none.
    pub fn sni_hostname(&self) -> Option<&str> {
        match &self.conn {
            Connection::Server(conn) => conn.server_name(),
            Connection::Client(_) => None,
        }
    }

    /// The rustls session, for what this type does not wrap (protocol version, cipher
    /// suite, keying material).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The rustls session, mutably.
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.sock
    }

    /// The transport, mutably. Reading or writing it directly corrupts the TLS session;
    /// this is for options such as timeouts.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.sock
    }

    /// Gives the transport back. Encrypted data not yet sent (see [`flush`](Write::flush))
    /// or received but not yet read is dropped; call [`close`](Self::close) first for a
    /// clean end of the session.
    pub fn into_inner(self) -> S {
        self.sock
    }
}

impl<S: Read + Write> TlsStream<S> {
    /// Completes the handshake, if it is not done yet. Reads and writes call it first, so
    /// calling it is needed only to learn of a failure early or to look at the negotiated
    /// parameters before any data is exchanged.
    ///
    /// # Errors
    ///
    /// An [`io::Error`] whose message says with whom and why, for example "TLS handshake
    /// with localhost failed: invalid peer certificate: UnknownIssuer". Its inner error is a
    /// [`HandshakeError`]. Transport errors keep their kind; a peer that closes the
    /// connection during the handshake gives [`io::ErrorKind::UnexpectedEof`]; TLS errors
    /// are [`io::ErrorKind::InvalidData`].
    pub fn handshake(&mut self) -> io::Result<()> {
        if !self.conn.is_handshaking() {
            return Ok(());
        }
        self.drive_handshake()
            .map_err(|e| HandshakeError::new(self.peer.clone(), e).into_io())
    }

    fn drive_handshake(&mut self) -> io::Result<()> {
        while self.conn.is_handshaking() {
            self.send_tls()?;
            if !self.conn.is_handshaking() {
                break;
            }
            if self.receive_tls()? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "peer closed the connection during the handshake",
                ));
            }
        }
        // The last flight (a client's Finished, a server's session tickets) may still be
        // queued once the handshake counts as done.
        self.send_tls()
    }

    /// Sends `close_notify`, telling the peer that no more data will come, and flushes it.
    /// Reading stays possible until the peer closes its side; further writes fail with
    /// [`io::ErrorKind::BrokenPipe`]. The transport is not closed: drop the `TlsStream` (or
    /// the stream from [`into_inner`](Self::into_inner)) for that. Calling `close` again only
    /// retries sending what is still queued.
    ///
    /// # Errors
    ///
    /// Errors of the transport while sending, including data queued by earlier writes.
    pub fn close(&mut self) -> io::Result<()> {
        if !self.closed {
            self.closed = true;
            self.conn.send_close_notify();
        }
        self.send_tls()?;
        self.sock.flush()
    }

    /// Writes everything rustls has queued to the transport, then flushes the transport if
    /// anything was written (so a buffered transport cannot stall a handshake).
    fn send_tls(&mut self) -> io::Result<()> {
        let mut wrote = false;
        while self.conn.wants_write() {
            if self.conn.write_tls(&mut self.sock)? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "the transport accepted no bytes of a TLS record",
                ));
            }
            wrote = true;
        }
        if wrote {
            self.sock.flush()?;
        }
        Ok(())
    }

    /// Reads once from the transport and processes the records received. Returns how many
    /// bytes were read: 0 means end of file, which rustls remembers (its reader then reports
    /// a clean or unclean close).
    fn receive_tls(&mut self) -> io::Result<usize> {
        let n = self.conn.read_tls(&mut self.sock)?;
        if let Err(e) = self.conn.process_new_packets() {
            // rustls queued an alert telling the peer why; sending it is best effort, the
            // error that matters is the one we return.
            let _ = self.send_tls();
            return Err(io::Error::new(io::ErrorKind::InvalidData, e));
        }
        Ok(n)
    }
}

impl<S: Read + Write> Read for TlsStream<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.handshake()?;
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                // No plaintext buffered and the session is still open: read more records.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            // Answer what the peer asked for (a key update) before waiting on it.
            self.send_tls()?;
            self.receive_tls()?;
        }
    }
}

impl<S: Read + Write> Write for TlsStream<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write on a TLS stream after close: close_notify was already sent",
            ));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        self.handshake()?;
        // Send what earlier writes left queued first: an error here accepted nothing.
        self.send_tls()?;
        let n = self.conn.writer().write(buf)?;
        // These bytes are accepted whatever happens now: a failure to send them is reported
        // by the next write, flush or close, which retry.
        let _ = self.send_tls();
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.conn.writer().flush()?;
        self.send_tls()?;
        self.sock.flush()
    }
}

impl<S: fmt::Debug> fmt::Debug for TlsStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = match self.conn {
            Connection::Client(_) => "client",
            Connection::Server(_) => "server",
        };
        f.debug_struct("TlsStream")
            .field("side", &side)
            .field("peer", &self.peer)
            .field("handshaking", &self.conn.is_handshaking())
            .field("closed", &self.closed)
            .field("stream", &self.sock)
            .finish()
    }
}
