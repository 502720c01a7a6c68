//! Waiting for a file descriptor's readiness from green code: the core
//! under every green socket and pipe.
//!
//! A [`Source`] owns a non-blocking descriptor. Each operation tries the
//! system call first and parks the calling green thread only when it returns
//! `WouldBlock`; the hub's io watcher (registered once per hub, edge
//! triggered) wakes it when the descriptor becomes ready, and the call is
//! retried. Nothing is polled while the call runs: a readiness edge can only
//! be collected when this hub polls, which happens after the park begins, so
//! clearing the remembered readiness just before parking loses no edge.
//!
//! A `Source` is `Send + Sync`: a socket may be handed to a green thread on
//! another hub (a runtime's acceptor does this). It is registered lazily with
//! the hub of each thread that waits on it, and every such registration is
//! removed on that hub's own thread before the descriptor is closed, so a
//! reused descriptor number can never be deregistered by mistake.
//!
//! At most one green thread waits per direction: a second reader (or
//! writer) gets an error instead of a silent race. [`Source::close`] wakes
//! the waiters with an error and fails every later call.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::spin::SpinMutex as Mutex;
use thicket_hub::{Interest, Io, Ready};

use crate::hub;
use crate::park::{Parker, Unparker, WaitError};

/// Which way an operation moves data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    fn verb(self) -> &'static str {
        match self {
            Direction::Read => "reading from",
            Direction::Write => "writing to",
        }
    }
}

/// Who to wake in each direction; each is taken by whoever wakes it.
#[derive(Default)]
struct Waiters {
    read: Option<Unparker>,
    write: Option<Unparker>,
}

impl Waiters {
    fn side(&mut self, dir: Direction) -> &mut Option<Unparker> {
        match dir {
            Direction::Read => &mut self.read,
            Direction::Write => &mut self.write,
        }
    }

    /// The directions someone waits for.
    fn interest(&self) -> Option<Interest> {
        match (self.read.is_some(), self.write.is_some()) {
            (true, true) => Some(Interest::BOTH),
            (true, false) => Some(Interest::READABLE),
            (false, true) => Some(Interest::WRITABLE),
            (false, false) => None,
        }
    }
}

// With thousands of sockets, each cache line a wait or its wake-up touches
// is a miss. So the first line holds all they use (the lock, both wakers,
// the busy, closed and timeout flags), the second what registration and
// timeouts need, and the Arc counts, on the line before, are not touched
// after registration (the watcher's callback holds a strong reference).
#[repr(C, align(64))]
struct Inner {
    waiters: Mutex<Waiters>,
    /// A green thread is inside a wait in this direction (read, write).
    /// Changed only with `waiters` locked.
    busy: [AtomicBool; 2],
    closed: AtomicBool,
    /// Whether a timeout is set in this direction (read, write): a call
    /// without one need not read the second line.
    timed: [AtomicBool; 2],
    /// Per-call timeouts in nanoseconds; 0 means none.
    read_timeout: AtomicU64,
    write_timeout: AtomicU64,
    /// Hubs whose loop has this descriptor registered (normally one).
    hubs: Mutex<Vec<usize>>,
}

impl Inner {
    fn busy(&self, dir: Direction) -> &AtomicBool {
        &self.busy[dir as usize]
    }
}

thread_local! {
    /// This thread's hub's io watchers, by source key (`Source::key`).
    static WATCHERS: RefCell<HashMap<usize, Io, BuildHasherDefault<IdHasher>>> =
        RefCell::new(HashMap::default());
}

/// Source keys are distinct addresses divided by their alignment: they need
/// no hashing beyond a mix of their bits, and SipHash would cost more than
/// the rest of a lookup.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// A non-blocking descriptor that green threads can wait on.
pub(crate) struct Source {
    inner: Arc<Inner>,
    fd: Option<OwnedFd>,
}

impl Source {
    /// Takes ownership of `fd` and makes it non-blocking.
    pub(crate) fn new(fd: OwnedFd) -> io::Result<Source> {
        crate::sys::set_nonblocking(fd.as_fd(), true)?;
        Ok(Source::from_nonblocking(fd))
    }

    /// Takes ownership of `fd`, which was opened non-blocking (`SOCK_NONBLOCK`,
    /// `accept4`'s flag): no `fcntl` to check, one system call fewer per
    /// accepted or connected socket than [`new`](Self::new).
    pub(crate) fn from_nonblocking(fd: OwnedFd) -> Source {
        debug_assert!(
            crate::sys::is_nonblocking(fd.as_fd()).unwrap_or(false),
            "a descriptor opened blocking was taken as non-blocking"
        );
        Source {
            inner: Arc::new(Inner {
                closed: AtomicBool::new(false),
                read_timeout: AtomicU64::new(0),
                write_timeout: AtomicU64::new(0),
                waiters: Mutex::new(Waiters::default()),
                busy: [AtomicBool::new(false), AtomicBool::new(false)],
                timed: [AtomicBool::new(false), AtomicBool::new(false)],
                hubs: Mutex::new(Vec::new()),
            }),
            fd: Some(fd),
        }
    }

    /// The owned descriptor.
    pub(crate) fn owned_fd(&self) -> &OwnedFd {
        self.fd.as_ref().expect("a live source owns its fd")
    }

    /// The raw descriptor, read from this handle rather than the shared
    /// state: a call need not touch more of that than its wait does.
    pub(crate) fn fd(&self) -> RawFd {
        self.owned_fd().as_raw_fd()
    }

    /// Sets the timeout each call in `dir` may wait for (`None`: no limit).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero duration, as std does.
    pub(crate) fn set_timeout(&self, dir: Direction, t: Option<Duration>) -> io::Result<()> {
        let nanos = match t {
            Some(d) if d.is_zero() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "cannot set a 0 duration timeout",
                ))
            }
            Some(d) => u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
            None => 0,
        };
        self.timeout_cell(dir).store(nanos, Ordering::Relaxed);
        self.inner.timed[dir as usize].store(nanos != 0, Ordering::Relaxed);
        Ok(())
    }

    /// The timeout of calls in `dir`.
    pub(crate) fn timeout(&self, dir: Direction) -> Option<Duration> {
        if !self.inner.timed[dir as usize].load(Ordering::Relaxed) {
            return None;
        }
        match self.timeout_cell(dir).load(Ordering::Relaxed) {
            0 => None,
            n => Some(Duration::from_nanos(n)),
        }
    }

    /// This source's key in `WATCHERS`: the address of its state, which is
    /// read from no memory. No other source can have it while any map holds
    /// it, since the watcher stored under it keeps the state alive.
    fn key(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize / std::mem::align_of::<Inner>()
    }

    fn timeout_cell(&self, dir: Direction) -> &AtomicU64 {
        match dir {
            Direction::Read => &self.inner.read_timeout,
            Direction::Write => &self.inner.write_timeout,
        }
    }

    /// Whether [`close`](Self::close) was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }

    /// Marks the source closed and wakes its waiters, which (like every
    /// later call) fail with `NotConnected`. The descriptor itself stays
    /// open until the source is dropped; callers shut the socket down first
    /// so that the peer sees the close at once.
    pub(crate) fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        let mut w = self.inner.waiters.lock();
        let w = &mut *w;
        for side in [&mut w.read, &mut w.write] {
            if let Some(u) = side.take() {
                u.unpark();
            }
        }
    }

    fn check_open(&self, what: &'static str) -> io::Result<()> {
        if self.is_closed() {
            return Err(closed_error(what));
        }
        Ok(())
    }

    /// Runs `op` until it returns something other than `WouldBlock` (or
    /// `Interrupted`), parking in between until the descriptor is ready in
    /// `dir`. The direction's timeout bounds the whole call.
    ///
    /// # Errors
    ///
    /// `op`'s error; `TimedOut` when the timeout or an enclosing
    /// `with_timeout` deadline passes; `NotConnected` once closed; an error
    /// naming the conflict if another green thread already waits in `dir`;
    /// `Other` if the green thread is killed.
    pub(crate) fn do_io<R>(
        &self,
        dir: Direction,
        what: &'static str,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        let mut deadline: Option<Option<u64>> = None;
        loop {
            self.check_open(what)?;
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => return r,
            }
            let dl = *deadline
                .get_or_insert_with(|| self.timeout(dir).map(crate::timeout::deadline_after));
            self.wait(dir, what, dl, true)?;
        }
    }

    /// Forgets remembered readiness in `dir` on this thread's hub, after an
    /// operation drained the descriptor (a read that returned less than
    /// asked): on Linux every later arrival is a new edge, so a wait that
    /// does not clear first ([`wait`](Self::wait) with `clear` false) sleeps
    /// until data really comes, with no system call to find that out.
    pub(crate) fn drained(&self, dir: Direction) {
        let id = self.key();
        let _ = WATCHERS.try_with(|m| {
            if let Some(io) = m.borrow().get(&id) {
                // An end of stream or an error seen with the data is not
                // drained by reading the data: it must end the next wait.
                io.update_readiness(|seen| {
                    let (flag, closed) = match dir {
                        Direction::Read => (Ready::READABLE, seen.is_read_closed()),
                        Direction::Write => (Ready::WRITABLE, seen.is_write_closed()),
                    };
                    if closed || seen.is_error() {
                        seen
                    } else {
                        seen.difference(flag)
                    }
                });
            }
        });
    }

    /// Parks the calling green thread until the descriptor may be ready in
    /// `dir` (or closed, or `deadline` passes). With `clear`, call it only
    /// right after the operation returned `WouldBlock`: the readiness
    /// remembered so far is forgotten. Without, remembered readiness ends
    /// the wait at once (see [`drained`](Self::drained)).
    ///
    /// # Errors
    ///
    /// As for [`do_io`](Self::do_io).
    pub(crate) fn wait(
        &self,
        dir: Direction,
        what: &'static str,
        deadline: Option<u64>,
        clear: bool,
    ) -> io::Result<()> {
        let parker = Parker::current();
        let interest = {
            let mut w = self.inner.waiters.lock();
            if self.is_closed() {
                return Err(closed_error(what));
            }
            let busy = self.inner.busy(dir);
            if busy.load(Ordering::Relaxed) {
                return Err(io::Error::new(
                    io::ErrorKind::ResourceBusy,
                    format!(
                        "{what}: another green thread is already {} this descriptor",
                        dir.verb()
                    ),
                ));
            }
            busy.store(true, Ordering::Relaxed);
            *w.side(dir) = Some(parker.unparker());
            w.interest().unwrap_or(Interest::BOTH)
        };
        let result = match self.arm(dir, interest, clear) {
            Ok(()) => parker
                .park(what, deadline, &|| true)
                .map_err(|e| wait_error(e, what, dir)),
            Err(e) => Err(e),
        };
        let stale = {
            let mut w = self.inner.waiters.lock();
            self.inner.busy(dir).store(false, Ordering::Relaxed);
            // Still there: the wait ended without the watcher (timeout, kill)
            // or `close` took it; either way the watcher may now watch for
            // nobody, and an active watcher keeps the hub alive. When the
            // watcher woke us, its callback has already updated it.
            let ours = w.side(dir).take().is_some();
            (ours || self.is_closed()).then(|| w.interest())
        };
        if let Some(interest) = stale {
            let id = self.key();
            WATCHERS.with(|m| {
                if let Some(io) = m.borrow().get(&id) {
                    match interest {
                        Some(i) => io.set_interest(i),
                        None => io.stop(),
                    }
                }
            });
        }
        result?;
        // A close while we slept ends the wait with its error.
        self.check_open(what)
    }

    /// Makes this hub's watcher report readiness in `dir`, registering the
    /// descriptor with this hub's loop first if needed. Whether it is
    /// registered comes from this thread's watcher map, which the lookup
    /// reads anyway, not from `hubs`: one cache line fewer per wait.
    fn arm(&self, dir: Direction, interest: Interest, clear: bool) -> io::Result<()> {
        let id = self.key();
        let forget = match (clear, dir) {
            (false, _) => Ready::EMPTY,
            (true, Direction::Read) => Ready::READABLE,
            (true, Direction::Write) => Ready::WRITABLE,
        };
        let start = |io: &Io| io.rearm(forget, interest);
        let armed = WATCHERS.with(|m| m.borrow().get(&id).map(start).is_some());
        if armed {
            return Ok(());
        }
        let inner = self.inner.clone();
        let io = hub::with(|h| Io::new(&h.lp, &self.fd(), Interest::BOTH, callback(inner)));
        let io = match io {
            Ok(io) => io,
            Err(e) => {
                let mut w = self.inner.waiters.lock();
                self.inner.busy(dir).store(false, Ordering::Relaxed);
                *w.side(dir) = None;
                return Err(e);
            }
        };
        start(&io);
        WATCHERS.with(|m| m.borrow_mut().insert(id, io));
        let hub_id = hub::with(|h| h.id);
        self.inner.hubs.lock().push(hub_id);
        Ok(())
    }

    /// Removes every hub registration, each on its hub's thread; `fd` is
    /// closed once the last is gone (if given).
    fn deregister(&mut self, fd: Option<OwnedFd>) {
        let hubs = std::mem::take(&mut *self.inner.hubs.lock());
        let id = self.key();
        let here = hub::try_current().map(|h| h.id);
        let fd = Arc::new(fd);
        for hub_id in hubs {
            if Some(hub_id) == here {
                WATCHERS.with(|m| m.borrow_mut().remove(&id));
            } else {
                let fd = fd.clone();
                hub::run_on(
                    hub_id,
                    Box::new(move || {
                        let _ = WATCHERS.try_with(|m| m.borrow_mut().remove(&id));
                        drop(fd);
                    }),
                );
            }
        }
    }

    /// Gives the descriptor back, removing it from every hub. It stays
    /// non-blocking.
    pub(crate) fn into_owned_fd(mut self) -> OwnedFd {
        self.deregister(None);
        self.fd.take().expect("a live source owns its fd")
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        let fd = self.fd.take();
        if fd.is_some() {
            self.deregister(fd);
        }
    }
}

impl AsRawFd for Source {
    fn as_raw_fd(&self) -> RawFd {
        self.fd()
    }
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("fd", &self.fd.as_ref().map(AsRawFd::as_raw_fd))
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The io watcher callback: wake whoever waits in the ready directions.
///
/// It holds the source's state strongly, so a wake-up touches no reference
/// count: the watcher, and with it this reference, is dropped when the
/// source deregisters (or with the hub's thread, if that goes first).
fn callback(inner: Arc<Inner>) -> impl FnMut(&Io, Ready) + 'static {
    move |io, ready| {
        let mut w = inner.waiters.lock();
        if ready.is_readable() {
            if let Some(u) = w.read.take() {
                u.unpark();
            }
        }
        if ready.is_writable() {
            if let Some(u) = w.write.take() {
                u.unpark();
            }
        }
        match w.interest() {
            Some(i) => io.set_interest(i),
            None => io.stop(),
        }
    }
}

fn closed_error(what: &'static str) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        format!("{what}: the socket was closed"),
    )
}

/// A failed park as the I/O error the call returns.
fn wait_error(e: WaitError, what: &'static str, dir: Direction) -> io::Error {
    match e {
        WaitError::TimedOut => io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "{what}: timed out {}",
                match dir {
                    Direction::Read => "waiting to read",
                    Direction::Write => "waiting to write",
                }
            ),
        ),
        other => io::Error::from(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    fn pair() -> (Source, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        (Source::new(OwnedFd::from(a)).unwrap(), b)
    }

    fn read(src: &Source, buf: &mut [u8]) -> io::Result<usize> {
        src.do_io(Direction::Read, "read", || {
            crate::sys::read(src.owned_fd().as_fd(), buf)
        })
    }

    #[test]
    fn parks_until_readable_and_other_green_threads_run() {
        let (src, mut peer) = pair();
        let src = Arc::new(src);
        let s = src.clone();
        let reader = crate::spawn(move || {
            let mut buf = [0; 8];
            let n = read(&s, &mut buf).unwrap();
            buf[..n].to_vec()
        });
        let writer = crate::spawn(move || peer.write_all(b"hello").unwrap());
        writer.join().unwrap();
        assert_eq!(reader.join().unwrap(), b"hello");
    }

    #[test]
    fn second_reader_gets_an_error_and_close_wakes_the_first() {
        let (src, _peer) = pair();
        let src = Arc::new(src);
        let s = src.clone();
        let first = crate::spawn(move || read(&s, &mut [0; 8]).unwrap_err());
        crate::yield_now().unwrap(); // first is now parked
        let s = src.clone();
        let second = crate::spawn(move || read(&s, &mut [0; 8]).unwrap_err());
        let e = second.join().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::ResourceBusy, "{e}");
        assert!(e.to_string().contains("already reading"), "{e}");
        src.close();
        let e = first.join().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::NotConnected, "{e}");
        assert!(e.to_string().contains("closed"), "{e}");
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "opened blocking")]
    fn a_blocking_descriptor_is_not_taken_as_non_blocking() {
        let (a, _b) = UnixStream::pair().unwrap();
        let _ = Source::from_nonblocking(OwnedFd::from(a));
    }

    /// Registers `src` with this thread's hub: a socket is writable at
    /// once, so the wait ends as soon as the watcher reports it.
    fn register_here(src: &Source) {
        src.wait(Direction::Write, "test", None, true).unwrap();
    }

    #[test]
    fn a_dropped_source_frees_its_state() {
        let (src, _peer) = pair();
        register_here(&src);
        let state = Arc::downgrade(&src.inner);
        drop(src);
        assert_eq!(state.strong_count(), 0, "the watcher still holds it");
    }

    #[test]
    fn a_source_dropped_on_another_hub_frees_its_state() {
        let rt = crate::Runtime::new(1).unwrap();
        let (src, _peer) = pair();
        register_here(&src);
        let state = Arc::downgrade(&src.inner);
        rt.spawn(move || {
            register_here(&src);
            drop(src);
        })
        .join()
        .unwrap();
        // This hub's watcher goes when this hub handles the message the
        // drop sent it; a yield handles what is queued.
        crate::yield_now().unwrap();
        assert_eq!(state.strong_count(), 0, "a watcher still holds it");
    }

    #[test]
    fn a_source_outliving_its_hub_frees_its_state() {
        let rt = crate::Runtime::new(1).unwrap();
        let (src, _peer) = pair();
        let src = rt
            .spawn(move || {
                register_here(&src);
                src
            })
            .join()
            .unwrap();
        let state = Arc::downgrade(&src.inner);
        drop(rt);
        drop(src);
        assert_eq!(state.strong_count(), 0, "the gone hub's watcher holds it");
    }

    #[test]
    fn timeout_applies_and_leaves_no_waiter() {
        let (src, mut peer) = pair();
        src.set_timeout(Direction::Read, Some(Duration::from_millis(5)))
            .unwrap();
        let e = read(&src, &mut [0; 8]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{e}");
        assert!(!src.inner.busy(Direction::Read).load(Ordering::Relaxed));
        peer.write_all(b"x").unwrap();
        assert_eq!(read(&src, &mut [0; 8]).unwrap(), 1);
        assert!(src
            .set_timeout(Direction::Read, Some(Duration::ZERO))
            .is_err());
    }
}
