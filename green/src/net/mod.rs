//! Green sockets: TCP, UDP and Unix-domain sockets that block only the
//! calling green thread.
//!
//! The types mirror `std::net` and `std::os::unix::net` method for method:
//! change the import, keep the code. Every operation tries the system call
//! first and parks the green thread only when the socket is not ready; the
//! hub wakes it when it is. Streams implement [`Read`](std::io::Read) and
//! [`Write`](std::io::Write) on `&TcpStream` too, so one stream shared
//! through an `Arc` can have a reader and a writer green thread at once. Two
//! green threads reading (or writing) one socket at the same time is an
//! error (`ResourceBusy`), not a silent race.
//!
//! Beyond std:
//!
//! - [`close`](TcpStream::close) shuts a socket down and wakes the green
//!   threads waiting on it with an error, from any thread;
//! - [`listen`], [`connect`] and [`serve`] are eventlet's conveniences: a
//!   listener with `SO_REUSEADDR` and a deep backlog, and an accept loop with
//!   a green thread per connection, a concurrency limit, back-off on
//!   descriptor exhaustion and a graceful stop ([`Server`]);
//! - [`copy`] moves bytes from one socket to another (and [`copy_splice`]
//!   with `splice(2)`, never through user space).
//!
//! Timeouts work like std's (`set_read_timeout`), and every call also ends
//! at an enclosing [`with_timeout`](crate::with_timeout) deadline or when
//! the green thread is killed.
//!
//! # Examples
//!
//! ```
//! use std::io::{Read, Write};
//! use thicket_green::net::{TcpListener, TcpStream};
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let addr = listener.local_addr()?;
//! let server = thicket_green::spawn(move || -> std::io::Result<()> {
//!     let (mut conn, _) = listener.accept()?;
//!     let mut buf = [0; 5];
//!     conn.read_exact(&mut buf)?;
//!     conn.write_all(&buf)
//! });
//! let mut client = TcpStream::connect(addr)?;
//! client.write_all(b"hello")?;
//! let mut echoed = [0; 5];
//! client.read_exact(&mut echoed)?;
//! assert_eq!(&echoed, b"hello");
//! server.join().unwrap()?;
//! # Ok::<(), std::io::Error>(())
//! ```

mod copy;
mod serve;
mod tcp;
mod udp;
mod unix;

use std::io;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::net::{SocketAddr, ToSocketAddrs};
use std::ops::Deref;
use std::os::fd::FromRawFd;

use crate::io::Source;

pub use self::copy::{copy, copy_splice, StreamSocket};
pub use self::serve::{serve, ServeHandle, Server};
pub use self::tcp::{Incoming, TcpListener, TcpStream};
pub use self::udp::UdpSocket;
pub use self::unix::{UnixDatagram, UnixIncoming, UnixListener, UnixStream};

/// The backlog [`listen`] asks for (the kernel caps it at
/// `net.core.somaxconn`).
pub const LISTEN_BACKLOG: i32 = 1024;

/// A TCP listener bound to `addr` with `SO_REUSEADDR` and a backlog of
/// [`LISTEN_BACKLOG`] (eventlet's `listen`). Host names are resolved like
/// [`connect`]'s; the first address that binds is used.
///
/// # Errors
///
/// The resolution failed, or binding every address failed (the last
/// error).
///
/// # Examples
///
/// ```
/// let listener = thicket_green::net::listen("127.0.0.1:0")?;
/// assert!(listener.local_addr()?.port() != 0);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn listen<A>(addr: A) -> io::Result<TcpListener>
where
    A: ToSocketAddrs + Send + 'static,
{
    TcpListener::bind_with(addr, LISTEN_BACKLOG, false)
}

/// A TCP listener like [`listen`]'s that also sets `SO_REUSEPORT`, so
/// several listeners (one per hub of a [`Runtime`](crate::Runtime), or one
/// per process) can share one port and the kernel spreads connections
/// among them.
///
/// # Errors
///
/// As for [`listen`].
pub fn listen_reuseport<A>(addr: A) -> io::Result<TcpListener>
where
    A: ToSocketAddrs + Send + 'static,
{
    TcpListener::bind_with(addr, LISTEN_BACKLOG, true)
}

/// Connects to `addr` (eventlet's `connect`); the same as
/// [`TcpStream::connect`].
///
/// # Errors
///
/// As for [`TcpStream::connect`].
pub fn connect<A>(addr: A) -> io::Result<TcpStream>
where
    A: ToSocketAddrs + Send + 'static,
{
    TcpStream::connect(addr)
}

/// Resolves `addr`: numeric addresses at once, host names off the hub, so
/// that only the calling green thread waits for DNS.
fn resolve<A>(addr: A) -> io::Result<Vec<SocketAddr>>
where
    A: ToSocketAddrs + Send + 'static,
{
    crate::tpool::resolve(addr)
}

/// Runs `f` on each address of `addr` in turn until one succeeds, like std.
fn each_addr<A, T>(addr: A, mut f: impl FnMut(SocketAddr) -> io::Result<T>) -> io::Result<T>
where
    A: ToSocketAddrs + Send + 'static,
{
    let mut last = None;
    for a in resolve(addr)? {
        match f(a) {
            Ok(t) => return Ok(t),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any addresses",
        )
    }))
}

/// A std socket viewing a [`Source`]'s descriptor without owning it, so
/// std's methods do the system calls.
struct View<'a, T> {
    inner: ManuallyDrop<T>,
    _source: PhantomData<&'a Source>,
}

impl<T: FromRawFd> View<'_, T> {
    fn of(src: &Source) -> View<'_, T> {
        View {
            // SAFETY: the descriptor is open and owned by `src`, which the
            // view borrows for its whole life; ManuallyDrop keeps the view
            // from closing it.
            inner: ManuallyDrop::new(unsafe { T::from_raw_fd(src.fd()) }),
            _source: PhantomData,
        }
    }
}

impl<T> Deref for View<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

/// Shuts `src`'s socket down both ways (ignoring "not connected") and marks
/// it closed, waking its waiters.
fn close_socket(src: &Source) {
    let _ = socket2::SockRef::from(src.owned_fd()).shutdown(std::net::Shutdown::Both);
    src.close();
}

/// Gives `src`'s descriptor back in blocking mode, for a std type.
fn into_blocking_fd(src: Source) -> std::os::fd::OwnedFd {
    let fd = src.into_owned_fd();
    // Best effort: a std socket is expected to block; the descriptor is
    // valid either way.
    let _ = socket2::SockRef::from(&fd).set_nonblocking(false);
    fd
}

/// A [`Source`] for a descriptor the caller hands over, for `From` impls:
/// making an open socket non-blocking cannot fail short of a kernel bug.
fn source_of(fd: std::os::fd::OwnedFd) -> Source {
    Source::new(fd).expect("fcntl(O_NONBLOCK) failed on an open socket")
}

/// Whether a non-blocking `connect` is under way.
fn is_in_progress(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::EINPROGRESS) || e.kind() == io::ErrorKind::WouldBlock
}
