//! `serve`: eventlet's accept loop, with a concurrency limit, back-off when
//! accepting fails and a graceful stop.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::{TcpListener, TcpStream};
use crate::{Event, GreenPool, GreenThread, WaitError};

/// The first pause after a failed accept; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(5);
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// How often a full accept loop looks for a stop request.
const STOP_POLL: Duration = Duration::from_millis(100);

/// Serves connections on `listener`: each accepted connection is handed to
/// `handler` in a green thread of its own, at most `concurrency` at once
/// (eventlet's `serve`). Returns once stopped through a [`ServeHandle`]
/// (see [`Server`] for one), after the handlers in flight have finished.
///
/// A panicking handler ends only its own green thread. When accepting
/// fails because descriptors or memory ran out (`EMFILE`, `ENFILE`,
/// `ENOBUFS`, `ENOMEM`) or for another unexpected reason, the loop pauses
/// with a growing delay (5 ms doubling to 1 s), logging the first failure
/// of a run to stderr, and tries again; a connection aborted before it was
/// accepted is skipped.
///
/// # Errors
///
/// The listener was closed without a stop request (`NotConnected`), or the
/// serving green thread was killed.
pub fn serve<F>(listener: TcpListener, handler: F, concurrency: usize) -> io::Result<()>
where
    F: Fn(TcpStream, SocketAddr) + 'static,
{
    Server::new(listener)
        .concurrency(concurrency)
        .serve(handler)
}

struct Shared {
    stopped: AtomicBool,
    /// Ends a back-off pause early on stop.
    wake: Event,
    /// Set when `serve` has returned.
    done: Event,
    listener: Mutex<Option<Arc<TcpListener>>>,
}

/// An accept loop being configured: [`serve`] with a stop handle and a
/// grace period.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use thicket_green::net::{self, Server, TcpStream};
///
/// let listener = net::listen("127.0.0.1:0")?;
/// let addr = listener.local_addr()?;
/// let server = Server::new(listener).concurrency(100);
/// let handle = server.handle();
/// let serving = thicket_green::spawn(move || {
///     server.serve(|mut conn: TcpStream, _peer| {
///         let mut buf = [0; 4];
///         if conn.read_exact(&mut buf).is_ok() {
///             let _ = conn.write_all(&buf);
///         }
///     })
/// });
/// let mut client = TcpStream::connect(addr)?;
/// client.write_all(b"ping")?;
/// let mut buf = [0; 4];
/// client.read_exact(&mut buf)?;
/// assert_eq!(&buf, b"ping");
/// handle.stop(); // stop accepting; serve returns when the handlers are done
/// serving.join().unwrap()?;
/// assert!(handle.is_finished());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Server {
    listener: Arc<TcpListener>,
    concurrency: usize,
    grace: Option<Duration>,
    shared: Arc<Shared>,
}

impl Server {
    /// A server on `listener`, with a concurrency of 1,000 handlers and no
    /// limit on the wait for them after a stop.
    pub fn new(listener: TcpListener) -> Server {
        let listener = Arc::new(listener);
        Server {
            listener: listener.clone(),
            concurrency: 1000,
            grace: None,
            shared: Arc::new(Shared {
                stopped: AtomicBool::new(false),
                wake: Event::new(),
                done: Event::new(),
                listener: Mutex::new(Some(listener)),
            }),
        }
    }

    /// At most `n` handlers run at once (at least 1); the next connection
    /// is accepted when one finishes.
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Server {
        self.concurrency = n.max(1);
        self
    }

    /// After a stop, wait at most `grace` for the handlers in flight, then
    /// kill those still running (their blocking calls fail) and return.
    #[must_use]
    pub fn grace(mut self, grace: Duration) -> Server {
        self.grace = Some(grace);
        self
    }

    /// A handle that stops this server, from any thread.
    pub fn handle(&self) -> ServeHandle {
        ServeHandle {
            shared: self.shared.clone(),
        }
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// The `getsockname(2)` error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Runs the accept loop in the calling green thread (or plain code)
    /// until stopped; see [`serve`].
    ///
    /// # Errors
    ///
    /// As for [`serve`].
    pub fn serve<F>(self, handler: F) -> io::Result<()>
    where
        F: Fn(TcpStream, SocketAddr) + 'static,
    {
        struct Done(Arc<Shared>);
        impl Drop for Done {
            fn drop(&mut self) {
                self.0.listener.lock().take();
                self.0.done.set();
            }
        }
        let Server {
            listener,
            concurrency,
            grace,
            shared,
        } = self;
        let _done = Done(shared.clone());
        let pool = GreenPool::new(concurrency);
        let live = Rc::new(RefCell::new(HashMap::new()));
        let result = accept_loop(&listener, &shared, &pool, &live, Rc::new(handler));
        drop(listener);
        let drained = match grace {
            None => pool.waitall(),
            Some(g) => match pool.waitall_timeout(g) {
                Err(WaitError::TimedOut) => {
                    let handlers: Vec<GreenThread<()>> =
                        live.borrow_mut().drain().map(|(_, h)| h).collect();
                    crate::kill_all(&handlers);
                    pool.waitall_timeout(g)
                }
                other => other,
            },
        };
        result?;
        drained.map_err(io::Error::from)
    }
}

type Live = Rc<RefCell<HashMap<u64, GreenThread<()>>>>;

fn accept_loop<F>(
    listener: &TcpListener,
    shared: &Shared,
    pool: &GreenPool,
    live: &Live,
    handler: Rc<F>,
) -> io::Result<()>
where
    F: Fn(TcpStream, SocketAddr) + 'static,
{
    let mut backoff: Option<Duration> = None;
    let mut next_id = 0u64;
    loop {
        if shared.stopped.load(Ordering::Acquire) {
            return Ok(());
        }
        // A place for the handler first: a full loop leaves connections in
        // the listen backlog (for another accept loop on the same socket,
        // or for later) instead of taking them and letting them wait.
        // While full, a stop is noticed within STOP_POLL.
        let slot = loop {
            let r = crate::with_timeout(STOP_POLL, || {
                pool.reserve("serve: waiting for a free handler slot")
            });
            match r {
                Ok(Ok(slot)) => break slot,
                Ok(Err(WaitError::TimedOut)) | Err(_) => {}
                Ok(Err(e)) => return Err(e.into()),
            }
            if shared.stopped.load(Ordering::Acquire) {
                return Ok(());
            }
        };
        if shared.stopped.load(Ordering::Acquire) {
            return Ok(());
        }
        let err = match listener.accept() {
            Ok((conn, peer)) => {
                backoff = None;
                next_id += 1;
                // Removes the handler's entry when it ends, or if it is
                // dropped unstarted.
                struct Forget(Live, u64);
                impl Drop for Forget {
                    fn drop(&mut self) {
                        if let Ok(mut m) = self.0.try_borrow_mut() {
                            m.remove(&self.1);
                        }
                    }
                }
                let forget = Forget(live.clone(), next_id);
                let h = handler.clone();
                let gt = pool.spawn_reserved(slot, move || {
                    let _forget = forget;
                    h(conn, peer);
                });
                // The handler has not started yet: spawns run when this
                // green thread next blocks.
                live.borrow_mut().insert(next_id, gt);
                continue;
            }
            Err(e) => e,
        };
        if shared.stopped.load(Ordering::Acquire) {
            return Ok(());
        }
        // The client gave up before we accepted it: nothing to wait for.
        if let Some(libc::ECONNABORTED | libc::EPROTO | libc::EPERM | libc::EINTR) =
            err.raw_os_error()
        {
            continue;
        }
        match err.kind() {
            io::ErrorKind::NotConnected => return Err(err),
            io::ErrorKind::TimedOut => continue,
            _ => {}
        }
        let delay = match backoff {
            None => {
                eprintln!("thicket: serve: accept failed ({err}); backing off");
                MIN_BACKOFF
            }
            Some(d) => (d * 2).min(MAX_BACKOFF),
        };
        backoff = Some(delay);
        match shared.wake.wait_timeout(delay) {
            Ok(()) | Err(WaitError::TimedOut) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Stops a [`Server`] from any thread (it is `Send + Sync` and `Clone`).
#[derive(Clone)]
pub struct ServeHandle {
    shared: Arc<Shared>,
}

impl ServeHandle {
    /// Stops accepting: the listener is closed (new clients are refused)
    /// and the serving loop returns once the handlers in flight have
    /// finished (or its grace period passed). Does not wait; see
    /// [`wait`](Self::wait).
    pub fn stop(&self) {
        self.shared.stopped.store(true, Ordering::Release);
        if let Some(l) = self.shared.listener.lock().as_ref() {
            l.close();
        }
        self.shared.wake.set();
    }

    /// Whether [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.shared.stopped.load(Ordering::Acquire)
    }

    /// Whether the serving loop has returned.
    pub fn is_finished(&self) -> bool {
        self.shared.done.is_set()
    }

    /// Waits until the serving loop has returned.
    ///
    /// # Errors
    ///
    /// The wait failed (the caller was killed, or a deadline passed).
    pub fn wait(&self) -> Result<(), WaitError> {
        self.shared.done.wait()
    }

    /// Waits at most `timeout` for the serving loop to return.
    ///
    /// # Errors
    ///
    /// [`WaitError::TimedOut`] if it is still running; as for
    /// [`wait`](Self::wait).
    pub fn wait_timeout(&self, timeout: Duration) -> Result<(), WaitError> {
        self.shared.done.wait_timeout(timeout)
    }
}

impl fmt::Debug for ServeHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServeHandle")
            .field("stopped", &self.is_stopped())
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("listener", &self.listener)
            .field("concurrency", &self.concurrency)
            .field("grace", &self.grace)
            .finish()
    }
}
