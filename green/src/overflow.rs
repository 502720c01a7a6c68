//! Stack overflow reporting for green threads.
//!
//! Green thread stacks end in a guard page. Rust's own SIGSEGV handler only
//! knows OS thread stacks, so an overflowing green thread would die with a
//! bare SIGSEGV. This module's handler checks whether the faulting address
//! is in the guard page of the green thread running on the faulting OS
//! thread; if so, it names that green thread on stderr and aborts. Any other
//! fault goes to the handler that was installed before (normally Rust's), or
//! to the default action.
//!
//! The handler runs on the OS thread's alternate signal stack (std sets one
//! up for every thread it starts), reads only a `const` thread-local `Cell` and the guard it points to,
//! and calls only `write(2)`, `sigaction(2)` and `abort(3)`.

use std::cell::Cell;
use std::sync::Once;

/// What the handler needs to know about the running green thread.
#[derive(Clone, Copy)]
pub(crate) struct Guard {
    lo: usize,
    hi: usize,
    id: u64,
    name: *const u8,
    name_len: usize,
    stack_size: usize,
}

impl Guard {
    pub(crate) const NONE: Guard = Guard {
        lo: 0,
        hi: 0,
        id: 0,
        name: std::ptr::null(),
        name_len: 0,
        stack_size: 0,
    };

    /// The guard of a stack whose mapping starts at `limit` (corosensei's
    /// `Stack::limit` includes the guard page, which is the lowest page). `name`
    /// must outlive every use of the guard (it belongs to the green thread
    /// that the guard describes, which outlives its own resumptions).
    pub(crate) fn new(limit: usize, id: u64, name: Option<&str>, stack_size: usize) -> Guard {
        let page = page_size();
        let (name, name_len) = name.map_or((std::ptr::null(), 0), |n| (n.as_ptr(), n.len()));
        Guard {
            lo: limit,
            hi: limit + page,
            id,
            name,
            name_len,
            stack_size,
        }
    }
}

thread_local! {
    /// The guard of the green thread running on this OS thread (null: none).
    /// A pointer into the green thread's record, so a switch stores one word.
    static CURRENT: Cell<*const Guard> = const { Cell::new(std::ptr::null()) };
}

/// Records the guard of the green thread about to run on this OS thread;
/// returns the previous one, to restore when it suspends. `g` must stay
/// valid, and unchanged, until it is replaced by that restore: it points
/// into the record of the green thread that runs meanwhile.
pub(crate) fn enter(g: *const Guard) -> *const Guard {
    CURRENT.with(|c| c.replace(g))
}

fn page_size() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    let cached = PAGE.load(Ordering::Relaxed);
    if cached != 0 {
        return cached;
    }
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let n = usize::try_from(n).unwrap_or(4096);
    PAGE.store(n, Ordering::Relaxed);
    n
}

static INSTALL: Once = Once::new();
static mut PREVIOUS: [Option<libc::sigaction>; 2] = [None, None];

/// Installs the handler for SIGSEGV and SIGBUS, once per process.
pub(crate) fn install() {
    INSTALL.call_once(|| {
        for (i, sig) in [libc::SIGSEGV, libc::SIGBUS].into_iter().enumerate() {
            // SAFETY: a zeroed sigaction is a valid value to fill in.
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            action.sa_sigaction = handler as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            // SAFETY: as above.
            let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
            // SAFETY: both pointers are to live sigaction values; the handler
            // only does async-signal-safe work.
            if unsafe { libc::sigaction(sig, &action, &mut old) } == 0 {
                // SAFETY: written once, inside call_once, before the handler
                // can observe it (it is only read for faults after install).
                unsafe { PREVIOUS[i] = Some(old) };
            }
        }
    });
}

fn write_all(bytes: &[u8]) {
    // SAFETY: `bytes` is a valid slice for the duration of the call.
    unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
}

fn write_u64(mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    write_all(&buf[i..]);
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo_t for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    let g = CURRENT.with(Cell::get);
    let g = if g.is_null() {
        Guard::NONE
    } else {
        // SAFETY: a non-null pointer was set by `enter` for the green thread
        // running on this OS thread, which is the one that faulted; its record
        // (and so the guard) lives at least until it suspends, and the guard
        // is written only while the green thread is not running.
        unsafe { *g }
    };
    if g.hi != 0 && addr >= g.lo && addr < g.hi {
        write_all(b"\nthicket: green thread ");
        if g.name_len > 0 {
            write_all(b"'");
            // SAFETY: the name belongs to the green thread that is running (and
            // overflowing) right now, so it is alive.
            write_all(unsafe { std::slice::from_raw_parts(g.name, g.name_len) });
            write_all(b"' ");
        }
        write_all(b"(id ");
        write_u64(g.id);
        write_all(b") overflowed its stack of ");
        write_u64((g.stack_size / 1024) as u64);
        write_all(b" KiB; set a larger one with Builder::stack_size. Aborting.\n");
        // SAFETY: abort is async-signal-safe.
        unsafe { libc::abort() };
    }
    let i = usize::from(sig == libc::SIGBUS);
    // SAFETY: PREVIOUS was written before the handler was installed.
    let prev = unsafe { PREVIOUS[i] };
    match prev {
        Some(p) if p.sa_flags & libc::SA_SIGINFO != 0 && p.sa_sigaction > libc::SIG_IGN => {
            // SAFETY: the previous handler was installed as an SA_SIGINFO
            // handler, so it has this signature.
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                unsafe { std::mem::transmute(p.sa_sigaction) };
            f(sig, info, ctx);
        }
        Some(p) if p.sa_sigaction > libc::SIG_IGN => {
            // SAFETY: a plain handler installed without SA_SIGINFO.
            let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(p.sa_sigaction) };
            f(sig);
        }
        _ => {
            // Fall back to the default action: returning re-executes the
            // faulting instruction, which now kills the process as usual.
            // SAFETY: a zeroed sigaction with SIG_DFL is valid.
            unsafe {
                let mut dfl: libc::sigaction = std::mem::zeroed();
                dfl.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(sig, &dfl, std::ptr::null_mut());
            }
        }
    }
}
