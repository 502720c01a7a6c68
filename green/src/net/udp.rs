//! `UdpSocket`.

use std::fmt;
use std::io;
use std::net::{self as stdnet, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::time::Duration;

use super::tcp::fd_traits;
use super::{each_addr, into_blocking_fd, resolve, source_of, View};
use crate::io::{Direction, Source};

/// A UDP socket; green `std::net::UdpSocket`.
///
/// # Examples
///
/// ```
/// use thicket_green::net::UdpSocket;
///
/// let a = UdpSocket::bind("127.0.0.1:0")?;
/// let b = UdpSocket::bind("127.0.0.1:0")?;
/// let to = b.local_addr()?;
/// let receiver = thicket_green::spawn(move || {
///     let mut buf = [0; 16];
///     b.recv_from(&mut buf).map(|(n, from)| (buf[..n].to_vec(), from))
/// });
/// a.send_to(b"datagram", to)?;
/// let (got, from) = receiver.join().unwrap()?;
/// assert_eq!((got.as_slice(), from), (&b"datagram"[..], a.local_addr()?));
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UdpSocket {
    src: Source,
}

impl UdpSocket {
    /// Binds to `addr`, trying each resolved address in turn.
    ///
    /// # Errors
    ///
    /// The resolution failed, or binding every address failed.
    pub fn bind<A>(addr: A) -> io::Result<UdpSocket>
    where
        A: ToSocketAddrs + Send + 'static,
    {
        each_addr(addr, |a| {
            Ok(UdpSocket {
                src: Source::new(OwnedFd::from(stdnet::UdpSocket::bind(a)?))?,
            })
        })
    }

    fn std(&self) -> View<'_, stdnet::UdpSocket> {
        View::of(&self.src)
    }

    /// Receives one datagram, parking until one arrives.
    ///
    /// # Errors
    ///
    /// The `recvfrom(2)` error; `TimedOut`, `NotConnected` (closed) or
    /// `ResourceBusy` as for stream reads.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.src.do_io(Direction::Read, "UdpSocket::recv_from", || {
            self.std().recv_from(buf)
        })
    }

    /// Like [`recv_from`](Self::recv_from), leaving the datagram queued.
    ///
    /// # Errors
    ///
    /// As for `recv_from`.
    pub fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.src.do_io(Direction::Read, "UdpSocket::peek_from", || {
            self.std().peek_from(buf)
        })
    }

    /// Sends `buf` to `addr` (its first resolved address), parking while
    /// the send buffer is full.
    ///
    /// # Errors
    ///
    /// The resolution or `sendto(2)` error; `TimedOut` at the write timeout.
    pub fn send_to<A>(&self, buf: &[u8], addr: A) -> io::Result<usize>
    where
        A: ToSocketAddrs + Send + 'static,
    {
        let to = resolve(addr)?.into_iter().next().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no addresses to send data to")
        })?;
        self.src.do_io(Direction::Write, "UdpSocket::send_to", || {
            self.std().send_to(buf, to)
        })
    }

    /// Receives from the connected peer.
    ///
    /// # Errors
    ///
    /// As for [`recv_from`](Self::recv_from).
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.src
            .do_io(Direction::Read, "UdpSocket::recv", || self.std().recv(buf))
    }

    /// Like [`recv`](Self::recv), leaving the datagram queued.
    ///
    /// # Errors
    ///
    /// As for `recv`.
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.src
            .do_io(Direction::Read, "UdpSocket::peek", || self.std().peek(buf))
    }

    /// Sends to the connected peer.
    ///
    /// # Errors
    ///
    /// As for [`send_to`](Self::send_to); `NotConnected` if not connected.
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.src
            .do_io(Direction::Write, "UdpSocket::send", || self.std().send(buf))
    }

    /// Sets the default peer of `send` and the only one `recv` accepts,
    /// trying each resolved address in turn.
    ///
    /// # Errors
    ///
    /// The resolution or `connect(2)` error.
    pub fn connect<A>(&self, addr: A) -> io::Result<()>
    where
        A: ToSocketAddrs + Send + 'static,
    {
        each_addr(addr, |a| self.std().connect(a))
    }

    /// The connected peer's address.
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

    /// Sets `SO_BROADCAST`.
    ///
    /// # Errors
    ///
    /// The `setsockopt(2)` error.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.std().set_broadcast(on)
    }

    /// `SO_BROADCAST`.
    ///
    /// # Errors
    ///
    /// The `getsockopt(2)` error.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.std().broadcast()
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

    /// Joins an IPv4 multicast group.
    ///
    /// # Errors
    ///
    /// The `setsockopt(2)` error.
    pub fn join_multicast_v4(&self, group: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        self.std().join_multicast_v4(group, interface)
    }

    /// Leaves an IPv4 multicast group.
    ///
    /// # Errors
    ///
    /// The `setsockopt(2)` error.
    pub fn leave_multicast_v4(&self, group: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        self.std().leave_multicast_v4(group, interface)
    }

    /// Joins an IPv6 multicast group.
    ///
    /// # Errors
    ///
    /// The `setsockopt(2)` error.
    pub fn join_multicast_v6(&self, group: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.std().join_multicast_v6(group, interface)
    }

    /// Leaves an IPv6 multicast group.
    ///
    /// # Errors
    ///
    /// The `setsockopt(2)` error.
    pub fn leave_multicast_v6(&self, group: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.std().leave_multicast_v6(group, interface)
    }

    /// Sets `IP_MULTICAST_LOOP`.
    ///
    /// # Errors
    ///
    /// The `setsockopt(2)` error.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.std().set_multicast_loop_v4(on)
    }

    /// Sets `IP_MULTICAST_TTL`.
    ///
    /// # Errors
    ///
    /// The `setsockopt(2)` error.
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.std().set_multicast_ttl_v4(ttl)
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
    pub fn try_clone(&self) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            src: Source::new(OwnedFd::from(self.std().try_clone()?))?,
        })
    }

    /// Wakes the green threads parked on this socket (and fails later
    /// calls) with `NotConnected`. Callable from any thread.
    pub fn close(&self) {
        self.src.close();
    }

    /// The std socket, in blocking mode.
    pub fn into_std(self) -> stdnet::UdpSocket {
        stdnet::UdpSocket::from(into_blocking_fd(self.src))
    }
}

impl From<stdnet::UdpSocket> for UdpSocket {
    /// Takes a std socket, making it non-blocking.
    ///
    /// # Panics
    ///
    /// If `fcntl(2)` fails on the descriptor.
    fn from(s: stdnet::UdpSocket) -> UdpSocket {
        UdpSocket {
            src: source_of(OwnedFd::from(s)),
        }
    }
}

fd_traits!(UdpSocket, stdnet::UdpSocket);
