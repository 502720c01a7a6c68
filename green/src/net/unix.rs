//! `UnixListener`, `UnixStream` and `UnixDatagram`.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::os::unix::net::{self as stdunix, SocketAddr};
use std::path::Path;
use std::time::Duration;

use socket2::{Domain, SockAddr, Socket, Type};

use super::tcp::fd_traits;
use super::{close_socket, into_blocking_fd, source_of, View};
use crate::io::{Direction, Source};

/// A Unix-domain stream socket server; green
/// `std::os::unix::net::UnixListener`.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use thicket_green::net::{UnixListener, UnixStream};
///
/// let dir = std::env::temp_dir().join(format!("thicket-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("sock");
/// # let _ = std::fs::remove_file(&path);
/// let listener = UnixListener::bind(&path)?;
/// let p = path.clone();
/// let client = thicket_green::spawn(move || UnixStream::connect(&p)?.write_all(b"hi"));
/// let (mut conn, _) = listener.accept()?;
/// let mut got = String::new();
/// conn.read_to_string(&mut got)?;
/// assert_eq!(got, "hi");
/// client.join().unwrap()?;
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixListener {
    src: Source,
}

impl UnixListener {
    /// Binds to the socket file `path` (which must not exist).
    ///
    /// # Errors
    ///
    /// The `bind(2)` or `listen(2)` error (`AddrInUse` if `path` exists).
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        Ok(UnixListener {
            src: Source::new(OwnedFd::from(stdunix::UnixListener::bind(path)?))?,
        })
    }

    fn std(&self) -> View<'_, stdunix::UnixListener> {
        View::of(&self.src)
    }

    /// Accepts a connection, parking until one arrives.
    ///
    /// # Errors
    ///
    /// As for [`TcpListener::accept`](super::TcpListener::accept).
    pub fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (s, addr) = self
            .src
            .do_io(Direction::Read, "UnixListener::accept", || {
                self.std().accept()
            })?;
        Ok((
            UnixStream {
                src: Source::new(OwnedFd::from(s))?,
            },
            addr,
        ))
    }

    /// An endless iterator of accepted connections.
    pub fn incoming(&self) -> UnixIncoming<'_> {
        UnixIncoming { listener: self }
    }

    /// The address this listener is bound to.
    ///
    /// # Errors
    ///
    /// The `getsockname(2)` error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.std().local_addr()
    }

    /// Takes the pending `SO_ERROR`.
    ///
    /// # Errors
    ///
    /// The `getsockopt(2)` error.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.std().take_error()
    }

    /// A second listener on the same socket (`dup(2)`).
    ///
    /// # Errors
    ///
    /// The `fcntl(F_DUPFD_CLOEXEC)` error.
    pub fn try_clone(&self) -> io::Result<UnixListener> {
        Ok(UnixListener {
            src: Source::new(OwnedFd::from(self.std().try_clone()?))?,
        })
    }

    /// Wakes a green thread parked in [`accept`](Self::accept) (and fails
    /// later calls) with `NotConnected`. Callable from any thread.
    pub fn close(&self) {
        close_socket(&self.src);
    }

    /// The std listener, in blocking mode.
    pub fn into_std(self) -> stdunix::UnixListener {
        stdunix::UnixListener::from(into_blocking_fd(self.src))
    }
}

/// The iterator of [`UnixListener::incoming`]; never returns `None`.
#[derive(Debug)]
pub struct UnixIncoming<'a> {
    listener: &'a UnixListener,
}

impl Iterator for UnixIncoming<'_> {
    type Item = io::Result<UnixStream>;

    fn next(&mut self) -> Option<io::Result<UnixStream>> {
        Some(self.listener.accept().map(|(s, _)| s))
    }
}

/// A Unix-domain stream connection; green `std::os::unix::net::UnixStream`.
///
/// Like [`TcpStream`](super::TcpStream), `Read` and `Write` are implemented
/// on `&UnixStream` too.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use thicket_green::net::UnixStream;
///
/// let (mut a, mut b) = UnixStream::pair()?;
/// let writer = thicket_green::spawn(move || a.write_all(b"over the pair"));
/// let mut got = String::new();
/// b.read_to_string(&mut got)?;
/// assert_eq!(got, "over the pair");
/// writer.join().unwrap()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixStream {
    pub(super) src: Source,
}

impl UnixStream {
    /// Connects to the socket at `path`. When the listener's backlog is
    /// full, retries with a growing pause (the kernel gives no readiness
    /// for that case).
    ///
    /// # Errors
    ///
    /// The `connect(2)` error (`NotFound`, `ConnectionRefused`, ...);
    /// `TimedOut` at an enclosing deadline.
    pub fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let addr = SockAddr::unix(path)?;
        let sock = Socket::new(Domain::UNIX, Type::STREAM.nonblocking(), None)?;
        let mut pause = Duration::from_micros(100);
        loop {
            match sock.connect(&addr) {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    crate::sleep(pause).map_err(io::Error::from)?;
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(UnixStream {
            src: Source::new(OwnedFd::from(sock))?,
        })
    }

    /// A connected pair of sockets.
    ///
    /// # Errors
    ///
    /// The `socketpair(2)` error.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = stdunix::UnixStream::pair()?;
        Ok((
            UnixStream {
                src: Source::new(OwnedFd::from(a))?,
            },
            UnixStream {
                src: Source::new(OwnedFd::from(b))?,
            },
        ))
    }

    fn std(&self) -> View<'_, stdunix::UnixStream> {
        View::of(&self.src)
    }

    /// The remote address.
    ///
    /// # Errors
    ///
    /// The `getpeername(2)` error.
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

    /// Shuts down the reading side, the writing side, or both.
    ///
    /// # Errors
    ///
    /// The `shutdown(2)` error.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.std().shutdown(how)
    }

    /// Shuts the connection down and wakes the green threads parked on it
    /// (and fails later calls) with `NotConnected`. Callable from any
    /// thread.
    pub fn close(&self) {
        close_socket(&self.src);
    }

    /// Limits how long each read may wait (`None`: no limit).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero duration.
    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.src.set_timeout(Direction::Read, t)
    }

    /// Limits how long each write may wait (`None`: no limit).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero duration.
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

    /// A second handle to the same connection (`dup(2)`).
    ///
    /// # Errors
    ///
    /// The `fcntl(F_DUPFD_CLOEXEC)` error.
    pub fn try_clone(&self) -> io::Result<UnixStream> {
        Ok(UnixStream {
            src: Source::new(OwnedFd::from(self.std().try_clone()?))?,
        })
    }

    /// The std stream, in blocking mode.
    pub fn into_std(self) -> stdunix::UnixStream {
        stdunix::UnixStream::from(into_blocking_fd(self.src))
    }
}

impl Read for &UnixStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.src.do_io(Direction::Read, "UnixStream::read", || {
            (&*self.std()).read(buf)
        })
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.src.do_io(Direction::Read, "UnixStream::read", || {
            (&*self.std()).read_vectored(bufs)
        })
    }
}

impl Write for &UnixStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.src.do_io(Direction::Write, "UnixStream::write", || {
            (&*self.std()).write(buf)
        })
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.src.do_io(Direction::Write, "UnixStream::write", || {
            (&*self.std()).write_vectored(bufs)
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for UnixStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        (&*self).read_vectored(bufs)
    }
}

impl Write for UnixStream {
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

/// A Unix-domain datagram socket; green `std::os::unix::net::UnixDatagram`.
///
/// # Examples
///
/// ```
/// use thicket_green::net::UnixDatagram;
///
/// let (a, b) = UnixDatagram::pair()?;
/// let receiver = thicket_green::spawn(move || {
///     let mut buf = [0; 8];
///     b.recv(&mut buf).map(|n| buf[..n].to_vec())
/// });
/// a.send(b"one")?;
/// assert_eq!(receiver.join().unwrap()?, b"one");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixDatagram {
    src: Source,
}

impl UnixDatagram {
    fn wrap(s: stdunix::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            src: Source::new(OwnedFd::from(s))?,
        })
    }

    /// A socket bound to `path`.
    ///
    /// # Errors
    ///
    /// The `bind(2)` error.
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        UnixDatagram::wrap(stdunix::UnixDatagram::bind(path)?)
    }

    /// A socket bound to no address.
    ///
    /// # Errors
    ///
    /// The `socket(2)` error.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::wrap(stdunix::UnixDatagram::unbound()?)
    }

    /// A connected pair of sockets.
    ///
    /// # Errors
    ///
    /// The `socketpair(2)` error.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = stdunix::UnixDatagram::pair()?;
        Ok((UnixDatagram::wrap(a)?, UnixDatagram::wrap(b)?))
    }

    fn std(&self) -> View<'_, stdunix::UnixDatagram> {
        View::of(&self.src)
    }

    /// Sets the default peer to `path`.
    ///
    /// # Errors
    ///
    /// The `connect(2)` error.
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        self.std().connect(path)
    }

    /// Receives one datagram from the connected peer, parking until one
    /// arrives.
    ///
    /// # Errors
    ///
    /// The `recv(2)` error; `TimedOut`, `NotConnected` (closed) or
    /// `ResourceBusy` as for stream reads.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.src.do_io(Direction::Read, "UnixDatagram::recv", || {
            self.std().recv(buf)
        })
    }

    /// Receives one datagram and its sender's address.
    ///
    /// # Errors
    ///
    /// As for [`recv`](Self::recv).
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.src
            .do_io(Direction::Read, "UnixDatagram::recv_from", || {
                self.std().recv_from(buf)
            })
    }

    /// Sends to the connected peer, parking while the queue is full.
    ///
    /// # Errors
    ///
    /// The `send(2)` error; `TimedOut` at the write timeout.
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.src.do_io(Direction::Write, "UnixDatagram::send", || {
            self.std().send(buf)
        })
    }

    /// Sends to the socket at `path`.
    ///
    /// # Errors
    ///
    /// As for [`send`](Self::send).
    pub fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.src
            .do_io(Direction::Write, "UnixDatagram::send_to", || {
                self.std().send_to(buf, path)
            })
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The `getsockname(2)` error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.std().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// The `getpeername(2)` error.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.std().peer_addr()
    }

    /// Limits how long each receive may wait (`None`: no limit).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero duration.
    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.src.set_timeout(Direction::Read, t)
    }

    /// Limits how long each send may wait (`None`: no limit).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero duration.
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

    /// Shuts down the reading side, the writing side, or both.
    ///
    /// # Errors
    ///
    /// The `shutdown(2)` error.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.std().shutdown(how)
    }

    /// Takes the pending `SO_ERROR`.
    ///
    /// # Errors
    ///
    /// The `getsockopt(2)` error.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.std().take_error()
    }

    /// A second handle to the same socket (`dup(2)`).
    ///
    /// # Errors
    ///
    /// The `fcntl(F_DUPFD_CLOEXEC)` error.
    pub fn try_clone(&self) -> io::Result<UnixDatagram> {
        UnixDatagram::wrap(self.std().try_clone()?)
    }

    /// Wakes the green threads parked on this socket (and fails later
    /// calls) with `NotConnected`. Callable from any thread.
    pub fn close(&self) {
        close_socket(&self.src);
    }

    /// The std socket, in blocking mode.
    pub fn into_std(self) -> stdunix::UnixDatagram {
        stdunix::UnixDatagram::from(into_blocking_fd(self.src))
    }
}

macro_rules! from_std {
    ($($ty:ident),*) => {$(
        impl From<stdunix::$ty> for $ty {
            /// Takes a std socket, making it non-blocking.
            ///
            /// # Panics
            ///
            /// If `fcntl(2)` fails on the descriptor.
            fn from(s: stdunix::$ty) -> $ty {
                $ty { src: source_of(OwnedFd::from(s)) }
            }
        }
        fd_traits!($ty, stdunix::$ty);
    )*};
}

from_std!(UnixListener, UnixStream, UnixDatagram);
