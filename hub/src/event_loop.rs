//! The loop itself: the watcher table, one iteration, and dispatch.
//!
//! All state lives in one `RefCell` that is never borrowed while a user
//! callback runs, so callbacks may start, stop, create and drop any watcher,
//! themselves included. A callback is taken out of its slot while it runs and
//! put back afterwards (also when it panics), which is what makes a panic
//! leave the loop usable.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::process::ExitStatus;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Poll, Token};

use crate::heap::TimerHeap;
use crate::io::{Interest, Ready};
use crate::sys;
use crate::watcher::{Async, Check, Child, Idle, Io, Prepare, Signal, Timer};

const WAKER: Token = Token(usize::MAX);
const SIGNALS: Token = Token(usize::MAX - 1);
const EVENTS_CAPACITY: usize = 1024;

/// A libev-style event loop, one per OS thread.
///
/// `Loop` is a cheap handle (an `Rc`): clones refer to the same loop. It is
/// neither `Send` nor `Sync`; to reach a loop from another thread, use an
/// [`Async`] watcher's [`AsyncSender`](crate::AsyncSender).
///
/// Each iteration runs, in order: [`Prepare`] watchers; a poll for I/O that
/// waits at most until the nearest timer (not at all if callbacks are already
/// due or an [`Idle`] watcher is active); [`Check`] watchers; the callbacks of
/// every watcher that became due (expired timers in deadline order, then I/O,
/// signal, child and async watchers in the order their events were seen);
/// [`Idle`] watchers if nothing else was due; and finally callbacks queued with
/// [`call_soon`](Loop::call_soon).
///
/// # Panics in callbacks
///
/// A panic in a callback propagates out of [`run`](Loop::run) (or
/// [`run_once`](Loop::run_once)). The loop stays usable: the callback is put
/// back in its watcher, callbacks that were due but had not run yet stay due
/// and run in the next iteration.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use thicket_hub::{Loop, Timer};
///
/// let lp = Loop::new()?;
/// let timer = Timer::new(&lp, |t| println!("fired at iteration {}", t.get_loop().iteration()));
/// timer.start(Duration::from_millis(5));
/// lp.run()?; // returns once the timer has fired: nothing is left to wait for
/// assert!(!timer.is_active());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Loop {
    pub(crate) inner: Rc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) state: RefCell<State>,
    poll: RefCell<Poll>,
    events: RefCell<Events>,
    pub(crate) shared: Arc<Shared>,
    epoch: Instant,
    stop_requested: Cell<bool>,
}

/// The part of a loop that other threads may touch.
pub(crate) struct Shared {
    waker: mio::Waker,
    needs_wake: AtomicBool,
}

impl Shared {
    /// Wakes the loop's poll unless a wake-up is already on its way.
    pub(crate) fn wake(&self) {
        if !self.needs_wake.swap(true, Ordering::SeqCst) {
            // A failed wake can only mean the eventfd counter is saturated,
            // and then the loop is certain to wake anyway.
            let _ = self.waker.wake();
        }
    }
}

/// Identifies a watcher slot; the generation makes stale handles harmless.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    pub(crate) index: u32,
    pub(crate) gen: u32,
}

pub(crate) struct Slot {
    gen: u32,
    pub(crate) kind: Kind,
    pub(crate) active: bool,
    pub(crate) refd: bool,
    pending: bool,
    cb: Option<Callback>,
}

pub(crate) enum Kind {
    Free,
    Timer {
        deadline: u64,
        repeat: u64,
    },
    Io {
        fd: RawFd,
        interest: Interest,
        readiness: Ready,
        revents: Ready,
    },
    Signal {
        signum: i32,
    },
    Child {
        pidfd: OwnedFd,
        pid: u32,
        exited: bool,
    },
    Idle,
    Prepare,
    Check,
    Async {
        flag: Arc<crate::watcher::AsyncFlag>,
    },
}

pub(crate) enum Callback {
    Timer(Box<dyn FnMut(&Timer)>),
    Io(IoCallback),
    Signal(Box<dyn FnMut(&Signal)>),
    Child(ChildCallback),
    Idle(Box<dyn FnMut(&Idle)>),
    Prepare(Box<dyn FnMut(&Prepare)>),
    Check(Box<dyn FnMut(&Check)>),
    Async(Box<dyn FnMut(&Async)>),
}

type Soon = Box<dyn FnOnce(&Loop)>;
type IoCallback = Box<dyn FnMut(&Io, Ready)>;
type ChildCallback = Box<dyn FnMut(&Child, io::Result<ExitStatus>)>;

pub(crate) struct State {
    slots: Vec<Slot>,
    free: Vec<u32>,
    timers: TimerHeap,
    timer_seq: u64,
    pending: VecDeque<Key>,
    soon: VecDeque<Soon>,
    idle: Vec<Key>,
    prepare: Vec<Key>,
    check: Vec<Key>,
    signals: Vec<Key>,
    asyncs: Vec<Key>,
    signal_slot: Option<sys::signal::Slot>,
    scratch: Vec<Key>,
    active_refs: usize,
    now_ns: u64,
    iteration: u64,
}

impl Loop {
    /// Creates a loop with its own poller (an epoll instance) and waker.
    ///
    /// # Errors
    ///
    /// Fails if the kernel refuses the epoll or eventfd descriptors (for
    /// example at the open-files limit).
    pub fn new() -> io::Result<Loop> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKER)?;
        let epoch = Instant::now();
        Ok(Loop {
            inner: Rc::new(Inner {
                state: RefCell::new(State {
                    slots: Vec::new(),
                    free: Vec::new(),
                    timers: TimerHeap::default(),
                    timer_seq: 0,
                    pending: VecDeque::new(),
                    soon: VecDeque::new(),
                    idle: Vec::new(),
                    prepare: Vec::new(),
                    check: Vec::new(),
                    signals: Vec::new(),
                    asyncs: Vec::new(),
                    signal_slot: None,
                    scratch: Vec::new(),
                    active_refs: 0,
                    now_ns: 0,
                    iteration: 0,
                }),
                poll: RefCell::new(poll),
                events: RefCell::new(Events::with_capacity(EVENTS_CAPACITY)),
                shared: Arc::new(Shared {
                    waker,
                    needs_wake: AtomicBool::new(false),
                }),
                epoch,
                stop_requested: Cell::new(false),
            }),
        })
    }

    /// Runs iterations until no active, referenced watcher and no due
    /// callback is left, or until [`break_loop`](Loop::break_loop) is called.
    ///
    /// # Errors
    ///
    /// Returns the poller's error if polling fails (interrupted polls are
    /// retried, not reported).
    pub fn run(&self) -> io::Result<()> {
        self.inner.stop_requested.set(false);
        while self.is_alive() {
            self.iterate(None)?;
            if self.inner.stop_requested.replace(false) {
                break;
            }
        }
        Ok(())
    }

    /// Runs one iteration, waiting at most `timeout` for events (`None`:
    /// until an event arrives or a timer is due, however long that is).
    ///
    /// Unlike [`run`](Loop::run), this waits even when no referenced watcher
    /// is active, so an unreferenced [`Async`] watcher can still wake it.
    /// Returns whether the loop is still alive (see [`is_alive`](Loop::is_alive)).
    ///
    /// # Errors
    ///
    /// As for [`run`](Loop::run).
    pub fn run_once(&self, timeout: Option<Duration>) -> io::Result<bool> {
        self.iterate(timeout)?;
        Ok(self.is_alive())
    }

    /// Runs one iteration without waiting for events.
    ///
    /// # Errors
    ///
    /// As for [`run`](Loop::run).
    pub fn run_nowait(&self) -> io::Result<bool> {
        self.run_once(Some(Duration::ZERO))
    }

    /// Makes [`run`](Loop::run) return once the current iteration is done.
    pub fn break_loop(&self) {
        self.inner.stop_requested.set(true);
    }

    /// Whether anything could still keep [`run`](Loop::run) going: an active,
    /// referenced watcher or a callback already due.
    pub fn is_alive(&self) -> bool {
        let st = self.inner.state.borrow();
        st.active_refs > 0 || !st.pending.is_empty() || !st.soon.is_empty()
    }

    /// The number of active watchers that keep [`run`](Loop::run) going.
    pub fn active_count(&self) -> usize {
        self.inner.state.borrow().active_refs
    }

    /// The number of watchers whose callbacks are due in the next dispatch,
    /// plus queued [`call_soon`](Loop::call_soon) callbacks.
    pub fn pending_count(&self) -> usize {
        let st = self.inner.state.borrow();
        st.pending.len() + st.soon.len()
    }

    /// The loop's cached time, taken when it last returned from polling (or
    /// at the last [`update_now`](Loop::update_now)). Timers are relative to it.
    pub fn now(&self) -> Instant {
        self.inner.epoch + Duration::from_nanos(self.inner.state.borrow().now_ns)
    }

    /// The loop's cached time as nanoseconds since [`epoch`](Loop::epoch):
    /// [`now`](Loop::now) without building an `Instant`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = thicket_hub::Loop::new()?;
    /// lp.update_now();
    /// let now = lp.epoch() + std::time::Duration::from_nanos(lp.now_ns());
    /// assert_eq!(now, lp.now());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn now_ns(&self) -> u64 {
        self.inner.state.borrow().now_ns
    }

    /// The instant the loop's time counts from (its creation).
    pub fn epoch(&self) -> Instant {
        self.inner.epoch
    }

    /// Refreshes the cached time from the clock.
    pub fn update_now(&self) {
        let ns = self.clock_ns();
        self.inner.state.borrow_mut().now_ns = ns;
    }

    /// How many iterations the loop has started.
    pub fn iteration(&self) -> u64 {
        self.inner.state.borrow().iteration
    }

    /// Queues `f` to run on the loop thread at the end of the current
    /// iteration (or the next one, if called from outside a dispatch). Queued
    /// callbacks run in order, and keep [`run`](Loop::run) alive until they have.
    pub fn call_soon(&self, f: impl FnOnce(&Loop) + 'static) {
        self.inner.state.borrow_mut().soon.push_back(Box::new(f));
    }

    fn clock_ns(&self) -> u64 {
        let d = self.inner.epoch.elapsed();
        d.as_secs()
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(d.subsec_nanos()))
    }

    fn iterate(&self, limit: Option<Duration>) -> io::Result<()> {
        self.inner.state.borrow_mut().iteration += 1;
        self.invoke_list(|st| &st.prepare);

        let timeout = {
            let now = self.clock_ns();
            let mut st = self.inner.state.borrow_mut();
            st.now_ns = now;
            if self.inner.stop_requested.get()
                || !st.pending.is_empty()
                || !st.soon.is_empty()
                || !st.idle.is_empty()
            {
                Some(Duration::ZERO)
            } else {
                let timer = st
                    .timers
                    .peek()
                    .map(|(deadline, _)| Duration::from_nanos(deadline.saturating_sub(now)));
                match (timer, limit) {
                    (Some(t), Some(l)) => Some(t.min(l)),
                    (t, l) => t.or(l),
                }
            }
        };

        {
            let mut events = self.inner.events.borrow_mut();
            match self.inner.poll.borrow_mut().poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => events.clear(),
                Err(e) => return Err(e),
            }
            let now = self.clock_ns();
            let mut st = self.inner.state.borrow_mut();
            st.now_ns = now;
            for event in events.iter() {
                match event.token() {
                    WAKER => st.collect_asyncs(&self.inner.shared),
                    SIGNALS => st.collect_signals(),
                    Token(index) => st.collect_io(index, Ready::from_event(event)),
                }
            }
        }

        self.invoke_list(|st| &st.check);

        let due = {
            let mut st = self.inner.state.borrow_mut();
            st.expire_timers();
            if st.pending.is_empty() && st.soon.is_empty() {
                for i in 0..st.idle.len() {
                    let key = st.idle[i];
                    st.enqueue(key);
                }
            }
            st.pending.len()
        };
        for _ in 0..due {
            let next = self.inner.state.borrow_mut().pending.pop_front();
            match next {
                Some(key) => self.invoke(key, false),
                None => break,
            }
        }

        let soon = self.inner.state.borrow().soon.len();
        for _ in 0..soon {
            let next = self.inner.state.borrow_mut().soon.pop_front();
            match next {
                Some(f) => f(self),
                None => break,
            }
        }
        Ok(())
    }

    /// Runs the active watchers of one of the always-called lists (prepare,
    /// check), on a snapshot so callbacks may change the list.
    fn invoke_list(&self, list: impl Fn(&State) -> &Vec<Key>) {
        let mut keys = {
            let mut st = self.inner.state.borrow_mut();
            let mut keys = std::mem::take(&mut st.scratch);
            keys.clear();
            keys.extend_from_slice(list(&st));
            keys
        };
        if keys.is_empty() {
            self.inner.state.borrow_mut().scratch = keys;
            return;
        }
        for key in &keys {
            self.invoke(*key, true);
        }
        keys.clear();
        self.inner.state.borrow_mut().scratch = keys;
    }

    /// Calls the watcher's callback. `direct` is for prepare and check
    /// watchers, which run whenever they are active rather than when due.
    fn invoke(&self, key: Key, direct: bool) {
        let (cb, arg) = {
            let mut st = self.inner.state.borrow_mut();
            let Some(slot) = st.slot_mut(key) else {
                return;
            };
            if direct {
                if !slot.active {
                    return;
                }
            } else if !slot.pending {
                return;
            }
            slot.pending = false;
            let Some(cb) = slot.cb.take() else {
                // The callback is running further up this stack (a nested
                // run from inside it); it cannot be re-entered.
                return;
            };
            let arg = match &mut slot.kind {
                Kind::Io { revents, .. } => Arg::Io(std::mem::take(revents)),
                Kind::Child { pidfd, exited, .. } => {
                    *exited = false;
                    match sys::pidfd::try_wait(pidfd.as_raw_fd()) {
                        Ok(None) => Arg::None,
                        Ok(Some(status)) => Arg::Child(Ok(status)),
                        Err(e) => Arg::Child(Err(e)),
                    }
                }
                _ => Arg::None,
            };
            match arg {
                // A readable pidfd whose process has not exited: nothing to report.
                Arg::None if matches!(slot.kind, Kind::Child { .. }) => {
                    slot.cb = Some(cb);
                    return;
                }
                Arg::Child(_) => st.deactivate(key),
                _ => {}
            }
            (cb, arg)
        };
        let mut guard = Restore {
            lp: self,
            key,
            cb: Some(cb),
        };
        match (guard.cb.as_mut().expect("callback present"), arg) {
            (Callback::Timer(f), _) => f(&Timer::view(self, key)),
            (Callback::Io(f), Arg::Io(ready)) => f(&Io::view(self, key), ready),
            (Callback::Signal(f), _) => f(&Signal::view(self, key)),
            (Callback::Child(f), Arg::Child(status)) => f(&Child::view(self, key), status),
            (Callback::Idle(f), _) => f(&Idle::view(self, key)),
            (Callback::Prepare(f), _) => f(&Prepare::view(self, key)),
            (Callback::Check(f), _) => f(&Check::view(self, key)),
            (Callback::Async(f), _) => f(&Async::view(self, key)),
            (_, _) => unreachable!("callback and event of different watcher kinds"),
        }
    }

    // ---- watcher table operations used by the watcher types ----

    pub(crate) fn alloc(&self, kind: Kind, cb: Callback) -> Key {
        self.inner.state.borrow_mut().alloc(kind, cb)
    }

    /// Frees the slot; the callback and kind data are dropped after the
    /// state borrow ends, since their destructors may call back into the loop.
    pub(crate) fn free(&self, key: Key) {
        let taken = {
            let mut st = self.inner.state.borrow_mut();
            if st.slot_mut(key).is_none() {
                return;
            }
            st.deactivate(key);
            let slot = &mut st.slots[key.index as usize];
            let kind = std::mem::replace(&mut slot.kind, Kind::Free);
            let cb = slot.cb.take();
            slot.gen = slot.gen.wrapping_add(1);
            slot.refd = true;
            st.free.push(key.index);
            (kind, cb)
        };
        match &taken.0 {
            Kind::Io { fd, .. } => {
                // The fd may already be closed, in which case epoll has
                // forgotten it by itself.
                let _ = self
                    .inner
                    .poll
                    .borrow()
                    .registry()
                    .deregister(&mut SourceFd(fd));
            }
            Kind::Child { pidfd, .. } => {
                let _ = self
                    .inner
                    .poll
                    .borrow()
                    .registry()
                    .deregister(&mut SourceFd(&pidfd.as_raw_fd()));
            }
            _ => {}
        }
        drop(taken);
    }

    pub(crate) fn register_fd(
        &self,
        key: Key,
        fd: RawFd,
        interest: mio::Interest,
    ) -> io::Result<()> {
        self.inner.poll.borrow().registry().register(
            &mut SourceFd(&fd),
            Token(key.index as usize),
            interest,
        )
    }

    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.inner.state.borrow_mut())
    }

    /// Makes sure this loop has a signal slot registered with the poller.
    pub(crate) fn signal_slot_ready(&self) -> io::Result<()> {
        if self.inner.state.borrow().signal_slot.is_some() {
            return Ok(());
        }
        let slot = sys::signal::Slot::acquire()?;
        self.inner.poll.borrow().registry().register(
            &mut SourceFd(&slot.read_fd()),
            SIGNALS,
            mio::Interest::READABLE,
        )?;
        self.inner.state.borrow_mut().signal_slot = Some(slot);
        Ok(())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let slot = self.state.get_mut().signal_slot.take();
        if let Some(slot) = slot {
            let _ = self
                .poll
                .get_mut()
                .registry()
                .deregister(&mut SourceFd(&slot.read_fd()));
        }
    }
}

impl fmt::Debug for Loop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.state.borrow();
        f.debug_struct("Loop")
            .field("iteration", &st.iteration)
            .field("active_refs", &st.active_refs)
            .field("pending", &st.pending.len())
            .field("timers", &st.timers.len())
            .finish()
    }
}

enum Arg {
    None,
    Io(Ready),
    Child(io::Result<ExitStatus>),
}

/// Puts a running callback back into its slot, on return and on unwind.
struct Restore<'a> {
    lp: &'a Loop,
    key: Key,
    cb: Option<Callback>,
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        let cb = self.cb.take();
        let leftover = {
            let mut st = self.lp.inner.state.borrow_mut();
            match st.slot_mut(self.key) {
                Some(slot) if slot.cb.is_none() => {
                    slot.cb = cb;
                    None
                }
                // The watcher was freed (or its callback replaced) meanwhile.
                _ => cb,
            }
        };
        drop(leftover);
    }
}

impl State {
    fn alloc(&mut self, kind: Kind, cb: Callback) -> Key {
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.kind = kind;
            slot.cb = Some(cb);
            slot.active = false;
            slot.pending = false;
            slot.refd = true;
            Key {
                index,
                gen: slot.gen,
            }
        } else {
            let index = u32::try_from(self.slots.len()).expect("more than 2^32 watchers");
            assert!(index < u32::MAX, "more than 2^32 - 1 watchers");
            self.slots.push(Slot {
                gen: 0,
                kind,
                active: false,
                refd: true,
                pending: false,
                cb: Some(cb),
            });
            Key { index, gen: 0 }
        }
    }

    pub(crate) fn slot_mut(&mut self, key: Key) -> Option<&mut Slot> {
        self.slots
            .get_mut(key.index as usize)
            .filter(|s| s.gen == key.gen && !matches!(s.kind, Kind::Free))
    }

    pub(crate) fn slot(&self, key: Key) -> Option<&Slot> {
        self.slots
            .get(key.index as usize)
            .filter(|s| s.gen == key.gen && !matches!(s.kind, Kind::Free))
    }

    fn enqueue(&mut self, key: Key) {
        let slot = &mut self.slots[key.index as usize];
        if !slot.pending {
            slot.pending = true;
            self.pending.push_back(key);
        }
    }

    /// Marks the watcher active and runs its kind's start logic. Starting an
    /// active watcher first stops it, so `start` doubles as restart.
    pub(crate) fn activate(&mut self, key: Key) {
        if self.slot(key).is_some_and(|s| s.active) {
            self.deactivate(key);
        }
        let now = self.now_ns;
        let Some(slot) = self.slot_mut(key) else {
            return;
        };
        slot.active = true;
        let refd = slot.refd;
        let mut due = false;
        match &mut slot.kind {
            Kind::Timer { deadline, .. } => {
                let deadline = (*deadline).max(now);
                self.timer_seq += 1;
                self.timers.insert(key.index, deadline, self.timer_seq);
            }
            Kind::Io {
                interest,
                readiness,
                revents,
                ..
            } => {
                *revents = readiness.intersect(*interest);
                due = !revents.is_empty();
            }
            Kind::Child { exited, .. } => due = *exited,
            Kind::Signal { .. } => self.signals.push(key),
            Kind::Idle => self.idle.push(key),
            Kind::Prepare => self.prepare.push(key),
            Kind::Check => self.check.push(key),
            Kind::Async { flag } => {
                due = flag.pending.swap(false, Ordering::SeqCst);
                self.asyncs.push(key);
            }
            Kind::Free => unreachable!("slot_mut filters free slots"),
        }
        if refd {
            self.active_refs += 1;
        }
        if due {
            self.enqueue(key);
        }
    }

    /// An io watcher's `clear_readiness`, `set_interest` and `activate` in
    /// one: the slot is looked up once, and an active watcher is not taken
    /// off and put back.
    pub(crate) fn rearm_io(&mut self, key: Key, forget: Ready, new_interest: Interest) {
        let Some(slot) = self.slot_mut(key) else {
            return;
        };
        let Kind::Io {
            interest,
            readiness,
            revents,
            ..
        } = &mut slot.kind
        else {
            return;
        };
        *readiness = readiness.difference(forget);
        *interest = new_interest;
        *revents = readiness.intersect(new_interest);
        let due = !revents.is_empty();
        if !due {
            // Restarted and no longer due: an earlier enqueue must not run
            // it, as after `deactivate`.
            slot.pending = false;
        }
        let counts = !slot.active && slot.refd;
        slot.active = true;
        if counts {
            self.active_refs += 1;
        }
        if due {
            self.enqueue(key);
        }
    }

    /// The opposite of [`activate`]; a no-op on an inactive watcher. A
    /// watcher stopped while due does not run.
    pub(crate) fn deactivate(&mut self, key: Key) {
        let Some(slot) = self.slot_mut(key) else {
            return;
        };
        // An expired one-shot timer or an exited child is inactive but may
        // still be due: stopping it cancels that too.
        slot.pending = false;
        if !slot.active {
            return;
        }
        slot.active = false;
        let refd = slot.refd;
        let list = match &mut slot.kind {
            Kind::Timer { .. } => {
                self.timers.remove(key.index);
                None
            }
            Kind::Io { revents, .. } => {
                *revents = Ready::EMPTY;
                None
            }
            Kind::Signal { signum } => {
                let signum = *signum;
                if let Some(s) = self.signal_slot.as_mut() {
                    s.unwatch(signum);
                }
                Some(&mut self.signals)
            }
            Kind::Idle => Some(&mut self.idle),
            Kind::Prepare => Some(&mut self.prepare),
            Kind::Check => Some(&mut self.check),
            Kind::Async { .. } => Some(&mut self.asyncs),
            Kind::Child { .. } | Kind::Free => None,
        };
        if let Some(list) = list {
            list.retain(|k| *k != key);
        }
        if refd {
            self.active_refs -= 1;
        }
    }

    pub(crate) fn set_ref(&mut self, key: Key, refd: bool) {
        let Some(slot) = self.slot_mut(key) else {
            return;
        };
        if slot.refd == refd {
            return;
        }
        slot.refd = refd;
        if slot.active {
            if refd {
                self.active_refs += 1;
            } else {
                self.active_refs -= 1;
            }
        }
    }

    pub(crate) fn timer_remaining(&self, key: Key) -> Option<u64> {
        match self.slot(key)?.kind {
            Kind::Timer { deadline, .. } if self.slot(key)?.active => {
                Some(deadline.saturating_sub(self.now_ns))
            }
            _ => None,
        }
    }

    pub(crate) fn signal_watch(&mut self, signum: i32) -> io::Result<()> {
        self.signal_slot
            .as_mut()
            .expect("signal slot acquired before a signal watcher starts")
            .watch(signum)
    }

    fn collect_io(&mut self, index: usize, ready: Ready) {
        let Some(slot) = self.slots.get_mut(index) else {
            return;
        };
        let key = Key {
            index: index as u32,
            gen: slot.gen,
        };
        let active = slot.active;
        let due = match &mut slot.kind {
            Kind::Io {
                interest,
                readiness,
                revents,
                ..
            } => {
                *readiness = readiness.union(ready);
                let hit = ready.intersect(*interest);
                if active && !hit.is_empty() {
                    *revents = revents.union(hit);
                    true
                } else {
                    false
                }
            }
            Kind::Child { exited, .. } => {
                *exited = true;
                active
            }
            _ => false,
        };
        if due {
            self.enqueue(key);
        }
    }

    fn collect_signals(&mut self) {
        let Some(slot) = self.signal_slot.as_ref() else {
            return;
        };
        let bits = slot.take_pending();
        if bits == 0 {
            return;
        }
        for i in 0..self.signals.len() {
            let key = self.signals[i];
            if let Kind::Signal { signum } = self.slots[key.index as usize].kind {
                if bits & (1u64 << (signum - 1)) != 0 {
                    self.enqueue(key);
                }
            }
        }
    }

    fn collect_asyncs(&mut self, shared: &Shared) {
        shared.needs_wake.store(false, Ordering::SeqCst);
        for i in 0..self.asyncs.len() {
            let key = self.asyncs[i];
            let fired = match &self.slots[key.index as usize].kind {
                Kind::Async { flag } => flag.pending.swap(false, Ordering::SeqCst),
                _ => false,
            };
            if fired {
                self.enqueue(key);
            }
        }
    }

    /// Moves every due timer to the pending queue, in deadline order. Repeating
    /// timers are re-armed strictly after `now`, so none fires twice in one
    /// iteration.
    fn expire_timers(&mut self) {
        let now = self.now_ns;
        while let Some(index) = self.timers.pop_due(now) {
            let slot = &mut self.slots[index as usize];
            let key = Key {
                index,
                gen: slot.gen,
            };
            let Kind::Timer { deadline, repeat } = &mut slot.kind else {
                unreachable!("only timers are in the timer heap");
            };
            if *repeat > 0 {
                let mut next = deadline.saturating_add(*repeat);
                if next <= now {
                    next = now.saturating_add(*repeat);
                }
                *deadline = next;
                self.timer_seq += 1;
                self.timers.insert(index, next, self.timer_seq);
            } else {
                slot.active = false;
                if slot.refd {
                    self.active_refs -= 1;
                }
            }
            self.enqueue(key);
        }
    }
}
