//! Bounded sets of green threads: [`GreenPool`] and [`GreenPile`].
//!
//! A pool counts *slots*: a spawn takes one (waiting, in arrival order,
//! while the pool is full) and the member gives it back when its function
//! returns, panics, or is dropped unrun after a kill. A slot freed while
//! spawners wait goes straight to the longest waiter, so the pool stays fair.
//! Pools live on one hub (they are `!Send`); members run on that hub.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use crate::hub;
use crate::park::{Parker, WaitError, WaitList};
use crate::thread::{GreenThread, JoinError};
use crate::timeout::deadline_after;

struct PoolState {
    size: usize,
    /// Members running plus slots handed to spawners not yet running.
    running: usize,
    /// Spawners waiting for a slot. Invariant: non-empty only when
    /// `running >= size`.
    slot_waiters: WaitList,
    /// Callers of `waitall`.
    idle_waiters: WaitList,
    /// Ids of the green threads running as members, to let them spawn into
    /// their own full pool without waiting.
    members: HashSet<u64>,
}

impl PoolState {
    /// Hands free slots to waiting spawners, longest waiter first.
    fn grant(&mut self) {
        while self.running < self.size && self.slot_waiters.notify_one() {
            self.running += 1;
        }
    }

    fn release(&mut self) {
        self.running -= 1;
        self.grant();
        if self.running == 0 {
            self.idle_waiters.notify_all();
        }
    }
}

type Shared = Rc<RefCell<PoolState>>;

/// One taken slot; dropping it gives the slot back.
/// A place in a pool, held from before a spawn until its green thread
/// ends.
pub(crate) struct Slot {
    pool: Shared,
    member: Option<u64>,
}

impl Slot {
    /// Records the running green thread as a member while it holds the slot.
    fn enter(&mut self) {
        let id = current_id();
        self.pool.borrow_mut().members.insert(id);
        self.member = Some(id);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut st = self.pool.borrow_mut();
        if let Some(id) = self.member {
            st.members.remove(&id);
        }
        st.release();
    }
}

fn current_id() -> u64 {
    hub::with(|h| h.current().id())
}

/// A pool of at most `size` concurrently running green threads (eventlet's
/// `GreenPool`, gevent's `Pool`).
///
/// [`spawn`](GreenPool::spawn) waits while the pool is full, so a pool is how
/// a server bounds its concurrency; spawners are served in arrival order.
/// [`imap`](GreenPool::imap) maps a function over an iterator with at most
/// `size` calls in flight, and [`waitall`](GreenPool::waitall) waits for the
/// pool to drain.
///
/// A member of the pool that spawns into it never waits for a slot: it gets
/// one at once, even if that takes the pool past its size for a while.
/// Otherwise a full pool whose members spawn sub-tasks into it would
/// deadlock, every member waiting for a slot only another member could free.
///
/// `GreenPool` is a handle: clones share one pool (members usually hold a
/// clone). It belongs to the hub of the thread that created it and is not
/// `Send`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use thicket_green::{sleep, GreenPool};
///
/// let pool = GreenPool::new(2);
/// let handles: Vec<_> = (0..5u64)
///     .map(|i| {
///         pool.spawn(move || {
///             sleep(Duration::from_millis(1)).unwrap();
///             i * 10
///         })
///     })
///     .collect::<Result<_, _>>()?; // the third spawn waited for a free slot
/// assert!(pool.running() <= 2);
/// pool.waitall()?;
/// assert_eq!(pool.running(), 0);
/// let values: Vec<u64> = handles.iter().map(|h| h.join().unwrap()).collect();
/// assert_eq!(values, [0, 10, 20, 30, 40]);
/// # Ok::<(), thicket_green::WaitError>(())
/// ```
#[derive(Clone)]
pub struct GreenPool {
    inner: Shared,
}

impl GreenPool {
    /// A pool that runs at most `size` green threads at once. A pool of
    /// size 0 runs nothing (spawns wait) until [`resize`](Self::resize)d.
    pub fn new(size: usize) -> GreenPool {
        GreenPool {
            inner: Rc::new(RefCell::new(PoolState {
                size,
                running: 0,
                slot_waiters: WaitList::default(),
                idle_waiters: WaitList::default(),
                members: HashSet::new(),
            })),
        }
    }

    /// Spawns `f` as a member of the pool, first waiting (behind earlier
    /// spawners) for a free slot if the pool is full; a member spawning into
    /// its own pool does not wait. The slot is freed when `f` returns or
    /// panics, or if the green thread is killed before it starts.
    ///
    /// To bound the wait, call it inside [`with_timeout`](crate::with_timeout).
    ///
    /// # Errors
    ///
    /// The wait for a slot failed: [`WaitError::Cancelled`] (the caller was
    /// killed), [`WaitError::TimedOut`] (an enclosing deadline) or
    /// [`WaitError::Deadlock`]. `f` was not spawned and no slot is held.
    ///
    /// # Panics
    ///
    /// If no stack can be mapped for the green thread.
    pub fn spawn<F, T>(&self, f: F) -> Result<GreenThread<T>, WaitError>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        let slot = self.acquire_slot(None, "GreenPool::spawn")?;
        Ok(spawn_in(slot, f))
    }

    /// Like [`spawn`](Self::spawn) but detached (eventlet's `spawn_n`): no
    /// handle; a panic goes to the handler set with
    /// [`set_panic_handler`](crate::set_panic_handler).
    ///
    /// # Errors
    ///
    /// As for `spawn`.
    ///
    /// # Panics
    ///
    /// If no stack can be mapped for the green thread.
    pub fn spawn_n<F>(&self, f: F) -> Result<(), WaitError>
    where
        F: FnOnce() + 'static,
    {
        let mut slot = self.acquire_slot(None, "GreenPool::spawn_n")?;
        crate::spawn_n(move || {
            slot.enter();
            f();
            drop(slot);
        });
        Ok(())
    }

    /// Waits until no member is running (and no spawner holds a slot).
    ///
    /// # Errors
    ///
    /// [`WaitError::Deadlock`] at once if called by a member of this pool
    /// (it would wait for itself); otherwise the wait's own failures:
    /// [`WaitError::Cancelled`], [`WaitError::TimedOut`] from an enclosing
    /// deadline, or [`WaitError::Deadlock`].
    pub fn waitall(&self) -> Result<(), WaitError> {
        self.waitall_until(None)
    }

    /// Like [`waitall`](Self::waitall), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// As for `waitall`; [`WaitError::TimedOut`] when `timeout` passes.
    pub fn waitall_timeout(&self, timeout: Duration) -> Result<(), WaitError> {
        self.waitall_until(Some(deadline_after(timeout)))
    }

    /// Changes the pool's size. Growing lets waiting spawners in at once;
    /// shrinking lets members already running finish, and new spawns wait
    /// until fewer than `size` run.
    pub fn resize(&self, size: usize) {
        let mut st = self.inner.borrow_mut();
        st.size = size;
        st.grant();
    }

    /// The pool's size: the most members that run at once.
    pub fn size(&self) -> usize {
        self.inner.borrow().size
    }

    /// How many members are running (a slot handed to a spawner that has
    /// not spawned yet counts).
    pub fn running(&self) -> usize {
        self.inner.borrow().running
    }

    /// How many more could be spawned without waiting.
    pub fn free(&self) -> usize {
        let st = self.inner.borrow();
        st.size.saturating_sub(st.running)
    }

    /// How many spawners are waiting for a slot.
    pub fn waiting(&self) -> usize {
        self.inner.borrow().slot_waiters.len()
    }

    /// Runs `f` on each item in the pool, at most [`size`](Self::size) calls
    /// in flight (fewer while other spawners share the pool), and yields the
    /// results in input order: each is what [`GreenThread::join`] returned
    /// for that call. Lazy: the first `next` starts the first calls. At most
    /// `size` results are held at once, so memory stays bounded on a long or
    /// endless input.
    ///
    /// If the consumer's own wait fails (it is killed, or an enclosing
    /// deadline passes), `next` returns `Err(JoinError::Wait(e))` and loses
    /// nothing: the call after returns the same result. Dropping the
    /// iterator detaches the calls in flight; they run to completion.
    ///
    /// # Examples
    ///
    /// ```
    /// use thicket_green::GreenPool;
    ///
    /// let pool = GreenPool::new(3);
    /// let squares: Vec<u64> = pool
    ///     .imap(|n: u64| n * n, 1..=5)
    ///     .map(|r| r.expect("no call panicked"))
    ///     .collect();
    /// assert_eq!(squares, [1, 4, 9, 16, 25]);
    /// ```
    pub fn imap<I, F, T>(&self, f: F, items: I) -> impl Iterator<Item = Result<T, JoinError>>
    where
        I: IntoIterator,
        I::Item: 'static,
        F: Fn(I::Item) -> T + 'static,
        T: 'static,
    {
        Imap {
            feed: Feed::new(self, f, items.into_iter(), "GreenPool::imap"),
            in_flight: VecDeque::new(),
        }
    }

    /// Like [`imap`](Self::imap), but yields each result as soon as its call
    /// finishes, in completion order.
    ///
    /// # Examples
    ///
    /// ```
    /// use thicket_green::GreenPool;
    ///
    /// let pool = GreenPool::new(4);
    /// let mut lengths: Vec<usize> = pool
    ///     .imap_unordered(|s: &str| s.len(), ["a", "bb", "ccc"])
    ///     .map(Result::unwrap)
    ///     .collect();
    /// lengths.sort();
    /// assert_eq!(lengths, [1, 2, 3]);
    /// ```
    pub fn imap_unordered<I, F, T>(
        &self,
        f: F,
        items: I,
    ) -> impl Iterator<Item = Result<T, JoinError>>
    where
        I: IntoIterator,
        I::Item: 'static,
        F: Fn(I::Item) -> T + 'static,
        T: 'static,
    {
        ImapUnordered {
            feed: Feed::new(self, f, items.into_iter(), "GreenPool::imap_unordered"),
            running: HashMap::new(),
            next_key: 0,
            done: Rc::new(RefCell::new(Done {
                ready: VecDeque::new(),
                waiters: WaitList::default(),
            })),
        }
    }

    fn slot(&self) -> Slot {
        Slot {
            pool: self.inner.clone(),
            member: None,
        }
    }

    /// A slot if one is free (or the caller is a member); never waits.
    fn try_acquire_slot(&self) -> Option<Slot> {
        let me = current_id();
        let mut st = self.inner.borrow_mut();
        if (st.running < st.size && st.slot_waiters.is_empty()) || st.members.contains(&me) {
            st.running += 1;
            return Some(self.slot());
        }
        None
    }

    /// Waits for a free slot and holds it, to spawn into later with
    /// [`spawn_reserved`](Self::spawn_reserved): an accept loop takes a
    /// connection only once it has a place to run it.
    pub(crate) fn reserve(&self, what: &'static str) -> Result<Slot, WaitError> {
        self.acquire_slot(None, what)
    }

    /// Spawns `f` into a slot [`reserve`](Self::reserve)d earlier.
    pub(crate) fn spawn_reserved<F, T>(&self, slot: Slot, f: F) -> GreenThread<T>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        spawn_in(slot, f)
    }

    fn acquire_slot(&self, deadline: Option<u64>, what: &'static str) -> Result<Slot, WaitError> {
        loop {
            if let Some(slot) = self.try_acquire_slot() {
                return Ok(slot);
            }
            let (parker, ticket) = {
                let mut st = self.inner.borrow_mut();
                let parker = Parker::current();
                let ticket = st.slot_waiters.push(parker.unparker());
                (parker, ticket)
            };
            // Members may wait on anything, other threads included.
            let r = parker.park(what, deadline, &|| true);
            let mut st = self.inner.borrow_mut();
            if !st.slot_waiters.remove(ticket) {
                // A freed slot was handed to this spawner.
                return match r {
                    Ok(()) => Ok(self.slot()),
                    Err(e) => {
                        // Giving up anyway: pass the slot on.
                        st.release();
                        Err(e)
                    }
                };
            }
            // Still queued: no slot was handed over. An `Ok` here would be a
            // wake-up from no release; look again.
            r?;
        }
    }

    fn waitall_until(&self, deadline: Option<u64>) -> Result<(), WaitError> {
        let me = current_id();
        loop {
            let (parker, ticket) = {
                let mut st = self.inner.borrow_mut();
                if st.running == 0 {
                    return Ok(());
                }
                if st.members.contains(&me) {
                    return Err(WaitError::Deadlock {
                        waiting_for: "GreenPool::waitall (called by a member of the pool)",
                    });
                }
                let parker = Parker::current();
                let ticket = st.idle_waiters.push(parker.unparker());
                (parker, ticket)
            };
            let r = parker.park("GreenPool::waitall", deadline, &|| true);
            // The pool going idle wakes every waiter at once, so a waiter
            // that gives up has no notification to pass on.
            self.inner.borrow_mut().idle_waiters.remove(ticket);
            r?;
        }
    }
}

impl fmt::Debug for GreenPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.borrow();
        f.debug_struct("GreenPool")
            .field("size", &st.size)
            .field("running", &st.running)
            .field("waiting", &st.slot_waiters.len())
            .finish()
    }
}

/// Spawns `f` as the member holding `slot`.
fn spawn_in<F, T>(mut slot: Slot, f: F) -> GreenThread<T>
where
    F: FnOnce() -> T + 'static,
    T: 'static,
{
    crate::spawn(move || {
        slot.enter();
        let value = f();
        drop(slot);
        value
    })
}

/// The input side of `imap`: items, the function, and slots to run them in.
struct Feed<It, F> {
    pool: GreenPool,
    items: It,
    f: Rc<F>,
    exhausted: bool,
    what: &'static str,
}

impl<It: Iterator, F> Feed<It, F> {
    fn new(pool: &GreenPool, f: F, items: It, what: &'static str) -> Feed<It, F> {
        Feed {
            pool: pool.clone(),
            items,
            f: Rc::new(f),
            exhausted: false,
            what,
        }
    }

    /// The next item with a slot to run it in, waiting for a slot only if
    /// `wait`. A slot is taken before the item, so a failed wait consumes no
    /// item.
    fn next(&mut self, wait: bool) -> Result<Option<(Slot, It::Item)>, WaitError> {
        if self.exhausted {
            return Ok(None);
        }
        let slot = if wait {
            self.pool.acquire_slot(None, self.what)?
        } else {
            match self.pool.try_acquire_slot() {
                Some(slot) => slot,
                None => return Ok(None),
            }
        };
        match self.items.next() {
            Some(item) => Ok(Some((slot, item))),
            None => {
                self.exhausted = true;
                Ok(None)
            }
        }
    }

    /// How many calls may be in flight: the pool's size, but at least one
    /// so that a pool shrunk to nothing still makes progress once resized.
    fn cap(&self) -> usize {
        self.pool.size().max(1)
    }
}

struct Imap<It, F, T> {
    feed: Feed<It, F>,
    in_flight: VecDeque<GreenThread<T>>,
}

impl<It, F, T> Iterator for Imap<It, F, T>
where
    It: Iterator,
    It::Item: 'static,
    F: Fn(It::Item) -> T + 'static,
    T: 'static,
{
    type Item = Result<T, JoinError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.in_flight.len() < self.feed.cap() {
            // Wait for a slot only when nothing is in flight; otherwise the
            // result at the front may already be there to return.
            match self.feed.next(self.in_flight.is_empty()) {
                Ok(Some((slot, item))) => {
                    let f = self.feed.f.clone();
                    self.in_flight.push_back(spawn_in(slot, move || f(item)));
                }
                Ok(None) => break,
                Err(e) => return Some(Err(JoinError::Wait(e))),
            }
        }
        let r = self.in_flight.front()?.join();
        if !matches!(r, Err(JoinError::Wait(_))) {
            self.in_flight.pop_front();
        }
        Some(r)
    }
}

/// Completions reported by `imap_unordered` members, and its consumer.
struct Done {
    ready: VecDeque<u64>,
    waiters: WaitList,
}

/// Reports a member's completion when dropped: after its call returns or
/// panics, or with the unrun call of a member killed before it started.
struct Completion {
    done: Rc<RefCell<Done>>,
    key: u64,
}

impl Drop for Completion {
    fn drop(&mut self) {
        let mut d = self.done.borrow_mut();
        d.ready.push_back(self.key);
        d.waiters.notify_one();
    }
}

struct ImapUnordered<It, F, T> {
    feed: Feed<It, F>,
    running: HashMap<u64, GreenThread<T>>,
    next_key: u64,
    done: Rc<RefCell<Done>>,
}

impl<It, F, T> Iterator for ImapUnordered<It, F, T>
where
    It: Iterator,
    It::Item: 'static,
    F: Fn(It::Item) -> T + 'static,
    T: 'static,
{
    type Item = Result<T, JoinError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.running.len() < self.feed.cap() {
            match self.feed.next(self.running.is_empty()) {
                Ok(Some((slot, item))) => {
                    let f = self.feed.f.clone();
                    let key = self.next_key;
                    self.next_key += 1;
                    let completion = Completion {
                        done: self.done.clone(),
                        key,
                    };
                    let gt = spawn_in(slot, move || {
                        let _completion = completion;
                        f(item)
                    });
                    self.running.insert(key, gt);
                }
                Ok(None) => break,
                Err(e) => return Some(Err(JoinError::Wait(e))),
            }
        }
        loop {
            let (parker, ticket) = {
                let mut d = self.done.borrow_mut();
                if let Some(key) = d.ready.pop_front() {
                    drop(d);
                    // Finished but for recording its result; the join
                    // returns without a switch in practice.
                    let r = self.running[&key].join();
                    if matches!(r, Err(JoinError::Wait(_))) {
                        self.done.borrow_mut().ready.push_front(key);
                    } else {
                        self.running.remove(&key);
                    }
                    return Some(r);
                }
                if self.running.is_empty() {
                    return None;
                }
                let parker = Parker::current();
                let ticket = d.waiters.push(parker.unparker());
                (parker, ticket)
            };
            let r = parker.park(self.feed.what, None, &|| true);
            // The only waiter is this consumer: nothing to pass on.
            self.done.borrow_mut().waiters.remove(ticket);
            if let Err(e) = r {
                return Some(Err(JoinError::Wait(e)));
            }
        }
    }
}

/// Green threads whose results are read back in spawn order (eventlet's
/// `GreenPile`): spawn calls into it, then iterate over it.
///
/// Spawns go through a [`GreenPool`] (its own, or a shared one), so at most
/// its size run at once and [`spawn`](GreenPile::spawn) waits while it is
/// full. Iterating waits for each result in turn and yields what
/// [`GreenThread::join`] returned; it ends when nothing spawned is left
/// unread (more may be spawned later and read by iterating again).
///
/// If the reader's own wait fails (it is killed, or an enclosing deadline
/// passes), `next` returns `Err(JoinError::Wait(e))` and loses nothing: the
/// same result comes back on the next call. Stop iterating on that error
/// (for example with `?`): in a killed green thread every wait fails.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use thicket_green::{sleep, GreenPile};
///
/// let mut pile = GreenPile::new(4);
/// for ms in [3u64, 1, 2] {
///     pile.spawn(move || {
///         sleep(Duration::from_millis(ms)).unwrap();
///         ms
///     })?;
/// }
/// // Spawn order, whatever order they finished in.
/// let order: Vec<u64> = pile.by_ref().map(Result::unwrap).collect();
/// assert_eq!(order, [3, 1, 2]);
/// assert!(pile.is_empty());
/// # Ok::<(), thicket_green::WaitError>(())
/// ```
pub struct GreenPile<T> {
    pool: GreenPool,
    pending: VecDeque<GreenThread<T>>,
}

impl<T: 'static> GreenPile<T> {
    /// A pile with its own pool of `size`.
    pub fn new(size: usize) -> GreenPile<T> {
        GreenPile::with_pool(&GreenPool::new(size))
    }

    /// A pile spawning into `pool`, sharing its slots with the pool's other
    /// users.
    pub fn with_pool(pool: &GreenPool) -> GreenPile<T> {
        GreenPile {
            pool: pool.clone(),
            pending: VecDeque::new(),
        }
    }

    /// Spawns `f` into the pile's pool (waiting while it is full); its
    /// result is read back in spawn order.
    ///
    /// # Errors
    ///
    /// As for [`GreenPool::spawn`]: the wait for a slot failed, and `f` was
    /// not spawned.
    ///
    /// # Panics
    ///
    /// If no stack can be mapped for the green thread.
    pub fn spawn<F>(&mut self, f: F) -> Result<(), WaitError>
    where
        F: FnOnce() -> T + 'static,
    {
        let gt = self.pool.spawn(f)?;
        self.pending.push_back(gt);
        Ok(())
    }

    /// How many spawned results are not read yet.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether every spawned result has been read.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The pool the pile spawns into.
    pub fn pool(&self) -> &GreenPool {
        &self.pool
    }
}

impl<T> Iterator for GreenPile<T> {
    type Item = Result<T, JoinError>;

    fn next(&mut self) -> Option<Self::Item> {
        let r = self.pending.front()?.join();
        if !matches!(r, Err(JoinError::Wait(_))) {
            self.pending.pop_front();
        }
        Some(r)
    }
}

impl<T> fmt::Debug for GreenPile<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GreenPile")
            .field("pool", &self.pool)
            .field("unread", &self.pending.len())
            .finish()
    }
}
