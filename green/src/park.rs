//! Blocking and waking: the contract every primitive is built on.
//!
//! A primitive that must wait takes a [`Parker`] for the current context
//! (green thread or plain code), puts its [`Unparker`] in a wait list, and
//! calls [`Parker::park`]. Whoever makes progress possible calls
//! [`Unparker::unpark`], from any thread. Each park has its own epoch, so an
//! unpark that arrives after its waiter gave up (timeout, kill) is ignored and
//! can never wake a later, unrelated wait.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::num::NonZeroUsize;

use crate::hub;

/// Why a blocking green call returned without doing its work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitError {
    /// A deadline passed: the call's own timeout or an enclosing
    /// [`with_timeout`](crate::with_timeout) scope.
    TimedOut,
    /// The green thread was killed; every blocking call fails until it exits.
    Cancelled,
    /// The queue or channel was closed and nothing is left in it.
    Closed,
    /// Nothing is left that could ever end this wait.
    Deadlock {
        /// What the wait was for, e.g. `"Queue::get"`.
        waiting_for: &'static str,
    },
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::TimedOut => f.write_str("timed out"),
            WaitError::Cancelled => f.write_str("green thread was killed"),
            WaitError::Closed => f.write_str("closed"),
            WaitError::Deadlock { waiting_for } => write!(
                f,
                "deadlock: {waiting_for} can never return (no green thread is runnable, no \
                 timer, I/O or other thread can wake it)"
            ),
        }
    }
}

impl std::error::Error for WaitError {}

impl From<WaitError> for io::Error {
    /// Maps to `TimedOut`, `BrokenPipe` (closed) or `Other`; never to
    /// `Interrupted`, which `read_exact` and friends would silently retry.
    fn from(e: WaitError) -> io::Error {
        let kind = match e {
            WaitError::TimedOut => io::ErrorKind::TimedOut,
            WaitError::Closed => io::ErrorKind::BrokenPipe,
            WaitError::Cancelled | WaitError::Deadlock { .. } => io::ErrorKind::Other,
        };
        io::Error::new(kind, e)
    }
}

/// The waiting side of one park. Not `Send`: it belongs to the context that
/// created it.
pub(crate) struct Parker {
    pub(crate) slot: u32,
    pub(crate) gen: u32,
    pub(crate) epoch: u64,
    pub(crate) hub_id: usize,
}

impl Parker {
    /// A parker for the calling context, with a fresh epoch.
    #[inline]
    pub(crate) fn current() -> Parker {
        hub::with(|h| h.parker())
    }

    /// The handle that ends this park; may be sent to other threads.
    #[inline]
    pub(crate) fn unparker(&self) -> Unparker {
        Unparker {
            hub_id: NonZeroUsize::new(self.hub_id).expect("hub ids start at 1"),
            slot: self.slot,
            gen: self.gen,
            epoch: self.epoch,
        }
    }

    /// Blocks until unparked, a deadline passes, or the context is killed.
    /// `deadline` (loop nanoseconds) adds to enclosing timeout scopes;
    /// `shared` tells the deadlock check whether anything outside this wait may
    /// still hold the primitive (and so could unpark it from another thread).
    #[inline]
    pub(crate) fn park(
        &self,
        waiting_for: &'static str,
        deadline: Option<u64>,
        shared: &dyn Fn() -> bool,
    ) -> Result<(), WaitError> {
        hub::with_rc(|h| h.park(self, waiting_for, deadline, shared))
    }
}

/// Ends a park, from any thread. Plain ids: copying it costs nothing. The
/// hub id is never 0, so an `Option<Unparker>` needs no extra tag word.
#[derive(Clone)]
pub(crate) struct Unparker {
    hub_id: NonZeroUsize,
    slot: u32,
    gen: u32,
    epoch: u64,
}

impl Unparker {
    /// Wakes the parked context if this park is still current; otherwise
    /// does nothing. On the waiter's own hub this is a push onto the run
    /// queue; from elsewhere, a message and (at most) one eventfd write.
    #[inline]
    pub(crate) fn unpark(&self) {
        hub::unpark(self.hub_id.get(), self.slot, self.gen, self.epoch);
    }
}

impl fmt::Debug for Unparker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unparker")
            .field("slot", &self.slot)
            .field("epoch", &self.epoch)
            .finish()
    }
}

/// A FIFO of waiters, kept inside a primitive's lock.
///
/// The lost-wake-up rule: a waiter that gives up (timeout, kill) calls
/// [`WaitList::remove`]; if it was no longer in the list, a notifier had
/// already chosen it, and the waiter must pass the notification on with
/// [`WaitList::notify_one`] so that no other waiter misses it.
#[derive(Default, Debug)]
pub(crate) struct WaitList {
    // The first waiter is kept inline: most waits have a single waiter, and
    // this keeps them from allocating. Invariant: `head` is None only when
    // `rest` is empty.
    head: Option<(u64, Unparker)>,
    rest: VecDeque<(u64, Unparker)>,
    next_id: u64,
}

impl WaitList {
    /// Adds a waiter at the back; returns its ticket for [`remove`](Self::remove).
    #[inline]
    pub(crate) fn push(&mut self, u: Unparker) -> u64 {
        self.next_id += 1;
        if self.head.is_none() {
            self.head = Some((self.next_id, u));
        } else {
            self.rest.push_back((self.next_id, u));
        }
        self.next_id
    }

    /// Removes the waiter with `ticket`; false if it was already notified.
    #[inline]
    pub(crate) fn remove(&mut self, ticket: u64) -> bool {
        if self.head.as_ref().is_some_and(|(t, _)| *t == ticket) {
            self.head = self.rest.pop_front();
            return true;
        }
        match self.rest.iter().position(|(t, _)| *t == ticket) {
            Some(i) => {
                self.rest.remove(i);
                true
            }
            None => false,
        }
    }

    /// Wakes the longest waiter; false if there was none.
    #[inline]
    pub(crate) fn notify_one(&mut self) -> bool {
        match self.head.take() {
            Some((_, u)) => {
                self.head = self.rest.pop_front();
                u.unpark();
                true
            }
            None => false,
        }
    }

    /// Wakes every waiter, in arrival order.
    pub(crate) fn notify_all(&mut self) {
        while self.notify_one() {}
    }

    /// How many are waiting.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        usize::from(self.head.is_some()) + self.rest.len()
    }

    /// Whether nobody waits.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_error_never_maps_to_interrupted() {
        for e in [
            WaitError::TimedOut,
            WaitError::Cancelled,
            WaitError::Closed,
            WaitError::Deadlock {
                waiting_for: "Queue::get",
            },
        ] {
            let io: io::Error = e.into();
            assert_ne!(io.kind(), io::ErrorKind::Interrupted, "{e}");
        }
        let text = WaitError::Deadlock {
            waiting_for: "Queue::get",
        }
        .to_string();
        assert!(text.contains("Queue::get"), "{text}");
    }

    #[test]
    fn wait_list_is_fifo_across_removals() {
        let unparker = || Parker::current().unparker();
        let mut list = WaitList::default();
        let a = list.push(unparker());
        let b = list.push(unparker());
        let c = list.push(unparker());
        assert_eq!(list.len(), 3);
        assert!(list.remove(a));
        assert!(!list.remove(a));
        assert_eq!(list.len(), 2);
        assert!(list.notify_one()); // b
        assert!(!list.remove(b), "b was notified, not removable");
        assert!(list.remove(c));
        assert!(list.is_empty());
        assert!(!list.notify_one());
    }
}
