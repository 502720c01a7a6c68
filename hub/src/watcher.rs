//! The watcher types. Each is an owning handle to a slot in its loop: dropping
//! it stops the watcher and frees the slot. Callbacks receive a borrowed view
//! of their own watcher, through which they can stop or restart it and reach
//! the loop ([`Timer::get_loop`] and friends).

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::event_loop::{Callback, Key, Kind, Loop, Shared};
use crate::io::{Interest, Ready};
use crate::sys;

/// The slot reference behind every watcher type.
pub(crate) struct Handle {
    lp: Loop,
    key: Key,
    owned: bool,
}

impl Handle {
    fn new(lp: &Loop, kind: Kind, cb: Callback) -> Handle {
        Handle {
            lp: lp.clone(),
            key: lp.alloc(kind, cb),
            owned: true,
        }
    }

    /// A non-owning handle for the callback of the watcher at `key`.
    fn view(lp: &Loop, key: Key) -> Handle {
        Handle {
            lp: lp.clone(),
            key,
            owned: false,
        }
    }

    fn start(&self) {
        self.lp.with_state(|st| st.activate(self.key));
    }

    fn stop(&self) {
        self.lp.with_state(|st| st.deactivate(self.key));
    }

    fn is_active(&self) -> bool {
        self.lp
            .with_state(|st| st.slot(self.key).is_some_and(|s| s.active))
    }

    fn set_ref(&self, refd: bool) {
        self.lp.with_state(|st| st.set_ref(self.key, refd));
    }

    fn is_ref(&self) -> bool {
        self.lp
            .with_state(|st| st.slot(self.key).is_some_and(|s| s.refd))
    }

    fn with_kind<R>(&self, f: impl FnOnce(&mut Kind) -> R) -> Option<R> {
        self.lp
            .with_state(|st| st.slot_mut(self.key).map(|s| f(&mut s.kind)))
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if self.owned {
            self.lp.free(self.key);
        }
    }
}

/// Methods every watcher type has.
macro_rules! common {
    ($ty:ident) => {
        impl $ty {
            pub(crate) fn view(lp: &Loop, key: Key) -> $ty {
                $ty {
                    h: Handle::view(lp, key),
                }
            }

            /// The loop this watcher belongs to.
            pub fn get_loop(&self) -> &Loop {
                &self.h.lp
            }

            /// Stops the watcher: its callback will not run until it is
            /// started again, even if it was already due. A no-op when stopped.
            pub fn stop(&self) {
                self.h.stop()
            }

            /// Whether the watcher is started.
            pub fn is_active(&self) -> bool {
                self.h.is_active()
            }

            /// Whether this watcher, while active, keeps [`Loop::run`] going
            /// (the default). An unreferenced watcher still fires, but does not
            /// on its own stop `run` from returning: libev's `ev_unref`.
            pub fn set_ref(&self, referenced: bool) {
                self.h.set_ref(referenced)
            }

            /// Whether the watcher keeps the loop alive while active.
            pub fn is_ref(&self) -> bool {
                self.h.is_ref()
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("index", &self.h.key.index)
                    .field("active", &self.is_active())
                    .finish()
            }
        }
    };
}

/// A timer: its callback runs once the loop's time reaches the deadline,
/// then again every `interval` if it repeats.
///
/// Deadlines are relative to the loop's cached time ([`Loop::now`]). Starting
/// and stopping cost O(log n) in the number of pending timers and allocate
/// nothing; a stopped timer leaves nothing behind. Timers due at the same
/// instant fire in the order they were started, and a timer started by a
/// callback fires in a later iteration, never the current one.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use thicket_hub::{Loop, Timer};
///
/// let lp = Loop::new()?;
/// let ticks = Rc::new(Cell::new(0));
/// let t = ticks.clone();
/// let timer = Timer::new(&lp, move |timer| {
///     t.set(t.get() + 1);
///     if t.get() == 3 {
///         timer.stop(); // a callback may stop its own watcher
///     }
/// });
/// timer.start_repeat(Duration::from_millis(1), Duration::from_millis(1));
/// lp.run()?;
/// assert_eq!(ticks.get(), 3);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Timer {
    h: Handle,
}

common!(Timer);

impl Timer {
    /// Creates a stopped timer.
    pub fn new(lp: &Loop, cb: impl FnMut(&Timer) + 'static) -> Timer {
        Timer {
            h: Handle::new(
                lp,
                Kind::Timer {
                    deadline: 0,
                    repeat: 0,
                },
                Callback::Timer(Box::new(cb)),
            ),
        }
    }

    /// Starts (or restarts) the timer to fire once, `after` from the loop's now.
    pub fn start(&self, after: Duration) {
        self.arm(after, Duration::ZERO);
    }

    /// Starts (or restarts) the timer to fire `after` from now and then every
    /// `interval`. A zero interval means once. If the loop falls behind, the
    /// timer fires once and the next deadline is a full interval later; missed
    /// ticks are not replayed.
    pub fn start_repeat(&self, after: Duration, interval: Duration) {
        self.arm(after, interval);
    }

    /// libev's `ev_timer_again`: for a repeating timer, restart it to fire
    /// one interval from now (starting it if stopped); for a one-shot timer,
    /// stop it. Cheap way to implement an inactivity timeout.
    pub fn again(&self) {
        let repeat = self.h.with_kind(|k| match k {
            Kind::Timer { repeat, .. } => *repeat,
            _ => 0,
        });
        match repeat {
            Some(r) if r > 0 => {
                let d = Duration::from_nanos(r);
                self.arm(d, d);
            }
            _ => self.stop(),
        }
    }

    /// The repeat interval, if the timer repeats.
    pub fn interval(&self) -> Option<Duration> {
        self.h
            .with_kind(|k| match k {
                Kind::Timer { repeat, .. } if *repeat > 0 => Some(Duration::from_nanos(*repeat)),
                _ => None,
            })
            .flatten()
    }

    /// Time left until the timer fires, measured from the loop's now, or
    /// `None` if it is stopped.
    pub fn remaining(&self) -> Option<Duration> {
        self.h
            .lp
            .with_state(|st| st.timer_remaining(self.h.key))
            .map(Duration::from_nanos)
    }

    fn arm(&self, after: Duration, interval: Duration) {
        let now = self.h.lp.now_ns();
        let ns = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.h.lp.with_state(|st| {
            st.deactivate(self.h.key);
            if let Some(slot) = st.slot_mut(self.h.key) {
                if let Kind::Timer { deadline, repeat } = &mut slot.kind {
                    *deadline = now.saturating_add(ns(after));
                    *repeat = ns(interval);
                }
            }
            st.activate(self.h.key);
        });
    }
}

/// Watches a file descriptor for readiness.
///
/// The descriptor is registered with the poller once, edge-triggered, for
/// both directions, when the watcher is created; starting, stopping and
/// changing the interest afterwards costs no system call. Readiness is
/// remembered until [`clear_readiness`](Io::clear_readiness) consumes it, so
/// an edge that arrives while the watcher is stopped is not lost: starting
/// the watcher reports it. The callback runs once per new edge, not while the
/// readiness merely persists; the usual pattern is to do the I/O until it
/// returns `WouldBlock`, clear that readiness, and wait for the next call.
///
/// The watcher does not own the descriptor. Keep it open while the watcher
/// lives; drop the watcher before (or right after) closing it.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use thicket_hub::{Interest, Io, Loop, Ready};
///
/// let lp = Loop::new()?;
/// let (mut a, b) = UnixStream::pair()?;
/// b.set_nonblocking(true)?;
/// let mut b2 = b.try_clone()?;
/// let io = Io::new(&lp, &b, Interest::READABLE, move |io, ready| {
///     assert!(ready.is_readable());
///     let mut buf = [0; 16];
///     let n = b2.read(&mut buf).unwrap();
///     assert_eq!(&buf[..n], b"ping");
///     io.clear_readiness(Ready::READABLE);
///     io.stop();
/// })?;
/// io.start();
/// a.write_all(b"ping")?;
/// lp.run()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Io {
    h: Handle,
}

common!(Io);

impl Io {
    /// Registers `fd` and creates a stopped watcher with the given interest.
    ///
    /// # Errors
    ///
    /// Fails if the poller refuses the descriptor (for example a regular
    /// file, which epoll does not support, or a descriptor already registered).
    pub fn new(
        lp: &Loop,
        fd: &impl AsRawFd,
        interest: Interest,
        cb: impl FnMut(&Io, Ready) + 'static,
    ) -> io::Result<Io> {
        let fd = fd.as_raw_fd();
        let h = Handle::new(
            lp,
            Kind::Io {
                fd,
                interest,
                readiness: Ready::EMPTY,
                revents: Ready::EMPTY,
            },
            Callback::Io(Box::new(cb)),
        );
        lp.register_fd(h.key, fd, mio::Interest::READABLE | mio::Interest::WRITABLE)?;
        Ok(Io { h })
    }

    /// Starts the watcher. If readiness matching the interest is already
    /// remembered, the callback runs in this iteration's dispatch (or the next
    /// iteration's, if called from outside one).
    pub fn start(&self) {
        self.h.start();
    }

    /// The watched descriptor.
    pub fn fd(&self) -> RawFd {
        self.h
            .with_kind(|k| match k {
                Kind::Io { fd, .. } => *fd,
                _ => -1,
            })
            .unwrap_or(-1)
    }

    /// The directions the callback is called for.
    pub fn interest(&self) -> Interest {
        self.h
            .with_kind(|k| match k {
                Kind::Io { interest, .. } => *interest,
                _ => Interest::BOTH,
            })
            .unwrap_or(Interest::BOTH)
    }

    /// Changes the directions the callback is called for. On an active
    /// watcher this takes effect at once, reporting remembered readiness in
    /// the new directions.
    pub fn set_interest(&self, interest: Interest) {
        let key = self.h.key;
        self.h.lp.with_state(|st| {
            if st.slot(key).is_some_and(|s| s.active) {
                st.rearm_io(key, Ready::EMPTY, interest);
            } else if let Some(Kind::Io { interest: i, .. }) = st.slot_mut(key).map(|s| &mut s.kind)
            {
                *i = interest;
            }
        });
    }

    /// The readiness remembered since it was last cleared.
    pub fn readiness(&self) -> Ready {
        self.h
            .with_kind(|k| match k {
                Kind::Io { readiness, .. } => *readiness,
                _ => Ready::EMPTY,
            })
            .unwrap_or_default()
    }

    /// Forgets the given readiness flags, typically after a system call
    /// returned `WouldBlock`. Flags that arrive later are remembered again.
    pub fn clear_readiness(&self, ready: Ready) {
        self.h.with_kind(|k| {
            if let Kind::Io { readiness, .. } = k {
                *readiness = readiness.difference(ready);
            }
        });
    }

    /// Replaces the remembered readiness with `f` of it, in one step: for
    /// a decision that depends on what is remembered, such as forgetting
    /// readability only if the peer has not also closed. Flags that arrive
    /// later are remembered again.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// use thicket_hub::{Interest, Io, Loop, Ready};
    ///
    /// let lp = Loop::new()?;
    /// let (a, b) = UnixStream::pair()?;
    /// let io = Io::new(&lp, &a, Interest::READABLE, |_, _| {})?;
    /// drop(b); // the peer hangs up: readable and read-closed
    /// lp.run_nowait()?; // collects the hang-up, though the watcher is stopped
    /// // Forget readability unless the peer is gone: it is, so it stays.
    /// io.update_readiness(|r| {
    ///     if r.is_read_closed() {
    ///         r
    ///     } else {
    ///         r.difference(Ready::READABLE)
    ///     }
    /// });
    /// assert!(io.readiness().is_readable());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn update_readiness(&self, f: impl FnOnce(Ready) -> Ready) {
        self.h.with_kind(|k| {
            if let Kind::Io { readiness, .. } = k {
                *readiness = f(*readiness);
            }
        });
    }

    /// Forgets the `forget` readiness flags, sets the interest and starts
    /// (or restarts) the watcher: [`clear_readiness`](Self::clear_readiness),
    /// [`set_interest`](Self::set_interest) and [`start`](Self::start) in
    /// turn, with one look-up of the watcher instead of several. This is
    /// what a task does before it waits after a `WouldBlock`. Remembered
    /// readiness left in the new interest makes the callback run in this
    /// iteration's dispatch, as `start` does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    /// use std::rc::Rc;
    /// use thicket_hub::{Interest, Io, Loop, Ready};
    ///
    /// let lp = Loop::new()?;
    /// let (a, mut b) = UnixStream::pair()?;
    /// let calls = Rc::new(Cell::new(0));
    /// let c = calls.clone();
    /// let io = Io::new(&lp, &a, Interest::WRITABLE, move |io, _| {
    ///     c.set(c.get() + 1);
    ///     io.stop();
    /// })?;
    /// io.rearm(Ready::EMPTY, Interest::WRITABLE);
    /// lp.run()?; // writable at once
    /// assert_eq!(calls.get(), 1);
    ///
    /// io.rearm(Ready::READABLE, Interest::READABLE);
    /// b.write_all(b"x")?;
    /// lp.run()?; // runs until the byte arrives
    /// assert_eq!(calls.get(), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn rearm(&self, forget: Ready, interest: Interest) {
        self.h
            .lp
            .with_state(|st| st.rearm_io(self.h.key, forget, interest));
    }
}

/// Runs a callback on the loop thread when a Unix signal arrives.
///
/// Several watchers, in one loop or in several, may watch the same signal;
/// each of them is called. The process-wide handler only records the signal
/// and wakes the loops, so the callback runs in ordinary code, never in
/// signal context; a signal that arrives while the loop is busy is delivered
/// at its next iteration. Several arrivals of the same signal before the loop
/// gets to them coalesce into one call. While any watcher of a signal is
/// active, thicket's handler is installed for it; when the last one stops,
/// the disposition that was in place before is restored.
///
/// # Examples
///
/// ```
/// use thicket_hub::{Loop, Signal};
///
/// let lp = Loop::new()?;
/// let sig = Signal::new(&lp, libc::SIGUSR1, |w| {
///     println!("got signal {}", w.signum());
///     w.stop();
/// })?;
/// sig.start()?;
/// // Send ourselves the signal from another process.
/// std::process::Command::new("kill")
///     .args(["-USR1", &std::process::id().to_string()])
///     .status()?;
/// lp.run()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Signal {
    h: Handle,
}

common!(Signal);

impl Signal {
    /// Creates a stopped watcher of `signum`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a signal that cannot be watched: out of `1..=64`,
    /// `SIGKILL`, `SIGSTOP`, or a synchronous fault signal (`SIGSEGV`,
    /// `SIGBUS`, `SIGILL`, `SIGFPE`).
    pub fn new(lp: &Loop, signum: i32, cb: impl FnMut(&Signal) + 'static) -> io::Result<Signal> {
        sys::signal::validate(signum)?;
        Ok(Signal {
            h: Handle::new(lp, Kind::Signal { signum }, Callback::Signal(Box::new(cb))),
        })
    }

    /// Starts the watcher; a no-op if it is active.
    ///
    /// # Errors
    ///
    /// Fails if the loop cannot set up its signal pipe (file descriptor limit)
    /// or if more than 128 loops watch signals at once.
    pub fn start(&self) -> io::Result<()> {
        if self.is_active() {
            return Ok(());
        }
        self.h.lp.signal_slot_ready()?;
        let signum = self.signum();
        self.h.lp.with_state(|st| {
            st.signal_watch(signum)?;
            st.activate(self.h.key);
            Ok(())
        })
    }

    /// The watched signal number.
    pub fn signum(&self) -> i32 {
        self.h
            .with_kind(|k| match k {
                Kind::Signal { signum } => *signum,
                _ => 0,
            })
            .unwrap_or(0)
    }
}

/// Reports the exit of one process, by pid, and reaps it.
///
/// Uses a pidfd (Linux 5.4 and later), so it needs no `SIGCHLD` handler and
/// reaps only the pid it was given: other code's `waitpid` on other children
/// keeps working. Once the process has exited, the callback gets its status
/// (or the error from reaping it, such as `ECHILD` if other code reaped it
/// first) and the watcher stops itself. Do not also wait for the process
/// elsewhere, for example with `std::process::Child::wait`.
///
/// # Examples
///
/// ```
/// use thicket_hub::{Child, Loop};
///
/// let lp = Loop::new()?;
/// let proc = std::process::Command::new("sh").args(["-c", "exit 3"]).spawn()?;
/// let watcher = Child::new(&lp, proc.id(), |_, status| {
///     assert_eq!(status.unwrap().code(), Some(3));
/// })?;
/// watcher.start();
/// lp.run()?;
/// assert!(!watcher.is_active());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Child {
    h: Handle,
}

common!(Child);

impl Child {
    /// Creates a stopped watcher for process `pid`.
    ///
    /// # Errors
    ///
    /// `ESRCH` if there is no such process (a child that exited but was not
    /// yet reaped still exists), or the pidfd or poller errors.
    pub fn new(
        lp: &Loop,
        pid: u32,
        cb: impl FnMut(&Child, io::Result<ExitStatus>) + 'static,
    ) -> io::Result<Child> {
        let pidfd = sys::pidfd::open(pid)?;
        let raw = pidfd.as_raw_fd();
        let h = Handle::new(
            lp,
            Kind::Child {
                pidfd,
                pid,
                exited: false,
            },
            Callback::Child(Box::new(cb)),
        );
        lp.register_fd(h.key, raw, mio::Interest::READABLE)?;
        Ok(Child { h })
    }

    /// Starts the watcher.
    pub fn start(&self) {
        self.h.start();
    }

    /// The watched process id.
    pub fn pid(&self) -> u32 {
        self.h
            .with_kind(|k| match k {
                Kind::Child { pid, .. } => *pid,
                _ => 0,
            })
            .unwrap_or(0)
    }
}

macro_rules! simple_watcher {
    ($(#[$doc:meta])* $ty:ident, $kind:ident) => {
        $(#[$doc])*
        pub struct $ty {
            h: Handle,
        }

        common!($ty);

        impl $ty {
            /// Creates a stopped watcher.
            pub fn new(lp: &Loop, cb: impl FnMut(&$ty) + 'static) -> $ty {
                $ty {
                    h: Handle::new(lp, Kind::$kind, Callback::$kind(Box::new(cb))),
                }
            }

            /// Starts the watcher.
            pub fn start(&self) {
                self.h.start()
            }
        }
    };
}

simple_watcher!(
    /// Runs its callback in iterations where no other callback was due, and
    /// keeps the loop from sleeping while active (libev's `ev_idle`).
    ///
    /// # Examples
    ///
    /// ```
    /// use thicket_hub::{Idle, Loop};
    ///
    /// let lp = Loop::new()?;
    /// let idle = Idle::new(&lp, |w| w.stop());
    /// idle.start();
    /// lp.run()?;
    /// assert!(!idle.is_active());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    Idle,
    Idle
);

simple_watcher!(
    /// Runs its callback at the start of every iteration, just before the
    /// loop polls (libev's `ev_prepare`): the last chance to act before the
    /// thread may sleep.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use thicket_hub::{Loop, Prepare};
    ///
    /// let lp = Loop::new()?;
    /// let prepare = Prepare::new(&lp, |w| w.get_loop().break_loop());
    /// prepare.start();
    /// lp.run()?; // the prepare watcher breaks out after one iteration
    /// assert_eq!(lp.iteration(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    Prepare,
    Prepare
);

simple_watcher!(
    /// Runs its callback in every iteration right after the poll returns,
    /// before any other callback of that iteration (libev's `ev_check`).
    /// Like [`Prepare`], it keeps [`Loop::run`] going while active but never
    /// wakes a sleeping poll by itself.
    ///
    /// # Examples
    ///
    /// ```
    /// use thicket_hub::{Check, Loop};
    ///
    /// use std::time::Duration;
    /// use thicket_hub::Timer;
    ///
    /// let lp = Loop::new()?;
    /// // A check watcher does not wake the loop by itself: it runs after
    /// // each poll, here the one that the timer ends.
    /// let check = Check::new(&lp, |w| w.stop());
    /// check.start();
    /// let timer = Timer::new(&lp, |_| {});
    /// timer.start(Duration::from_millis(1));
    /// lp.run()?;
    /// assert!(!check.is_active());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    Check,
    Check
);

pub(crate) struct AsyncFlag {
    pub(crate) pending: AtomicBool,
    shared: Arc<Shared>,
}

/// Wakes a loop from any thread: [`AsyncSender::send`] makes the callback run
/// on the loop's own thread.
///
/// Sends that happen before the loop gets to them coalesce into one call. A
/// send while the watcher is stopped is remembered and delivered when it is
/// started.
///
/// # Examples
///
/// ```
/// use thicket_hub::{Async, Loop};
///
/// let lp = Loop::new()?;
/// let wake = Async::new(&lp, |w| w.stop());
/// wake.start();
/// let sender = wake.sender();
/// std::thread::spawn(move || sender.send());
/// lp.run()?; // returns once the other thread's send has been handled
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Async {
    h: Handle,
}

common!(Async);

impl Async {
    /// Creates a stopped watcher.
    pub fn new(lp: &Loop, cb: impl FnMut(&Async) + 'static) -> Async {
        let flag = Arc::new(AsyncFlag {
            pending: AtomicBool::new(false),
            shared: lp.inner.shared.clone(),
        });
        Async {
            h: Handle::new(lp, Kind::Async { flag }, Callback::Async(Box::new(cb))),
        }
    }

    /// Starts the watcher.
    pub fn start(&self) {
        self.h.start()
    }

    /// A handle that other threads use to trigger this watcher.
    pub fn sender(&self) -> AsyncSender {
        let flag = self
            .h
            .with_kind(|k| match k {
                Kind::Async { flag } => Some(flag.clone()),
                _ => None,
            })
            .flatten()
            .expect("an Async handle always has its slot");
        AsyncSender { flag }
    }
}

/// The `Send + Sync` side of an [`Async`] watcher.
#[derive(Clone)]
pub struct AsyncSender {
    flag: Arc<AsyncFlag>,
}

impl AsyncSender {
    /// Makes the watcher's callback run on its loop's thread. Costs one
    /// atomic swap when a send is already outstanding, and at most one
    /// eventfd write otherwise. Harmless after the watcher or loop is gone.
    pub fn send(&self) {
        if !self.flag.pending.swap(true, Ordering::SeqCst) {
            self.flag.shared.wake();
        }
    }
}

impl fmt::Debug for AsyncSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncSender")
            .field("pending", &self.flag.pending.load(Ordering::Relaxed))
            .finish()
    }
}
