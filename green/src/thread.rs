//! Spawning, joining and killing green threads.

use std::any::Any;
use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::spin::SpinMutex as Mutex;

use crate::hub::{self, TaskRef, FORCED_UNWIND};
use crate::park::{Parker, WaitError, WaitList};

/// Why [`GreenThread::join`] has no value to return.
#[non_exhaustive]
pub enum JoinError {
    /// The green thread panicked; the payload is what it panicked with.
    Panicked(Box<dyn Any + Send + 'static>),
    /// The green thread was killed (or cancelled before it started).
    Killed,
    /// The value was already taken by an earlier `join`.
    AlreadyJoined,
    /// The joiner's own wait failed: it timed out, was killed, or could never end.
    Wait(WaitError),
}

impl JoinError {
    /// The panic message, if the green thread panicked with a string.
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            JoinError::Panicked(p) => panic_message(&**p),
            _ => None,
        }
    }
}

fn panic_message(p: &(dyn Any + Send)) -> Option<&str> {
    p.downcast_ref::<&str>()
        .copied()
        .or_else(|| p.downcast_ref::<String>().map(String::as_str))
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Panicked(_) => f
                .debug_tuple("Panicked")
                .field(&self.panic_message().unwrap_or("<non-string payload>"))
                .finish(),
            JoinError::Killed => f.write_str("Killed"),
            JoinError::AlreadyJoined => f.write_str("AlreadyJoined"),
            JoinError::Wait(e) => f.debug_tuple("Wait").field(e).finish(),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Panicked(_) => write!(
                f,
                "green thread panicked: {}",
                self.panic_message().unwrap_or("<non-string payload>")
            ),
            JoinError::Killed => f.write_str("green thread was killed"),
            JoinError::AlreadyJoined => f.write_str("green thread was already joined"),
            JoinError::Wait(e) => write!(f, "join failed: {e}"),
        }
    }
}

impl std::error::Error for JoinError {}

type Link<T> = Box<dyn FnOnce(Result<&T, &JoinError>) + Send>;

struct PacketState<T> {
    result: Option<Result<T, JoinError>>,
    taken: bool,
    waiters: WaitList,
    links: Vec<Link<T>>,
}

pub(crate) struct Packet<T> {
    state: Mutex<PacketState<T>>,
    done: AtomicBool,
    started: AtomicBool,
    kill_requested: AtomicBool,
    /// Where the green thread runs, once it has been placed on a hub: its
    /// hub's id (0 until placed) and its slot and generation, written first.
    task_hub: AtomicUsize,
    task_slot: AtomicU64,
    id: u64,
    name: Option<Arc<str>>,
}

impl<T> Packet<T> {
    pub(crate) fn new(id: u64, name: Option<Arc<str>>) -> Packet<T> {
        Packet {
            state: Mutex::new(PacketState {
                result: None,
                taken: false,
                waiters: WaitList::default(),
                links: Vec::new(),
            }),
            done: AtomicBool::new(false),
            started: AtomicBool::new(false),
            kill_requested: AtomicBool::new(false),
            task_hub: AtomicUsize::new(0),
            task_slot: AtomicU64::new(0),
            id,
            name,
        }
    }

    fn set_task(&self, t: TaskRef) {
        let (hub_id, slot_gen) = t.pack();
        self.task_slot.store(slot_gen, Ordering::Relaxed);
        self.task_hub.store(hub_id, Ordering::Release);
    }

    fn task(&self) -> Option<TaskRef> {
        match self.task_hub.load(Ordering::Acquire) {
            0 => None,
            hub_id => Some(TaskRef::unpack(
                hub_id,
                self.task_slot.load(Ordering::Relaxed),
            )),
        }
    }

    pub(crate) fn complete(&self, res: Result<T, JoinError>) {
        let mut st = self.state.lock();
        if !st.links.is_empty() {
            let links = std::mem::take(&mut st.links);
            drop(st);
            for link in links {
                let _ = catch_unwind(AssertUnwindSafe(|| link(res.as_ref())));
            }
            st = self.state.lock();
        }
        st.result = Some(res);
        self.done.store(true, Ordering::Release);
        st.waiters.notify_all();
    }
}

/// A handle to a green thread: join it, kill it, or link a callback to its exit.
///
/// Dropping the handle detaches the green thread; it keeps running.
///
/// # Examples
///
/// ```
/// let gt = thicket_green::spawn(|| 6 * 7);
/// assert_eq!(gt.join().unwrap(), 42);
/// ```
pub struct GreenThread<T> {
    packet: Arc<Packet<T>>,
}

impl<T> GreenThread<T> {
    pub(crate) fn from_packet(packet: Arc<Packet<T>>) -> GreenThread<T> {
        GreenThread { packet }
    }

    /// Waits for the green thread to finish and takes its value.
    ///
    /// # Errors
    ///
    /// [`JoinError::Panicked`] or [`JoinError::Killed`] for how it ended;
    /// [`JoinError::AlreadyJoined`] if an earlier join took the value;
    /// [`JoinError::Wait`] if this wait itself failed (an enclosing
    /// timeout, the joiner being killed, or a deadlock).
    pub fn join(&self) -> Result<T, JoinError> {
        self.join_until(None)
    }

    /// Like [`join`](Self::join), waiting at most `timeout`. A timed-out join
    /// takes nothing: the value is still there for a later join.
    ///
    /// # Errors
    ///
    /// As for `join`; `JoinError::Wait(WaitError::TimedOut)` on timeout.
    pub fn join_timeout(&self, timeout: Duration) -> Result<T, JoinError> {
        self.join_until(Some(crate::timeout::deadline_after(timeout)))
    }

    fn join_until(&self, deadline: Option<u64>) -> Result<T, JoinError> {
        loop {
            let (parker, ticket) = {
                let mut st = self.packet.state.lock();
                if let Some(r) = st.result.take() {
                    st.taken = true;
                    return r;
                }
                if st.taken {
                    return Err(JoinError::AlreadyJoined);
                }
                let parker = Parker::current();
                let ticket = st.waiters.push(parker.unparker());
                (parker, ticket)
            };
            let shared = || Arc::strong_count(&self.packet) > 1;
            if let Err(e) = parker.park("GreenThread::join", deadline, &shared) {
                let mut st = self.packet.state.lock();
                if !st.waiters.remove(ticket) {
                    st.waiters.notify_one();
                }
                return Err(JoinError::Wait(e));
            }
        }
    }

    /// Asks the green thread to stop: from now on every blocking green call
    /// it makes fails with [`WaitError::Cancelled`], and a call it is blocked
    /// in returns that error at once. A green thread that has not started
    /// will not start. It is up to its code to return; `join` then reports
    /// [`JoinError::Killed`]. Does not wait: `join` for that.
    pub fn kill(&self) {
        self.packet.kill_requested.store(true, Ordering::SeqCst);
        // Pairs with the fence in `spawn_packet`: either it sees the request,
        // or we see where the green thread runs (or both; killing is idempotent).
        std::sync::atomic::fence(Ordering::SeqCst);
        if let Some(t) = self.packet.task() {
            t.kill();
        }
    }

    /// Kills the green thread only if it has not started yet; returns
    /// whether it was cancelled.
    pub fn cancel(&self) -> bool {
        if self.packet.started.load(Ordering::Acquire) {
            return false;
        }
        self.kill();
        true
    }

    /// Whether the green thread has finished (its value may still be unjoined).
    pub fn is_finished(&self) -> bool {
        self.packet.done.load(Ordering::Acquire)
    }

    /// Runs `f` with the outcome when the green thread exits, on the green
    /// thread's hub (at once, on the caller's thread, if it already has).
    /// `f` must not join this green thread.
    pub fn link(&self, f: impl FnOnce(Result<&T, &JoinError>) + Send + 'static) {
        let mut st = self.packet.state.lock();
        if self.packet.done.load(Ordering::Acquire) {
            match &st.result {
                Some(r) => f(r.as_ref()),
                None => f(Err(&JoinError::AlreadyJoined)),
            }
        } else {
            st.links.push(Box::new(f));
        }
    }

    /// The green thread's id, unique in the process.
    pub fn id(&self) -> u64 {
        self.packet.id
    }

    /// The green thread's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.packet.name.as_deref()
    }
}

impl<T> fmt::Debug for GreenThread<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GreenThread")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Joins every green thread, in order.
pub fn join_all<T>(threads: &[GreenThread<T>]) -> Vec<Result<T, JoinError>> {
    threads.iter().map(GreenThread::join).collect()
}

/// Kills every green thread (without waiting for them).
pub fn kill_all<T>(threads: &[GreenThread<T>]) {
    threads.iter().for_each(GreenThread::kill);
}

/// What a detached green thread's panic handler is told.
#[derive(Debug)]
pub struct PanicReport<'a> {
    /// The green thread's id.
    pub id: u64,
    /// Its name, if any.
    pub name: Option<&'a str>,
    /// What it panicked with.
    pub payload: &'a (dyn Any + Send),
}

impl PanicReport<'_> {
    /// The panic message, if the payload is a string.
    pub fn message(&self) -> Option<&str> {
        panic_message(self.payload)
    }
}

type PanicHandler = Box<dyn Fn(&PanicReport<'_>) + Send + Sync>;
static PANIC_HANDLER: RwLock<Option<PanicHandler>> = RwLock::new(None);

/// Replaces what happens when a detached green thread (from [`spawn_n`])
/// panics. The default prints the green thread's id, name and message to
/// stderr. The hub is never taken down either way.
pub fn set_panic_handler(f: impl Fn(&PanicReport<'_>) + Send + Sync + 'static) {
    *PANIC_HANDLER.write().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(f));
}

fn report_panic(id: u64, name: Option<&str>, payload: &(dyn Any + Send)) {
    let report = PanicReport { id, name, payload };
    let handler = PANIC_HANDLER.read().unwrap_or_else(|e| e.into_inner());
    match &*handler {
        Some(h) => h(&report),
        None => eprintln!(
            "thicket: detached green thread {} ({}) panicked: {}",
            id,
            name.unwrap_or("unnamed"),
            report.message().unwrap_or("<non-string payload>")
        ),
    }
}

/// Configures a green thread before spawning it.
///
/// # Examples
///
/// ```
/// use thicket_green::Builder;
///
/// let gt = Builder::new()
///     .name("worker")
///     .stack_size(64 * 1024)
///     .spawn(|| thicket_green::current().name().map(String::from))?;
/// assert_eq!(gt.join().unwrap().as_deref(), Some("worker"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct Builder {
    name: Option<Arc<str>>,
    stack_size: Option<usize>,
}

impl Builder {
    /// A builder with the default name (none) and stack size.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the green thread (shown by [`current`], in panic reports and
    /// stack overflow messages).
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(Arc::from(name.into()));
        self
    }

    pub(crate) fn name_arc(&self) -> Option<Arc<str>> {
        self.name.clone()
    }

    /// Sets the stack size in bytes (rounded up to whole pages, plus a guard
    /// page). Only the pages a green thread touches cost memory.
    pub fn stack_size(mut self, size: usize) -> Builder {
        self.stack_size = Some(size);
        self
    }

    /// Spawns `f` as a green thread on the current thread's hub.
    ///
    /// # Errors
    ///
    /// Fails if no stack can be mapped (address space or `vm.max_map_count`).
    pub fn spawn<F, T>(self, f: F) -> std::io::Result<GreenThread<T>>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        let id = hub::next_task_id();
        let packet = Arc::new(Packet::new(id, self.name.clone()));
        self.spawn_packet(id, packet.clone(), None, f)?;
        Ok(GreenThread { packet })
    }

    pub(crate) fn spawn_packet<F, T>(
        self,
        id: u64,
        packet: Arc<Packet<T>>,
        delay: Option<Duration>,
        f: F,
    ) -> std::io::Result<()>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        let p = packet.clone();
        let body = move || {
            let task = hub::with(|h| h.current());
            p.started.store(true, Ordering::Release);
            if task.killed.get() {
                // Killed (or cancelled) before it started: f never runs.
                drop(task);
                p.complete(Err(JoinError::Killed));
                return;
            }
            if let Some(d) = delay {
                if sleep(d).is_err() {
                    // Killed while waiting to start: f never runs.
                    drop(task);
                    p.complete(Err(JoinError::Killed));
                    return;
                }
            }
            let out = catch_unwind(AssertUnwindSafe(f));
            if FORCED_UNWIND.with(|f| f.get()) {
                if let Err(payload) = out {
                    resume_unwind(payload);
                }
                return;
            }
            let res = match out {
                Ok(_) if task.killed.get() => Err(JoinError::Killed),
                Ok(v) => Ok(v),
                Err(payload) => Err(JoinError::Panicked(payload)),
            };
            drop(task);
            p.complete(res);
        };
        let stack = self.stack_size.unwrap_or_else(hub::default_stack_size);
        hub::with(|h| {
            let task = h.spawn_task(id, self.name, stack, body)?;
            packet.set_task(h.task_ref(&task));
            std::sync::atomic::fence(Ordering::SeqCst);
            if packet.kill_requested.load(Ordering::SeqCst) {
                h.kill(&task);
            }
            Ok(())
        })
    }

    /// Spawns a detached green thread (see [`spawn_n`]).
    ///
    /// # Errors
    ///
    /// As for [`spawn`](Self::spawn).
    pub fn spawn_n<F>(self, f: F) -> std::io::Result<()>
    where
        F: FnOnce() + 'static,
    {
        let id = hub::next_task_id();
        let name = self.name.clone();
        let body = move || {
            let out = catch_unwind(AssertUnwindSafe(f));
            if let Err(payload) = out {
                if FORCED_UNWIND.with(|f| f.get()) {
                    resume_unwind(payload);
                }
                report_panic(id, name.as_deref(), &*payload);
            }
        };
        let stack = self.stack_size.unwrap_or_else(hub::default_stack_size);
        hub::with(|h| h.spawn_task(id, self.name, stack, body).map(drop))
    }
}

/// Spawns `f` as a green thread on the current thread's hub and returns its
/// handle. `f` need not be `Send`: it never leaves this OS thread.
///
/// It starts running when the hub next schedules: when the caller blocks
/// (for example in `join`), yields, or, from a green thread, parks.
///
/// # Panics
///
/// If no stack can be mapped; [`Builder::spawn`] returns that as an error.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
///
/// let shared = Rc::new(5); // not Send, and that is fine
/// let s = shared.clone();
/// let gt = thicket_green::spawn(move || *s + 1);
/// assert_eq!(gt.join().unwrap(), 6);
/// ```
pub fn spawn<F, T>(f: F) -> GreenThread<T>
where
    F: FnOnce() -> T + 'static,
    T: 'static,
{
    Builder::new()
        .spawn(f)
        .expect("thicket: cannot map a green thread stack")
}

/// Spawns a detached green thread: no handle, the cheapest spawn. A panic in
/// it goes to the handler set with [`set_panic_handler`].
///
/// # Panics
///
/// If no stack can be mapped.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// let hits = Rc::new(Cell::new(0));
/// for _ in 0..10 {
///     let h = hits.clone();
///     thicket_green::spawn_n(move || h.set(h.get() + 1));
/// }
/// thicket_green::run(); // until every green thread is done
/// assert_eq!(hits.get(), 10);
/// ```
pub fn spawn_n<F>(f: F)
where
    F: FnOnce() + 'static,
{
    Builder::new()
        .spawn_n(f)
        .expect("thicket: cannot map a green thread stack")
}

/// Spawns `f` to start after `delay` (eventlet's `spawn_after`). Killing it
/// before then cancels it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let gt = thicket_green::spawn_after(Duration::from_millis(5), || "later");
/// assert_eq!(gt.join().unwrap(), "later");
/// ```
pub fn spawn_after<F, T>(delay: Duration, f: F) -> GreenThread<T>
where
    F: FnOnce() -> T + 'static,
    T: 'static,
{
    let id = hub::next_task_id();
    let packet = Arc::new(Packet::new(id, None));
    Builder::new()
        .spawn_packet(id, packet.clone(), Some(delay), f)
        .expect("thicket: cannot map a green thread stack");
    GreenThread { packet }
}

/// Blocks the calling green thread (or plain code) for `d`; other green
/// threads run meanwhile. `sleep(Duration::ZERO)` yields.
///
/// # Errors
///
/// [`WaitError::Cancelled`] if the green thread is killed,
/// [`WaitError::TimedOut`] if an enclosing [`with_timeout`](crate::with_timeout)
/// deadline passes first.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let start = Instant::now();
/// thicket_green::sleep(Duration::from_millis(2))?;
/// assert!(start.elapsed() >= Duration::from_millis(2));
/// # Ok::<(), thicket_green::WaitError>(())
/// ```
pub fn sleep(d: Duration) -> Result<(), WaitError> {
    if d.is_zero() {
        return yield_now();
    }
    let deadline = crate::timeout::deadline_after(d);
    let parker = Parker::current();
    match parker.park("sleep", Some(deadline), &|| true) {
        Err(WaitError::TimedOut) if !crate::timeout::scope_expired() => Ok(()),
        other => other,
    }
}

/// Lets every other ready green thread run once before the caller continues.
///
/// # Errors
///
/// [`WaitError::Cancelled`] if the calling green thread was killed.
pub fn yield_now() -> Result<(), WaitError> {
    hub::with_rc(|h| h.yield_now())
}

/// Runs this thread's hub until every green thread has finished and no
/// watcher keeps it alive (gevent's `gevent.wait()`).
///
/// # Panics
///
/// If called from inside a green thread.
pub fn run() {
    hub::with_rc(|h| {
        assert!(
            !h.in_green_thread(),
            "thicket_green::run() called from inside a green thread"
        );
        h.run_all()
    })
}

/// The calling context: a green thread, or plain code (id 0).
#[derive(Debug, Clone)]
pub struct Current {
    id: u64,
    name: Option<Arc<str>>,
    task: Option<TaskRef>,
}

/// Kills one green thread from any thread, like
/// [`GreenThread::kill`], without owning its handle: what a green thread
/// gives out (through [`Current::killer`]) so that a supervisor can end it,
/// say a server closing idle connections on shutdown. Once the green thread
/// has finished, `kill` does nothing (even if its slot is reused).
///
/// # Examples
///
/// ```
/// use thicket_green::{current, spawn, AsyncResult, Event};
///
/// let killer = AsyncResult::new();
/// let never = Event::new();
/// let (k, n) = (killer.clone(), never.clone());
/// let worker = spawn(move || {
///     k.set(current().killer().unwrap()).unwrap();
///     n.wait() // ends with Cancelled when killed
/// });
/// killer.get().unwrap().kill();
/// assert!(worker.join().is_err()); // JoinError::Killed
/// # drop(never);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Killer {
    task: TaskRef,
}

impl Killer {
    /// Kills the green thread (sticky cancellation; see
    /// [`GreenThread::kill`]). Does not wait.
    pub fn kill(&self) {
        self.task.kill();
    }
}

impl Current {
    /// A [`Killer`] for this green thread; `None` for plain code.
    pub fn killer(&self) -> Option<Killer> {
        self.task.map(|task| Killer { task })
    }

    /// The green thread's id; 0 for plain code outside any green thread.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The green thread's name (for plain code, the OS thread's name).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

/// Who is running: the current green thread, or plain code.
pub fn current() -> Current {
    hub::with(|h| {
        let t = h.current();
        Current {
            id: t.id(),
            name: t.name(),
            task: (!t.is_root()).then(|| h.task_ref(&t)),
        }
    })
}

/// Sets the stack size for green threads spawned without an explicit one
/// (default 256 KiB; only touched pages cost memory).
pub fn set_default_stack_size(size: usize) {
    hub::set_default_stack_size(size);
}
