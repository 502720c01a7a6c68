//! Helpers for the TLS tests: a test PKI made at run time, child-process guards, waiting
//! for `openssl s_server` to listen, and checksummed data.
#![allow(dead_code)] // each test file uses a different subset

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

/// A directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "thicket-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// PEM files for one test: a CA, a leaf for `localhost` and `127.0.0.1` signed by it, and
/// a leaf for the same names signed by a second CA that nobody trusts.
pub struct Pki {
    pub dir: TempDir,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub rogue_cert: PathBuf,
    pub rogue_key: PathBuf,
}

fn ca(name: &str) -> (rcgen::Certificate, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().unwrap();
    (params.self_signed(&key).unwrap(), key)
}

fn leaf(ca: &rcgen::Certificate, ca_key: &KeyPair) -> (String, String) {
    let mut params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, ca, ca_key).unwrap();
    (cert.pem(), key.serialize_pem())
}

impl Pki {
    pub fn new() -> Pki {
        let dir = TempDir::new("tls");
        let (ca_cert, ca_key) = ca("thicket test CA");
        let (cert, key) = leaf(&ca_cert, &ca_key);
        let (rogue_ca, rogue_ca_key) = ca("thicket rogue CA");
        let (rogue_cert, rogue_key) = leaf(&rogue_ca, &rogue_ca_key);
        Pki {
            ca: dir.write("ca.pem", ca_cert.pem()),
            cert: dir.write("cert.pem", cert),
            key: dir.write("key.pem", key),
            rogue_cert: dir.write("rogue-cert.pem", rogue_cert),
            rogue_key: dir.write("rogue-key.pem", rogue_key),
            dir,
        }
    }
}

/// A child process killed (and reaped) on drop, so a failing test leaves none behind.
pub struct ChildGuard(pub Child);

impl ChildGuard {
    pub fn spawn(cmd: &mut Command) -> ChildGuard {
        ChildGuard(
            cmd.spawn()
                .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}")),
        )
    }

    /// Takes the child's stdout, drained line by line on a thread.
    pub fn stdout_lines(&mut self) -> mpsc::Receiver<String> {
        read_lines(self.0.stdout.take().expect("stdout was not piped"))
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port that was free a moment ago, for peers that must be told which port to take.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `openssl s_server` on a free port with `args`, and returns once it listens (it
/// prints "ACCEPT"). The rest of its stdout is drained on a thread and comes back through
/// the receiver, line by line. If the port was taken between finding it free and
/// s_server binding it, s_server exits and another port is tried.
pub fn s_server(args: &[&str]) -> (ChildGuard, u16, mpsc::Receiver<String>) {
    for _ in 0..5 {
        let port = free_port();
        let mut child = ChildGuard::spawn(
            Command::new("openssl")
                .arg("s_server")
                .args(["-accept", &port.to_string(), "-naccept", "1"])
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let lines = child.stdout_lines();
        loop {
            match lines.recv_timeout(Duration::from_secs(20)) {
                Ok(line) if line.trim() == "ACCEPT" => return (child, port, lines),
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(e) => panic!("openssl s_server did not start listening: {e}"),
            }
        }
    }
    panic!("openssl s_server exited before listening, five times over");
}

/// Every line until the child closes its stdout (it exits), waiting at most `limit`.
pub fn lines_until_exit(lines: &mpsc::Receiver<String>, limit: Duration) -> Vec<String> {
    let deadline = Instant::now() + limit;
    let mut out = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => out.push(line),
            Err(mpsc::RecvTimeoutError::Disconnected) => return out,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("child still running after {limit:?}; output so far: {out:?}")
            }
        }
    }
}

fn read_lines(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// `len` bytes of printable lines (63 characters and a newline each), different for each
/// `seed`; no line starts with a letter that openssl's s_client/s_server treat as a command.
pub fn text_lines(len: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while out.len() < len {
        let col = out.len() % 64;
        if col == 63 {
            out.push(b'\n');
        } else if col == 0 {
            out.push(b'0' + (out.len() / 64 % 10) as u8);
        } else {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.push(b"abcdefghijklmnopqrstuvwxyz0123456789"[(x % 36) as usize]);
        }
    }
    out
}

/// Each line of `data` reversed, as `openssl s_server -rev` answers.
pub fn reversed_lines(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for line in data.split_inclusive(|&b| b == b'\n') {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        out.extend(body.iter().rev());
        out.push(b'\n');
    }
    out
}

/// FNV-1a, enough to tell two large buffers apart in an assertion message.
pub fn checksum(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
