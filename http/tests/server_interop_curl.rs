//! Real curl against the thicket server on loopback: keep-alive across
//! two URLs, a chunked upload echoed back, `Expect: 100-continue` with a
//! large body (granted when the handler reads it, not sent when it does
//! not), and HTTPS with a CA made at run time.

mod conformance_support;

use std::process::Command;
use std::sync::{Arc, Mutex};

use conformance_support::interop::{app, checksum, data, run, texts, Pki, Seen};
use thicket_http::{RunningServer, Server};

struct Site {
    server: RunningServer,
    seen: Arc<Mutex<Seen>>,
}

impl Site {
    fn start(server: Server) -> Site {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let server = server.start(app(seen.clone())).unwrap();
        Site { server, seen }
    }

    fn plain() -> Site {
        Site::start(Server::bind("127.0.0.1:0").unwrap())
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.local_addr())
    }

    fn peers(&self) -> Vec<u16> {
        self.seen.lock().unwrap().peers.clone()
    }
}

/// curl with the options every test wants: bounded in time, errors shown.
fn curl() -> Command {
    let mut c = Command::new("curl");
    c.args(["--silent", "--show-error", "--max-time", "60"]);
    c
}

/// One line per transfer: status and how many new connections it made.
const WRITE_OUT: &str = "\n[%{http_code} connects=%{num_connects}]\n";

#[test]
fn curl_reuses_one_connection_for_two_urls() {
    let site = Site::plain();
    let out = run(curl()
        .args(["--verbose", "--write-out", WRITE_OUT])
        .arg(site.url("/peer?first"))
        .arg(site.url("/peer?second")));
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("[200 connects=1]") && stdout.contains("[200 connects=0]"),
        "the second transfer made a connection of its own: {stdout}"
    );
    assert!(
        stderr.contains("Re-using existing connection"),
        "curl did not reuse the connection: {stderr}"
    );
    let peers = site.peers();
    assert_eq!(peers.len(), 2, "{peers:?}");
    assert_eq!(peers[0], peers[1], "two connections were accepted");
    assert_eq!(
        stdout.matches(&format!("peer={}\n", peers[0])).count(),
        2,
        "{stdout}"
    );
}

#[test]
fn curl_chunked_upload_is_echoed_back() {
    let site = Site::plain();
    let dir = tempfile::tempdir().unwrap();
    let upload = data(3 * 1024 * 1024 + 17, 1);
    let (input, output, headers) = (
        dir.path().join("upload.bin"),
        dir.path().join("echoed.bin"),
        dir.path().join("headers.txt"),
    );
    std::fs::write(&input, &upload).unwrap();
    let out = run(curl()
        .args(["-H", "Transfer-Encoding: chunked", "--data-binary"])
        .arg(format!("@{}", input.display()))
        .arg("--output")
        .arg(&output)
        .arg("--dump-header")
        .arg(&headers)
        .arg(site.url("/echo")));
    let (_, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    // Any interim heads (curl sends chunked uploads with `Expect:
    // 100-continue`) come first; the final head is the last one.
    let dump = std::fs::read_to_string(&headers)
        .unwrap()
        .to_ascii_lowercase();
    let head = dump
        .trim_end()
        .rsplit("\r\n\r\n")
        .next()
        .unwrap()
        .to_owned()
        + "\r\n";
    assert!(head.starts_with("http/1.1 200"), "{dump}");
    assert!(
        head.contains("x-te: chunked\r\n"),
        "curl did not send it chunked: {head}"
    );
    assert!(
        head.contains(&format!("x-len: {}\r\n", upload.len())),
        "{head}"
    );
    assert!(
        head.contains(&format!("x-sum: {:x}\r\n", checksum(&upload))),
        "{head}"
    );
    let echoed = std::fs::read(&output).unwrap();
    assert_eq!(echoed.len(), upload.len());
    assert_eq!(checksum(&echoed), checksum(&upload), "the echo differs");
}

#[test]
fn curl_expect_100_continue_gets_continue_when_the_body_is_read() {
    let site = Site::plain();
    let dir = tempfile::tempdir().unwrap();
    // Over 1 MiB, so curl asks with `Expect: 100-continue` first.
    let upload = data(2 * 1024 * 1024, 2);
    let input = dir.path().join("upload.bin");
    std::fs::write(&input, &upload).unwrap();
    let out = run(curl()
        .arg("--verbose")
        .arg("--data-binary")
        .arg(format!("@{}", input.display()))
        .arg(site.url("/count")));
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("> Expect: 100-continue"),
        "curl did not ask: {stderr}"
    );
    assert!(
        stderr.contains("< HTTP/1.1 100 Continue"),
        "no 100 Continue: {stderr}"
    );
    assert_eq!(
        stdout,
        format!("len={} sum={:x}", upload.len(), checksum(&upload))
    );
}

#[test]
fn curl_expect_100_continue_is_not_granted_when_the_body_is_not_read() {
    let site = Site::plain();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("upload.bin");
    std::fs::write(&input, data(2 * 1024 * 1024, 3)).unwrap();
    let out = run(curl()
        .args(["--verbose", "--write-out", WRITE_OUT])
        .arg("--data-binary")
        .arg(format!("@{}", input.display()))
        .arg(site.url("/refuse")));
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("> Expect: 100-continue"), "{stderr}");
    assert!(
        !stderr.contains("100 Continue"),
        "the server invited a body nobody reads: {stderr}"
    );
    assert!(stdout.starts_with("too large, not read\n"), "{stdout}");
    assert!(stdout.contains("[413 connects=1]"), "{stdout}");
}

#[test]
fn curl_https_with_a_test_ca() {
    let pki = Pki::new();
    let site = Site::start(Server::bind("127.0.0.1:0").unwrap().tls(pki.server.clone()));
    let port = site.server.local_addr().port();
    let url = |path: &str| format!("https://localhost:{port}{path}");
    let resolve = format!("localhost:{port}:127.0.0.1");
    let upload = data(300 * 1024, 4);
    let input = pki.dir.path().join("upload.bin");
    std::fs::write(&input, &upload).unwrap();

    // Two GETs over one TLS connection, then a POST.
    let out = run(curl()
        .args(["--verbose", "--write-out", WRITE_OUT])
        .arg("--cacert")
        .arg(&pki.ca_pem)
        .args(["--resolve", &resolve])
        .arg(url("/peer?1"))
        .arg(url("/peer?2")));
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("[200 connects=1]") && stdout.contains("[200 connects=0]"),
        "{stdout}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("ALPN") && l.contains("accepted") && l.contains("http/1.1")),
        "ALPN did not settle on http/1.1: {stderr}"
    );
    assert!(stderr.contains("SSL connection using TLS"), "{stderr}");
    let peers = site.peers();
    assert_eq!(peers.len(), 2);
    assert_eq!(peers[0], peers[1], "two TLS connections were made");

    let out = run(curl()
        .arg("--cacert")
        .arg(&pki.ca_pem)
        .args(["--resolve", &resolve])
        .arg("--data-binary")
        .arg(format!("@{}", input.display()))
        .arg(url("/count")));
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stdout,
        format!("len={} sum={:x}", upload.len(), checksum(&upload))
    );

    // Without the test CA the certificate is not trusted (curl exit 60):
    // the CA above is what made the handshakes succeed.
    let out = run(curl().args(["--resolve", &resolve]).arg(url("/peer")));
    assert_eq!(out.status.code(), Some(60), "{:?}", texts(&out));
}
