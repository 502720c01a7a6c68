//! Interoperability with Python's `websockets` package, the most used
//! WebSocket library there: a Python client against the thicket server,
//! and the thicket client against a Python server, with permessage-deflate
//! (on by default in both) and without.
//!
//! The package is installed into a venv under `target/ws-python` on first
//! use. Without `python3` (or its venv module, which the test installs
//! with apt-get where it can) the tests say so and pass without running.

mod ws_support;

use ws_support::DirLock;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use thicket_http::ws::{self, CloseFrame, Message};

/// One venv install at a time among this process's tests.
static VENV: Mutex<()> = Mutex::new(());

/// The venv's python with `websockets` importable, or `None` (said why).
fn python() -> Option<PathBuf> {
    let _one = VENV.lock().unwrap_or_else(|e| e.into_inner());
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    let venv = target.join("ws-python");
    let py = venv.join("bin/python3");
    let ready = |py: &PathBuf| {
        Command::new(py)
            .args([
                "-c",
                "import websockets.sync.client, websockets.sync.server",
            ])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if ready(&py) {
        return Some(py);
    }
    std::fs::create_dir_all(&target).unwrap();
    let _lock = DirLock::take(target.join("ws-python.lock"), Duration::from_secs(300));
    if ready(&py) {
        return Some(py);
    }
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("SKIPPED: no python3 to run the websockets package with");
        return None;
    }
    let create = || {
        let _ = std::fs::remove_dir_all(&venv);
        Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !create() {
        // Debian's python3 has no venv module without python3-venv.
        eprintln!("installing python3-venv");
        let _ = Command::new("apt-get")
            .args(["-o", "DPkg::Lock::Timeout=300", "install", "-y"])
            .args(["--no-install-recommends", "python3-venv"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status();
        if !create() {
            eprintln!("SKIPPED: python3 cannot create a venv (apt-get install python3-venv)");
            return None;
        }
    }
    let out = Command::new(venv.join("bin/pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "websockets>=13,<16",
        ])
        .output()
        .expect("run pip");
    assert!(
        out.status.success() && ready(&py),
        "pip install websockets failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(py)
}

/// Kills a Python process the test started if the test fails first.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const CLIENT: &str = r#"
import sys
from websockets.sync.client import connect
from websockets.exceptions import ConnectionClosed

url, compress = sys.argv[1], sys.argv[2] == "1"
with connect(url, compression="deflate" if compress else None,
             subprotocols=["v1"], open_timeout=10, close_timeout=10) as ws:
    assert ws.subprotocol == "v1", ws.subprotocol
    ext = ws.response.headers.get("Sec-WebSocket-Extensions")
    assert (ext is not None) == compress, ext
    ws.send("héllo")
    assert ws.recv(timeout=10) == "héllo"
    big = bytes(range(256)) * 4096
    ws.send(big)
    assert ws.recv(timeout=10) == big
    ws.send([b"frag", b"mented"])
    assert ws.recv(timeout=10) == b"fragmented"
    ws.ping(b"x").wait(timeout=10)
    ws.send("bye")
    try:
        ws.recv(timeout=10)
        raise AssertionError("expected the server to close")
    except ConnectionClosed as e:
        # Both close frames were exchanged: ours echoed the server's code.
        assert e.rcvd.code == 4000 and e.rcvd.reason == "done", e
        assert e.sent is not None and e.sent.code == 4000, e
print("PYTHON CLIENT OK")
"#;

#[test]
fn a_python_client_talks_to_the_thicket_server() {
    let Some(py) = python() else { return };
    let config = ws::Config::new().protocols(["v1"]);
    let server = thicket_http::Server::bind("127.0.0.1:0")
        .unwrap()
        .start(move |req: thicket_http::Request| {
            ws::upgrade(&req, &config, |mut socket| {
                while let Ok(msg) = socket.recv() {
                    if msg == Message::text("bye") {
                        let _ = socket.close(4000, "done");
                        break;
                    }
                    if msg.is_data() && socket.send(msg).is_err() {
                        break;
                    }
                }
            })
        })
        .unwrap();
    for compress in ["1", "0"] {
        let out = Command::new(&py)
            .args(["-c", CLIENT, &ws_support::url(&server, "/py"), compress])
            .output()
            .expect("run python");
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("OK"),
            "compress={compress}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

const SERVER: &str = r#"
import sys
from websockets.sync.server import serve

def handler(ws):
    ws.send("hello " + (ws.subprotocol or "-"))
    for msg in ws:
        if msg == "close please":
            ws.close(4001, "as asked")
            return
        ws.send(msg)

compress = sys.argv[1] == "1"
with serve(handler, "127.0.0.1", 0, subprotocols=["v2"],
           compression="deflate" if compress else None) as server:
    print(server.socket.getsockname()[1], flush=True)
    server.serve_forever()
"#;

#[test]
fn the_thicket_client_talks_to_a_python_server() {
    let Some(py) = python() else { return };
    for compress in ["1", "0"] {
        let child = Command::new(&py)
            .args(["-c", SERVER, compress])
            .stdout(Stdio::piped())
            .spawn()
            .expect("run python");
        let mut child = Reap(child);
        let mut line = String::new();
        BufReader::new(child.0.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line.trim().parse().expect("the server prints its port");
        let mut socket = ws::Connector::new(format!("ws://127.0.0.1:{port}/"))
            .config(ws::Config::new().protocols(["v2"]))
            .connect()
            .unwrap();
        assert_eq!(socket.is_compressed(), compress == "1");
        let t = Duration::from_secs(10);
        assert_eq!(socket.recv_timeout(t).unwrap(), Message::text("hello v2"));
        socket.send(Message::text("κόσμε")).unwrap();
        assert_eq!(socket.recv_timeout(t).unwrap(), Message::text("κόσμε"));
        // Under websockets' default 1 MiB limit.
        let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 253) as u8).collect();
        socket.send(Message::binary(big.clone())).unwrap();
        assert_eq!(socket.recv_timeout(t).unwrap(), Message::binary(big));
        socket.send(Message::Ping("p".into())).unwrap();
        assert_eq!(socket.recv_timeout(t).unwrap(), Message::Pong("p".into()));
        socket.send(Message::text("close please")).unwrap();
        assert_eq!(
            socket.recv_timeout(t).unwrap(),
            Message::Close(Some(CloseFrame::new(4001, "as asked")))
        );
        assert_eq!(
            socket.recv().unwrap_err().kind(),
            thicket_http::ErrorKind::Closed
        );
    }
}
