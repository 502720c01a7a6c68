//! Shared by the WebSocket tests: an echo server, a raw client for exact
//! bytes, and a self-signed TLS setup.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use thicket_green::tls::{self, ClientConfig, RootCertStore, ServerConfig};
use thicket_http::ws::{self, Message};
use thicket_http::{Request, RunningServer, Server};

/// Echoes text and binary messages until the socket ends.
pub fn echo(mut socket: ws::WebSocket) {
    while let Ok(msg) = socket.recv() {
        if msg.is_data() && socket.send(msg).is_err() {
            break;
        }
    }
}

/// An echo server on 127.0.0.1 with `config`.
pub fn echo_server(config: ws::Config) -> RunningServer {
    Server::bind("127.0.0.1:0")
        .unwrap()
        .start(move |req: Request| ws::upgrade(&req, &config, echo))
        .unwrap()
}

pub fn url(server: &RunningServer, path: &str) -> String {
    format!("ws://{}{path}", server.local_addr())
}

/// A std socket with the handshake done by hand; frames are built and
/// read raw.
pub struct RawClient {
    pub s: std::net::TcpStream,
    pub buf: Vec<u8>,
}

impl RawClient {
    /// Connects and sends the handshake with `extra` header lines; returns
    /// the status line and head of the answer.
    pub fn handshake(addr: SocketAddr, extra: &str) -> (RawClient, String) {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
        )
        .unwrap();
        let mut c = RawClient { s, buf: Vec::new() };
        let head = c.read_head();
        (c, head)
    }

    fn read_head(&mut self) -> String {
        loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..i]).into_owned();
                self.buf.drain(..i + 4);
                return head;
            }
            self.fill();
        }
    }

    fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 4096];
        let n = self.s.read(&mut chunk).expect("read");
        self.buf.extend_from_slice(&chunk[..n]);
        n
    }

    /// Sends a masked frame.
    pub fn send_frame(&mut self, fin: bool, opcode: u8, payload: &[u8]) {
        self.s
            .write_all(&masked_frame(fin, opcode, payload))
            .unwrap();
    }

    /// Reads one unmasked frame: (fin, opcode, payload); `None` at end of
    /// stream.
    pub fn read_frame(&mut self) -> Option<(bool, u8, Vec<u8>)> {
        loop {
            if self.buf.len() >= 2 {
                let (b0, b1) = (self.buf[0], self.buf[1]);
                assert_eq!(b1 & 0x80, 0, "a server never masks");
                let (len, at) = match b1 & 0x7F {
                    126 if self.buf.len() >= 4 => {
                        (u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize, 4)
                    }
                    127 if self.buf.len() >= 10 => {
                        let mut b = [0u8; 8];
                        b.copy_from_slice(&self.buf[2..10]);
                        (u64::from_be_bytes(b) as usize, 10)
                    }
                    126 | 127 => (usize::MAX, 0),
                    n => (n as usize, 2),
                };
                if len != usize::MAX && self.buf.len() >= at + len {
                    let payload = self.buf[at..at + len].to_vec();
                    self.buf.drain(..at + len);
                    return Some((b0 & 0x80 != 0, b0 & 0x0F, payload));
                }
            }
            if self.fill() == 0 {
                return None;
            }
        }
    }

    /// Reads until the server closes the connection; true if it did
    /// (rather than resetting it or timing out).
    pub fn closed_by_server(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        loop {
            match self.s.read(&mut chunk) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    }
}

pub fn masked_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0xA1, 0xB2, 0xC3, 0xD4];
    let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n < 65536 => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// A self-signed certificate for 127.0.0.1 and localhost: the server's
/// configuration and a client configuration that trusts it.
pub fn tls_pair() -> (Arc<ServerConfig>, Arc<ClientConfig>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let der = cert.der().clone();
    let pkey = tls::PrivateKeyDer::try_from(key.serialize_der()).unwrap();
    let server = tls::server_config_from_der(vec![der.clone()], pkey, &[b"http/1.1"]).unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(der).unwrap();
    let client = tls::client_config(roots, &[b"http/1.1"]).unwrap();
    (Arc::new(server), Arc::new(client))
}

/// The text of a message, or a panic saying what came instead.
pub fn text(m: Message) -> String {
    match m {
        Message::Text(t) => t,
        other => panic!("expected text, got {other:?}"),
    }
}

/// Holds a lock directory across processes (under nextest each test is a
/// process of its own, and two installers at once spoil each other's
/// files); removed when dropped.
pub struct DirLock(std::path::PathBuf);

impl DirLock {
    /// Waits at most `limit` for the lock at `path`.
    pub fn take(path: std::path::PathBuf, limit: Duration) -> DirLock {
        let started = std::time::Instant::now();
        while std::fs::create_dir(&path).is_err() {
            assert!(
                started.elapsed() < limit,
                "another process has held {} for {limit:?}",
                path.display()
            );
            // A poll interval, not synchronisation: the loop ends when the
            // lock is free or the deadline passes.
            std::thread::sleep(Duration::from_millis(200));
        }
        DirLock(path)
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}
