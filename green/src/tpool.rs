//! A bounded pool of OS threads for blocking work (eventlet's `tpool`).
//!
//! [`execute`] hands a closure to a pool thread and parks only the calling
//! green thread until the result is back; every other green thread on the
//! hub keeps running. Use it for what cannot be made non-blocking: file
//! I/O (see [`fs`](crate::fs)), `getaddrinfo` (see [`resolve`]), CPU-heavy
//! work, blocking C libraries.
//!
//! The pool starts empty, grows to [`max_threads`] (20 by default, see
//! [`set_max_threads`]) as jobs queue up, and a thread that stays idle for
//! the idle timeout (10 s, see [`set_idle_timeout`]) exits. Jobs wait in a
//! FIFO queue when every thread is busy.
//!
//! While a job is outstanding, the caller's hub counts it as something that
//! may still wake it, so a green thread (or plain code) waiting for the pool
//! is never reported as a deadlock.

use std::any::Any;
use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, ToSocketAddrs};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use crate::hub::{self, Msg};
use crate::park::{Parker, Unparker, WaitError};

/// The default bound on pool threads.
pub const DEFAULT_MAX_THREADS: usize = 20;
/// How long a pool thread waits for a job before it exits, by default.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why [`execute`] has no value to return.
#[non_exhaustive]
pub enum TpoolError {
    /// The closure panicked; the payload is what it panicked with. The pool
    /// thread survives.
    Panicked(Box<dyn Any + Send + 'static>),
    /// The caller's wait failed: it timed out (its own
    /// [`with_timeout`](crate::with_timeout) scope) or its green thread was
    /// killed. The job still runs to completion; its result is dropped.
    Wait(WaitError),
    /// No pool thread could be started (the process is out of threads or
    /// memory) and none was running to take the job; the job did not run.
    Spawn(io::Error),
}

impl TpoolError {
    /// The panic message, if the closure panicked with a string.
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            TpoolError::Panicked(p) => panic_message(&**p),
            _ => None,
        }
    }

    /// The panic payload, to re-raise it with
    /// [`std::panic::resume_unwind`]; `None` for other errors.
    pub fn into_panic(self) -> Option<Box<dyn Any + Send + 'static>> {
        match self {
            TpoolError::Panicked(p) => Some(p),
            _ => None,
        }
    }
}

fn panic_message(p: &(dyn Any + Send)) -> Option<&str> {
    p.downcast_ref::<&str>()
        .copied()
        .or_else(|| p.downcast_ref::<String>().map(String::as_str))
}

impl fmt::Debug for TpoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TpoolError::Panicked(_) => f
                .debug_tuple("Panicked")
                .field(&self.panic_message().unwrap_or("<non-string payload>"))
                .finish(),
            TpoolError::Wait(e) => f.debug_tuple("Wait").field(e).finish(),
            TpoolError::Spawn(e) => f.debug_tuple("Spawn").field(e).finish(),
        }
    }
}

impl fmt::Display for TpoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TpoolError::Panicked(_) => write!(
                f,
                "tpool job panicked: {}",
                self.panic_message().unwrap_or("<non-string payload>")
            ),
            TpoolError::Wait(e) => write!(f, "waiting for a tpool job failed: {e}"),
            TpoolError::Spawn(e) => write!(f, "cannot start a tpool thread: {e}"),
        }
    }
}

impl std::error::Error for TpoolError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TpoolError::Wait(e) => Some(e),
            TpoolError::Spawn(e) => Some(e),
            TpoolError::Panicked(_) => None,
        }
    }
}

impl From<WaitError> for TpoolError {
    fn from(e: WaitError) -> TpoolError {
        TpoolError::Wait(e)
    }
}

impl From<TpoolError> for io::Error {
    /// A wait error maps as [`WaitError`] does (never to `Interrupted`), a
    /// spawn error is passed through, and a panic becomes `Other` with the
    /// panic message.
    fn from(e: TpoolError) -> io::Error {
        match e {
            TpoolError::Wait(w) => w.into(),
            TpoolError::Spawn(e) => e,
            p @ TpoolError::Panicked(_) => io::Error::other(p.to_string()),
        }
    }
}

type Job = Box<dyn FnOnce() + Send + 'static>;

struct PoolState {
    jobs: VecDeque<Job>,
    threads: usize,
    idle: usize,
    max: usize,
    idle_timeout: Duration,
}

struct Pool {
    state: Mutex<PoolState>,
    cv: Condvar,
}

static POOL: Pool = Pool {
    state: Mutex::new(PoolState {
        jobs: VecDeque::new(),
        threads: 0,
        idle: 0,
        max: DEFAULT_MAX_THREADS,
        idle_timeout: DEFAULT_IDLE_TIMEOUT,
    }),
    cv: Condvar::new(),
};

thread_local! {
    static IN_POOL: Cell<bool> = const { Cell::new(false) };
}

/// Sets the bound on pool threads (at least 1). Lowering it does not stop
/// busy threads; the pool shrinks as they go idle and exit.
///
/// # Examples
///
/// ```
/// thicket_green::tpool::set_max_threads(4);
/// assert_eq!(thicket_green::tpool::max_threads(), 4);
/// ```
pub fn set_max_threads(n: usize) {
    let mut st = POOL.state.lock();
    st.max = n.max(1);
    // Idle threads above the new bound notice on their next wake-up.
    POOL.cv.notify_all();
}

/// The bound on pool threads.
pub fn max_threads() -> usize {
    POOL.state.lock().max
}

/// Sets how long an idle pool thread waits for a job before it exits
/// (10 s by default). Threads already waiting use the new value from their
/// next wake-up.
pub fn set_idle_timeout(d: Duration) {
    POOL.state.lock().idle_timeout = d;
    POOL.cv.notify_all();
}

/// How many pool threads are running (busy or idle) right now.
pub fn thread_count() -> usize {
    POOL.state.lock().threads
}

/// Whether the calling code runs on a pool thread.
pub fn in_pool() -> bool {
    IN_POOL.with(Cell::get)
}

/// Queues a job, starting a pool thread if every running one is busy and
/// the bound allows.
fn submit(job: Job) -> Result<(), (Job, io::Error)> {
    let mut st = POOL.state.lock();
    st.jobs.push_back(job);
    if st.jobs.len() > st.idle && st.threads < st.max {
        st.threads += 1;
        let spawned = std::thread::Builder::new()
            .name("thicket-tpool".into())
            .spawn(worker);
        if let Err(e) = spawned {
            st.threads -= 1;
            if st.threads == 0 {
                let job = st.jobs.pop_back().expect("the job just queued");
                return Err((job, e));
            }
            // A running thread will get to it.
        }
    }
    POOL.cv.notify_one();
    Ok(())
}

fn worker() {
    IN_POOL.with(|p| p.set(true));
    let mut st = POOL.state.lock();
    loop {
        if let Some(job) = st.jobs.pop_front() {
            drop(st);
            // Jobs catch their own panics (see `execute`); this is only a
            // guard so that a pool thread never dies with its count held.
            let _ = catch_unwind(AssertUnwindSafe(job));
            st = POOL.state.lock();
            continue;
        }
        if st.threads > st.max {
            break;
        }
        st.idle += 1;
        let timeout = st.idle_timeout;
        let timed_out = POOL.cv.wait_for(&mut st, timeout).timed_out();
        st.idle -= 1;
        if timed_out && st.jobs.is_empty() {
            break;
        }
    }
    st.threads -= 1;
}

/// The meeting point of one job and its caller.
struct Handoff<T> {
    result: Option<std::thread::Result<T>>,
    waiter: Option<Unparker>,
}

/// Runs `f` on a pool thread and returns its value; only the calling green
/// thread waits, the others on its hub keep running. Plain code (not in a
/// green thread) may call it too: it drives its hub while it waits. Called
/// on a pool thread, it runs `f` right there.
///
/// A panic in `f` does not unwind into the caller: it comes back as
/// [`TpoolError::Panicked`] with the payload (re-raise it with
/// `std::panic::resume_unwind(e.into_panic().unwrap())` if you want
/// eventlet's behaviour).
///
/// # Errors
///
/// - [`TpoolError::Panicked`] if `f` panicked;
/// - [`TpoolError::Wait`] if the caller was killed or an enclosing
///   [`with_timeout`](crate::with_timeout) deadline passed before the result
///   came back. The job cannot be stopped: it runs to completion on its pool
///   thread and its result is dropped there.
/// - [`TpoolError::Spawn`] if no pool thread could be started.
///
/// # Examples
///
/// ```
/// use thicket_green::{spawn, tpool};
///
/// // A blocking call on a pool thread, while a green thread waits for it.
/// let gt = spawn(|| tpool::execute(|| std::fs::metadata(".").map(|m| m.is_dir())));
/// assert!(gt.join().unwrap().unwrap()?);
///
/// // A panic comes back as an error.
/// let err = tpool::execute(|| -> u8 { panic!("boom") }).unwrap_err();
/// assert_eq!(err.panic_message(), Some("boom"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn execute<F, T>(f: F) -> Result<T, TpoolError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    if in_pool() {
        return catch_unwind(AssertUnwindSafe(f)).map_err(TpoolError::Panicked);
    }
    let remote = hub::with(|h| h.remote.clone());
    let handoff = Arc::new(Mutex::new(Handoff {
        result: None,
        waiter: None,
    }));
    // Counted before the job can finish; released on the caller's hub thread
    // together with the wake-up (one message), so the deadlock check never
    // sees a gap between "job running" and "wake-up queued".
    remote.keepalive.fetch_add(1, Ordering::AcqRel);
    let job: Job = {
        let handoff = handoff.clone();
        let remote = remote.clone();
        Box::new(move || {
            let r = catch_unwind(AssertUnwindSafe(f));
            let waiter = {
                let mut h = handoff.lock();
                h.result = Some(r);
                h.waiter.take()
            };
            drop(handoff);
            // Weak: a message left in the queue of a hub that is gone must
            // not keep that hub's `Remote` alive.
            let done = Arc::downgrade(&remote);
            remote.send(Msg::Run(Box::new(move || {
                if let Some(r) = done.upgrade() {
                    r.keepalive.fetch_sub(1, Ordering::AcqRel);
                }
                if let Some(w) = waiter {
                    w.unpark();
                }
            })));
        })
    };
    if let Err((job, e)) = submit(job) {
        drop(job);
        remote.keepalive.fetch_sub(1, Ordering::AcqRel);
        return Err(TpoolError::Spawn(e));
    }
    loop {
        let parker = {
            let mut h = handoff.lock();
            if let Some(r) = h.result.take() {
                return r.map_err(TpoolError::Panicked);
            }
            let parker = Parker::current();
            h.waiter = Some(parker.unparker());
            parker
        };
        // A pool thread holds the handoff and the hub's keepalive, so the
        // wait is never reported as a deadlock.
        if let Err(e) = parker.park("tpool::execute", None, &|| true) {
            let mut h = handoff.lock();
            h.waiter = None;
            // The result is dropped with the last reference to the handoff,
            // on whichever side lets go last.
            return Err(TpoolError::Wait(e));
        }
    }
}

/// Resolves `addr` to socket addresses, like
/// [`ToSocketAddrs::to_socket_addrs`], running `getaddrinfo` on a pool
/// thread so only the calling green thread waits.
///
/// Numeric addresses (a `SocketAddr`, an `(IpAddr, u16)` pair, or a string
/// such as `"127.0.0.1:80"` or `("::1", 80)`) are converted right here,
/// without the pool.
///
/// # Errors
///
/// The resolver's error (e.g. an unknown host), or the caller's wait error
/// mapped to `io::Error` (timed out: `TimedOut`; killed: `Other`).
///
/// # Examples
///
/// ```
/// use std::net::SocketAddr;
/// use thicket_green::tpool;
///
/// let addrs = tpool::resolve("127.0.0.1:8080")?; // numeric: no pool thread
/// assert_eq!(addrs, vec!["127.0.0.1:8080".parse::<SocketAddr>().unwrap()]);
/// let addrs = tpool::resolve(("localhost", 80))?; // getaddrinfo in the pool
/// assert!(addrs.iter().all(|a| a.port() == 80 && a.ip().is_loopback()));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn resolve<A>(addr: A) -> io::Result<Vec<SocketAddr>>
where
    A: ToSocketAddrs + Send + 'static,
{
    if is_numeric(&addr) {
        return addr.to_socket_addrs().map(Iterator::collect);
    }
    execute(move || addr.to_socket_addrs().map(Iterator::collect::<Vec<_>>))?
}

/// Whether resolving `addr` needs no name lookup.
fn is_numeric(addr: &dyn Any) -> bool {
    let host_port = |s: &str| s.parse::<SocketAddr>().is_ok();
    let host = |s: &str| s.parse::<IpAddr>().is_ok();
    if let Some(s) = addr.downcast_ref::<&'static str>() {
        return host_port(s);
    }
    if let Some(s) = addr.downcast_ref::<String>() {
        return host_port(s);
    }
    if let Some((h, _)) = addr.downcast_ref::<(&'static str, u16)>() {
        return host(h);
    }
    if let Some((h, _)) = addr.downcast_ref::<(String, u16)>() {
        return host(h);
    }
    addr.is::<SocketAddr>()
        || addr.is::<SocketAddrV4>()
        || addr.is::<SocketAddrV6>()
        || addr.is::<(IpAddr, u16)>()
        || addr.is::<(Ipv4Addr, u16)>()
        || addr.is::<(Ipv6Addr, u16)>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_addresses_skip_the_pool() {
        assert!(is_numeric(&"127.0.0.1:80"));
        assert!(is_numeric(&String::from("[::1]:80")));
        assert!(is_numeric(&("10.0.0.1", 1u16)));
        assert!(is_numeric(&(String::from("::1"), 1u16)));
        assert!(is_numeric(&"127.0.0.1:80".parse::<SocketAddr>().unwrap()));
        assert!(is_numeric(&(Ipv4Addr::LOCALHOST, 1u16)));
        assert!(!is_numeric(&"localhost:80"));
        assert!(!is_numeric(&("localhost", 80u16)));
        assert!(!is_numeric(&String::from("example.invalid:1")));
    }

    #[test]
    fn io_error_from_a_panic_names_it() {
        let e = execute(|| -> u8 { panic!("kaboom") }).unwrap_err();
        let io: io::Error = e.into();
        assert_eq!(io.kind(), io::ErrorKind::Other);
        assert!(io.to_string().contains("kaboom"), "{io}");
    }
}
