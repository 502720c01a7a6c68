//! The HTTP/1.1 server: eventlet.wsgi reborn, strict from the first byte.
//!
//! A [`Server`] accepts connections on one or more hubs; each connection
//! runs on a green thread of its own that parses requests, calls the
//! [`Handler`] and writes its responses in order.

mod body;
mod buf;
mod conn;
mod date;
mod log;
mod respond;

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use thicket_green::net::{self, ServeHandle, TcpListener};
use thicket_green::tls::rustls::ServerConfig;
use thicket_green::{Event, Runtime, WaitError};

use crate::proto::Limits;
use crate::Handler;

pub use self::log::{AccessLog, TemplateError, DEFAULT_TEMPLATE};

/// Every limit and deadline of a server. [`Server`]'s builder methods set
/// them; the defaults suit a service on the open internet.
#[derive(Clone)]
pub(crate) struct Config {
    pub limits: Limits,
    pub max_body: u64,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub write_timeout: Duration,
    pub keep_alive: Option<Duration>,
    pub max_connections: usize,
    pub http10_only: bool,
    pub grace: Duration,
    pub hubs: usize,
    pub tls: Option<Arc<ServerConfig>>,
    pub access_log: Option<Arc<AccessLog>>,
    pub pipeline_budget: u32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            limits: Limits::default(),
            max_body: 16 * 1024 * 1024,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            keep_alive: Some(Duration::from_secs(15)),
            max_connections: 10_000,
            http10_only: false,
            grace: Duration::from_secs(30),
            hubs: 1,
            tls: None,
            access_log: None,
            pipeline_budget: 16,
        }
    }
}

/// State shared by a server's hubs and its handles.
pub(crate) struct Shared {
    pub stopping: AtomicBool,
    stop_event: Event,
    accept_loops: Mutex<Vec<ServeHandle>>,
    done: Event,
}

/// An HTTP/1.1 server being configured; [`serve`](Server::serve) runs it.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use thicket_http::{Body, Request, Response, Server};
///
/// let server = Server::bind("127.0.0.1:0")?;
/// let addr = server.local_addr()?;
/// let running = server.start(|req: Request| {
///     Response::new(Body::from(format!("hello from {}\n", req.uri().path())))
/// })?;
///
/// let mut conn = std::net::TcpStream::connect(addr)?;
/// conn.write_all(b"GET /there HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
/// let mut answer = String::new();
/// conn.read_to_string(&mut answer)?;
/// assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"));
/// assert!(answer.ends_with("\r\n\r\nhello from /there\n"));
///
/// running.stop();
/// running.wait()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Server {
    listener: TcpListener,
    /// The listener has `SO_REUSEPORT`: each hub binds one of its own.
    reuseport: bool,
    config: Config,
    shared: Arc<Shared>,
}

impl Server {
    /// A server listening on `addr` (`SO_REUSEADDR`, a backlog of 1,024).
    ///
    /// The socket also has `SO_REUSEPORT`, so that with several
    /// [`hubs`](Self::hubs) each hub gets a listener of its own on the port
    /// and the kernel spreads connections evenly among them (hubs sharing
    /// one listener take connections unevenly: whichever wakes first takes
    /// a burst). Linux lets only processes of the same user join the port.
    ///
    /// # Errors
    ///
    /// Binding failed (address in use, permission).
    pub fn bind(addr: impl ToSocketAddrs + Send + 'static) -> io::Result<Server> {
        let mut server = Server::from_listener(net::listen_reuseport(addr)?);
        server.reuseport = true;
        Ok(server)
    }

    /// A server on a listener you made (an inherited socket, say). With
    /// several hubs, they all accept from it.
    pub fn from_listener(listener: TcpListener) -> Server {
        Server {
            reuseport: false,
            listener,
            config: Config::default(),
            shared: Arc::new(Shared {
                stopping: AtomicBool::new(false),
                stop_event: Event::new(),
                accept_loops: Mutex::new(Vec::new()),
                done: Event::new(),
            }),
        }
    }

    /// The address the server listens on.
    ///
    /// # Errors
    ///
    /// The `getsockname(2)` error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serve on `n` hubs (OS threads), each accepting from the listener
    /// (default 1: the calling thread).
    #[must_use]
    pub fn hubs(mut self, n: usize) -> Server {
        self.config.hubs = n.max(1);
        self
    }

    /// The longest request line (default 8 KiB; longer gets 414).
    #[must_use]
    pub fn max_request_line(mut self, bytes: usize) -> Server {
        self.config.limits.max_line = bytes;
        self
    }

    /// The longest request head (default 64 KiB; longer gets 431).
    #[must_use]
    pub fn max_head(mut self, bytes: usize) -> Server {
        self.config.limits.max_head = bytes;
        self
    }

    /// The most header fields in a request (default 100; more gets 431).
    #[must_use]
    pub fn max_headers(mut self, n: usize) -> Server {
        self.config.limits.max_headers = n.max(1);
        self
    }

    /// The largest request body (default 16 MiB; larger gets 413).
    #[must_use]
    pub fn max_body(mut self, bytes: u64) -> Server {
        self.config.max_body = bytes;
        self
    }

    /// How long a client may take to send a whole request head, from its
    /// first byte (default 30 s; a slowloris defence). Also bounds a TLS
    /// handshake.
    #[must_use]
    pub fn header_timeout(mut self, d: Duration) -> Server {
        self.config.header_timeout = d;
        self
    }

    /// How long one read of a request body may wait (default 30 s).
    #[must_use]
    pub fn body_timeout(mut self, d: Duration) -> Server {
        self.config.body_timeout = d;
        self
    }

    /// How long one write of a response may wait (default 30 s).
    #[must_use]
    pub fn write_timeout(mut self, d: Duration) -> Server {
        self.config.write_timeout = d;
        self
    }

    /// How long an idle keep-alive connection is kept (default 15 s);
    /// `None` closes every connection after one response.
    #[must_use]
    pub fn keep_alive(mut self, idle: Option<Duration>) -> Server {
        self.config.keep_alive = idle;
        self
    }

    /// The most connections each hub serves at once (default 10,000), as
    /// nginx's `worker_connections` is per worker. Beyond it, that hub's
    /// accepting waits: nothing is dropped, clients wait in the listen
    /// backlog. (A limit split between hubs would stall: the kernel spreads
    /// connections among the hubs' listeners by their addresses, not by
    /// which hub has room.)
    #[must_use]
    pub fn max_connections(mut self, n: usize) -> Server {
        self.config.max_connections = n.max(1);
        self
    }

    /// Speak HTTP/1.0 only: `HTTP/1.0` responses, no chunked encoding (a
    /// body of unknown length ends with the connection), keep-alive only
    /// when the client asks for it and the length is known.
    #[must_use]
    pub fn http10_only(mut self, yes: bool) -> Server {
        self.config.http10_only = yes;
        self
    }

    /// After [`ServerHandle::stop`], how long requests in flight may take
    /// before their green threads are killed (default 30 s).
    #[must_use]
    pub fn grace(mut self, d: Duration) -> Server {
        self.config.grace = d;
        self
    }

    /// Serve HTTPS with this rustls configuration (see
    /// `thicket_green::tls::server_config`; give it ALPN `http/1.1`).
    #[must_use]
    pub fn tls(mut self, config: Arc<ServerConfig>) -> Server {
        self.config.tls = Some(config);
        self
    }

    /// Write an access log line per request.
    #[must_use]
    pub fn access_log(mut self, log: AccessLog) -> Server {
        self.config.access_log = Some(Arc::new(log));
        self
    }

    /// A handle that stops the server from any thread.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            // Its own clone of the event: green's deadlock check sees that
            // another thread can set it (an Event inside the shared Arc
            // would look unreachable).
            done: self.shared.done.clone(),
            shared: self.shared.clone(),
        }
    }

    /// Serves until stopped through a [`ServerHandle`], then returns once
    /// the requests in flight are done (or the grace period has passed).
    /// With one hub (the default) it runs on the calling thread, in plain
    /// code or in a green thread; with more, on hub threads of its own.
    ///
    /// # Errors
    ///
    /// Cloning the listener for a hub or starting a hub thread failed, or
    /// the listener failed for good.
    pub fn serve(self, handler: impl Handler) -> io::Result<()> {
        let Server {
            listener,
            reuseport,
            config,
            shared,
        } = self;
        let handler: Arc<dyn Handler> = Arc::new(handler);
        let config = Arc::new(config);
        struct Done(Arc<Shared>);
        impl Drop for Done {
            fn drop(&mut self) {
                self.0.done.set();
            }
        }
        let _done = Done(shared.clone());
        if config.hubs == 1 {
            return hub_main(listener, config, shared, handler);
        }
        let rt = Runtime::new(config.hubs)?;
        let mut loops = Vec::new();
        let addr = listener.local_addr()?;
        for hub in 0..config.hubs {
            let listener = if reuseport && hub > 0 {
                net::listen_reuseport(addr)?
            } else {
                listener.try_clone()?
            };
            let (config, shared, handler) = (config.clone(), shared.clone(), handler.clone());
            loops.push(rt.spawn_on(hub, move || hub_main(listener, config, shared, handler)));
        }
        drop(listener);
        let mut result = Ok(());
        for l in loops {
            match l.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => result = Err(e),
                Err(e) => result = Err(io::Error::other(e.to_string())),
            }
        }
        result
    }

    /// Serves on threads of its own (as many as [`hubs`](Self::hubs)) and
    /// returns at once; the returned handle stops and waits for it.
    ///
    /// # Errors
    ///
    /// Starting the thread failed.
    pub fn start(self, handler: impl Handler) -> io::Result<RunningServer> {
        let handle = self.handle();
        let addr = self.local_addr()?;
        let thread = std::thread::Builder::new()
            .name("thicket-http".into())
            .spawn(move || self.serve(handler))?;
        Ok(RunningServer {
            handle,
            addr,
            thread: Mutex::new(Some(thread)),
        })
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr().ok())
            .field("hubs", &self.config.hubs)
            .field("tls", &self.config.tls.is_some())
            .finish_non_exhaustive()
    }
}

/// One hub's accept loop and its connections.
fn hub_main(
    listener: TcpListener,
    config: Arc<Config>,
    shared: Arc<Shared>,
    handler: Arc<dyn Handler>,
) -> io::Result<()> {
    let server = net::Server::new(listener)
        .concurrency(config.max_connections)
        .grace(config.grace);
    {
        let mut loops = shared.accept_loops.lock();
        loops.push(server.handle());
        if shared.stopping.load(Ordering::Acquire) {
            server.handle().stop();
        }
    }
    let idle = conn::IdleSet::default();
    // Closes this hub's idle keep-alive connections once the server stops:
    // they are not in the middle of a request, so nothing is lost.
    let closer = {
        let (idle, stop) = (idle.clone(), shared.stop_event.clone());
        thicket_green::spawn(move || {
            if stop.wait().is_ok() {
                idle.close_all();
            }
        })
    };
    let result = server.serve(move |tcp, peer| {
        conn::serve_connection(tcp, peer, &config, &shared, &handler, &idle);
    });
    if !closer.is_finished() {
        closer.kill();
    }
    let _ = closer.join();
    result
}

/// Stops a server from any thread (`Send + Sync`, `Clone`).
#[derive(Clone)]
pub struct ServerHandle {
    shared: Arc<Shared>,
    done: Event,
}

impl ServerHandle {
    /// Graceful shutdown: stop accepting (new clients are refused), close
    /// idle keep-alive connections, let requests in flight finish (their
    /// responses say `Connection: close`), and kill what is left after the
    /// grace period. Does not wait; see [`wait`](Self::wait).
    pub fn stop(&self) {
        self.shared.stopping.store(true, Ordering::Release);
        for l in self.shared.accept_loops.lock().iter() {
            l.stop();
        }
        self.shared.stop_event.set();
    }

    /// Whether [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.shared.stopping.load(Ordering::Acquire)
    }

    /// Waits until [`Server::serve`] has returned.
    ///
    /// # Errors
    ///
    /// The wait failed (the caller was killed or a deadline passed).
    pub fn wait(&self) -> Result<(), WaitError> {
        self.done.wait()
    }

    /// Waits at most `timeout` for [`Server::serve`] to return.
    ///
    /// # Errors
    ///
    /// [`WaitError::TimedOut`] if it is still serving.
    pub fn wait_timeout(&self, timeout: Duration) -> Result<(), WaitError> {
        self.done.wait_timeout(timeout)
    }
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("stopped", &self.is_stopped())
            .finish()
    }
}

/// A server started with [`Server::start`].
pub struct RunningServer {
    handle: ServerHandle,
    addr: SocketAddr,
    thread: Mutex<Option<std::thread::JoinHandle<io::Result<()>>>>,
}

impl RunningServer {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle to stop it.
    pub fn handle(&self) -> ServerHandle {
        self.handle.clone()
    }

    /// Starts a graceful shutdown; see [`ServerHandle::stop`].
    pub fn stop(&self) {
        self.handle.stop();
    }

    /// Waits for the server to finish and returns how it ended.
    ///
    /// # Errors
    ///
    /// The error [`Server::serve`] returned, or its thread panicked.
    pub fn wait(&self) -> io::Result<()> {
        let Some(thread) = self.thread.lock().take() else {
            return Ok(());
        };
        match thread.join() {
            Ok(r) => r,
            Err(_) => Err(io::Error::other("the server thread panicked")),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if self.thread.lock().is_some() {
            self.stop();
            let _ = self.wait();
        }
    }
}

impl fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningServer")
            .field("addr", &self.addr)
            .field("stopped", &self.handle.is_stopped())
            .finish()
    }
}
