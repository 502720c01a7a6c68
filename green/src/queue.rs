//! The machinery shared by [`Queue`](crate::Queue),
//! [`LifoQueue`](crate::LifoQueue) and [`PriorityQueue`](crate::PriorityQueue),
//! and their error types. The public types themselves are in `queue_kinds.rs`;
//! they differ only in the [`Storage`] that orders the items.
//!
//! How waiting works, and why nothing is lost:
//!
//! - A blocked putter does not retry: its item waits in `offers`, in arrival
//!   order, and whoever makes room moves it into the queue (or, in a
//!   rendezvous queue, a getter takes it straight from there) and wakes the
//!   putter. A putter that gives up finds its offer still there and takes
//!   the item back; if it is gone, the put happened. So putters are served
//!   strictly first come, first served, and a timed-out put keeps its item.
//! - A rendezvous put that finds a getter waiting hands the item over at
//!   once, as eventlet's and gevent's do: the item is stored (beyond the
//!   capacity of 0) and promised to that getter. Should the getter give up
//!   before it runs, the item goes to the next getter, or stays for the next
//!   `get`; it is never lost. Without a waiting getter the putter waits as
//!   an offer until one takes it.
//! - A getter is woken with a *reservation*: `reserved` counts the items
//!   promised to getters that were woken but have not run yet, and nobody
//!   else may take those. Items stay in the storage until a getter takes
//!   one, so a getter that gives up holds no item; it passes its
//!   reservation to the next waiting getter (the `WaitList` lost-wake-up
//!   rule), or releases it. Newcomers cannot overtake woken getters.
//!
//! Invariants, under the lock: `reserved <= available()`, and if any getter
//! is waiting then `available() == reserved` (everything there is promised).

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use crate::spin::SpinMutex as Mutex;

use crate::park::{Parker, Unparker, WaitError, WaitList};

/// How a queue orders its items: first in first out, last in first out, or
/// smallest first.
pub(crate) trait Storage<T> {
    /// An empty storage.
    fn new() -> Self;
    /// Adds an item.
    fn push(&mut self, item: T);
    /// Removes the next item to hand out.
    fn pop(&mut self) -> Option<T>;
    /// How many items are stored.
    fn len(&self) -> usize;
}

/// A blocked put: the item waits here until it is accepted or withdrawn.
struct Offer<T> {
    ticket: u64,
    item: T,
    unparker: Unparker,
}

struct State<T, S> {
    items: S,
    /// `None`: unbounded; `Some(0)`: rendezvous.
    capacity: Option<usize>,
    offers: VecDeque<Offer<T>>,
    next_offer: u64,
    getters: WaitList,
    reserved: usize,
    unfinished: usize,
    joiners: WaitList,
    closed: bool,
}

impl<T, S: Storage<T>> State<T, S> {
    /// Items a getter could be given: the stored ones and, until the queue
    /// closes, the offered ones (each will move in, or be taken directly, in
    /// turn).
    fn available(&self) -> usize {
        self.items.len() + if self.closed { 0 } else { self.offers.len() }
    }

    fn has_room(&self) -> bool {
        self.capacity.is_none_or(|c| self.items.len() < c)
    }

    /// Whether a put may complete without waiting: nobody is queued ahead of
    /// it, and there is room or (in a rendezvous queue) a getter is waiting
    /// to be handed the item, which is then promised to that getter at once.
    fn can_accept_now(&self) -> bool {
        let handoff = self.capacity == Some(0) && !self.getters.is_empty();
        self.offers.is_empty() && (self.has_room() || handoff)
    }

    /// Stores an accepted item and promises it to a waiting getter, if any.
    fn accept(&mut self, item: T) {
        self.items.push(item);
        self.unfinished += 1;
        self.wake_getters();
    }

    /// Removes the next item. Call only when `available() > 0`.
    fn take(&mut self) -> T {
        let item = match self.items.pop() {
            Some(item) => item,
            None => {
                // Stored items are gone, so there is no room-making to do: this
                // is a rendezvous, and the getter takes from the first putter.
                let offer = self
                    .offers
                    .pop_front()
                    .expect("Queue::take with nothing available");
                self.unfinished += 1;
                offer.unparker.unpark();
                offer.item
            }
        };
        self.admit_offers();
        item
    }

    /// Moves blocked putters' items in while there is room, oldest first.
    fn admit_offers(&mut self) {
        while !self.closed && self.has_room() {
            let Some(offer) = self.offers.pop_front() else {
                break;
            };
            self.items.push(offer.item);
            self.unfinished += 1;
            offer.unparker.unpark();
        }
    }

    /// Wakes waiting getters, one per unpromised item.
    fn wake_getters(&mut self) {
        while self.available() > self.reserved && self.getters.notify_one() {
            self.reserved += 1;
        }
    }

    /// After items left other than through a reservation (a withdrawn offer,
    /// closing): a promise can only be kept for an item that exists. A woken
    /// getter that finds nothing simply waits again.
    fn clamp_reservations(&mut self) {
        self.reserved = self.reserved.min(self.available());
    }

    /// A woken getter gave up: hand its reservation to the next getter, or
    /// release it so the item is free for anyone.
    fn pass_on_reservation(&mut self) {
        if self.reserved > 0 && !self.getters.notify_one() {
            self.reserved -= 1;
        }
    }
}

/// The shared core of every queue kind: a handle to one locked state.
pub(crate) struct Shared<T, S> {
    state: Arc<Mutex<State<T, S>>>,
}

impl<T, S> Clone for Shared<T, S> {
    fn clone(&self) -> Self {
        Shared {
            state: self.state.clone(),
        }
    }
}

impl<T, S: Storage<T>> Shared<T, S> {
    pub(crate) fn new(capacity: Option<usize>) -> Self {
        Shared {
            state: Arc::new(Mutex::new(State {
                items: S::new(),
                capacity,
                offers: VecDeque::new(),
                next_offer: 0,
                getters: WaitList::default(),
                reserved: 0,
                unfinished: 0,
                joiners: WaitList::default(),
                closed: false,
            })),
        }
    }

    /// Whether anything but the caller holds the queue (the deadlock hint:
    /// only another holder could ever wake a wait on it).
    fn shared(&self) -> bool {
        Arc::strong_count(&self.state) > 1
    }

    pub(crate) fn put(
        &self,
        item: T,
        deadline: Option<u64>,
        what: &'static str,
    ) -> Result<(), PutError<T>> {
        let mut st = self.state.lock();
        if st.closed {
            return Err(PutError::new(item, WaitError::Closed));
        }
        if st.can_accept_now() {
            st.accept(item);
            return Ok(());
        }
        st.next_offer += 1;
        let ticket = st.next_offer;
        let mut parker = Parker::current();
        st.offers.push_back(Offer {
            ticket,
            item,
            unparker: parker.unparker(),
        });
        // Offers count as available to getters; a getter waits only when all
        // of those are promised, so this wakes nobody unless an earlier promise
        // was voided. It keeps the invariant without relying on that.
        st.wake_getters();
        loop {
            drop(st);
            let r = parker.park(what, deadline, &|| self.shared());
            st = self.state.lock();
            let Some(i) = st.offers.iter().position(|o| o.ticket == ticket) else {
                // Accepted (moved in, or taken by a getter) before this
                // putter ran again: the put happened, whatever ended the park.
                return Ok(());
            };
            let error = match r {
                _ if st.closed => WaitError::Closed,
                Err(e) => e,
                Ok(()) => {
                    // Woken without being accepted: wait on with a fresh park.
                    parker = Parker::current();
                    st.offers[i].unparker = parker.unparker();
                    continue;
                }
            };
            let offer = st.offers.remove(i).expect("offer position just found");
            st.clamp_reservations();
            return Err(PutError::new(offer.item, error));
        }
    }

    pub(crate) fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
        let mut st = self.state.lock();
        if st.closed {
            return Err(TryPutError::Closed(item));
        }
        if st.can_accept_now() {
            st.accept(item);
            Ok(())
        } else {
            Err(TryPutError::Full(item))
        }
    }

    pub(crate) fn get(&self, deadline: Option<u64>, what: &'static str) -> Result<T, WaitError> {
        let mut st = self.state.lock();
        loop {
            if st.available() > st.reserved {
                return Ok(st.take());
            }
            if st.closed {
                return Err(WaitError::Closed);
            }
            let parker = Parker::current();
            let ticket = st.getters.push(parker.unparker());
            drop(st);
            let r = parker.park(what, deadline, &|| self.shared());
            st = self.state.lock();
            let chosen = !st.getters.remove(ticket);
            match r {
                Err(e) => {
                    if chosen {
                        st.pass_on_reservation();
                    }
                    return Err(e);
                }
                // The reservation lets this getter take an item at the top
                // of the loop; without one (it was voided, or the wake-up
                // was `close`) it takes what is free or waits again.
                Ok(()) if chosen => st.reserved = st.reserved.saturating_sub(1),
                Ok(()) => {}
            }
        }
    }

    pub(crate) fn try_get(&self) -> Result<T, TryGetError> {
        let mut st = self.state.lock();
        if st.available() > st.reserved {
            Ok(st.take())
        } else if st.closed {
            Err(TryGetError::Closed)
        } else {
            Err(TryGetError::Empty)
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.state.lock().items.len()
    }

    pub(crate) fn capacity(&self) -> Option<usize> {
        self.state.lock().capacity
    }

    pub(crate) fn is_full(&self) -> bool {
        !self.state.lock().has_room()
    }

    pub(crate) fn resize(&self, capacity: Option<usize>) {
        let mut st = self.state.lock();
        st.capacity = capacity;
        st.admit_offers();
    }

    pub(crate) fn getting(&self) -> usize {
        self.state.lock().getters.len()
    }

    pub(crate) fn putting(&self) -> usize {
        self.state.lock().offers.len()
    }

    pub(crate) fn close(&self) {
        let mut st = self.state.lock();
        if st.closed {
            return;
        }
        st.closed = true;
        st.getters.notify_all();
        // Blocked putters find their offer still there and take it back.
        for offer in &st.offers {
            offer.unparker.unpark();
        }
        st.clamp_reservations();
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    pub(crate) fn unfinished_tasks(&self) -> usize {
        self.state.lock().unfinished
    }

    pub(crate) fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut st = self.state.lock();
        if st.unfinished == 0 {
            return Err(TaskDoneError);
        }
        st.unfinished -= 1;
        if st.unfinished == 0 {
            st.joiners.notify_all();
        }
        Ok(())
    }

    pub(crate) fn join(&self, deadline: Option<u64>, what: &'static str) -> Result<(), WaitError> {
        loop {
            let (parker, ticket) = {
                let mut st = self.state.lock();
                if st.unfinished == 0 {
                    return Ok(());
                }
                let parker = Parker::current();
                let ticket = st.joiners.push(parker.unparker());
                (parker, ticket)
            };
            let r = parker.park(what, deadline, &|| self.shared());
            let mut st = self.state.lock();
            if !st.joiners.remove(ticket) {
                // Woken because the count reached zero; `task_done` wakes
                // every joiner, so there is nothing to pass on.
                return Ok(());
            }
            r?;
        }
    }

    /// `(len, capacity, closed)` for `Debug`.
    pub(crate) fn summary(&self) -> (usize, Option<usize>, bool) {
        let st = self.state.lock();
        (st.items.len(), st.capacity, st.closed)
    }
}

/// Why [`put`](crate::Queue::put) did not put; the item comes back with it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use thicket_green::{Queue, WaitError};
///
/// let q = Queue::bounded(1);
/// q.put("first")?;
/// let err = q.put_timeout("second", Duration::from_millis(1)).unwrap_err();
/// assert_eq!(err.error(), WaitError::TimedOut);
/// assert_eq!(err.into_inner(), "second"); // nothing lost
/// # Ok::<(), thicket_green::PutError<&str>>(())
/// ```
#[derive(PartialEq, Eq)]
pub struct PutError<T> {
    item: T,
    error: WaitError,
}

impl<T> PutError<T> {
    fn new(item: T, error: WaitError) -> PutError<T> {
        PutError { item, error }
    }

    /// Why the put failed: [`WaitError::TimedOut`],
    /// [`WaitError::Cancelled`], [`WaitError::Closed`] or
    /// [`WaitError::Deadlock`].
    pub fn error(&self) -> WaitError {
        self.error
    }

    /// The item that was not put.
    pub fn item(&self) -> &T {
        &self.item
    }

    /// Takes the item back.
    pub fn into_inner(self) -> T {
        self.item
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PutError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "put failed ({}); the item was handed back", self.error)
    }
}

impl<T> std::error::Error for PutError<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl<T> From<PutError<T>> for WaitError {
    /// Keeps the reason, drops the item.
    fn from(e: PutError<T>) -> WaitError {
        e.error
    }
}

/// Why [`try_put`](crate::Queue::try_put) did not put; the item comes back
/// with it.
#[derive(PartialEq, Eq)]
pub enum TryPutError<T> {
    /// There was no room (in a rendezvous queue: no getter was waiting).
    Full(T),
    /// The queue is closed.
    Closed(T),
}

impl<T> TryPutError<T> {
    /// Takes the item back.
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(item) | TryPutError::Closed(item) => item,
        }
    }

    /// Whether the queue was full (rather than closed).
    pub fn is_full(&self) -> bool {
        matches!(self, TryPutError::Full(_))
    }
}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("Full(..)"),
            TryPutError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("queue is full; the item was handed back"),
            TryPutError::Closed(_) => f.write_str("queue is closed; the item was handed back"),
        }
    }
}

impl<T> std::error::Error for TryPutError<T> {}

/// Why [`try_get`](crate::Queue::try_get) returned no item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryGetError {
    /// Nothing is there for this caller now (items may still be promised to
    /// getters that were already waiting).
    Empty,
    /// The queue is closed and nothing is left for this caller.
    Closed,
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGetError::Empty => f.write_str("queue is empty"),
            TryGetError::Closed => f.write_str("queue is closed and drained"),
        }
    }
}

impl std::error::Error for TryGetError {}

/// [`task_done`](crate::Queue::task_done) was called more times than items
/// were put (Python raises `ValueError` here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than items were put in the queue")
    }
}

impl std::error::Error for TaskDoneError {}
