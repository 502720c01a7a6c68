//! Counting semaphores: [`Semaphore`] and [`BoundedSemaphore`].
//!
//! Both are fair: waiters are served in arrival order, and a release while
//! somebody waits hands the permit straight to the longest waiter, so a
//! newcomer (even a non-blocking [`try_acquire`](Semaphore::try_acquire))
//! can never take it first. Invariant: `permits > 0` only when nobody waits.
//!
//! A waiter that gives up (timeout, kill) holds nothing: if a permit was
//! handed to it in the same instant, it passes that permit on (the
//! [`WaitList`] lost-wake-up rule), to the next waiter or back to the count.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::spin::SpinMutex as Mutex;

use crate::park::{Parker, WaitError, WaitList};
use crate::timeout::deadline_after;

struct State {
    permits: usize,
    waiters: WaitList,
}

impl State {
    /// Gives one permit back: to the longest waiter if there is one (it now
    /// owns it), otherwise to the count, unless that would take the count
    /// past `bound`.
    fn release_one(&mut self, bound: Option<usize>) -> Result<(), ReleaseError> {
        // Free permits plus taken ones make `bound` as long as every release
        // matched an acquire, and waiters exist only when none is free.
        if let Some(bound) = bound {
            if self.permits >= bound {
                return Err(ReleaseError { bound });
            }
        }
        if !self.waiters.notify_one() {
            self.permits += 1;
        }
        Ok(())
    }
}

/// What `Semaphore` and `BoundedSemaphore` share: the count and its waiters.
struct Core {
    state: Mutex<State>,
    /// The most permits there may be; `None` for a `Semaphore`.
    bound: Option<usize>,
}

impl Core {
    fn new(permits: usize, bound: Option<usize>) -> Arc<Core> {
        Arc::new(Core {
            state: Mutex::new(State {
                permits,
                waiters: WaitList::default(),
            }),
            bound,
        })
    }

    fn release(&self) -> Result<(), ReleaseError> {
        self.state.lock().release_one(self.bound)
    }

    fn try_acquire(&self) -> bool {
        let mut st = self.state.lock();
        if st.permits > 0 {
            st.permits -= 1;
            true
        } else {
            false
        }
    }

    fn acquire_until(
        self: &Arc<Self>,
        what: &'static str,
        deadline: Option<u64>,
    ) -> Result<(), WaitError> {
        let shared = || Arc::strong_count(self) > 1;
        loop {
            let (parker, ticket) = {
                let mut st = self.state.lock();
                // `permits > 0` implies nobody waits, so taking it is fair.
                if st.permits > 0 {
                    st.permits -= 1;
                    return Ok(());
                }
                let parker = Parker::current();
                let ticket = st.waiters.push(parker.unparker());
                (parker, ticket)
            };
            let r = parker.park(what, deadline, &shared);
            let mut st = self.state.lock();
            if !st.waiters.remove(ticket) {
                // A release chose this waiter: the permit is ours.
                return match r {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        // Giving up anyway: pass the permit on.
                        let _ = st.release_one(self.bound);
                        Err(e)
                    }
                };
            }
            // Still queued, so no permit was handed over: on error there is
            // nothing to undo. An `Ok` here would be a wake-up that came from
            // no release; look again.
            r?;
        }
    }

    fn available(&self) -> usize {
        self.state.lock().permits
    }

    fn waiting(&self) -> usize {
        self.state.lock().waiters.len()
    }
}

/// A counting semaphore (eventlet's and gevent's `Semaphore`): a number of
/// permits, taken by [`acquire`](Semaphore::acquire) and given back by
/// dropping the [`SemaphorePermit`] or by [`release`](Semaphore::release).
///
/// Waiters are served in arrival order; a release while somebody waits
/// hands the permit directly to the longest waiter. A release without a
/// matching acquire grows the count (use [`BoundedSemaphore`] to make that
/// an error).
///
/// `Semaphore` is a handle: clones share one count, and it may be sent to
/// other threads (green threads on other hubs, plain OS threads). Share it by
/// cloning the handle, not by wrapping it in an `Rc` or lending it to a
/// scoped thread: the deadlock check counts handles to tell whether anyone
/// else could still release, so plain code waiting on the only handle while
/// nothing else on its hub can run gets [`WaitError::Deadlock`].
///
/// # Examples
///
/// At most two workers in the critical section at once:
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use thicket_green::{sleep, spawn, Semaphore};
///
/// let sem = Semaphore::new(2);
/// let inside = Rc::new(Cell::new(0));
/// let most = Rc::new(Cell::new(0));
/// let workers: Vec<_> = (0..6)
///     .map(|_| {
///         let (sem, inside, most) = (sem.clone(), inside.clone(), most.clone());
///         spawn(move || {
///             let _permit = sem.acquire()?; // released when dropped
///             inside.set(inside.get() + 1);
///             most.set(most.get().max(inside.get()));
///             sleep(std::time::Duration::from_millis(1))?;
///             inside.set(inside.get() - 1);
///             Ok::<(), thicket_green::WaitError>(())
///         })
///     })
///     .collect();
/// for w in &workers {
///     w.join().unwrap()?;
/// }
/// assert_eq!(most.get(), 2);
/// assert_eq!(sem.available(), 2);
/// # Ok::<(), thicket_green::WaitError>(())
/// ```
#[derive(Clone)]
pub struct Semaphore {
    core: Arc<Core>,
}

impl Semaphore {
    /// A semaphore with `permits` permits available.
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            core: Core::new(permits, None),
        }
    }

    /// Takes a permit, waiting (behind earlier waiters) until one is free.
    /// The permit goes back when the returned guard is dropped.
    ///
    /// A call that need not wait succeeds even in a killed green thread, as
    /// in gevent (cancellation is seen at the next wait).
    ///
    /// # Errors
    ///
    /// [`WaitError::Cancelled`] if the green thread is killed while waiting,
    /// [`WaitError::TimedOut`] if an enclosing
    /// [`with_timeout`](crate::with_timeout) deadline passes, or
    /// [`WaitError::Deadlock`] if nothing could ever release a permit. In
    /// every case no permit is held.
    pub fn acquire(&self) -> Result<SemaphorePermit<'_>, WaitError> {
        self.core.acquire_until("Semaphore::acquire", None)?;
        Ok(SemaphorePermit { core: &self.core })
    }

    /// Like [`acquire`](Self::acquire), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// As for `acquire`; [`WaitError::TimedOut`] when `timeout` passes. A
    /// timed-out call holds no permit.
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<SemaphorePermit<'_>, WaitError> {
        self.core
            .acquire_until("Semaphore::acquire", Some(deadline_after(timeout)))?;
        Ok(SemaphorePermit { core: &self.core })
    }

    /// Takes a permit if one is free and nobody is waiting for it; never
    /// blocks.
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.core
            .try_acquire()
            .then(|| SemaphorePermit { core: &self.core })
    }

    /// Gives a permit back: to the longest waiter if there is one, otherwise
    /// to the count, which may grow past its initial value. Pairs with
    /// [`SemaphorePermit::forget`] for acquire/release in different places.
    pub fn release(&self) {
        let _ = self.core.release(); // unbounded: cannot fail
    }

    /// How many permits are free right now (eventlet's `counter`).
    pub fn available(&self) -> usize {
        self.core.available()
    }

    /// How many are waiting for a permit.
    pub fn waiting(&self) -> usize {
        self.core.waiting()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.core.state.lock();
        f.debug_struct("Semaphore")
            .field("available", &st.permits)
            .field("waiting", &st.waiters.len())
            .finish()
    }
}

/// A permit from a [`Semaphore`] or [`BoundedSemaphore`]; dropping it gives
/// the permit back.
///
/// # Examples
///
/// ```
/// use thicket_green::Semaphore;
///
/// let sem = Semaphore::new(1);
/// {
///     let _permit = sem.acquire()?;
///     assert!(sem.try_acquire().is_none());
/// }
/// assert!(sem.try_acquire().is_some());
/// # Ok::<(), thicket_green::WaitError>(())
/// ```
#[must_use = "the permit is released as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    core: &'a Arc<Core>,
}

impl SemaphorePermit<'_> {
    /// Keeps the permit taken without a guard: the count stays down until
    /// somebody calls `release`. For eventlet-style code that acquires in
    /// one place and releases in another (such as another green thread).
    ///
    /// # Examples
    ///
    /// ```
    /// use thicket_green::{spawn, Semaphore};
    ///
    /// let sem = Semaphore::new(1);
    /// sem.acquire()?.forget();
    /// assert_eq!(sem.available(), 0);
    /// let s = sem.clone();
    /// spawn(move || s.release()).join().unwrap();
    /// assert_eq!(sem.available(), 1);
    /// # Ok::<(), thicket_green::WaitError>(())
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        // Fails only for a bounded semaphore that was already released past
        // this permit by an unmatched `release`; it then stays at its bound.
        let _ = self.core.release();
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}

/// A [`Semaphore`] that refuses to grow: releasing more permits than were
/// taken is an error ([`ReleaseError`]), which catches a double release
/// instead of silently letting one more user in (eventlet's
/// `BoundedSemaphore`).
///
/// Acquiring works exactly as for `Semaphore`: fair, with direct hand-off.
/// It is a handle, like `Semaphore`: clones share one count.
///
/// The count never exceeds the bound. An unmatched release is caught when
/// it would take the count past the bound; while permits are out, it is
/// counted against one of them, and the permit's own release later (when its
/// guard drops) finds the count full and gives nothing back.
///
/// # Examples
///
/// ```
/// use thicket_green::BoundedSemaphore;
///
/// let sem = BoundedSemaphore::new(1);
/// sem.acquire()?.forget();
/// sem.release().expect("one permit was taken");
/// let err = sem.release().unwrap_err(); // nothing is taken any more
/// assert_eq!(err.bound(), 1);
/// assert_eq!(sem.available(), 1);
/// # Ok::<(), thicket_green::WaitError>(())
/// ```
#[derive(Clone)]
pub struct BoundedSemaphore {
    core: Arc<Core>,
}

impl BoundedSemaphore {
    /// A semaphore with `permits` permits, which is also the most it can
    /// ever have.
    pub fn new(permits: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            core: Core::new(permits, Some(permits)),
        }
    }

    /// Takes a permit, waiting (behind earlier waiters) until one is free.
    ///
    /// # Errors
    ///
    /// As for [`Semaphore::acquire`]; no permit is held on error.
    pub fn acquire(&self) -> Result<SemaphorePermit<'_>, WaitError> {
        self.core.acquire_until("BoundedSemaphore::acquire", None)?;
        Ok(SemaphorePermit { core: &self.core })
    }

    /// Like [`acquire`](Self::acquire), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// As for `acquire`; [`WaitError::TimedOut`] when `timeout` passes.
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<SemaphorePermit<'_>, WaitError> {
        self.core
            .acquire_until("BoundedSemaphore::acquire", Some(deadline_after(timeout)))?;
        Ok(SemaphorePermit { core: &self.core })
    }

    /// Takes a permit if one is free and nobody is waiting; never blocks.
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.core
            .try_acquire()
            .then(|| SemaphorePermit { core: &self.core })
    }

    /// Gives a permit back (to the longest waiter, if any).
    ///
    /// # Errors
    ///
    /// [`ReleaseError`] if every permit is already free: the release had no
    /// matching acquire. The count is left unchanged.
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.core.release()
    }

    /// How many permits are free right now.
    pub fn available(&self) -> usize {
        self.core.available()
    }

    /// How many are waiting for a permit.
    pub fn waiting(&self) -> usize {
        self.core.waiting()
    }

    /// The number of permits it was created with: the most it can have.
    pub fn bound(&self) -> usize {
        self.core.bound.unwrap_or(usize::MAX)
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.core.state.lock();
        f.debug_struct("BoundedSemaphore")
            .field("available", &st.permits)
            .field("bound", &self.bound())
            .field("waiting", &st.waiters.len())
            .finish()
    }
}

/// The error of [`BoundedSemaphore::release`]: released more often than
/// acquired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReleaseError {
    bound: usize,
}

impl ReleaseError {
    /// The semaphore's bound, all of which were already free.
    pub fn bound(&self) -> usize {
        self.bound
    }
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BoundedSemaphore released more times than acquired: all {} permits are already \
             free (each release must match an acquire)",
            self.bound
        )
    }
}

impl std::error::Error for ReleaseError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_count_down_and_up() {
        let sem = Semaphore::new(2);
        let a = sem.try_acquire().unwrap();
        let b = sem.try_acquire().unwrap();
        assert!(sem.try_acquire().is_none());
        drop(a);
        assert_eq!(sem.available(), 1);
        drop(b);
        sem.release();
        assert_eq!(sem.available(), 3, "an unbounded semaphore grows");
    }

    #[test]
    fn bounded_refuses_to_grow() {
        let sem = BoundedSemaphore::new(0);
        assert_eq!(sem.release(), Err(ReleaseError { bound: 0 }));
        assert_eq!(sem.available(), 0);
    }

    #[test]
    fn primitives_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Semaphore>();
        check::<BoundedSemaphore>();
        check::<SemaphorePermit<'_>>();
    }
}
