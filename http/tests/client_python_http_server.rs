//! The client against Python's `http.server` (an HTTP/1.0 server that
//! closes after each response), serving a temporary directory.

mod client_support;

use std::io::Read;
use std::process::{Command, Stdio};

use client_support::{free_port, pattern, wait_for_port, ChildGuard, Fnv, TempDir};
use thicket_http::{Client, ErrorKind};

struct Python {
    _child: ChildGuard,
    port: u16,
    dir: TempDir,
}

fn python_http_server() -> Python {
    let dir = TempDir::new("python");
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    dir.write("hello.txt", "hello from python\n");
    dir.write("docs/index.html", "<h1>docs</h1>\n");
    let port = free_port();
    let mut child = ChildGuard::spawn(
        Command::new("python3")
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_for_port(port, &mut child, "python3 -m http.server");
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
