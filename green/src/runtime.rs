//! Several hubs: one OS thread each, green threads placed on them.

use std::cell::Cell;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use crate::hub::{self, Msg, Remote};
use crate::thread::{Builder, GreenThread, JoinError, Packet};

thread_local! {
    static STOP: Cell<bool> = const { Cell::new(false) };
}

struct HubThread {
    remote: Arc<Remote>,
    thread: Option<JoinHandle<()>>,
}

/// A set of hub threads (thread-per-core): spawn `Send` work onto them.
///
/// Each hub runs on its own OS thread; a green thread placed on a hub stays
/// there. Every primitive in this crate works across hubs, so green threads
/// on different hubs (and plain code on other threads) can share queues,
/// events and semaphores. Dropping the runtime stops its hubs: green threads
/// still running are unwound (their destructors run) without completing.
///
/// # Examples
///
/// ```
/// use thicket_green::Runtime;
///
/// let rt = Runtime::new(2)?;
/// let handles: Vec<_> = (0..4u64).map(|i| rt.spawn(move || i * i)).collect();
/// let squares: Vec<u64> = handles.iter().map(|h| h.join().unwrap()).collect();
/// assert_eq!(squares, vec![0, 1, 4, 9]);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Runtime {
    hubs: Vec<HubThread>,
    next: AtomicUsize,
}

impl Runtime {
    /// Starts `hubs` hub threads (at least one), named `thicket-hub-N`.
    ///
    /// # Errors
    ///
    /// Fails if an OS thread or its event loop cannot be created.
    pub fn new(hubs: usize) -> io::Result<Runtime> {
        let mut rt = Runtime {
            hubs: Vec::new(),
            next: AtomicUsize::new(0),
        };
        for i in 0..hubs.max(1) {
            let (tx, rx) = mpsc::channel();
            let thread = std::thread::Builder::new()
                .name(format!("thicket-hub-{i}"))
                .spawn(move || {
                    let remote = hub::with(|h| h.remote.clone());
                    // This hub is woken by its runtime's messages, never idle
                    // in a way that would count as a deadlock.
                    remote.keepalive.fetch_add(1, Ordering::AcqRel);
                    let _ = tx.send(remote);
                    hub::with(|h| {
                        while !STOP.with(Cell::get) {
                            h.turn(true);
                        }
                    });
                })?;
            let remote = rx
                .recv()
                .map_err(|_| io::Error::other("hub thread failed to start"))?;
            rt.hubs.push(HubThread {
                remote,
                thread: Some(thread),
            });
        }
        Ok(rt)
    }

    /// The number of hubs.
    pub fn hubs(&self) -> usize {
        self.hubs.len()
    }

    /// Spawns `f` on the next hub, round robin.
    pub fn spawn<F, T>(&self, f: F) -> GreenThread<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.hubs.len();
        self.spawn_on(i, f)
    }

    /// Spawns `f` on hub `hub`.
    ///
    /// # Panics
    ///
    /// If `hub >= self.hubs()`.
    pub fn spawn_on<F, T>(&self, hub: usize, f: F) -> GreenThread<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.spawn_with(hub, Builder::new(), f)
    }

    /// Spawns `f` on hub `hub` with a configured [`Builder`].
    ///
    /// # Panics
    ///
    /// If `hub >= self.hubs()`.
    pub fn spawn_with<F, T>(&self, hub: usize, builder: Builder, f: F) -> GreenThread<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let target = &self.hubs[hub];
        let id = hub::next_task_id();
        let packet = Arc::new(Packet::new(id, builder.name_arc()));
        let p = packet.clone();
        target.remote.send(Msg::Run(Box::new(move || {
            if let Err(e) = builder.spawn_packet(id, p.clone(), None, f) {
                p.complete(Err(JoinError::Panicked(Box::new(format!(
                    "cannot spawn green thread: {e}"
                )))));
            }
        })));
        GreenThread::from_packet(packet)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        for h in &self.hubs {
            h.remote
                .send(Msg::Run(Box::new(|| STOP.with(|s| s.set(true)))));
        }
        for h in &mut self.hubs {
            if let Some(t) = h.thread.take() {
                let _ = t.join();
            }
        }
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("hubs", &self.hubs.len())
            .finish()
    }
}
