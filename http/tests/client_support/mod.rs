//! Scripted servers for the client tests: a std listener on a thread of its
//! own, a thread per connection running the test's script, which reads
//! requests exactly as they arrived and writes raw bytes back. Also child
//! process guards and readiness polling for the real-server tests.

#![allow(dead_code)] // each test file uses a different subset

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long a scripted connection waits for the client before giving up,
/// so that a broken test ends instead of hanging.
pub const SERVER_WAIT: Duration = Duration::from_secs(10);

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct RawRequest {
    pub method: String,
    pub target: String,
    /// Fields in the order sent, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body, decoded if it was chunked.
    pub body: Vec<u8>,
    /// The exact bytes of head and body.
    pub raw: Vec<u8>,
}

impl RawRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn head_text(&self) -> String {
        let end = find(&self.raw, b"\r\n\r\n").map_or(self.raw.len(), |i| i + 4);
        String::from_utf8_lossy(&self.raw[..end]).into_owned()
    }
}

/// One accepted connection, as a script sees it.
pub struct ServerConn {
    pub stream: TcpStream,
    buf: Vec<u8>,
    /// 0 for the first connection the server accepted, 1 for the next...
    pub index: usize,
    log: Arc<Mutex<Vec<RawRequest>>>,
}

impl ServerConn {
    /// Reads one request; `None` when the client closed the connection (or
    /// it failed) before a complete one.
    pub fn read_request(&mut self) -> Option<RawRequest> {
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            if !self.fill() {
                return None;
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut start = lines.next()?.split(' ');
        let method = start.next()?.to_string();
        let target = start.next()?.to_string();
        let headers: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (n, v) = l.split_once(':').expect("a field line");
                (n.to_string(), v.trim().to_string())
            })
            .collect();
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let mut pos = head_end;
        let mut body = Vec::new();
        if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                let line_end = loop {
                    if let Some(i) = find(&self.buf[pos..], b"\r\n") {
                        break pos + i;
                    }
                    if !self.fill() {
                        return None;
                    }
                };
                let line = String::from_utf8_lossy(&self.buf[pos..line_end]).into_owned();
                let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
                pos = line_end + 2;
                if size == 0 {
                    while find(&self.buf[pos..], b"\r\n").is_none() {
                        if !self.fill() {
                            return None;
                        }
                    }
                    // No trailers from this client: just the final CRLF.
                    pos += find(&self.buf[pos..], b"\r\n")? + 2;
                    break;
                }
                while self.buf.len() < pos + size + 2 {
                    if !self.fill() {
                        return None;
                    }
                }
                body.extend_from_slice(&self.buf[pos..pos + size]);
                assert_eq!(
                    &self.buf[pos + size..pos + size + 2],
                    b"\r\n",
                    "chunk data is followed by CRLF"
                );
                pos += size + 2;
            }
        } else if let Some(len) = get("content-length") {
            let len: usize = len.parse().expect("a numeric Content-Length");
            while self.buf.len() < pos + len {
                if !self.fill() {
                    return None;
                }
            }
            body.extend_from_slice(&self.buf[pos..pos + len]);
            pos += len;
        }
        let raw: Vec<u8> = self.buf.drain(..pos).collect();
        let req = RawRequest {
            method,
            target,
            headers,
            body,
            raw,
        };
        self.log.lock().unwrap().push(req.clone());
        Some(req)
    }

    /// Reads a request head only (the body, if any, stays unread).
    pub fn read_head_only(&mut self) -> Option<String> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                let head: Vec<u8> = self.buf.drain(..i + 4).collect();
                return Some(String::from_utf8_lossy(&head).into_owned());
            }
            if !self.fill() {
                return None;
            }
        }
    }

    /// Exactly `n` more bytes (fewer if the client closes first).
    pub fn read_rest_exact(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            if !self.fill() {
                break;
            }
        }
        let n = n.min(self.buf.len());
        self.buf.drain(..n).collect()
    }

    /// Whatever else arrived or arrives before the client closes.
    pub fn read_rest(&mut self) -> Vec<u8> {
        while self.fill() {}
        std::mem::take(&mut self.buf)
    }

    /// Reads until the client closes the connection (or the wait ends);
    /// true if it closed.
    pub fn wait_for_close(&mut self) -> bool {
        loop {
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }

    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    pub fn write(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes);
    }

    /// Sends FIN: the client reads end of file.
    pub fn close(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

/// A scripted server: each connection runs `script` on a thread.
pub struct TestServer {
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    log: Arc<Mutex<Vec<RawRequest>>>,
    stop: Arc<AtomicBool>,
}

impl TestServer {
    pub fn start<F>(script: F) -> TestServer
    where
        F: Fn(&mut ServerConn) + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script = Arc::new(script);
        {
            let (accepted, log, stop) = (accepted.clone(), log.clone(), stop.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let index = accepted.fetch_add(1, Ordering::SeqCst);
                    stream.set_read_timeout(Some(SERVER_WAIT)).unwrap();
                    stream.set_write_timeout(Some(SERVER_WAIT)).unwrap();
                    let _ = stream.set_nodelay(true);
                    let (script, log) = (script.clone(), log.clone());
                    thread::spawn(move || {
                        let mut conn = ServerConn {
                            stream,
                            buf: Vec::new(),
                            index,
                            log,
                        };
                        script(&mut conn);
                    });
                }
            });
        }
        TestServer {
            addr,
            accepted,
            log,
            stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Requests read so far, in the order they completed.
    pub fn requests(&self) -> Vec<RawRequest> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// A script answering every request on the connection with `response`.
pub fn answer_all(response: &'static [u8]) -> impl Fn(&mut ServerConn) + Send + Sync + 'static {
    move |c: &mut ServerConn| {
        while c.read_request().is_some() {
            c.write(response);
        }
    }
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A directory removed on drop (tempfile's), with a helper to write into it.
pub struct TempDir(tempfile::TempDir);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        TempDir(
            tempfile::Builder::new()
                .prefix(&format!("thicket-client-{tag}-"))
                .tempdir()
                .unwrap(),
        )
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

/// A child process killed and reaped on drop.
pub struct ChildGuard(pub Child);

impl ChildGuard {
    pub fn spawn(cmd: &mut Command) -> ChildGuard {
        ChildGuard(
            cmd.spawn()
                .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}")),
        )
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls until something accepts connections on `port`: `Err` with the
/// child's exit status if it exits first (for example because another
/// process took the port), a test failure naming `what` at the deadline.
pub fn wait_for_port(port: u16, child: &mut ChildGuard, what: &str) -> Result<(), ExitStatus> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.0.try_wait() {
            return Err(status);
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on port {port} within 20 s"
        );
        // A poll interval, not synchronisation: the loop ends on the event
        // (a successful connect) or the deadline.
        thread::sleep(Duration::from_millis(20));
    }
}

/// Deterministic bytes for upload and download checks.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// FNV-1a, 64 bits: a checksum for streamed bodies.
#[derive(Clone, Copy)]
pub struct Fnv(pub u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    pub fn of(bytes: &[u8]) -> u64 {
        let mut h = Fnv::default();
        h.update(bytes);
        h.0
    }
}
