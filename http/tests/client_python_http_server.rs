//! The client against Python's `http.server` (an HTTP/1.0 server that
//! closes after each response), serving a temporary directory.

mod client_support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use client_support::{pattern, ChildGuard, Fnv, TempDir};
use thicket_http::{Client, ErrorKind};

struct Python {
    _child: ChildGuard,
    port: u16,
    dir: TempDir,
}

/// Starts `python3 -m http.server` on a port it picks itself (port 0) and
/// reads the port from its first line of output: a port picked here and
/// handed over could be taken in between by another test's server, whose
/// exit would then refuse this test's connections.
fn python_http_server() -> Python {
    let dir = TempDir::new("python");
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    dir.write("hello.txt", "hello from python\n");
    dir.write("docs/index.html", "<h1>docs</h1>\n");
    let mut child = ChildGuard::spawn(
        Command::new("python3")
            // Unbuffered, so the "Serving HTTP on ..." line arrives at once.
            .args([
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    let stdout = child.0.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("python3 -m http.server printed nothing within 20 s");
    // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
    let port = line
        .split_whitespace()
        .skip_while(|w| *w != "port")
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("python3 -m http.server: no port in {line:?}"));
    Python {
        _child: child,
        port,
        dir,
    }
}

impl Python {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

#[test]
fn files_directories_redirects_and_errors() {
    let py = python_http_server();
    let client = Client::new();

    let resp = client.get(py.url("/hello.txt")).send().unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), thicket_http::http::Version::HTTP_10);
    assert_eq!(resp.content_length(), Some(18));
    assert_eq!(resp.text().unwrap(), "hello from python\n");

    // http.server redirects a directory without its slash (301) and then
    // serves its index.html.
    let resp = client.get(py.url("/docs")).send().unwrap();
    assert_eq!(resp.url().path(), "/docs/");
    assert_eq!(resp.text().unwrap(), "<h1>docs</h1>\n");

    let listing = client.get(py.url("/")).send().unwrap().text().unwrap();
    assert!(listing.contains("hello.txt"), "{listing}");

    let head = client.head(py.url("/hello.txt")).send().unwrap();
    assert_eq!(head.headers()["content-length"], "18");
    assert_eq!(head.bytes().unwrap(), "");

    let e = client
        .get(py.url("/missing"))
        .send()
        .unwrap()
        .error_for_status()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Status);
    assert!(e.to_string().contains("404"), "{e}");
}

#[test]
fn a_large_file_streams_intact() {
    let py = python_http_server();
    let data = pattern(8 * 1024 * 1024 + 3, 11);
    py.dir.write("big.bin", &data);
    let mut resp = Client::new().get(py.url("/big.bin")).send().unwrap();
    assert_eq!(resp.content_length(), Some(data.len() as u64));
    let mut hash = Fnv::default();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0;
    loop {
        let n = resp.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        total += n;
    }
    assert_eq!(total, data.len());
    assert_eq!(hash.0, Fnv::of(&data));
}

#[test]
fn concurrent_green_requests() {
    let py = python_http_server();
    let client = Client::new();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (client, url) = (client.clone(), py.url("/hello.txt"));
            thicket_green::spawn(move || client.get(url).send()?.text())
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap().unwrap(), "hello from python\n");
    }
}
