//! Process-wide signal delivery into event loops.
//!
//! A signal handler may run on any thread at any moment, so it touches only
//! atomics and `write(2)`. Each loop that watches signals owns one [`Slot`] of
//! a fixed table; a slot's pipe is created once and never closed, so the
//! handler can never write into a file descriptor that was closed and reused
//! under it. A stale byte left in a reused pipe only causes a spurious wake-up.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::Mutex;

use super::cvt;

/// How many loops may watch signals at the same time.
const MAX_LOOPS: usize = 128;
/// Signals are numbered 1..=64 on Linux; bit `n - 1` stands for signal `n`.
pub(crate) const MAX_SIGNAL: i32 = 64;

struct LoopSlot {
    in_use: AtomicBool,
    read_fd: AtomicI32,
    write_fd: AtomicI32,
    interest: AtomicU64,
    pending: AtomicU64,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: LoopSlot = LoopSlot {
    in_use: AtomicBool::new(false),
    read_fd: AtomicI32::new(-1),
    write_fd: AtomicI32::new(-1),
    interest: AtomicU64::new(0),
    pending: AtomicU64::new(0),
};

static SLOTS: [LoopSlot; MAX_LOOPS] = [EMPTY; MAX_LOOPS];

/// Bookkeeping that the handler never reads: how many loops watch each
/// signal, and the disposition to restore when the last one stops.
struct Global {
    watchers: [u32; MAX_SIGNAL as usize + 1],
    previous: Vec<Option<libc::sigaction>>,
}

static GLOBAL: Mutex<Global> = Mutex::new(Global {
    watchers: [0; MAX_SIGNAL as usize + 1],
    previous: Vec::new(),
});

fn bit(signum: i32) -> u64 {
    1u64 << (signum - 1)
}

/// Whether `signum` can be caught: in range and not SIGKILL or SIGSTOP, and
/// not one of the synchronous fault signals that must reach their default
/// handler (a SIGSEGV turned into a loop callback would spin forever).
pub(crate) fn validate(signum: i32) -> io::Result<()> {
    let forbidden = [
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
    ];
    if !(1..=MAX_SIGNAL).contains(&signum) || forbidden.contains(&signum) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("signal {signum} cannot be watched (expected 1..=64, not SIGKILL, SIGSTOP or a fault signal)"),
        ));
    }
    Ok(())
}

extern "C" fn handler(signum: libc::c_int) {
    // SAFETY: __errno_location returns this thread's errno slot, always valid.
    let errno = unsafe { *libc::__errno_location() };
    if (1..=MAX_SIGNAL).contains(&signum) {
        let b = bit(signum);
        for slot in &SLOTS {
            if slot.interest.load(Ordering::Acquire) & b != 0 {
                slot.pending.fetch_or(b, Ordering::AcqRel);
                let fd = slot.write_fd.load(Ordering::Acquire);
                if fd >= 0 {
                    let byte = 1u8;
                    // SAFETY: the slot's pipe is never closed once created, and
                    // `byte` outlives the call. A full pipe (EAGAIN) is fine: the
                    // loop is already due to wake.
                    unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
                }
            }
        }
    }
    // SAFETY: as above; restoring errno keeps the interrupted code's view intact.
    unsafe { *libc::__errno_location() = errno };
}

/// One loop's place in the signal table. Released when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    index: usize,
    counts: [u32; MAX_SIGNAL as usize + 1],
}

impl Slot {
    /// Takes a free slot, creating its pipe the first time it is used.
    pub(crate) fn acquire() -> io::Result<Slot> {
        let _global = lock();
        for (index, slot) in SLOTS.iter().enumerate() {
            if slot.in_use.load(Ordering::Acquire) {
                continue;
            }
            if slot.read_fd.load(Ordering::Acquire) < 0 {
                let mut fds = [-1; 2];
                // SAFETY: `fds` has room for the two descriptors pipe2 writes.
                cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) })?;
                slot.read_fd.store(fds[0], Ordering::Release);
                slot.write_fd.store(fds[1], Ordering::Release);
            }
            slot.pending.store(0, Ordering::Release);
            slot.in_use.store(true, Ordering::Release);
            let this = Slot {
                index,
                counts: [0; MAX_SIGNAL as usize + 1],
            };
            this.drain();
            return Ok(this);
        }
        Err(io::Error::other(format!(
            "more than {MAX_LOOPS} loops watch signals at once"
        )))
    }

    /// The read end of this slot's pipe, to register with the poller.
    pub(crate) fn read_fd(&self) -> RawFd {
        SLOTS[self.index].read_fd.load(Ordering::Acquire)
    }

    /// Adds one watcher of `signum` for this loop, installing the process
    /// handler if no loop watched it before.
    pub(crate) fn watch(&mut self, signum: i32) -> io::Result<()> {
        let mut global = lock();
        let n = signum as usize;
        if global.watchers[n] == 0 {
            install(&mut global, signum)?;
        }
        global.watchers[n] += 1;
        self.counts[n] += 1;
        if self.counts[n] == 1 {
            SLOTS[self.index]
                .interest
                .fetch_or(bit(signum), Ordering::AcqRel);
        }
        Ok(())
    }

    /// Removes one watcher of `signum`; the last one out restores the
    /// disposition that was in place before.
    pub(crate) fn unwatch(&mut self, signum: i32) {
        let mut global = lock();
        let n = signum as usize;
        debug_assert!(self.counts[n] > 0);
        self.counts[n] -= 1;
        if self.counts[n] == 0 {
            SLOTS[self.index]
                .interest
                .fetch_and(!bit(signum), Ordering::AcqRel);
        }
        global.watchers[n] -= 1;
        if global.watchers[n] == 0 {
            restore(&mut global, signum);
        }
    }

    /// Empties the pipe and returns the signals that arrived since last time.
    pub(crate) fn take_pending(&self) -> u64 {
        self.drain();
        SLOTS[self.index].pending.swap(0, Ordering::AcqRel)
    }

    fn drain(&self) {
        let fd = self.read_fd();
        let mut buf = [0u8; 64];
        // SAFETY: `buf` is valid for 64 writable bytes; the fd is non-blocking.
        while unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        for signum in 1..=MAX_SIGNAL {
            while self.counts[signum as usize] > 0 {
                self.unwatch(signum);
            }
        }
        let slot = &SLOTS[self.index];
        slot.interest.store(0, Ordering::Release);
        slot.pending.store(0, Ordering::Release);
        slot.in_use.store(false, Ordering::Release);
    }
}

fn lock() -> std::sync::MutexGuard<'static, Global> {
    // The table stays consistent even if a holder panicked: every update is
    // a single store or counter step.
    GLOBAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn install(global: &mut Global, signum: i32) -> io::Result<()> {
    // SAFETY: sigaction is plain data for which all-zero bytes are valid.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler as extern "C" fn(libc::c_int) as libc::sighandler_t;
    action.sa_flags = libc::SA_RESTART | libc::SA_ONSTACK;
    // SAFETY: sa_mask is a valid sigset_t owned by `action`.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    // SAFETY: as above.
    let mut previous: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers refer to live sigaction values; the handler is
    // async-signal-safe (atomics and write only).
    cvt(unsafe { libc::sigaction(signum, &action, &mut previous) })?;
    if global.previous.is_empty() {
        global.previous.resize(MAX_SIGNAL as usize + 1, None);
    }
    global.previous[signum as usize] = Some(previous);
    Ok(())
}

fn restore(global: &mut Global, signum: i32) {
    if let Some(previous) = global
        .previous
        .get_mut(signum as usize)
        .and_then(Option::take)
    {
        // SAFETY: `previous` is the disposition sigaction gave us at install time.
        unsafe { libc::sigaction(signum, &previous, std::ptr::null_mut()) };
    }
}
