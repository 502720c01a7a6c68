//! `TcpListener` and `TcpStream`.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::{self as stdnet, Shutdown, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, Type};

use super::{close_socket, each_addr, into_blocking_fd, is_in_progress, source_of, View};
use crate::io::{Direction, Source};
use crate::sys;

/// A TCP socket server, listening for connections; green `std::net::TcpListener`.
///
/// [`accept`](Self::accept) parks the calling green thread until a client
/// connects. [`close`](Self::close) wakes a green thread parked in `accept`
/// with an error.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use thicket_green::net::{TcpListener, TcpStream};
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let addr = listener.local_addr()?;
/// let client = thicket_green::spawn(move || TcpStream::connect(addr)?.write_all(b"hi"));
/// let (mut conn, peer) = listener.accept()?;
/// assert!(peer.ip().is_loopback());
/// let mut got = String::new();
/// conn.read_to_string(&mut got)?;
/// assert_eq!(got, "hi");
/// client.join().unwrap()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpListener {
    src: Source,
}

impl TcpListener {
    /// Binds to `addr` like `std::net::TcpListener::bind` (with
    /// `SO_REUSEADDR`, as std sets it); each resolved address is tried in
    /// turn. See [`listen`](super::listen) for a deeper backlog.
    ///
    /// # Errors
    ///
    /// The resolution failed, or binding every address failed (the last
    /// error).
    pub fn bind<A>(addr: A) -> io::Result<TcpListener>
    where
        A: ToSocketAddrs + Send + 'static,
    {
        each_addr(addr, |a| {
            stdnet::TcpListener::bind(a).and_then(TcpListener::from_std)
        })
    }

    pub(super) fn bind_with<A>(addr: A, backlog: i32, reuse_port: bool) -> io::Result<TcpListener>
    where
        A: ToSocketAddrs + Send + 'static,
    {
        each_addr(addr, |a| {
            let sock = Socket::new(
                Domain::for_address(a),
                Type::STREAM.nonblocking(),
                Some(Protocol::TCP),
            )?;
            sock.set_reuse_address(true)?;
            if reuse_port {
                sock.set_reuse_port(true)?;
            }
            sock.bind(&a.into())?;
            sock.listen(backlog)?;
            Ok(TcpListener {
                src: Source::from_nonblocking(OwnedFd::from(sock)),
            })
        })
    }

    fn from_std(l: stdnet::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            src: Source::new(OwnedFd::from(l))?,
        })
    }

    fn std(&self) -> View<'_, stdnet::TcpListener> {
        View::of(&self.src)
    }

    /// Accepts a connection, parking until one arrives.
    ///
    /// # Errors
    ///
    /// The `accept4(2)` error (`EMFILE` when out of descriptors, ...);
    /// `NotConnected` once [`close`](Self::close)d; `TimedOut` at the read
    /// timeout or an enclosing deadline; `ResourceBusy` if another green
    /// thread is already accepting on this listener.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let fd = self.src.owned_fd().as_fd();
        let (fd, addr) = self
            .src
            .do_io(Direction::Read, "TcpListener::accept", || sys::accept4(fd))?;
        let addr = addr.as_socket().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, "accept: not an IP peer address")
        })?;
        Ok((
            TcpStream {
                // accept4 made it non-blocking.
                src: Source::from_nonblocking(fd),
            },
            addr,
        ))
    }

    /// An endless iterator of accepted connections, as std's.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address this listener is bound to.
    ///
    /// # Errors
    ///
    /// The `getsockname(2)` error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.std().local_addr()
    }

    /// Sets `IP_TTL`.
    ///
    /// # Errors
    ///
    /// The `setsockopt(2)` error.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.std().set_ttl(ttl)
    }

    /// `IP_TTL`.
    ///
    /// # Errors
    ///
    /// The `getsockopt(2)` error.
    pub fn ttl(&self) -> io::Result<u32> {
        self.std().ttl()
    }

    /// Takes the pending `SO_ERROR`.
    ///
    /// # Errors
    ///
    /// The `getsockopt(2)` error.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.std().take_error()
    }

    /// Limits how long each [`accept`](Self::accept) may wait (`None`: no
    /// limit). Not in std's listener; it mirrors the streams'.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero duration.
    pub fn set_accept_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.src.set_timeout(Direction::Read, t)
    }

    /// The accept timeout.
    pub fn accept_timeout(&self) -> Option<Duration> {
        self.src.timeout(Direction::Read)
    }

    /// A second listener on the same socket (`dup(2)`).
    ///
    /// # Errors
    ///
    /// The `fcntl(F_DUPFD_CLOEXEC)` error.
    pub fn try_clone(&self) -> io::Result<TcpListener> {
        TcpListener::from_std(self.std().try_clone()?)
    }

    /// Stops listening: wakes a green thread parked in
    /// [`accept`](Self::accept) (and fails later calls) with
    /// `NotConnected`. The descriptor is closed when the listener is
    /// dropped. Callable from any thread.
    pub fn close(&self) {
        close_socket(&self.src);
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.src.is_closed()
    }

    /// The std listener, in blocking mode.
    pub fn into_std(self) -> stdnet::TcpListener {
        stdnet::TcpListener::from(into_blocking_fd(self.src))
    }
}

impl From<stdnet::TcpListener> for TcpListener {
    /// Takes a std listener, making it non-blocking.
    ///
    /// # Panics
    ///
    /// If `fcntl(2)` fails on the descriptor.
    fn from(l: stdnet::TcpListener) -> TcpListener {
        TcpListener {
            src: source_of(OwnedFd::from(l)),
        }
    }
}

/// The iterator of [`TcpListener::incoming`]; never returns `None`.
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Iterator for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn next(&mut self) -> Option<io::Result<TcpStream>> {
        Some(self.listener.accept().map(|(s, _)| s))
    }
}

/// A TCP connection; green `std::net::TcpStream`.
///
/// `Read` and `Write` are implemented for `&TcpStream` as well, so a reader
/// and a writer green thread can share one stream (in an `Arc`); a second
/// concurrent reader (or writer) gets a `ResourceBusy` error.
///
/// # Examples
///
/// A reader and a writer on one stream:
///
/// ```
/// use std::io::{Read, Write};
/// use std::sync::Arc;
/// use thicket_green::net::{TcpListener, TcpStream};
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let client = Arc::new(TcpStream::connect(listener.local_addr()?)?);
/// let (mut server, _) = listener.accept()?;
/// let echo = thicket_green::spawn(move || std::io::copy(&mut server.try_clone()?, &mut server));
/// let c = client.clone();
/// let writer = thicket_green::spawn(move || -> std::io::Result<()> {
///     (&*c).write_all(b"ping")?;
///     c.shutdown(std::net::Shutdown::Write)
/// });
/// let mut got = Vec::new();
/// (&*client).read_to_end(&mut got)?;
/// assert_eq!(got, b"ping");
/// writer.join().unwrap()?;
/// assert_eq!(echo.join().unwrap()?, 4);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpStream {
    pub(super) src: Source,
}

impl TcpStream {
    /// Connects to `addr`, trying each resolved address in turn, parking
    /// while the handshake is under way. Host names are resolved off the
    /// hub, so only the calling green thread waits for DNS.
    ///
    /// # Errors
    ///
    /// The resolution failed, or connecting to every address failed (the
    /// last error: `ConnectionRefused`, ...); `TimedOut` at an enclosing
    /// deadline.
    pub fn connect<A>(addr: A) -> io::Result<TcpStream>
    where
        A: ToSocketAddrs + Send + 'static,
    {
        each_addr(addr, |a| connect_addr(a, None))
    }

    /// Connects to `addr`, giving up after `timeout`.
    ///
    /// # Errors
    ///
    /// `TimedOut` when `timeout` passes; `InvalidInput` for a zero
    /// timeout; otherwise as for [`connect`](Self::connect).
    pub fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        if timeout.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot set a 0 duration timeout",
            ));
        }
        connect_addr(*addr, Some(crate::timeout::deadline_after(timeout)))
    }

    fn std(&self) -> View<'_, stdnet::TcpStream> {
        View::of(&self.src)
    }

    /// The remote address.
    ///
    /// # Errors
    ///
    /// `NotConnected` if not connected.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.std().peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The `getsockname(2)` error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.std().local_addr()
    }

    /// Shuts down the reading side, the writing side (the peer reads end of
    /// file), or both.
    ///
    /// # Errors
    ///
    /// The `shutdown(2)` error (`NotConnected`, ...).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.std().shutdown(how)
    }

    /// Shuts the connection down and wakes the green threads parked on it
    /// (and fails later calls) with `NotConnected`. The descriptor is
    /// closed when the stream is dropped. Callable from any thread.
    pub fn close(&self) {
        close_socket(&self.src);
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.src.is_closed()
    }

    /// Reads without removing the data from the queue, parking until some
    /// arrives.
    ///
    /// # Errors
    ///
    /// As for [`read`](Read::read).
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.src
            .do_io(Direction::Read, "TcpStream::peek", || self.std().peek(buf))
    }

    /// Reads what has arrived without waiting: `WouldBlock` when nothing
    /// has (like tokio's `try_read`). Pair it with
    /// [`readable`](Self::readable) to wait without holding a buffer.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when no data is ready; as for [`read`](Read::read)
    /// otherwise.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        if self.src.is_closed() {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "TcpStream::try_read: the socket was closed",
            ));
        }
        loop {
            match (&*self.std()).read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => return r,
            }
        }
    }

    /// Parks until data (or end of file, or an error) may be ready to
    /// read, within the read timeout, without reading and without a system
    /// call: readiness seen since the socket was last drained (by a read
    /// that returned less than asked, or a `WouldBlock`) ends the wait at
    /// once. A wake-up may be spurious; the next read tells. With it a
    /// server waits for a keep-alive connection's next request holding no
    /// buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{ErrorKind, Write};
    /// use thicket_green::net::{TcpListener, TcpStream};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0")?;
    /// let mut client = TcpStream::connect(listener.local_addr()?)?;
    /// let (server, _) = listener.accept()?;
    /// let mut buf = [0u8; 16];
    /// assert_eq!(server.try_read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
    /// client.write_all(b"hi")?;
    /// server.readable()?;
    /// assert_eq!(server.try_read(&mut buf)?, 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `TimedOut` after the read timeout; `NotConnected` once closed;
    /// `Other` if the green thread is killed.
    pub fn readable(&self) -> io::Result<()> {
        let deadline = self
            .src
            .timeout(Direction::Read)
            .map(crate::timeout::deadline_after);
        self.src
            .wait(Direction::Read, "TcpStream::readable", deadline, false)
    }

    /// Sets `TCP_NODELAY` (no Nagle delay for small writes).
    ///
    /// # Errors
    ///
    /// The `setsockopt(2)` error.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.std().set_nodelay(nodelay)
    }

    /// `TCP_NODELAY`.
    ///
    /// # Errors
    ///
    /// The `getsockopt(2)` error.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.std().nodelay()
    }

    /// Sets `IP_TTL`.
    ///
    /// # Errors
    ///
    /// The `setsockopt(2)` error.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.std().set_ttl(ttl)
    }

    /// `IP_TTL`.
    ///
    /// # Errors
    ///
    /// The `getsockopt(2)` error.
    pub fn ttl(&self) -> io::Result<u32> {
        self.std().ttl()
    }

    /// Limits how long each read may wait (`None`: no limit); a read that
    /// waits longer fails with `TimedOut` (std returns `WouldBlock` on some
    /// platforms; here it is always `TimedOut`).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero duration, as std.
    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.src.set_timeout(Direction::Read, t)
    }

    /// Limits how long each write may wait (`None`: no limit).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero duration, as std.
    pub fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.src.set_timeout(Direction::Write, t)
    }

    /// The read timeout.
    ///
    /// # Errors
    ///
    /// Never; the `Result` mirrors std.
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.src.timeout(Direction::Read))
    }

    /// The write timeout.
    ///
    /// # Errors
    ///
    /// Never; the `Result` mirrors std.
    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.src.timeout(Direction::Write))
    }

    /// Takes the pending `SO_ERROR`.
    ///
    /// # Errors
    ///
    /// The `getsockopt(2)` error.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.std().take_error()
    }

    /// A second handle to the same connection (`dup(2)`), e.g. to read in
    /// one green thread and write in another. Timeouts are per handle and
    /// start unset; [`close`](Self::close) on either shuts the connection
    /// down, so the other's calls end (with end of file or an error).
    ///
    /// # Errors
    ///
    /// The `fcntl(F_DUPFD_CLOEXEC)` error.
    pub fn try_clone(&self) -> io::Result<TcpStream> {
        Ok(TcpStream {
            src: Source::new(OwnedFd::from(self.std().try_clone()?))?,
        })
    }

    /// The std stream, in blocking mode.
    pub fn into_std(self) -> stdnet::TcpStream {
        stdnet::TcpStream::from(into_blocking_fd(self.src))
    }
}

/// Connects one address: a non-blocking `connect`, a wait for the socket
/// to become writable, then `SO_ERROR` says how it went.
fn connect_addr(addr: SocketAddr, deadline: Option<u64>) -> io::Result<TcpStream> {
    const WHAT: &str = "TcpStream::connect";
    let sock = Socket::new(
        Domain::for_address(addr),
        Type::STREAM.nonblocking(),
        Some(Protocol::TCP),
    )?;
    let stream = TcpStream {
        src: Source::from_nonblocking(OwnedFd::from(sock)),
    };
    match SockRef::from(&stream).connect(&addr.into()) {
        Ok(()) => return Ok(stream),
        Err(e) if is_in_progress(&e) => {}
        Err(e) => return Err(e),
    }
    loop {
        stream.src.wait(Direction::Write, WHAT, deadline, true)?;
        if let Some(e) = stream.take_error()? {
            return Err(e);
        }
        match stream.peer_addr() {
            Ok(_) => return Ok(stream),
            // Woken before the handshake finished: wait again.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => {}
            Err(e) => return Err(e),
        }
    }
}

impl Read for &TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let len = buf.len();
        let n = self.src.do_io(Direction::Read, "TcpStream::read", || {
            (&*self.std()).read(buf)
        })?;
        if n > 0 && n < len {
            // The socket is empty now; its next data is a new edge.
            self.src.drained(Direction::Read);
        }
        Ok(n)
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.src.do_io(Direction::Read, "TcpStream::read", || {
            (&*self.std()).read_vectored(bufs)
        })
    }
}

impl Write for &TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.src.do_io(Direction::Write, "TcpStream::write", || {
            (&*self.std()).write(buf)
        })
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.src.do_io(Direction::Write, "TcpStream::write", || {
            (&*self.std()).write_vectored(bufs)
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        (&*self).read_vectored(bufs)
    }
}

impl Write for TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        (&*self).write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl From<stdnet::TcpStream> for TcpStream {
    /// Takes a std stream, making it non-blocking.
    ///
    /// # Panics
    ///
    /// If `fcntl(2)` fails on the descriptor.
    fn from(s: stdnet::TcpStream) -> TcpStream {
        TcpStream {
            src: source_of(OwnedFd::from(s)),
        }
    }
}

macro_rules! fd_traits {
    ($ty:ident, $std:ty) => {
        impl AsRawFd for $ty {
            fn as_raw_fd(&self) -> RawFd {
                self.src.fd()
            }
        }

        impl AsFd for $ty {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.src.owned_fd().as_fd()
            }
        }

        impl IntoRawFd for $ty {
            /// The descriptor, still non-blocking.
            fn into_raw_fd(self) -> RawFd {
                self.src.into_owned_fd().into_raw_fd()
            }
        }

        impl FromRawFd for $ty {
            /// Takes ownership of `fd` and makes it non-blocking.
            ///
            /// # Panics
            ///
            /// If `fcntl(2)` fails on the descriptor.
            unsafe fn from_raw_fd(fd: RawFd) -> $ty {
                // SAFETY: the caller passes an open socket of this kind that
                // nothing else owns, as `FromRawFd` requires.
                let fd = unsafe { OwnedFd::from_raw_fd(fd) };
                $ty {
                    src: super::source_of(fd),
                }
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "thicket::")?;
                fmt::Debug::fmt(&*super::View::<$std>::of(&self.src), f)
            }
        }
    };
}
pub(super) use fd_traits;

fd_traits!(TcpListener, stdnet::TcpListener);
fd_traits!(TcpStream, stdnet::TcpStream);
