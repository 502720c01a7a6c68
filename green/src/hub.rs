//! The per-thread scheduler: a hub loop, the green threads pinned to it, and
//! the run queue.
//!
//! Every OS thread that uses green code gets one `Hub`, created on first use
//! and kept in a thread-local. Slot 0 of its task table is the *root*: the
//! thread's own stack, where plain code (such as `main`) runs. The scheduler
//! only ever runs on the root: when plain code blocks, its park runs ready
//! green threads and the loop until its own wake-up arrives. A green thread
//! that blocks suspends back to the root, so every switch is root <-> green.

use std::any::Any;
use std::cell::{Cell, OnceCell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corosensei::stack::DefaultStack;
use parking_lot::Mutex;
use thicket_hub::{Async, AsyncSender, Loop, Timer};

use crate::coro::{self, Coro, YielderSlot};
use crate::park::{Parker, WaitError};

/// Green threads resumed per scheduler turn before the loop polls again, so
/// a busy run queue cannot starve I/O and timers.
const RUN_CAP: usize = 128;
/// Default-size stacks kept for reuse per hub: enough for a server's
/// connection churn (a fresh stack costs an mmap, an mprotect and page
/// faults; a pooled one costs nothing), while bounding the memory that idle
/// stacks keep resident (their touched pages, typically 8-16 KiB each).
const POOL_MAX: usize = 4096;
/// Default stack size: room for formatting, a TLS handshake or serde.
pub(crate) const DEFAULT_STACK: usize = 256 * 1024;

static NEXT_TASK_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_task_id() -> u64 {
    NEXT_TASK_ID.fetch_add(1, Ordering::Relaxed)
}
static NEXT_HUB_ID: AtomicUsize = AtomicUsize::new(1);
static DEFAULT_STACK_SIZE: AtomicUsize = AtomicUsize::new(DEFAULT_STACK);

pub(crate) fn default_stack_size() -> usize {
    DEFAULT_STACK_SIZE.load(Ordering::Relaxed)
}

pub(crate) fn set_default_stack_size(size: usize) {
    DEFAULT_STACK_SIZE.store(size, Ordering::Relaxed);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Runnable,
    Running,
    Parked,
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wake {
    None,
    Unparked,
    Deadline,
    Killed,
}

/// One deadline scope of [`with_timeout`](crate::with_timeout).
pub(crate) struct Scope {
    pub(crate) deadline: u64,
    pub(crate) fired: bool,
}

/// A green thread (or the root) as its hub sees it.
// The fields every park and resume touch come first, so that with the `Rc`
// counts they share the record's first cache lines: with thousands of green
// threads waiting on sockets, the records are out of cache when their green
// threads wake, and each line touched is a miss.
#[repr(C)]
pub(crate) struct Task {
    pub(crate) state: Cell<State>,
    wake: Cell<Wake>,
    pub(crate) killed: Cell<bool>,
    slot: u32,
    gen: Cell<u32>,
    epoch: Cell<u64>,
    /// The deadline of the park in progress (`u64::MAX`: none).
    park_deadline: Cell<u64>,
    /// Where its stack was when it last parked (`coro::stack_mark`), for the
    /// hub to load ahead of resuming it; 0 if it has not parked.
    park_mark: Cell<usize>,
    pub(crate) yielder: YielderSlot,
    pub(crate) scopes: RefCell<Vec<Scope>>,
    coro: RefCell<Option<Coro>>,
    // Colder: spawning, deadlines, names, locals, overflow reports.
    timer: RefCell<Option<Timer>>,
    /// The deadline the timer is armed for (`u64::MAX`: not armed).
    timer_at: Cell<u64>,
    id: Cell<u64>,
    name: RefCell<Option<Arc<str>>>,
    stack_size: Cell<usize>,
    guard: Cell<crate::overflow::Guard>,
    pub(crate) locals: RefCell<Vec<Option<Box<dyn Any>>>>,
}

impl Task {
    pub(crate) fn is_root(&self) -> bool {
        self.slot == 0
    }

    /// The green thread's id (0 for the root).
    pub(crate) fn id(&self) -> u64 {
        self.id.get()
    }

    /// The green thread's name (for the root, the OS thread's).
    pub(crate) fn name(&self) -> Option<Arc<str>> {
        self.name.borrow().clone()
    }
}

/// What other threads may do to a hub.
pub(crate) enum Msg {
    Wake { slot: u32, gen: u32, epoch: u64 },
    Kill { slot: u32, gen: u32 },
    Run(Box<dyn FnOnce() + Send>),
}

/// The `Send + Sync` face of a hub: a message queue and its wake-up.
pub(crate) struct Remote {
    queue: Mutex<Vec<Msg>>,
    sender: AsyncSender,
    /// Holders that may still wake this hub from elsewhere (blocking-pool
    /// jobs, a runtime that owns the hub thread); the deadlock check counts them.
    pub(crate) keepalive: AtomicUsize,
    /// Messages are queued (a cheap check for the hub between turns).
    pending: AtomicBool,
    /// The hub is (about to be) asleep in its poll: only then does a sender
    /// pay for the eventfd write that wakes it.
    sleeping: AtomicBool,
}

impl Remote {
    pub(crate) fn send(&self, msg: Msg) {
        {
            let mut q = self.queue.lock();
            q.push(msg);
            self.pending.store(true, Ordering::SeqCst);
        }
        // Pairs with the hub's store to `sleeping` followed by its load of
        // `pending` (both SeqCst): either the hub sees the message before it
        // sleeps, or we see it asleep and wake it.
        if self.sleeping.load(Ordering::SeqCst) {
            self.sender.send();
        }
    }
}

/// Every live hub's `Remote`, by hub id: how a wake-up from another thread
/// finds its hub, so that `Unparker`s stay plain ids (no reference count to
/// touch on the local path).
static REMOTES: parking_lot::RwLock<Vec<(usize, std::sync::Weak<Remote>)>> =
    parking_lot::RwLock::new(Vec::new());

fn remote_of(hub_id: usize) -> Option<Arc<Remote>> {
    REMOTES
        .read()
        .iter()
        .find(|(id, _)| *id == hub_id)
        .and_then(|(_, r)| r.upgrade())
}

/// Hubs alive in the process; spinning for cross-thread messages only makes
/// sense when there is another one.
static LIVE_HUBS: AtomicUsize = AtomicUsize::new(0);
/// How long a hub spins for a cross-thread message before it sleeps: waking
/// a sleeping thread costs tens of microseconds on shared VMs.
const SPIN: Duration = Duration::from_micros(20);
/// Spins in a row that may find nothing before a hub stops spinning until
/// its next cross-thread message: a hub that serves only its own sockets
/// (an HTTP server's) would otherwise burn a core's worth of polls that
/// other threads need.
const SPIN_CREDIT: u32 = 4;

/// Names a green thread from any thread: plain ids, no reference count.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TaskRef {
    hub_id: usize,
    slot: u32,
    gen: u32,
}

impl TaskRef {
    /// As two words: the hub id (never 0) and slot and generation.
    pub(crate) fn pack(self) -> (usize, u64) {
        (
            self.hub_id,
            (u64::from(self.slot) << 32) | u64::from(self.gen),
        )
    }

    pub(crate) fn unpack(hub_id: usize, slot_gen: u64) -> TaskRef {
        TaskRef {
            hub_id,
            slot: (slot_gen >> 32) as u32,
            gen: slot_gen as u32,
        }
    }

    pub(crate) fn kill(&self) {
        let done = with_existing(|h| match h {
            Some(h) if h.id == self.hub_id => {
                if let Some(t) = h.lookup(self.slot, self.gen) {
                    h.kill(&t);
                }
                true
            }
            _ => false,
        });
        if !done {
            // A hub that is gone has nothing left to kill.
            if let Some(remote) = remote_of(self.hub_id) {
                remote.send(Msg::Kill {
                    slot: self.slot,
                    gen: self.gen,
                });
            }
        }
    }
}

struct TaskSlot {
    gen: u32,
    task: Option<Rc<Task>>,
}

pub(crate) struct Hub {
    pub(crate) lp: Loop,
    pub(crate) id: usize,
    pub(crate) remote: Arc<Remote>,
    _remote_watcher: Async,
    tasks: RefCell<Vec<TaskSlot>>,
    free: RefCell<Vec<u32>>,
    runq: RefCell<VecDeque<Rc<Task>>>,
    current: RefCell<Rc<Task>>,
    root: Rc<Task>,
    stacks: RefCell<Vec<DefaultStack>>,
    pub(crate) live: Cell<usize>,
    inbox: RefCell<Vec<Msg>>,
    /// Spins left before spinning stops; refilled by each message.
    spin_credit: Cell<u32>,
    /// How far the loop's clock starts after [`epoch`], in nanoseconds.
    epoch_offset: u64,
}

thread_local! {
    static HUB: OnceCell<Rc<Hub>> = const { OnceCell::new() };
    /// Set while a hub drops suspended green threads, whose stacks corosensei
    /// unwinds: the green thread's panic catcher must let that unwind pass.
    pub(crate) static FORCED_UNWIND: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with this thread's hub, creating it on first use.
#[inline]
pub(crate) fn with<R>(f: impl FnOnce(&Hub) -> R) -> R {
    with_rc(|h| f(h))
}

#[inline]
pub(crate) fn with_rc<R>(f: impl FnOnce(&Rc<Hub>) -> R) -> R {
    HUB.with(|cell| {
        let hub =
            cell.get_or_init(|| Hub::new().expect("thicket: cannot create this thread's hub"));
        f(hub)
    })
}

/// Runs `f` with this thread's hub if it has one, without creating it.
#[inline]
fn with_existing<R>(f: impl FnOnce(Option<&Rc<Hub>>) -> R) -> R {
    let mut f = Some(f);
    let r = HUB.try_with(|cell| {
        cell.get()
            .map(|h| (f.take().expect("called once"))(Some(h)))
    });
    match (r, f) {
        (Ok(Some(r)), _) => r,
        // `f` was not called: no hub yet, or the thread-local is gone.
        (_, Some(f)) => f(None),
        (_, None) => unreachable!("f ran but produced no result"),
    }
}

/// This thread's hub if it has one, without creating it.
pub(crate) fn try_current() -> Option<Rc<Hub>> {
    with_existing(|h| h.cloned())
}

#[inline]
pub(crate) fn unpark(hub_id: usize, slot: u32, gen: u32, epoch: u64) {
    let local = with_existing(|h| match h {
        Some(h) if h.id == hub_id => {
            h.wake(slot, gen, epoch, Wake::Unparked);
            true
        }
        _ => false,
    });
    if !local {
        // A hub that is gone has no green thread left to wake.
        if let Some(remote) = remote_of(hub_id) {
            remote.send(Msg::Wake { slot, gen, epoch });
        }
    }
}

/// Runs `f` on the hub `hub_id`'s thread: at once if that is this thread,
/// else through its message queue. If that hub is gone, `f` runs here.
pub(crate) fn run_on(hub_id: usize, f: Box<dyn FnOnce() + Send>) {
    let local = with_existing(|h| h.is_some_and(|h| h.id == hub_id));
    if local {
        f();
        return;
    }
    match remote_of(hub_id) {
        Some(remote) => remote.send(Msg::Run(f)),
        None => f(),
    }
}

impl Hub {
    fn new() -> std::io::Result<Rc<Hub>> {
        epoch();
        crate::overflow::install();
        let lp = Loop::new()?;
        let epoch_offset =
            u64::try_from(lp.epoch().duration_since(epoch()).as_nanos()).unwrap_or(u64::MAX);
        let id = NEXT_HUB_ID.fetch_add(1, Ordering::Relaxed);
        let watcher = Async::new(&lp, |_| {
            if let Some(h) = try_current() {
                h.drain_remote();
            }
        });
        watcher.set_ref(false);
        watcher.start();
        let remote = Arc::new(Remote {
            queue: Mutex::new(Vec::new()),
            sender: watcher.sender(),
            keepalive: AtomicUsize::new(0),
            pending: AtomicBool::new(false),
            sleeping: AtomicBool::new(false),
        });
        LIVE_HUBS.fetch_add(1, Ordering::Relaxed);
        REMOTES.write().push((id, Arc::downgrade(&remote)));
        let root = Rc::new(Task::new(
            0,
            0,
            0,
            std::thread::current().name().map(Arc::from),
            0,
        ));
        root.state.set(State::Running);
        Ok(Rc::new(Hub {
            lp,
            id,
            remote,
            _remote_watcher: watcher,
            tasks: RefCell::new(vec![TaskSlot {
                gen: 0,
                task: Some(root.clone()),
            }]),
            free: RefCell::new(Vec::new()),
            runq: RefCell::new(VecDeque::new()),
            current: RefCell::new(root.clone()),
            root,
            stacks: RefCell::new(Vec::new()),
            live: Cell::new(0),
            inbox: RefCell::new(Vec::new()),
            spin_credit: Cell::new(SPIN_CREDIT),
            epoch_offset,
        }))
    }

    pub(crate) fn task_ref(&self, task: &Task) -> TaskRef {
        TaskRef {
            hub_id: self.id,
            slot: task.slot,
            gen: task.gen.get(),
        }
    }

    #[inline]
    pub(crate) fn current(&self) -> Rc<Task> {
        self.current.borrow().clone()
    }

    pub(crate) fn in_green_thread(&self) -> bool {
        !self.current.borrow().is_root()
    }

    #[inline]
    pub(crate) fn parker(&self) -> Parker {
        let cur = self.current.borrow();
        let epoch = cur.epoch.get() + 1;
        cur.epoch.set(epoch);
        Parker {
            hub_id: self.id,
            slot: cur.slot,
            gen: cur.gen.get(),
            epoch,
        }
    }

    pub(crate) fn lookup(&self, slot: u32, gen: u32) -> Option<Rc<Task>> {
        let tasks = self.tasks.borrow();
        let s = tasks.get(slot as usize)?;
        if s.gen != gen {
            return None;
        }
        s.task.clone()
    }

    #[inline]
    fn wake(&self, slot: u32, gen: u32, epoch: u64, why: Wake) {
        let tasks = self.tasks.borrow();
        if let Some(TaskSlot {
            gen: g,
            task: Some(task),
        }) = tasks.get(slot as usize)
        {
            if *g == gen && task.epoch.get() == epoch {
                self.make_runnable(task, why);
            }
        }
    }

    #[inline]
    fn make_runnable(&self, task: &Rc<Task>, why: Wake) {
        if task.state.get() != State::Parked {
            return;
        }
        task.wake.set(why);
        task.state.set(State::Runnable);
        if !task.is_root() {
            self.runq.borrow_mut().push_back(task.clone());
        }
    }

    fn drain_remote(&self) {
        let mut inbox = self.inbox.take();
        {
            let mut q = self.remote.queue.lock();
            self.remote.pending.store(false, Ordering::SeqCst);
            std::mem::swap(&mut inbox, &mut *q);
        }
        if !inbox.is_empty() {
            self.spin_credit.set(SPIN_CREDIT);
        }
        for msg in inbox.drain(..) {
            match msg {
                Msg::Wake { slot, gen, epoch } => self.wake(slot, gen, epoch, Wake::Unparked),
                Msg::Kill { slot, gen } => {
                    if let Some(task) = self.lookup(slot, gen) {
                        self.kill(&task);
                    }
                }
                Msg::Run(f) => f(),
            }
        }
        *self.inbox.borrow_mut() = inbox;
    }

    /// Sticky cancellation: every blocking call of the task fails from now
    /// on; a parked task is woken to see it. A task that never started
    /// will not start.
    pub(crate) fn kill(&self, task: &Rc<Task>) {
        if task.state.get() == State::Done || task.is_root() {
            return;
        }
        task.killed.set(true);
        self.make_runnable(task, Wake::Killed);
    }

    /// Creates a green thread and queues it to run. A finished green
    /// thread's record is reused when nothing else holds it.
    pub(crate) fn spawn_task(
        &self,
        id: u64,
        name: Option<Arc<str>>,
        stack_size: usize,
        body: impl FnOnce() + 'static,
    ) -> std::io::Result<Rc<Task>> {
        let stack = self.take_stack(stack_size)?;
        let task = {
            let mut tasks = self.tasks.borrow_mut();
            let free = self.free.borrow_mut().pop();
            match free {
                Some(slot) => {
                    let s = &mut tasks[slot as usize];
                    match &s.task {
                        Some(t) if Rc::strong_count(t) == 1 => {
                            t.reset(id, name, s.gen, stack_size);
                            t.clone()
                        }
                        _ => {
                            let t = Rc::new(Task::new(id, slot, s.gen, name, stack_size));
                            s.task = Some(t.clone());
                            t
                        }
                    }
                }
                None => {
                    let slot = u32::try_from(tasks.len()).expect("too many green threads");
                    let t = Rc::new(Task::new(id, slot, 0, name, stack_size));
                    tasks.push(TaskSlot {
                        gen: 0,
                        task: Some(t.clone()),
                    });
                    t
                }
            }
        };
        task.guard.set(crate::overflow::Guard::new(
            corosensei::stack::Stack::limit(&stack).get(),
            id,
            task.name.borrow().as_deref(),
            stack_size,
        ));
        *task.coro.borrow_mut() = Some(coro::create(stack, body));
        self.live.set(self.live.get() + 1);
        self.runq.borrow_mut().push_back(task.clone());
        Ok(task)
    }

    fn take_stack(&self, size: usize) -> std::io::Result<DefaultStack> {
        if size == default_stack_size() {
            if let Some(s) = self.stacks.borrow_mut().pop() {
                return Ok(s);
            }
        }
        DefaultStack::new(size).map_err(|e| {
            if e.raw_os_error() == Some(libc::ENOMEM) {
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "cannot map a {} KiB green thread stack with {} green threads alive on \
                         this hub: out of memory or of memory mappings (each stack takes two; \
                         raise the sysctl vm.max_map_count, 65530 by default)",
                        size / 1024,
                        self.live.get()
                    ),
                )
            } else {
                e
            }
        })
    }

    /// Runs one green thread until it suspends or finishes.
    fn resume(&self, task: &Rc<Task>) {
        if task.state.get() != State::Runnable {
            return;
        }
        task.state.set(State::Running);
        let previous = self.current.replace(task.clone());
        let outer = crate::overflow::enter(task.guard.as_ptr());
        // The coroutine stays in its cell while it runs: nothing but this
        // function touches a task's coroutine, and it never re-enters for the
        // same task (a task cannot resume itself).
        let done = match task.coro.borrow_mut().as_mut() {
            Some(co) => coro::resume(co),
            None => false,
        };
        crate::overflow::enter(outer);
        *self.current.borrow_mut() = previous;
        if done {
            let co = task
                .coro
                .borrow_mut()
                .take()
                .expect("finished coroutine present");
            self.finish(task, co);
        }
    }

    fn finish(&self, task: &Rc<Task>, co: Coro) {
        task.state.set(State::Done);
        let stack = co.into_stack();
        if task.stack_size.get() == default_stack_size() && self.stacks.borrow().len() < POOL_MAX {
            self.stacks.borrow_mut().push(stack);
        }
        if let Some(t) = task.timer.borrow().as_ref() {
            t.stop();
        }
        task.timer_at.set(u64::MAX);
        task.park_deadline.set(u64::MAX);
        // Green-thread-locals die with their green thread.
        let locals = std::mem::take(&mut *task.locals.borrow_mut());
        drop(locals);
        {
            // The record stays for reuse; the new generation makes every
            // handle to the finished green thread stale.
            let mut tasks = self.tasks.borrow_mut();
            let s = &mut tasks[task.slot as usize];
            s.gen = s.gen.wrapping_add(1);
        }
        self.free.borrow_mut().push(task.slot);
        self.live.set(self.live.get() - 1);
    }

    /// Lets other green threads run; from plain code, one scheduler turn.
    pub(crate) fn yield_now(self: &Rc<Self>) -> Result<(), WaitError> {
        let cur = self.current();
        if cur.killed.get() {
            return Err(WaitError::Cancelled);
        }
        if cur.is_root() {
            self.turn(false);
        } else {
            cur.state.set(State::Runnable);
            self.runq.borrow_mut().push_back(cur.clone());
            cur.yielder.suspend();
            cur.state.set(State::Running);
        }
        Ok(())
    }

    /// One scheduler turn from the root: run ready green threads (at most
    /// `RUN_CAP`, so a busy run queue cannot starve I/O and timers), then poll
    /// the loop. Returns without polling when green threads ran and none is
    /// left ready, so the caller can re-check what it waits for; the next turn
    /// then sleeps in the poll (if `block`) until an event or timer.
    pub(crate) fn turn(&self, block: bool) {
        // Messages handled here count as progress, like green threads run:
        // they may be what the caller waits for (a runtime's stop request),
        // so the turn must not then go to sleep without returning.
        let drained = self.remote.pending.load(Ordering::Relaxed);
        if drained {
            self.drain_remote();
        }
        let mut ran = 0;
        while ran < RUN_CAP {
            if self.root.state.get() == State::Runnable {
                return;
            }
            let next = {
                let mut q = self.runq.borrow_mut();
                let next = q.pop_front();
                // Load ahead what the next green threads will touch first:
                // the one after this one's stack (its record was loaded a
                // step ago), and the record of the one after that.
                if let Some(t) = q.front() {
                    coro::prefetch_stack(t.park_mark.get());
                }
                if let Some(t) = q.get(1) {
                    let record = Rc::as_ptr(t) as usize;
                    coro::prefetch(record);
                    coro::prefetch(record + 64);
                }
                next
            };
            match next {
                Some(t) => self.resume(&t),
                None => break,
            }
            ran += 1;
        }
        if self.root.state.get() == State::Runnable {
            return;
        }
        let queued = !self.runq.borrow().is_empty();
        if (ran > 0 || drained) && !queued {
            return;
        }
        if queued || !block {
            self.lp.run_nowait().expect("thicket: polling failed");
            return;
        }
        // About to sleep in the poll.
        if self.lp.pending_count() == 0 && self.spin_for_remote() {
            return;
        }
        self.remote.sleeping.store(true, Ordering::SeqCst);
        if self.remote.pending.load(Ordering::SeqCst) {
            self.remote.sleeping.store(false, Ordering::SeqCst);
            self.drain_remote();
            return;
        }
        let polled = self.lp.run_once(None);
        self.remote.sleeping.store(false, Ordering::SeqCst);
        polled.expect("thicket: polling failed");
    }

    /// Spins briefly waiting for a message from another thread, polling the
    /// loop now and then; true if something became ready.
    fn spin_for_remote(&self) -> bool {
        let credit = self.spin_credit.get();
        if credit == 0 || LIVE_HUBS.load(Ordering::Relaxed) < 2 {
            return false;
        }
        let start = std::time::Instant::now();
        loop {
            for _ in 0..64 {
                if self.remote.pending.load(Ordering::Acquire) {
                    self.drain_remote();
                    return true;
                }
                std::hint::spin_loop();
            }
            // I/O and timers may be what ends the wait: a spin that only
            // watched for messages would delay every socket wake-up.
            self.lp.run_nowait().expect("thicket: polling failed");
            if !self.runq.borrow().is_empty() || self.root.state.get() == State::Runnable {
                return true;
            }
            if start.elapsed() > SPIN {
                self.spin_credit.set(credit - 1);
                return false;
            }
        }
    }

    /// The effective deadline: the call's own and every enclosing scope's.
    fn deadline_of(task: &Task, own: Option<u64>) -> Option<u64> {
        let scopes = task.scopes.borrow();
        let scoped = scopes.iter().map(|s| s.deadline).min();
        match (scoped, own) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Marks every scope whose deadline has passed; true if there was one.
    fn fire_scopes(&self, task: &Task) -> bool {
        self.lp.update_now();
        let now = self.now_ns();
        let mut any = false;
        for s in task.scopes.borrow_mut().iter_mut() {
            if s.deadline <= now {
                s.fired = true;
                any = true;
            }
        }
        any
    }

    /// The loop's cached time on the process-wide clock of deadlines
    /// (nanoseconds since [`epoch`]), without converting instants.
    pub(crate) fn now_ns(&self) -> u64 {
        self.lp.now_ns().saturating_add(self.epoch_offset)
    }

    pub(crate) fn park(
        self: &Rc<Self>,
        parker: &Parker,
        waiting_for: &'static str,
        own_deadline: Option<u64>,
        shared: &dyn Fn() -> bool,
    ) -> Result<(), WaitError> {
        let task = self.current();
        debug_assert_eq!(task.slot, parker.slot);
        if task.epoch.get() != parker.epoch {
            // Another park took place since this parker was made.
            return Ok(());
        }
        if task.killed.get() {
            return Err(WaitError::Cancelled);
        }
        let deadline = Self::deadline_of(&task, own_deadline);
        if let Some(dl) = deadline {
            // The cached time, not the clock: a deadline made by
            // `deadline_after` has just read the clock, and one that passed
            // since the cache was refreshed fires as a timer on the next turn.
            if dl <= self.now_ns() {
                self.fire_scopes(&task);
                // Yield once even so: a retry loop of zero or expired
                // timeouts must not starve the other green threads.
                let _ = self.yield_now();
                return Err(WaitError::TimedOut);
            }
            self.arm_timer(&task, dl);
        }
        task.wake.set(Wake::None);
        task.state.set(State::Parked);
        let result = if task.is_root() {
            self.root_wait(&task, waiting_for, shared)
        } else {
            task.park_mark.set(coro::stack_mark());
            task.yielder.suspend();
            Ok(())
        };
        task.state.set(State::Running);
        // Any later unpark of this epoch must be ignored.
        task.epoch.set(task.epoch.get() + 1);
        if deadline.is_some() {
            // The timer stays armed: stopping it here and starting it at the
            // next park would cost two timer-heap updates per wait, and a
            // connection waits once per request with the same idle timeout.
            // If it fires before the next deadline, it re-arms itself for it
            // (see `arm_timer`). Unreferenced, it keeps no loop alive.
            task.park_deadline.set(u64::MAX);
            if let Some(t) = task.timer.borrow().as_ref() {
                t.set_ref(false);
            }
        }
        result?;
        match task.wake.get() {
            Wake::Unparked | Wake::None => Ok(()),
            Wake::Killed => Err(WaitError::Cancelled),
            Wake::Deadline => {
                self.fire_scopes(&task);
                Err(WaitError::TimedOut)
            }
        }
    }

    fn arm_timer(&self, task: &Rc<Task>, deadline: u64) {
        task.park_deadline.set(deadline);
        let mut timer = task.timer.borrow_mut();
        let t = timer.get_or_insert_with(|| {
            // The timer belongs to the record, which is reused; whenever it
            // fires it looks at the park in progress, if any.
            let slot = task.slot;
            Timer::new(&self.lp, move |t| {
                let Some(h) = try_current() else { return };
                let task = h.tasks.borrow()[slot as usize].task.clone();
                let Some(task) = task else { return };
                task.timer_at.set(u64::MAX);
                let dl = task.park_deadline.get();
                if dl == u64::MAX {
                    // Armed for a park that ended early: nothing waits now.
                    return;
                }
                let now = h.now_ns();
                if dl <= now {
                    h.make_runnable(&task, Wake::Deadline);
                } else {
                    // Armed for an earlier deadline than this park's.
                    task.timer_at.set(dl);
                    t.start(Duration::from_nanos(dl - now));
                }
            })
        });
        if task.timer_at.get() > deadline {
            // Not armed, or for later than this deadline.
            task.timer_at.set(deadline);
            // The loop's timers count from its cached now, as does `deadline`.
            t.start(Duration::from_nanos(deadline.saturating_sub(self.now_ns())));
        }
        t.set_ref(true);
    }

    /// The root's park: run the scheduler until the root is woken.
    fn root_wait(
        &self,
        root: &Rc<Task>,
        waiting_for: &'static str,
        shared: &dyn Fn() -> bool,
    ) -> Result<(), WaitError> {
        loop {
            if root.state.get() != State::Parked {
                return Ok(());
            }
            if self.runq.borrow().is_empty()
                && self.lp.pending_count() == 0
                && !self.lp.is_alive()
                && self.nothing_else_can_wake(shared)
            {
                return Err(WaitError::Deadlock { waiting_for });
            }
            self.turn(true);
        }
    }

    fn nothing_else_can_wake(&self, shared: &dyn Fn() -> bool) -> bool {
        if !self.remote.queue.lock().is_empty() || self.remote.keepalive.load(Ordering::Acquire) > 0
        {
            return false;
        }
        // Another thread could still reach the primitive and wake us, unless
        // nothing else holds it or this is the only thread in the process.
        // Another live hub means another thread: skip the procfs read, which
        // would otherwise run on every cross-thread wait.
        !shared() || (LIVE_HUBS.load(Ordering::Relaxed) < 2 && single_threaded_process())
    }

    /// Runs green threads and the loop until no green thread is left and
    /// nothing keeps the loop alive.
    pub(crate) fn run_all(&self) {
        loop {
            if self.live.get() == 0 && !self.lp.is_alive() {
                return;
            }
            if self.runq.borrow().is_empty() && !self.lp.is_alive() && self.lp.pending_count() == 0
            {
                // Green threads remain, but all are parked with nothing to
                // wake them but other threads.
                if self.remote.keepalive.load(Ordering::Acquire) == 0
                    && self.remote.queue.lock().is_empty()
                    && LIVE_HUBS.load(Ordering::Relaxed) < 2
                    && single_threaded_process()
                {
                    return;
                }
            }
            self.turn(true);
        }
    }
}

impl Task {
    fn new(id: u64, slot: u32, gen: u32, name: Option<Arc<str>>, stack_size: usize) -> Task {
        Task {
            id: Cell::new(id),
            name: RefCell::new(name),
            slot,
            gen: Cell::new(gen),
            state: Cell::new(State::Runnable),
            epoch: Cell::new(0),
            wake: Cell::new(Wake::None),
            yielder: YielderSlot::default(),
            coro: RefCell::new(None),
            stack_size: Cell::new(stack_size),
            guard: Cell::new(crate::overflow::Guard::NONE),
            killed: Cell::new(false),
            scopes: RefCell::new(Vec::new()),
            timer: RefCell::new(None),
            timer_at: Cell::new(u64::MAX),
            park_deadline: Cell::new(u64::MAX),
            park_mark: Cell::new(0),
            locals: RefCell::new(Vec::new()),
        }
    }
}

impl Task {
    /// Makes a finished record a fresh green thread.
    fn reset(&self, id: u64, name: Option<Arc<str>>, gen: u32, stack_size: usize) {
        debug_assert_eq!(self.state.get(), State::Done);
        self.id.set(id);
        *self.name.borrow_mut() = name;
        self.gen.set(gen);
        self.state.set(State::Runnable);
        self.wake.set(Wake::None);
        self.stack_size.set(stack_size);
        self.killed.set(false);
        self.scopes.borrow_mut().clear();
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        LIVE_HUBS.fetch_sub(1, Ordering::Relaxed);
        let id = self.id;
        REMOTES.write().retain(|(h, _)| *h != id);
        // Unwind the stacks of green threads that are still suspended, so
        // their destructors run; their panic catchers let this unwind pass.
        let tasks: Vec<Rc<Task>> = self
            .tasks
            .get_mut()
            .iter_mut()
            .filter_map(|s| s.task.take())
            .collect();
        self.runq.get_mut().clear();
        FORCED_UNWIND.with(|f| f.set(true));
        for t in &tasks {
            t.timer.borrow_mut().take();
            if let Some(co) = t.coro.borrow_mut().take() {
                drop(co);
            }
        }
        FORCED_UNWIND.with(|f| f.set(false));
    }
}

/// The instant hub deadlines count from: fixed per process.
pub(crate) fn epoch() -> std::time::Instant {
    use std::sync::OnceLock;
    static EPOCH: OnceLock<std::time::Instant> = OnceLock::new();
    *EPOCH.get_or_init(std::time::Instant::now)
}

/// Whether this process has a single OS thread (read from procfs; only on
/// the path that is about to report a deadlock).
fn single_threaded_process() -> bool {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(") ")?.1;
            after.split_whitespace().nth(17)?.parse::<u64>().ok()
        })
        .is_some_and(|n| n == 1)
}
