//! StaticFiles behind the real server, asked by real curl over loopback:
//! byte ranges (including curl's resumed download) and conditional
//! requests with the validators curl got.

use std::fs::File;
use std::process::Command;
use std::time::{Duration, SystemTime};

use thicket_http::{Router, RunningServer, Server, StaticFiles};

const LAST_MODIFIED: &str = "Sun, 09 Sep 2001 01:46:40 GMT";

/// The served text: 1,000 numbered lines, so any range is recognisable.
fn contents() -> String {
    (0..1000).map(|i| format!("line {i:04}\n")).collect()
}

struct Site {
    dir: tempfile::TempDir,
    server: RunningServer,
}

impl Site {
    fn start() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lines.txt");
        std::fs::write(&path, contents()).unwrap();
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000))
            .unwrap();
        let app = Router::new().get("/files/*path", StaticFiles::new(dir.path()));
        let server = Server::bind("127.0.0.1:0").unwrap().start(app).unwrap();
        Site { dir, server }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.local_addr())
    }
}

/// Runs curl with `args` and returns what it printed; curl's own failure
/// (not an HTTP status) fails the test.
fn curl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--noproxy",
            "*",
            "--max-time",
            "20",
        ])
        .args(args)
        .output()
        .expect("curl is installed");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The status line and headers (lowercased names) of a `--include` output,
/// and the body after them.
fn split_response(raw: &[u8]) -> (String, Vec<(String, String)>, Vec<u8>) {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, raw[end + 4..].to_vec())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn status_of(args: &[&str]) -> String {
    let mut all = vec!["--output", "/dev/null", "--write-out", "%{http_code}"];
    all.extend_from_slice(args);
    String::from_utf8(curl(&all)).unwrap()
}

#[test]
fn curl_range_request_gets_206_with_the_bytes() {
    let site = Site::start();
    let raw = curl(&[
        "--include",
        "--range",
        "110-129",
        &site.url("/files/lines.txt"),
    ]);
    let (status, headers, body) = split_response(&raw);
    assert!(status.starts_with("HTTP/1.1 206"), "{status}");
    assert_eq!(
        header(&headers, "content-range"),
        Some("bytes 110-129/10000")
    );
    assert_eq!(header(&headers, "content-length"), Some("20"));
    assert_eq!(body, &contents().as_bytes()[110..130]);

    let raw = curl(&[
        "--include",
        "--range",
        "20000-",
        &site.url("/files/lines.txt"),
    ]);
    let (status, headers, _) = split_response(&raw);
    assert!(status.starts_with("HTTP/1.1 416"), "{status}");
    assert_eq!(header(&headers, "content-range"), Some("bytes */10000"));
}

#[test]
fn curl_resumes_a_partial_download() {
    let site = Site::start();
    let partial = site.dir.path().join("download.part");
    std::fs::write(&partial, &contents().as_bytes()[..4321]).unwrap();
    curl(&[
        "--continue-at",
        "-",
        "--output",
        partial.to_str().unwrap(),
        &site.url("/files/lines.txt"),
    ]);
    assert_eq!(std::fs::read_to_string(&partial).unwrap(), contents());
}

#[test]
fn curl_conditional_requests_get_304_or_412() {
    let site = Site::start();
    let url = site.url("/files/lines.txt");
    let raw = curl(&["--include", &url]);
    let (status, headers, body) = split_response(&raw);
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert_eq!(body, contents().as_bytes());
    assert_eq!(header(&headers, "last-modified"), Some(LAST_MODIFIED));
    let etag = header(&headers, "etag").unwrap().to_string();

    let inm = format!("If-None-Match: {etag}");
    assert_eq!(status_of(&["--header", &inm, &url]), "304");
    assert_eq!(
        status_of(&["--header", "If-None-Match: \"old\"", &url]),
        "200"
    );
    // `-z DATE` sends If-Modified-Since.
    assert_eq!(status_of(&["--time-cond", LAST_MODIFIED, &url]), "304");
    assert_eq!(
        status_of(&["--time-cond", "Sat, 08 Sep 2001 00:00:00 GMT", &url]),
        "200"
    );
    assert_eq!(status_of(&["--header", "If-Match: \"old\"", &url]), "412");

    // HEAD with a matching tag: 304 and no body.
    let raw = curl(&["--head", "--header", &inm, &url]);
    assert!(
        raw.starts_with(b"HTTP/1.1 304"),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    assert!(raw.ends_with(b"\r\n\r\n"));
}

#[test]
fn curl_head_gets_the_length_without_the_body() {
    let site = Site::start();
    let raw = curl(&["--head", &site.url("/files/lines.txt")]);
    let (status, headers, body) = split_response(&raw);
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert_eq!(header(&headers, "content-length"), Some("10000"));
    assert_eq!(header(&headers, "accept-ranges"), Some("bytes"));
    assert!(body.is_empty());
}
