//! Unix signals, received on a green thread.
//!
//! [`Signals`] subscribes to a set of signals on the current hub and queues
//! each arrival until a green thread (or plain code) takes it with
//! [`recv`](Signals::recv); [`wait`] is the one-shot form. The process-wide
//! handler only records the signal and wakes the hub (see
//! [`thicket_hub::Signal`]), so receiving code runs as ordinary code, never in
//! signal context, and may do anything.
//!
//! While a subscription lives, thicket's handler is installed for its
//! signals (replacing the default action, e.g. terminating on `SIGTERM`);
//! when the last subscription of a signal in the process goes, the
//! disposition that was in place before comes back.
//!
//! A waiting receiver keeps its hub alive: a green thread that waits for a
//! signal is never reported as a deadlock, and [`run`](crate::run) keeps
//! going while it waits. A subscription that nobody is waiting on does not
//! keep the hub alive by itself.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::rc::{Rc, Weak};
use std::time::Duration;

use crate::hub;
use crate::park::{Parker, WaitError, WaitList};
use crate::timeout::deadline_after;

struct Inner {
    /// Arrived, not yet received; each signal number at most once.
    queue: VecDeque<i32>,
    waiters: WaitList,
}

/// A subscription to some Unix signals on the current hub, queueing arrivals
/// until they are received.
///
/// Arrivals of different signals are all kept, in the order the hub saw
/// them; repeated arrivals of a signal that is already queued coalesce into
/// one, as the kernel does for pending signals. Nothing is lost between two
/// `recv` calls. Several green threads of the hub may receive from one
/// `Signals` (through an `Rc`); each arrival goes to one of them.
///
/// `Signals` belongs to the hub thread that created it (it is not `Send`).
/// Dropping it stops its watchers.
///
/// # Examples
///
/// ```
/// use thicket_green::signal::Signals;
///
/// let signals = Signals::new(&[libc::SIGUSR1, libc::SIGUSR2])?;
/// // SAFETY: raise only sends a signal, which `signals` now handles.
/// unsafe { libc::raise(libc::SIGUSR2) };
/// assert_eq!(signals.recv()?, libc::SIGUSR2);
/// assert_eq!(signals.try_recv(), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Signals {
    inner: Rc<RefCell<Inner>>,
    watchers: Vec<thicket_hub::Signal>,
    /// Receivers parked right now; while there is one, the watchers keep the
    /// hub alive.
    waiting: std::cell::Cell<usize>,
}

impl Signals {
    /// Subscribes to `signals` on the current hub (creating it if needed).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a signal that cannot be caught (`SIGKILL`,
    /// `SIGSTOP`), a synchronous fault signal (`SIGSEGV`, `SIGBUS`, `SIGILL`,
    /// `SIGFPE`) or a number out of `1..=64`; or the hub's error setting up
    /// its signal pipe (file descriptor limit).
    ///
    /// # Examples
    ///
    /// ```
    /// use thicket_green::signal::Signals;
    ///
    /// let err = Signals::new(&[libc::SIGKILL]).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub fn new(signals: &[i32]) -> io::Result<Signals> {
        let inner = Rc::new(RefCell::new(Inner {
            queue: VecDeque::new(),
            waiters: WaitList::default(),
        }));
        let mut watchers = Vec::with_capacity(signals.len());
        for &signum in signals {
            let weak: Weak<RefCell<Inner>> = Rc::downgrade(&inner);
            let w = hub::with(|h| {
                thicket_hub::Signal::new(&h.lp, signum, move |w| {
                    if let Some(inner) = weak.upgrade() {
                        let mut st = inner.borrow_mut();
                        let signum = w.signum();
                        if !st.queue.contains(&signum) {
                            st.queue.push_back(signum);
                        }
                        st.waiters.notify_one();
                    }
                })
            })?;
            w.set_ref(false);
            w.start()?;
            watchers.push(w);
        }
        Ok(Signals {
            inner,
            watchers,
            waiting: std::cell::Cell::new(0),
        })
    }

    /// Waits for the next signal and returns its number; returns at once if
    /// one is queued.
    ///
    /// # Errors
    ///
    /// [`WaitError::TimedOut`] if an enclosing
    /// [`with_timeout`](crate::with_timeout) deadline passes first,
    /// [`WaitError::Cancelled`] if the green thread is killed,
    /// [`WaitError::Deadlock`] if the subscription watches no signal at all.
    /// A receiver that fails takes nothing from the queue.
    pub fn recv(&self) -> Result<i32, WaitError> {
        self.recv_until(None)
    }

    /// Like [`recv`](Self::recv), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// As for `recv`; [`WaitError::TimedOut`] if no signal arrived within
    /// `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use thicket_green::{signal::Signals, WaitError};
    ///
    /// let signals = Signals::new(&[libc::SIGUSR1])?;
    /// assert_eq!(signals.recv_timeout(Duration::from_millis(1)), Err(WaitError::TimedOut));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn recv_timeout(&self, timeout: Duration) -> Result<i32, WaitError> {
        self.recv_until(Some(deadline_after(timeout)))
    }

    /// The next queued signal, if one has arrived; never blocks.
    ///
    /// The hub notices arrivals when it polls, so a signal sent a moment ago
    /// may show up only after the next blocking call or
    /// [`yield_now`](crate::yield_now).
    pub fn try_recv(&self) -> Option<i32> {
        self.inner.borrow_mut().queue.pop_front()
    }

    /// An iterator that blocks in [`recv`](Self::recv) for each signal and
    /// ends when a `recv` fails (killed, timed out).
    ///
    /// # Examples
    ///
    /// ```
    /// use thicket_green::signal::Signals;
    ///
    /// let signals = Signals::new(&[libc::SIGUSR1])?;
    /// // SAFETY: raise only sends a signal, which `signals` now handles.
    /// unsafe { libc::raise(libc::SIGUSR1) };
    /// for signum in &signals {
    ///     assert_eq!(signum, libc::SIGUSR1);
    ///     break;
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn iter(&self) -> Iter<'_> {
        Iter { signals: self }
    }

    /// The signal numbers this subscription watches.
    pub fn signals(&self) -> Vec<i32> {
        self.watchers.iter().map(|w| w.signum()).collect()
    }

    fn recv_until(&self, deadline: Option<u64>) -> Result<i32, WaitError> {
        loop {
            let (parker, ticket) = {
                let mut st = self.inner.borrow_mut();
                if let Some(signum) = st.queue.pop_front() {
                    return Ok(signum);
                }
                let parker = Parker::current();
                let ticket = st.waiters.push(parker.unparker());
                (parker, ticket)
            };
            self.add_waiting(1);
            // Only a signal can end this wait, and it comes through the
            // hub's loop: the referenced watchers keep that alive, so the
            // deadlock check needs no help (a `Signals` watching nothing does
            // deadlock, rightly).
            let r = parker.park("Signals::recv", deadline, &|| false);
            self.add_waiting(-1);
            let mut st = self.inner.borrow_mut();
            if !st.waiters.remove(ticket) {
                // Chosen for an arrival: take it, or pass it on if giving up.
                if r.is_err() {
                    st.waiters.notify_one();
                }
            }
            r?;
        }
    }

    /// Counts parked receivers; the watchers keep the hub alive exactly
    /// while there is one.
    fn add_waiting(&self, delta: isize) {
        let before = self.waiting.get();
        let after = before.wrapping_add_signed(delta);
        self.waiting.set(after);
        if (before == 0) != (after == 0) {
            for w in &self.watchers {
                w.set_ref(after > 0);
            }
        }
    }
}

impl fmt::Debug for Signals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.borrow();
        f.debug_struct("Signals")
            .field("signals", &self.signals())
            .field("queued", &st.queue)
            .field("waiters", &st.waiters.len())
            .finish()
    }
}

/// The iterator of [`Signals::iter`].
#[derive(Debug)]
pub struct Iter<'a> {
    signals: &'a Signals,
}

impl Iterator for Iter<'_> {
    type Item = i32;

    fn next(&mut self) -> Option<i32> {
        self.signals.recv().ok()
    }
}

impl<'a> IntoIterator for &'a Signals {
    type Item = i32;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Waits until one of `signals` arrives and returns its number (a one-shot
/// [`Signals`]). Only arrivals after the call count: subscribe with
/// [`Signals::new`] first if a signal may come before the wait starts.
///
/// # Errors
///
/// As [`Signals::new`] for a signal that cannot be watched; the wait's
/// [`WaitError`] (timed out, killed) mapped to `io::Error`.
///
/// # Examples
///
/// ```
/// use thicket_green::{signal, spawn, yield_now};
///
/// let waiter = spawn(|| signal::wait(&[libc::SIGTERM, libc::SIGHUP]));
/// yield_now()?; // the waiter subscribes and parks
/// // SAFETY: kill only sends a signal to this process, which the waiter handles.
/// unsafe { libc::kill(libc::getpid(), libc::SIGHUP) };
/// assert_eq!(waiter.join().unwrap()?, libc::SIGHUP);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn wait(signals: &[i32]) -> io::Result<i32> {
    Signals::new(signals)?.recv().map_err(io::Error::from)
}
