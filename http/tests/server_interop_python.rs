//! Python's `http.client` against the thicket server on loopback: GETs
//! over one keep-alive connection, a POST with a body and a chunked POST
//! (`encode_chunked=True`), all on the same connection; the script prints
//! a JSON summary that the test checks.

mod conformance_support;

use std::process::Command;
use std::sync::{Arc, Mutex};

use conformance_support::interop::{app, checksum, run, texts, Seen};
use serde_json::Value;
use thicket_http::Server;

const SCRIPT: &str = r#"
import http.client, json, signal, sys

signal.alarm(60)  # the test's deadline
host, port = sys.argv[1], int(sys.argv[2])
conn = http.client.HTTPConnection(host, port, timeout=30)

def fnv(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return format(h, "x")

def answer(extra):
    r = conn.getresponse()
    body = r.read()
    out = {
        "status": r.status,
        "version": r.version,
        "peer": r.getheader("x-peer-port"),
        "te": r.getheader("x-te"),
        "len": r.getheader("x-len"),
        "sum": r.getheader("x-sum"),
        "closes": r.will_close,
    }
    out.update(extra(body))
    return out

summary = {"gets": [], "sock_reused": True}
sock = None
for i in range(3):
    conn.request("GET", "/peer?%d" % i)
    summary["gets"].append(answer(lambda body: {"body": body.decode()}))
    if sock is not None and conn.sock is not sock:
        summary["sock_reused"] = False
    sock = conn.sock

data = bytes(range(256)) * 400
conn.request("POST", "/echo", body=data, headers={"Content-Type": "application/octet-stream"})
summary["post"] = answer(lambda body: {"echo_ok": body == data, "sent_sum": fnv(data)})
if conn.sock is not sock:
    summary["sock_reused"] = False

pieces = [("piece %d;" % i).encode() * (i + 1) for i in range(60)]
conn.request("POST", "/echo", body=iter(pieces), encode_chunked=True)
whole = b"".join(pieces)
summary["chunked"] = answer(lambda body: {"echo_ok": body == whole, "sent_len": len(whole), "sent_sum": fnv(whole)})
if conn.sock is not sock:
    summary["sock_reused"] = False

conn.close()
print(json.dumps(summary))
"#;

#[test]
fn python_http_client_keep_alive_post_and_chunked_post() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let server = Server::bind("127.0.0.1:0")
        .unwrap()
        .start(app(seen.clone()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("client.py");
    std::fs::write(&script, SCRIPT).unwrap();
    let addr = server.local_addr();
    let out = run(Command::new("python3")
        .arg(&script)
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string()));
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "the script failed: {stderr}");
    let s: Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));

    let peers = seen.lock().unwrap().peers.clone();
    assert_eq!(peers.len(), 5, "{peers:?}");
    assert!(
        peers.iter().all(|&p| p == peers[0]),
        "more than one connection was accepted: {peers:?}"
    );
    assert_eq!(s["sock_reused"], true, "{s}");
    let peer = peers[0].to_string();
    for (i, g) in s["gets"].as_array().unwrap().iter().enumerate() {
        assert_eq!(g["status"], 200, "{g}");
        assert_eq!(g["version"], 11, "{g}");
        assert_eq!(g["closes"], false, "{g}");
        assert_eq!(g["peer"], peer.as_str(), "{g}");
        assert_eq!(g["body"], format!("peer={peer}\n"), "GET {i}: {g}");
    }

    let post = &s["post"];
    assert_eq!(post["status"], 200, "{post}");
    assert_eq!(post["echo_ok"], true, "{post}");
    assert_eq!(post["te"], "none", "a sized body went chunked: {post}");
    assert_eq!(post["len"], "102400", "{post}");
    assert_eq!(post["sum"], post["sent_sum"], "{post}");
    let expected: Vec<u8> = (0..=255u8).cycle().take(102_400).collect();
    assert_eq!(post["sum"], format!("{:x}", checksum(&expected)));

    let chunked = &s["chunked"];
    assert_eq!(chunked["status"], 200, "{chunked}");
    assert_eq!(
        chunked["te"], "chunked",
        "the body did not go chunked: {chunked}"
    );
    assert_eq!(chunked["echo_ok"], true, "{chunked}");
    assert_eq!(
        chunked["len"].as_str().unwrap(),
        chunked["sent_len"].to_string(),
        "{chunked}"
    );
    assert_eq!(chunked["sum"], chunked["sent_sum"], "{chunked}");
}
