//! The public queues: [`Queue`] (first in, first out), [`LifoQueue`] (last
//! in, first out) and [`PriorityQueue`] (smallest first). One macro writes
//! their shared API over the core in `queue.rs`; each kind only picks its
//! storage.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::time::Duration;

use crate::park::WaitError;
use crate::queue::{PutError, Shared, Storage, TaskDoneError, TryGetError, TryPutError};
use crate::timeout::deadline_after;

/// First in, first out.
pub(crate) struct Fifo<T>(VecDeque<T>);

impl<T> Storage<T> for Fifo<T> {
    fn new() -> Self {
        Fifo(VecDeque::new())
    }
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Last in, first out.
pub(crate) struct Lifo<T>(Vec<T>);

impl<T> Storage<T> for Lifo<T> {
    fn new() -> Self {
        Lifo(Vec::new())
    }
    fn push(&mut self, item: T) {
        self.0.push(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Smallest first (a min-heap, like Python's `heapq`).
pub(crate) struct MinHeap<T>(BinaryHeap<Reverse<T>>);

impl<T: Ord> Storage<T> for MinHeap<T> {
    fn new() -> Self {
        MinHeap(BinaryHeap::new())
    }
    fn push(&mut self, item: T) {
        self.0.push(Reverse(item));
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(item)| item)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

macro_rules! queue_kind {
    (
        $(#[$attr:meta])*
        $name:ident, $storage:ident $(, $bound:path)?
    ) => {
        $(#[$attr])*
        pub struct $name<T> {
            shared: Shared<T, $storage<T>>,
        }

        impl<T $(: $bound)?> $name<T> {
            /// A queue with no limit: [`put`](Self::put) never blocks.
            pub fn unbounded() -> Self {
                $name { shared: Shared::new(None) }
            }

            /// A queue holding at most `capacity` items: [`put`](Self::put)
            /// blocks while it is full.
            ///
            /// # Panics
            ///
            /// If `capacity` is 0: a queue that holds nothing is a
            /// [`rendezvous`](Self::rendezvous) queue; ask for one by name.
            pub fn bounded(capacity: usize) -> Self {
                assert!(
                    capacity >= 1,
                    concat!(
                        stringify!($name),
                        "::bounded(0): capacity must be at least 1 \
                         (for a queue that holds nothing, use ",
                        stringify!($name),
                        "::rendezvous())"
                    )
                );
                $name { shared: Shared::new(Some(capacity)) }
            }

            /// A queue that holds nothing (gevent's `Channel`, eventlet's
            /// `Queue(0)`): [`put`](Self::put) waits until a getter takes the
            /// item, and hands it over at once to a getter already waiting.
            /// So [`try_put`](Self::try_put) and a zero
            /// [`put_timeout`](Self::put_timeout) succeed only when a getter
            /// is waiting. (If that getter gives up before it runs, the item
            /// goes to the next getter or stays in the queue for the next
            /// `get`: it is never lost.)
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use thicket_green::{spawn, ", stringify!($name), "};")]
            ///
            #[doc = concat!("let q = ", stringify!($name), "::rendezvous();")]
            /// let q2 = q.clone();
            /// let putter = spawn(move || q2.put("handed over"));
            /// thicket_green::yield_now()?; // the putter runs and blocks
            /// assert_eq!(q.putting(), 1);
            /// assert!(!putter.is_finished());
            /// assert_eq!(q.get()?, "handed over");
            /// assert!(putter.join().unwrap().is_ok());
            /// # Ok::<(), thicket_green::WaitError>(())
            /// ```
            pub fn rendezvous() -> Self {
                $name { shared: Shared::new(Some(0)) }
            }

            /// Puts `item`, waiting while the queue is full (in a rendezvous
            /// queue: until a getter is handed it). Blocked putters are served
            /// in arrival order.
            ///
            /// A put that fails loses nothing: the item comes back in the
            /// error. A put whose item was accepted just as its wait ended
            /// returns `Ok`: the item is in the queue.
            ///
            /// # Errors
            ///
            /// [`PutError`] carrying the item and [`WaitError::Closed`] if the
            /// queue is or gets closed, [`WaitError::TimedOut`] if an enclosing
            /// [`with_timeout`](crate::with_timeout) deadline passes,
            /// [`WaitError::Cancelled`] if the green thread is killed,
            #[doc = concat!("[`WaitError::Deadlock`] (naming `\"", stringify!($name), "::put\"`)")]
            /// if nothing could ever make room.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = thicket_green::", stringify!($name), "::bounded(2);")]
            /// q.put(1)?;
            /// q.put(1)?;
            /// assert_eq!(q.len(), 2);
            /// # Ok::<(), thicket_green::PutError<i32>>(())
            /// ```
            pub fn put(&self, item: T) -> Result<(), PutError<T>> {
                self.shared.put(item, None, concat!(stringify!($name), "::put"))
            }

            /// Like [`put`](Self::put), waiting at most `timeout`.
            ///
            /// # Errors
            ///
            /// As for `put`; [`WaitError::TimedOut`] with the item if it was
            /// not accepted within `timeout`.
            pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
                let deadline = deadline_after(timeout);
                self.shared.put(item, Some(deadline), concat!(stringify!($name), "::put"))
            }

            /// Puts `item` if that can be done without waiting.
            ///
            /// # Errors
            ///
            /// [`TryPutError::Full`] with the item if there is no room (or
            /// other putters are already waiting; in a rendezvous queue, if no
            /// getter is waiting), [`TryPutError::Closed`] with the item if
            /// the queue is closed.
            pub fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
                self.shared.try_put(item)
            }

            /// Takes the next item, waiting while there is none. Blocked
            /// getters are served in arrival order.
            ///
            /// A get that fails took nothing: an item promised to it goes
            /// to the next getter.
            ///
            /// # Errors
            ///
            /// [`WaitError::Closed`] once the queue is closed and nothing is
            /// left, [`WaitError::TimedOut`] if an enclosing
            /// [`with_timeout`](crate::with_timeout) deadline passes,
            /// [`WaitError::Cancelled`] if the green thread is killed,
            #[doc = concat!("[`WaitError::Deadlock`] (naming `\"", stringify!($name), "::get\"`)")]
            /// if nothing could ever put an item.
            ///
            /// # Examples
            ///
            /// ```
            /// use thicket_green::WaitError;
            ///
            #[doc = concat!("let q = thicket_green::", stringify!($name), "::unbounded();")]
            /// q.put(5).unwrap();
            /// assert_eq!(q.get(), Ok(5));
            /// // Empty, and no other holder could ever put: reported, not hung.
            /// assert!(matches!(q.get(), Err(WaitError::Deadlock { .. })));
            /// ```
            pub fn get(&self) -> Result<T, WaitError> {
                self.shared.get(None, concat!(stringify!($name), "::get"))
            }

            /// Like [`get`](Self::get), waiting at most `timeout`.
            ///
            /// # Errors
            ///
            /// As for `get`; [`WaitError::TimedOut`] if no item came within
            /// `timeout` (and then none was taken).
            pub fn get_timeout(&self, timeout: Duration) -> Result<T, WaitError> {
                let deadline = deadline_after(timeout);
                self.shared.get(Some(deadline), concat!(stringify!($name), "::get"))
            }

            /// Takes the next item if there is one for the caller now.
            ///
            /// # Errors
            ///
            /// [`TryGetError::Empty`] if there is none (items already
            /// promised to waiting getters do not count),
            /// [`TryGetError::Closed`] if the queue is closed and nothing is
            /// left for the caller.
            pub fn try_get(&self) -> Result<T, TryGetError> {
                self.shared.try_get()
            }

            /// How many items are in the queue (not counting those of blocked
            /// putters).
            pub fn len(&self) -> usize {
                self.shared.len()
            }

            /// Whether the queue holds no item.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// Whether a [`put`](Self::put) would have to wait for room (a
            /// rendezvous queue is always full).
            pub fn is_full(&self) -> bool {
                self.shared.is_full()
            }

            /// The most items the queue holds: `None` if unbounded, `Some(0)`
            /// for a rendezvous queue.
            pub fn capacity(&self) -> Option<usize> {
                self.shared.capacity()
            }

            /// Changes the capacity (`None`: unbounded, `Some(0)`:
            /// rendezvous). Growing it admits blocked putters' items, oldest
            /// first, and wakes those putters; shrinking it keeps every item
            /// already in the queue.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = thicket_green::", stringify!($name), "::bounded(1);")]
            /// q.try_put(1).unwrap();
            /// assert!(q.try_put(2).unwrap_err().is_full());
            /// q.resize(Some(2));
            /// q.try_put(2).unwrap();
            /// q.resize(None);
            /// assert_eq!(q.capacity(), None);
            /// ```
            pub fn resize(&self, capacity: Option<usize>) {
                self.shared.resize(capacity)
            }

            /// How many getters are waiting (not counting any already woken
            /// with an item promised to them).
            pub fn getting(&self) -> usize {
                self.shared.getting()
            }

            /// How many putters are waiting for their item to be accepted.
            pub fn putting(&self) -> usize {
                self.shared.putting()
            }

            /// Closes the queue: puts fail from now on (blocked putters get
            /// their item back with [`WaitError::Closed`]), and getters take
            /// what is left, then get `WaitError::Closed`. Closing twice does
            /// nothing.
            ///
            /// # Examples
            ///
            /// ```
            /// use thicket_green::WaitError;
            ///
            #[doc = concat!("let q = thicket_green::", stringify!($name), "::unbounded();")]
            /// q.put(1).unwrap();
            /// q.close();
            /// assert_eq!(q.put(2).unwrap_err().into_inner(), 2);
            /// assert_eq!(q.get(), Ok(1)); // what was left
            /// assert_eq!(q.get(), Err(WaitError::Closed));
            /// ```
            pub fn close(&self) {
                self.shared.close()
            }

            /// Whether [`close`](Self::close) was called.
            pub fn is_closed(&self) -> bool {
                self.shared.is_closed()
            }

            /// Items put but not yet marked done with
            /// [`task_done`](Self::task_done).
            pub fn unfinished_tasks(&self) -> usize {
                self.shared.unfinished_tasks()
            }

            /// Marks one item taken from the queue as processed (Python's
            /// `Queue.task_done`); when every item put has been marked,
            /// [`join`](Self::join) returns.
            ///
            /// # Errors
            ///
            /// [`TaskDoneError`] if called more times than items were put.
            pub fn task_done(&self) -> Result<(), TaskDoneError> {
                self.shared.task_done()
            }

            /// Waits until every item put has been marked with
            /// [`task_done`](Self::task_done); returns at once if none is
            /// outstanding. A joiner woken because the count reached zero
            /// returns even if new items arrived before it ran.
            ///
            /// # Errors
            ///
            /// [`WaitError::TimedOut`] if an enclosing
            /// [`with_timeout`](crate::with_timeout) deadline passes,
            /// [`WaitError::Cancelled`] if the green thread is killed,
            #[doc = concat!("[`WaitError::Deadlock`] (naming `\"", stringify!($name), "::join\"`)")]
            /// if nothing could ever finish the work.
            ///
            /// # Examples
            ///
            /// ```
            /// use thicket_green::spawn;
            ///
            #[doc = concat!("let q = thicket_green::", stringify!($name), "::unbounded();")]
            /// let worker = {
            ///     let q = q.clone();
            ///     spawn(move || {
            ///         while let Ok(n) = q.get() {
            ///             let _ = n * 2; // the work
            ///             q.task_done().unwrap();
            ///         }
            ///     })
            /// };
            /// for n in 0..10 {
            ///     q.put(n).unwrap();
            /// }
            /// q.join()?; // every item processed
            /// assert_eq!(q.unfinished_tasks(), 0);
            /// q.close(); // lets the worker's get fail, so it exits
            /// worker.join().unwrap();
            /// # Ok::<(), thicket_green::WaitError>(())
            /// ```
            pub fn join(&self) -> Result<(), WaitError> {
                self.shared.join(None, concat!(stringify!($name), "::join"))
            }

            /// Like [`join`](Self::join), waiting at most `timeout`.
            ///
            /// # Errors
            ///
            /// As for `join`; [`WaitError::TimedOut`] if work is still
            /// outstanding when `timeout` has passed.
            pub fn join_timeout(&self, timeout: Duration) -> Result<(), WaitError> {
                let deadline = deadline_after(timeout);
                self.shared.join(Some(deadline), concat!(stringify!($name), "::join"))
            }
        }

        impl<T> Clone for $name<T> {
            /// Another handle to the same queue.
            fn clone(&self) -> Self {
                $name { shared: self.shared.clone() }
            }
        }

        impl<T $(: $bound)?> Default for $name<T> {
            /// An unbounded queue.
            fn default() -> Self {
                Self::unbounded()
            }
        }

        impl<T $(: $bound)?> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let (len, capacity, closed) = self.shared.summary();
                f.debug_struct(stringify!($name))
                    .field("len", &len)
                    .field("capacity", &capacity)
                    .field("closed", &closed)
                    .finish()
            }
        }
    };
}

queue_kind! {
    /// A first-in, first-out queue for green threads (eventlet's and gevent's
    /// `Queue`, Python's `queue.Queue`), also between OS threads and hubs.
    ///
    /// Made [`unbounded`](Queue::unbounded), [`bounded`](Queue::bounded) or
    /// [`rendezvous`](Queue::rendezvous) (holds nothing: a put waits for a
    /// getter). Blocking calls come in pairs, [`get`](Queue::get) /
    /// [`get_timeout`](Queue::get_timeout) and [`put`](Queue::put) /
    /// [`put_timeout`](Queue::put_timeout), plus `try_` forms that never
    /// wait. Blocked getters and putters are each served in arrival order. A
    /// call that times out or is cancelled loses nothing: a failed get took no
    /// item, a failed put hands its item back.
    ///
    /// [`close`](Queue::close) ends the stream: getters drain what is left,
    /// then get [`WaitError::Closed`]. [`task_done`](Queue::task_done) and
    /// [`join`](Queue::join) track processing as in Python.
    ///
    /// `Queue` is a handle: clones share one queue, and it is `Send + Sync`
    /// when `T: Send`.
    ///
    /// # Examples
    ///
    /// ```
    /// use thicket_green::{spawn, Queue, WaitError};
    ///
    /// let q = Queue::bounded(2);
    /// let producer = {
    ///     let q = q.clone();
    ///     spawn(move || {
    ///         for i in 0..5 {
    ///             q.put(i)?; // blocks while two items wait
    ///         }
    ///         q.close();
    ///         Ok::<_, thicket_green::PutError<i32>>(())
    ///     })
    /// };
    /// let mut got = Vec::new();
    /// loop {
    ///     match q.get() {
    ///         Ok(i) => got.push(i),
    ///         Err(WaitError::Closed) => break,
    ///         Err(e) => panic!("{e}"),
    ///     }
    /// }
    /// assert_eq!(got, vec![0, 1, 2, 3, 4]);
    /// producer.join().unwrap().unwrap();
    /// ```
    Queue, Fifo
}

queue_kind! {
    /// A last-in, first-out queue (a stack) for green threads (Python's
    /// `queue.LifoQueue`), with the same API as [`Queue`].
    ///
    /// Items waiting in blocked putters join the stack only as room is made,
    /// oldest first; a rendezvous `LifoQueue` hands items over in putter
    /// order.
    ///
    /// # Examples
    ///
    /// ```
    /// use thicket_green::LifoQueue;
    ///
    /// let stack = LifoQueue::unbounded();
    /// for i in 1..=3 {
    ///     stack.put(i).unwrap();
    /// }
    /// assert_eq!(stack.get(), Ok(3));
    /// assert_eq!(stack.get(), Ok(2));
    /// assert_eq!(stack.get(), Ok(1));
    /// ```
    LifoQueue, Lifo
}

queue_kind! {
    /// A queue that hands out its smallest item first (Python's
    /// `queue.PriorityQueue`, a min-heap), with the same API as [`Queue`].
    /// Use `(priority, item)` tuples, or `std::cmp::Reverse` for largest
    /// first. Items equal in order come out in no particular order.
    ///
    /// # Examples
    ///
    /// ```
    /// use thicket_green::PriorityQueue;
    ///
    /// let jobs = PriorityQueue::unbounded();
    /// jobs.put((2, "later")).unwrap();
    /// jobs.put((1, "urgent")).unwrap();
    /// jobs.put((3, "whenever")).unwrap();
    /// assert_eq!(jobs.get(), Ok((1, "urgent")));
    /// assert_eq!(jobs.get(), Ok((2, "later")));
    /// ```
    PriorityQueue, MinHeap, Ord
}
