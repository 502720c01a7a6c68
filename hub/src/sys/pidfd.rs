//! Process file descriptors: exit notification without `SIGCHLD` and a reap of
//! exactly one pid, so other code's `waitpid` keeps working.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use super::cvt;

/// `P_PIDFD` from `<sys/wait.h>` (Linux 5.4); not every libc release names it.
const P_PIDFD: libc::idtype_t = 3;

/// Opens a pidfd for `pid`. It becomes readable once the process has exited.
pub(crate) fn open(pid: u32) -> io::Result<OwnedFd> {
    let pid = libc::pid_t::try_from(pid)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pid out of range"))?;
    // SAFETY: pidfd_open takes a pid and flags by value and returns a new fd or -1.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, libc::PIDFD_NONBLOCK) })?;
    let fd = RawFd::try_from(fd).expect("kernel returned an fd beyond c_int");
    // SAFETY: the kernel just returned this fd to us and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Reaps the process behind `fd` if it has exited; `Ok(None)` if it still runs.
///
/// # Errors
///
/// `ECHILD` when the process is not our child or was reaped by other code.
pub(crate) fn try_wait(fd: RawFd) -> io::Result<Option<ExitStatus>> {
    // SAFETY: siginfo_t is plain data for which all-zero bytes are valid.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: `info` is a valid, writable siginfo_t; waitid does not keep the pointer.
    cvt(unsafe {
        libc::waitid(
            P_PIDFD,
            fd as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG,
        )
    })?;
    // SAFETY: waitid succeeded, so the SIGCHLD fields of the union are initialised
    // (si_pid stays 0, as zeroed above, when the child has not exited yet).
    let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
    if pid == 0 {
        return Ok(None);
    }
    // Rebuild the classic wait status so std's ExitStatus decodes it.
    let raw = match info.si_code {
        libc::CLD_EXITED => (status & 0xff) << 8,
        libc::CLD_KILLED => status & 0x7f,
        libc::CLD_DUMPED => (status & 0x7f) | 0x80,
        _ => (status & 0xff) << 8,
    };
    Ok(Some(ExitStatus::from_raw(raw)))
}
