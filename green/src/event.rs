//! One-shot and resettable signals: [`Event`] and [`AsyncResult`].
//!
//! Both wake every waiter at once, in arrival order, and neither consumes
//! anything when it wakes a waiter: a waiter that gives up after being woken
//! (its deadline passed or it was killed in the same instant) has nothing to
//! pass on, so it reports the wake-up it was given. Waits follow the pattern
//! of `GreenThread::join`: lock, check, push an unparker, unlock, park.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::spin::SpinMutex as Mutex;

use crate::park::{Parker, WaitError, WaitList};
use crate::timeout::deadline_after;

struct EventState {
    set: bool,
    waiters: WaitList,
}

/// A flag green threads can wait for (eventlet's and gevent's `Event`,
/// Python's `threading.Event`).
///
/// [`set`](Event::set) raises the flag and wakes every waiter, in arrival
/// order; while it is up, [`wait`](Event::wait) returns at once.
/// [`clear`](Event::clear) lowers it again. A waiter woken by `set` returns
/// `Ok` even if the flag was cleared before it ran.
///
/// `Event` is a handle: clones share one flag, and it may be sent to other
/// threads (a green thread on another hub, or plain code, may `set` it).
/// Share it by cloning, not inside an `Arc` or a shared struct: a wait
/// whose event has no other clone, with nothing else able to wake the
/// thread, fails with [`WaitError::Deadlock`](crate::WaitError::Deadlock),
/// and an event reachable only through an `Arc` looks like that.
///
/// # Examples
///
/// ```
/// use thicket_green::{spawn, Event};
///
/// let ready = Event::new();
/// let r = ready.clone();
/// let waiter = spawn(move || {
///     r.wait()?; // parks until the flag is up
///     Ok::<_, thicket_green::WaitError>("went")
/// });
/// ready.set();
/// assert_eq!(waiter.join().unwrap()?, "went");
/// assert!(ready.is_set());
/// # Ok::<(), thicket_green::WaitError>(())
/// ```
#[derive(Clone)]
pub struct Event {
    inner: Arc<Mutex<EventState>>,
}

impl Event {
    /// A new event, not set.
    pub fn new() -> Event {
        Event {
            inner: Arc::new(Mutex::new(EventState {
                set: false,
                waiters: WaitList::default(),
            })),
        }
    }

    /// Raises the flag and wakes every waiter, in arrival order. Setting an
    /// event that is already set does nothing.
    pub fn set(&self) {
        let mut st = self.inner.lock();
        st.set = true;
        st.waiters.notify_all();
    }

    /// Lowers the flag: later waits block until the next [`set`](Self::set).
    /// Waiters already woken by a `set` are not affected.
    pub fn clear(&self) {
        self.inner.lock().set = false;
    }

    /// Whether the flag is up.
    pub fn is_set(&self) -> bool {
        self.inner.lock().set
    }

    /// Waits until the flag is up; returns at once if it already is.
    ///
    /// # Errors
    ///
    /// [`WaitError::TimedOut`] if an enclosing
    /// [`with_timeout`](crate::with_timeout) deadline passes first,
    /// [`WaitError::Cancelled`] if the green thread is killed,
    /// [`WaitError::Deadlock`] (naming `"Event::wait"`) if nothing could
    /// ever set it.
    ///
    /// # Examples
    ///
    /// ```
    /// use thicket_green::{Event, WaitError};
    ///
    /// let ev = Event::new();
    /// ev.set();
    /// ev.wait()?; // already set: returns at once
    ///
    /// // Nobody else holds the event, so nothing could ever set it.
    /// assert!(matches!(Event::new().wait(), Err(WaitError::Deadlock { .. })));
    /// # Ok::<(), WaitError>(())
    /// ```
    pub fn wait(&self) -> Result<(), WaitError> {
        self.wait_until(None)
    }

    /// Like [`wait`](Self::wait), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// As for `wait`; [`WaitError::TimedOut`] if the flag is still down
    /// when `timeout` has passed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use thicket_green::{Event, WaitError};
    ///
    /// let ev = Event::new();
    /// assert_eq!(ev.wait_timeout(Duration::from_millis(1)), Err(WaitError::TimedOut));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<(), WaitError> {
        self.wait_until(Some(deadline_after(timeout)))
    }

    fn wait_until(&self, deadline: Option<u64>) -> Result<(), WaitError> {
        loop {
            let (parker, ticket) = {
                let mut st = self.inner.lock();
                if st.set {
                    return Ok(());
                }
                let parker = Parker::current();
                let ticket = st.waiters.push(parker.unparker());
                (parker, ticket)
            };
            let shared = || Arc::strong_count(&self.inner) > 1;
            let r = parker.park("Event::wait", deadline, &shared);
            let mut st = self.inner.lock();
            if !st.waiters.remove(ticket) {
                // Chosen by `set`, which wakes everyone: nothing to pass on,
                // and the flag went up while this waiter waited.
                return Ok(());
            }
            r?;
        }
    }
}

impl Default for Event {
    fn default() -> Event {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.lock();
        f.debug_struct("Event")
            .field("set", &st.set)
            .field("waiters", &st.waiters.len())
            .finish()
    }
}

struct ResultState<T> {
    value: Option<T>,
    waiters: WaitList,
}

/// A value that arrives once, for any number of readers (gevent's
/// `AsyncResult`, eventlet's `event.Event` with `send`/`wait`).
///
/// [`set`](AsyncResult::set) stores the value and wakes every waiter, in
/// arrival order; every [`get`](AsyncResult::get), before or after, returns a
/// clone of it. The value is set at most once. To carry a failure, make the
/// value a `Result`.
///
/// `AsyncResult` is a handle: clones share one slot, and it is `Send + Sync`
/// when `T: Send`, so another thread may set it.
///
/// # Examples
///
/// ```
/// use thicket_green::{spawn, AsyncResult};
///
/// let answer = AsyncResult::new();
/// let a = answer.clone();
/// let reader = spawn(move || a.get());
/// assert_eq!(answer.set(42), Ok(()));
/// assert_eq!(answer.set(7), Err(7)); // already set: the value comes back
/// assert_eq!(reader.join().unwrap(), Ok(42));
/// assert_eq!(answer.get(), Ok(42)); // every getter sees it
/// ```
pub struct AsyncResult<T> {
    inner: Arc<Mutex<ResultState<T>>>,
}

impl<T> AsyncResult<T> {
    /// A new, empty result.
    pub fn new() -> AsyncResult<T> {
        AsyncResult {
            inner: Arc::new(Mutex::new(ResultState {
                value: None,
                waiters: WaitList::default(),
            })),
        }
    }

    /// Stores `value` and wakes every waiter, in arrival order.
    ///
    /// # Errors
    ///
    /// If a value was already set, `value` is handed back unchanged as
    /// `Err(value)`; the first value stays.
    pub fn set(&self, value: T) -> Result<(), T> {
        let mut st = self.inner.lock();
        if st.value.is_some() {
            return Err(value);
        }
        st.value = Some(value);
        st.waiters.notify_all();
        Ok(())
    }

    /// Whether the value has been set.
    pub fn is_ready(&self) -> bool {
        self.inner.lock().value.is_some()
    }

    /// Waits until the value is set, without taking it.
    ///
    /// # Errors
    ///
    /// [`WaitError::TimedOut`] if an enclosing
    /// [`with_timeout`](crate::with_timeout) deadline passes first,
    /// [`WaitError::Cancelled`] if the green thread is killed,
    /// [`WaitError::Deadlock`] (naming `"AsyncResult::wait"`) if nothing
    /// could ever set it.
    pub fn wait(&self) -> Result<(), WaitError> {
        self.wait_until(None, "AsyncResult::wait")
    }

    /// Like [`wait`](Self::wait), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// As for `wait`; [`WaitError::TimedOut`] if no value has arrived when
    /// `timeout` has passed.
    pub fn wait_timeout(&self, timeout: Duration) -> Result<(), WaitError> {
        self.wait_until(Some(deadline_after(timeout)), "AsyncResult::wait")
    }

    fn wait_until(&self, deadline: Option<u64>, what: &'static str) -> Result<(), WaitError> {
        loop {
            let (parker, ticket) = {
                let mut st = self.inner.lock();
                if st.value.is_some() {
                    return Ok(());
                }
                let parker = Parker::current();
                let ticket = st.waiters.push(parker.unparker());
                (parker, ticket)
            };
            let shared = || Arc::strong_count(&self.inner) > 1;
            let r = parker.park(what, deadline, &shared);
            let mut st = self.inner.lock();
            if !st.waiters.remove(ticket) {
                // Chosen by `set`, which wakes everyone and is never undone:
                // the value is there, and there is nothing to pass on.
                return Ok(());
            }
            r?;
        }
    }
}

impl<T: Clone> AsyncResult<T> {
    /// Waits until the value is set and returns a clone of it; returns at
    /// once if it already is.
    ///
    /// # Errors
    ///
    /// [`WaitError::TimedOut`] if an enclosing
    /// [`with_timeout`](crate::with_timeout) deadline passes first,
    /// [`WaitError::Cancelled`] if the green thread is killed,
    /// [`WaitError::Deadlock`] (naming `"AsyncResult::get"`) if nothing
    /// could ever set it.
    pub fn get(&self) -> Result<T, WaitError> {
        self.get_until(None)
    }

    /// Like [`get`](Self::get), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// As for `get`; [`WaitError::TimedOut`] if no value has arrived when
    /// `timeout` has passed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use thicket_green::{AsyncResult, WaitError};
    ///
    /// let r = AsyncResult::<u8>::new();
    /// assert_eq!(r.get_timeout(Duration::from_millis(1)), Err(WaitError::TimedOut));
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, WaitError> {
        self.get_until(Some(deadline_after(timeout)))
    }

    /// The value, if it has been set; never blocks.
    pub fn try_get(&self) -> Option<T> {
        self.inner.lock().value.clone()
    }

    fn get_until(&self, deadline: Option<u64>) -> Result<T, WaitError> {
        self.wait_until(deadline, "AsyncResult::get")?;
        Ok(self
            .try_get()
            .expect("an AsyncResult value, once set, stays set"))
    }
}

impl<T> Clone for AsyncResult<T> {
    fn clone(&self) -> AsyncResult<T> {
        AsyncResult {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Default for AsyncResult<T> {
    fn default() -> AsyncResult<T> {
        AsyncResult::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for AsyncResult<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.lock();
        f.debug_struct("AsyncResult")
            .field("value", &st.value)
            .field("waiters", &st.waiters.len())
            .finish()
    }
}
