//! A green [`Mutex`] that may be held across blocking calls, and its
//! [`Condvar`].
//!
//! The lock word is an atomic with three states, so an uncontended lock or
//! unlock is one compare-and-swap and never touches the waiter list:
//! `UNLOCKED`, `LOCKED` (nobody waits) and `CONTENDED` (somebody may wait;
//! unlocking must look at the list). Waiters queue in a [`WaitList`] under a
//! small spin lock ([`SpinMutex`](crate::spin::SpinMutex)); an unlock while somebody waits hands the lock
//! directly to the longest waiter (the state stays locked), so lockers are
//! served in arrival order and a newcomer cannot barge in. Invariant: the
//! state is `CONTENDED` whenever the list is non-empty, and changes away from
//! `CONTENDED` only under the list's lock.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use crate::park::{Parker, WaitError, WaitList};
use crate::timeout::{deadline_after, scope_expired};

const UNLOCKED: u8 = 0;
const LOCKED: u8 = 1;
const CONTENDED: u8 = 2;

/// A mutual-exclusion lock for green threads: waiting for it parks the green
/// thread, not the OS thread, so the lock may be held across blocking green
/// calls (a socket read, a `sleep`, a queue `get`), unlike `std::sync::Mutex`,
/// whose guard held across a green switch would block the whole hub.
///
/// Lockers are served in arrival order (the lock is handed directly to the
/// longest waiter). It works across hubs and OS threads: share it in an
/// `Arc`, as with std's. There is no poisoning: a green thread that panics
/// while holding the lock releases it as its guard drops.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use std::time::Duration;
/// use thicket_green::{sleep, spawn, Mutex};
///
/// let log = Rc::new(Mutex::new(Vec::new()));
/// let workers: Vec<_> = (0..3)
///     .map(|i| {
///         let log = log.clone();
///         spawn(move || {
///             let mut entries = log.lock()?;
///             entries.push(format!("{i} in"));
///             sleep(Duration::from_millis(1))?; // other green threads run meanwhile
///             entries.push(format!("{i} out"));
///             Ok::<(), thicket_green::WaitError>(())
///         })
///     })
///     .collect();
/// for w in &workers {
///     w.join().unwrap()?;
/// }
/// // Nobody got in while another held the lock.
/// assert_eq!(*log.lock()?, ["0 in", "0 out", "1 in", "1 out", "2 in", "2 out"]);
/// # Ok::<(), thicket_green::WaitError>(())
/// ```
pub struct Mutex<T: ?Sized> {
    state: AtomicU8,
    waiters: crate::spin::SpinMutex<WaitList>,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to `data` to one holder at a time, who
// may be on any thread; that needs `T: Send` (as for std's `Mutex`).
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: as above: shared references to the mutex only give access to `T`
// through the lock, one holder at a time.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    /// A new, unlocked mutex holding `value`.
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            state: AtomicU8::new(UNLOCKED),
            waiters: crate::spin::SpinMutex::new(WaitList::default()),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex and returns the value.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks the mutex, waiting (behind earlier lockers) until it is free.
    ///
    /// A call that need not wait succeeds even in a killed green thread, as
    /// in gevent (cancellation is seen at the next wait).
    ///
    /// # Errors
    ///
    /// [`WaitError::Cancelled`] if the green thread is killed while waiting,
    /// [`WaitError::TimedOut`] if an enclosing
    /// [`with_timeout`](crate::with_timeout) deadline passes, or
    /// [`WaitError::Deadlock`] when nothing could ever unlock it. The lock is
    /// not held on error.
    pub fn lock(&self) -> Result<MutexGuard<'_, T>, WaitError> {
        self.lock_until(None)
    }

    /// Like [`lock`](Self::lock), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// As for `lock`; [`WaitError::TimedOut`] when `timeout` passes.
    pub fn lock_timeout(&self, timeout: Duration) -> Result<MutexGuard<'_, T>, WaitError> {
        self.lock_until(Some(deadline_after(timeout)))
    }

    /// Locks the mutex if it is free and nobody waits for it; never blocks.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
            .then(|| MutexGuard::new(self))
    }

    /// A mutable reference to the value; no locking, since the borrow proves
    /// nobody else can hold the lock.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Whether the mutex is locked right now (by anyone).
    pub fn is_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) != UNLOCKED
    }

    fn lock_until(&self, deadline: Option<u64>) -> Result<MutexGuard<'_, T>, WaitError> {
        if self
            .state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return Ok(MutexGuard::new(self));
        }
        loop {
            let (parker, ticket) = {
                let mut w = self.waiters.lock();
                let mut s = self.state.load(Ordering::Relaxed);
                loop {
                    let (from, to) = match s {
                        // Unlocked implies nobody waits: taking it is fair.
                        UNLOCKED => (UNLOCKED, LOCKED),
                        LOCKED => (LOCKED, CONTENDED),
                        _ => break,
                    };
                    match self.state.compare_exchange(
                        from,
                        to,
                        Ordering::Acquire,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) if from == UNLOCKED => return Ok(MutexGuard::new(self)),
                        Ok(_) => break,
                        Err(now) => s = now,
                    }
                }
                let parker = Parker::current();
                let ticket = w.push(parker.unparker());
                (parker, ticket)
            };
            let r = parker.park("Mutex::lock", deadline, &|| true);
            let mut w = self.waiters.lock();
            if !w.remove(ticket) {
                // The holder handed the lock to this waiter.
                return match r {
                    Ok(()) => Ok(MutexGuard::new(self)),
                    Err(e) => {
                        // Giving up anyway: pass the lock on.
                        self.unlock_contended(&mut w);
                        Err(e)
                    }
                };
            }
            // Still queued, so the lock was not handed over. An `Ok` here
            // would be a wake-up from no unlock; queue again.
            r?;
        }
    }

    fn unlock(&self) {
        if self
            .state
            .compare_exchange(LOCKED, UNLOCKED, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            self.unlock_contended(&mut self.waiters.lock());
        }
    }

    /// Unlocks when somebody may wait; `w` is the locked waiter list.
    fn unlock_contended(&self, w: &mut WaitList) {
        if w.notify_one() {
            // Handed over: the state stays locked; the new holder unlocks
            // with one compare-and-swap if nobody else waits.
            if w.is_empty() {
                self.state.store(LOCKED, Ordering::Relaxed);
            }
        } else {
            self.state.store(UNLOCKED, Ordering::Release);
        }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Some(g) => d.field("data", &&*g),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish_non_exhaustive()
    }
}

/// Access to the value of a locked [`Mutex`]; dropping it unlocks.
///
/// It may be held across blocking green calls, and (if `T: Send`) moved to
/// another thread, which may then unlock.
///
/// # Examples
///
/// ```
/// use thicket_green::Mutex;
///
/// let m = Mutex::new(1);
/// let mut guard = m.lock()?;
/// *guard += 1;
/// assert!(m.try_lock().is_none());
/// drop(guard);
/// assert_eq!(*m.lock()?, 2);
/// # Ok::<(), thicket_green::WaitError>(())
/// ```
#[must_use = "the mutex is unlocked as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
    // Send only if `T: Send`, Sync only if `T: Sync` (it hands out `&T`).
    _marker: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    fn new(lock: &'a Mutex<T>) -> MutexGuard<'a, T> {
        MutexGuard {
            lock,
            _marker: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard exists only while its holder owns the lock, so
        // no other reference to `data` can be live.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this the only access
        // through the guard.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// A condition variable for the green [`Mutex`]: wait, with the lock
/// released, until another green thread (or OS thread) notifies.
///
/// Waiters are woken in arrival order. As with any condition variable, wait
/// in a loop on the condition itself (or use [`wait_while`](Self::wait_while)):
/// a notification says only that the condition may have changed.
///
/// On success every wait returns with the mutex locked again. A wait that
/// ends by its own timeout ([`wait_timeout`](Self::wait_timeout)) also
/// relocks and reports `timed_out`. A wait that fails (killed, an enclosing
/// [`with_timeout`](crate::with_timeout) deadline) returns the error with the
/// mutex *unlocked*: relocking could itself block, and a killed green thread
/// cannot wait. A notification that reached a waiter which then failed is
/// passed on to the next waiter, so none is lost.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use thicket_green::{spawn, Condvar, Mutex};
///
/// let pair = Arc::new((Mutex::new(false), Condvar::new()));
/// let p = pair.clone();
/// let waiter = spawn(move || {
///     let (ready, cv) = &*p;
///     let guard = cv.wait_while(ready.lock()?, |ready| !*ready)?;
///     Ok::<bool, thicket_green::WaitError>(*guard)
/// });
/// let (ready, cv) = &*pair;
/// *ready.lock()? = true;
/// cv.notify_one();
/// assert!(waiter.join().unwrap()?);
/// # Ok::<(), thicket_green::WaitError>(())
/// ```
pub struct Condvar {
    waiters: crate::spin::SpinMutex<WaitList>,
}

impl Condvar {
    /// A condition variable nobody waits on.
    pub fn new() -> Condvar {
        Condvar {
            waiters: crate::spin::SpinMutex::new(WaitList::default()),
        }
    }

    /// Unlocks the guard's mutex, waits for a notification, and locks it
    /// again.
    ///
    /// # Errors
    ///
    /// [`WaitError::Cancelled`] if the green thread is killed,
    /// [`WaitError::TimedOut`] if an enclosing
    /// [`with_timeout`](crate::with_timeout) deadline passes, or
    /// [`WaitError::Deadlock`]. The mutex is left unlocked on error.
    pub fn wait<'a, T: ?Sized>(
        &self,
        guard: MutexGuard<'a, T>,
    ) -> Result<MutexGuard<'a, T>, WaitError> {
        self.wait_until(guard, None).map(|(g, _)| g)
    }

    /// Like [`wait`](Self::wait), waiting at most `timeout` for a
    /// notification. Returns the relocked guard and whether the wait timed
    /// out (`true`: no notification came in time).
    ///
    /// # Errors
    ///
    /// As for `wait`. Its own timeout is not an error; an enclosing
    /// `with_timeout` deadline is.
    pub fn wait_timeout<'a, T: ?Sized>(
        &self,
        guard: MutexGuard<'a, T>,
        timeout: Duration,
    ) -> Result<(MutexGuard<'a, T>, bool), WaitError> {
        self.wait_until(guard, Some(deadline_after(timeout)))
    }

    /// Waits while `condition` holds for the value, checking it first, and
    /// after every wake-up with the lock held. Returns with the lock held
    /// and the condition false.
    ///
    /// # Errors
    ///
    /// As for [`wait`](Self::wait); the mutex is unlocked on error.
    pub fn wait_while<'a, T: ?Sized>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> Result<MutexGuard<'a, T>, WaitError> {
        while condition(&mut guard) {
            guard = self.wait(guard)?;
        }
        Ok(guard)
    }

    /// Like [`wait_while`](Self::wait_while), for at most `timeout` in all.
    /// Returns the relocked guard and whether it timed out with the
    /// condition still true.
    ///
    /// # Errors
    ///
    /// As for [`wait_timeout`](Self::wait_timeout).
    pub fn wait_timeout_while<'a, T: ?Sized>(
        &self,
        mut guard: MutexGuard<'a, T>,
        timeout: Duration,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> Result<(MutexGuard<'a, T>, bool), WaitError> {
        let deadline = deadline_after(timeout);
        while condition(&mut guard) {
            let (g, timed_out) = self.wait_until(guard, Some(deadline))?;
            guard = g;
            if timed_out {
                let still = condition(&mut guard);
                return Ok((guard, still));
            }
        }
        Ok((guard, false))
    }

    /// Wakes the longest waiter, if any.
    pub fn notify_one(&self) {
        self.waiters.lock().notify_one();
    }

    /// Wakes every waiter, in arrival order.
    pub fn notify_all(&self) {
        self.waiters.lock().notify_all();
    }

    /// How many are waiting for a notification.
    pub fn waiting(&self) -> usize {
        self.waiters.lock().len()
    }

    fn wait_until<'a, T: ?Sized>(
        &self,
        guard: MutexGuard<'a, T>,
        deadline: Option<u64>,
    ) -> Result<(MutexGuard<'a, T>, bool), WaitError> {
        let mutex = guard.lock;
        let parker = Parker::current();
        // Queue before unlocking: a notifier must take the lock after this
        // waiter checked its condition, and then finds it in the list.
        let ticket = self.waiters.lock().push(parker.unparker());
        drop(guard);
        let r = parker.park("Condvar::wait", deadline, &|| true);
        let notified = !self.waiters.lock().remove(ticket);
        let timed_out = match r {
            Ok(()) => false,
            // Its own deadline: relock and report it, unless a notification
            // arrived in the same instant, which counts as the wake-up.
            Err(WaitError::TimedOut) if deadline.is_some() && !scope_expired() => !notified,
            Err(e) => {
                if notified {
                    self.notify_one();
                }
                return Err(e);
            }
        };
        match mutex.lock() {
            Ok(g) => Ok((g, timed_out)),
            Err(e) => {
                if notified {
                    self.notify_one();
                }
                Err(e)
            }
        }
    }
}

impl Default for Condvar {
    fn default() -> Condvar {
        Condvar::new()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar")
            .field("waiting", &self.waiting())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncontended_lock_and_unlock() {
        let m = Mutex::new(5);
        {
            let mut g = m.lock().unwrap();
            *g += 1;
            assert!(m.is_locked());
            assert!(m.try_lock().is_none());
        }
        assert!(!m.is_locked());
        assert_eq!(m.into_inner(), 6);
    }

    #[test]
    fn unsized_values() {
        let m: &Mutex<[u8]> = &Mutex::new([1, 2, 3]);
        m.lock().unwrap()[0] = 9;
        assert_eq!(&*m.lock().unwrap(), &[9, 2, 3]);
    }

    #[test]
    fn auto_traits() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>() {}
        send_sync::<Mutex<Vec<u8>>>();
        send_sync::<Condvar>();
        send_sync::<MutexGuard<'_, Vec<u8>>>();
        // A guard over a Send-but-not-Sync value may move, not be shared.
        send::<MutexGuard<'_, std::cell::Cell<u8>>>();
    }
}
