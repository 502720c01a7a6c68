//! The keep-alive pool: idle connections per host (scheme, host, port), an
//! idle timeout, a cap on idle connections per host, and an optional cap on
//! all connections per host that makes further requests wait.
//!
//! Every live connection holds a [`Slot`], whether it is idle in the pool or
//! carrying a request; dropping the connection (closing it) frees the slot
//! and wakes one request waiting for that host. The lock is never held
//! across a blocking call, and connections are closed only after it is
//! released (closing one frees its slot, which takes the lock).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use thicket_green::{Event, WaitError};

use super::conn::Conn;
use crate::error::{Error, ErrorKind};

/// What identifies a host's connections.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

/// The pool's settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolConfig {
    /// An idle connection older than this is closed, not reused.
    pub idle_timeout: Option<Duration>,
    /// At most this many idle connections are kept per host.
    pub max_idle_per_host: usize,
    /// At most this many connections (idle or busy) per host.
    pub max_per_host: Option<usize>,
}

/// The pool, shared by every clone of a client.
#[derive(Clone)]
pub(crate) struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    config: PoolConfig,
    state: Mutex<State>,
}

struct State {
    hosts: HashMap<Key, Host>,
    last_sweep: Instant,
}

#[derive(Default)]
struct Host {
    idle: Vec<Idle>,
    /// Connections holding a slot: idle ones and busy ones.
    open: usize,
    waiters: VecDeque<Arc<Event>>,
}

struct Idle {
    conn: Conn,
    since: Instant,
}

/// The right to one open connection to a host; held by the connection.
pub(crate) struct Slot {
    pool: Weak<Inner>,
    key: Key,
}

/// What [`Pool::checkout`] gives: a pooled connection, or a slot to open a
/// new one in.
pub(crate) enum Checkout {
    Idle(Conn),
    New(Slot),
}

/// Idle connections are swept across all hosts at most this often.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

impl Pool {
    pub fn new(config: PoolConfig) -> Pool {
        Pool {
            inner: Arc::new(Inner {
                config,
                state: Mutex::new(State {
                    hosts: HashMap::new(),
                    last_sweep: Instant::now(),
                }),
            }),
        }
    }

    /// An idle connection to `key` (unless `fresh`), or a slot for a new
    /// one, waiting for one until `deadline` when the host is at its limit.
    ///
    /// # Errors
    ///
    /// `TimedOut` at the deadline; `Io` when the waiting green thread was
    /// killed.
    pub fn checkout(
        &self,
        key: &Key,
        fresh: bool,
        deadline: Option<Instant>,
    ) -> Result<Checkout, Error> {
        loop {
            let mut expired = Vec::new();
            let event = {
                let mut st = self.inner.lock();
                self.inner.sweep(&mut st, &mut expired);
                let host = st.hosts.entry(key.clone()).or_default();
                if !fresh {
                    while let Some(idle) = host.idle.pop() {
                        if self.inner.is_expired(&idle) {
                            expired.push(idle.conn);
                        } else {
                            drop(st);
                            drop(expired);
                            return Ok(Checkout::Idle(idle.conn));
                        }
                    }
                }
                let limit = self.inner.config.max_per_host.unwrap_or(usize::MAX);
                if host.open < limit {
                    host.open += 1;
                    drop(st);
                    drop(expired);
                    return Ok(Checkout::New(Slot {
                        pool: Arc::downgrade(&self.inner),
                        key: key.clone(),
                    }));
                }
                if fresh && !host.idle.is_empty() {
                    // Make room for the fresh connection by closing the
                    // oldest idle one; its slot goes to the next waiter,
                    // which may be this request.
                    expired.push(host.idle.remove(0).conn);
                }
                let event = Arc::new(Event::new());
                host.waiters.push_back(event.clone());
                event
            };
            drop(expired);
            let r = match deadline {
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => event.wait_timeout(left),
                    _ => Err(WaitError::TimedOut),
                },
                None => event.wait(),
            };
            if let Err(e) = r {
                let mut st = self.inner.lock();
                if let Some(host) = st.hosts.get_mut(key) {
                    host.waiters.retain(|w| !Arc::ptr_eq(w, &event));
                }
                let limit = self.inner.config.max_per_host.unwrap_or(0);
                let what = format!(
                    "waiting for a free connection to {}:{} (at most {limit} per host)",
                    key.host, key.port
                );
                return Err(match e {
                    WaitError::TimedOut => {
                        Error::new(ErrorKind::TimedOut, format!("{what} timed out"))
                    }
                    other => Error::with_source(ErrorKind::Io, format!("{what}: {other}"), other),
                });
            }
        }
    }

    /// Keeps `conn` for reuse (or closes it if the host has enough idle
    /// connections already).
    pub fn put(&self, key: &Key, conn: Conn) {
        let mut closing = Vec::new();
        {
            let mut st = self.inner.lock();
            let max_idle = self.inner.config.max_idle_per_host;
            let host = st.hosts.entry(key.clone()).or_default();
            if max_idle == 0 {
                closing.push(conn);
            } else {
                host.idle.push(Idle {
                    conn,
                    since: Instant::now(),
                });
                while host.idle.len() > max_idle {
                    closing.push(host.idle.remove(0).conn);
                }
                if let Some(w) = host.waiters.pop_front() {
                    w.set();
                }
            }
        }
        drop(closing);
    }

    /// Closes every idle connection.
    pub fn clear_idle(&self) {
        let mut closing = Vec::new();
        {
            let mut st = self.inner.lock();
            for host in st.hosts.values_mut() {
                closing.extend(host.idle.drain(..).map(|i| i.conn));
            }
        }
        drop(closing);
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; a poisoned one is still
        // consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_expired(&self, idle: &Idle) -> bool {
        self.config
            .idle_timeout
            .is_some_and(|t| idle.since.elapsed() >= t)
    }

    /// Moves expired idle connections of every host to `out`, at most once
    /// per [`SWEEP_INTERVAL`].
    fn sweep(&self, st: &mut State, out: &mut Vec<Conn>) {
        if st.last_sweep.elapsed() < SWEEP_INTERVAL {
            return;
        }
        st.last_sweep = Instant::now();
        for host in st.hosts.values_mut() {
            let mut i = 0;
            while i < host.idle.len() {
                if self.is_expired(&host.idle[i]) {
                    out.push(host.idle.remove(i).conn);
                } else {
                    i += 1;
                }
            }
        }
        st.hosts
            .retain(|_, h| h.open > 0 || !h.idle.is_empty() || !h.waiters.is_empty());
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(inner) = self.pool.upgrade() else {
            return;
        };
        let mut st = inner.lock();
        if let Some(host) = st.hosts.get_mut(&self.key) {
            host.open = host.open.saturating_sub(1);
            if let Some(w) = host.waiters.pop_front() {
                w.set();
            }
            if host.open == 0 && host.idle.is_empty() && host.waiters.is_empty() {
                st.hosts.remove(&self.key);
            }
        }
    }
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Slot({}:{})", self.key.host, self.key.port)
    }
}
