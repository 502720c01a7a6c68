//! The C library calls on descriptors and processes: the only place in the
//! crate that makes them.
//!
//! Each call is a safe function taking borrowed descriptors and slices, so
//! callers need no `unsafe`; [`cvt`] turns a return of `-1` into
//! `io::Error::last_os_error()`. Like the hub's pidfd watcher, this is
//! Linux-specific (pidfd needs Linux 5.4).
//!
//! Elsewhere in the crate: `overflow.rs` makes its own libc calls, as its
//! fault handler must stay async-signal-safe.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Maps the C convention (`-1` and `errno`) to `io::Result`.
pub(crate) fn cvt<T: IsMinusOne>(ret: T) -> io::Result<T> {
    if ret.is_minus_one() {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Integer return types of C calls.
pub(crate) trait IsMinusOne {
    fn is_minus_one(&self) -> bool;
}

macro_rules! impl_is_minus_one {
    ($($t:ty)*) => {$(
        impl IsMinusOne for $t {
            fn is_minus_one(&self) -> bool {
                *self == -1
            }
        }
    )*};
}

impl_is_minus_one! { i32 i64 isize }

/// A byte count from a call that returned it as `ssize_t`.
fn count(ret: isize) -> io::Result<usize> {
    let n = cvt(ret)?;
    Ok(usize::try_from(n).expect("a successful call returns a count >= 0"))
}

/// Sets (`on`) or clears `O_NONBLOCK` on `fd`; no `F_SETFL` if it is
/// already so.
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    // SAFETY: F_GETFL only reads the flags of a descriptor that is open for
    // the borrow.
    let flags = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })?;
    let new = if on {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    if new != flags {
        // SAFETY: F_SETFL only writes the flags of that same open descriptor.
        cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, new) })?;
    }
    Ok(())
}

/// Whether `O_NONBLOCK` is set on `fd`.
pub(crate) fn is_nonblocking(fd: BorrowedFd<'_>) -> io::Result<bool> {
    // SAFETY: F_GETFL only reads the flags of a descriptor that is open for
    // the borrow.
    let flags = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })?;
    Ok(flags & libc::O_NONBLOCK != 0)
}

/// `read(2)` into `buf`.
pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the call and
    // the descriptor is open for the borrow.
    count(unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) })
}

/// `write(2)` from `buf`.
pub(crate) fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes for the call and
    // the descriptor is open for the borrow.
    count(unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) })
}

/// A new pipe, `(read end, write end)`, with `flags` (e.g. `O_NONBLOCK |
/// O_CLOEXEC`).
#[cfg(target_os = "linux")]
pub(crate) fn pipe2(flags: libc::c_int) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2 writes two descriptors into the array it is given.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), flags) })?;
    // SAFETY: pipe2 succeeded, so both are new descriptors nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Non-blocking `splice(2)` of up to `len` bytes from `from` to `to` at their
/// current positions (one of them must be a pipe).
#[cfg(target_os = "linux")]
pub(crate) fn splice(from: BorrowedFd<'_>, to: BorrowedFd<'_>, len: usize) -> io::Result<usize> {
    // SAFETY: splice reads and writes only through the two descriptors,
    // both open for the borrows; null offsets mean "the current position",
    // as required for pipes and sockets.
    count(unsafe {
        libc::splice(
            from.as_raw_fd(),
            std::ptr::null_mut(),
            to.as_raw_fd(),
            std::ptr::null_mut(),
            len,
            libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
        )
    })
}

/// `accept4(2)` of one connection, non-blocking and close-on-exec, with the
/// peer's address.
pub(crate) fn accept4(fd: BorrowedFd<'_>) -> io::Result<(OwnedFd, socket2::SockAddr)> {
    // SAFETY: try_init hands accept4 a zeroed sockaddr_storage and its
    // length; accept4 writes at most that many bytes and the returned
    // length, as try_init requires. The listening descriptor is open for the
    // borrow.
    let (fd, addr) = unsafe {
        socket2::SockAddr::try_init(|storage, addr_len| {
            cvt(libc::accept4(
                fd.as_raw_fd(),
                storage.cast(),
                addr_len,
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            ))
        })?
    };
    // SAFETY: accept4 returned a new descriptor that nothing else owns.
    Ok((unsafe { OwnedFd::from_raw_fd(fd) }, addr))
}

/// A pidfd (close-on-exec) for process `pid`.
pub(crate) fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    let pid = libc::pid_t::try_from(pid)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pid out of range"))?;
    // SAFETY: pidfd_open takes a pid and flags by value and returns a new
    // descriptor (close-on-exec) or -1.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    let fd = RawFd::try_from(fd).expect("the kernel returns descriptors that fit c_int");
    // SAFETY: the kernel just returned this descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sends `signum` to the process behind `pidfd`, as `kill(2)` would.
pub(crate) fn pidfd_send_signal(pidfd: BorrowedFd<'_>, signum: libc::c_int) -> io::Result<()> {
    // SAFETY: pidfd_send_signal takes a pidfd open for the borrow, a signal
    // number, a null siginfo (meaning "as kill(2)") and zero flags.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signum,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    })
    .map(drop)
}

/// `waitpid(pid, WNOHANG)`: the raw wait status if `pid` has exited (now
/// reaped), else `None`.
pub(crate) fn waitpid_nohang(pid: libc::pid_t) -> io::Result<Option<libc::c_int>> {
    let mut raw = 0;
    // SAFETY: waitpid writes the status through a valid pointer to a local;
    // it reaps only `pid`.
    let r = cvt(unsafe { libc::waitpid(pid, &mut raw, libc::WNOHANG) })?;
    Ok((r != 0).then_some(raw))
}
