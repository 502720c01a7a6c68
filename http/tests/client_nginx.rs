//! The client against nginx (Debian package `nginx`, which `.ci/run`
//! installs), started by the test on a loopback port with a configuration
//! in a temporary directory: keep-alive reuse seen in nginx's own access
//! log, a chunked upload stored through WebDAV PUT, and a large download
//! checksummed.

mod client_support;

use std::io::{Cursor, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use client_support::{free_port, pattern, wait_for_port, ChildGuard, Fnv, TempDir};
use thicket_http::{Body, Client};

struct Nginx {
    _child: ChildGuard,
    port: u16,
    dir: TempDir,
}

fn nginx_binary() -> String {
    for candidate in ["/usr/sbin/nginx", "/usr/bin/nginx"] {
        if Path::new(candidate).exists() {
            return candidate.to_string();
        }
    }
    let which = Command::new("which").arg("nginx").output();
    match which {
        Ok(out) if out.status.success() => {
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        }
        _ => panic!(
            "nginx is not installed: this test needs the Debian package `nginx` \
             (`.ci/run` installs it; locally: apt-get install nginx)"
        ),
    }
}

fn nginx() -> Nginx {
    let dir = TempDir::new("nginx");
    let root = dir.path();
    for sub in ["www", "www/uploads", "logs", "tmp"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    let r = root.display();
    // The port is free when chosen, but another process may bind it before
    // nginx does. Then whatever answers there is not this nginx (which
    // retries its bind for a while, then exits): a file only this nginx
    // serves tells them apart, and a fresh port is tried.
    let ident = format!("{r}/www/ident.txt");
    std::fs::write(&ident, &ident).unwrap();
    for attempt in 1.. {
        let port = free_port();
        // One process, no privilege drop (`master_process off`): it runs as
        // the current user and writes only under the temporary directory.
        let conf = format!(
            "master_process off;
daemon off;
worker_processes 1;
pid {r}/nginx.pid;
error_log {r}/logs/error.log warn;
events {{ worker_connections 64; }}
http {{
    log_format conns '$connection $connection_requests $request_method $uri $status';
    access_log {r}/logs/access.log conns;
    client_body_temp_path {r}/tmp/body;
    proxy_temp_path {r}/tmp/proxy;
    fastcgi_temp_path {r}/tmp/fastcgi;
    uwsgi_temp_path {r}/tmp/uwsgi;
    scgi_temp_path {r}/tmp/scgi;
    keepalive_timeout 60s;
    keepalive_requests 1000;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {r}/www;
        location = /ident.txt {{
            access_log off;
        }}
        location /uploads/ {{
            dav_methods PUT DELETE;
            create_full_put_path on;
            client_max_body_size 64m;
        }}
    }}
}}
"
        );
        let conf_path = dir.write("nginx.conf", conf);
        let mut child = ChildGuard::spawn(
            Command::new(nginx_binary())
                .arg("-c")
                .arg(&conf_path)
                .arg("-p")
                .arg(root)
                .stdout(Stdio::null())
                .stderr(Stdio::inherit()),
        );
        let listening = wait_for_port(port, &mut child, "nginx");
        if listening.is_ok() && serves(port, "/ident.txt", &ident) {
            return Nginx {
                _child: child,
                port,
                dir,
            };
        }
        // Whatever the cause, five ports in a row is no race.
        assert!(
            attempt < 5,
            "nginx did not serve on port {port} ({listening:?}):\n{}",
            std::fs::read_to_string(root.join("logs/error.log")).unwrap_or_default()
        );
    }
    unreachable!("the loop returns or fails the test")
}

/// Whether the server on `port` answers `GET path` with a body containing
/// `text` (a plain HTTP/1.0 exchange, independent of the client under test).
fn serves(port: u16, path: &str, text: &str) -> bool {
    let Ok(mut conn) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n");
    let mut response = Vec::new();
    conn.write_all(request.as_bytes()).is_ok()
        && conn.read_to_end(&mut response).is_ok()
        && String::from_utf8_lossy(&response).contains(text)
}

impl Nginx {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// (connection serial, request number on it, path) per access log
    /// line, once there are `n` lines: nginx logs a request after sending
    /// its response, so the last line may lag the client a little.
    fn access_log(&self, n: usize) -> Vec<(String, String, String)> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(self.dir.path().join("logs/access.log"))
                .unwrap_or_default();
            let lines: Vec<_> = text
                .lines()
                .map(|l| {
                    let f: Vec<&str> = l.split(' ').collect();
                    (f[0].to_string(), f[1].to_string(), f[3].to_string())
                })
                .collect();
            if lines.len() >= n || Instant::now() > deadline {
                return lines;
            }
            // A poll interval; the loop ends on the event or the deadline.
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[test]
fn keep_alive_reuses_one_connection() {
    let nginx = nginx();
    std::fs::write(nginx.dir.path().join("www/a.txt"), "alpha").unwrap();
    let client = Client::new();
    for _ in 0..5 {
        let resp = client.get(nginx.url("/a.txt")).send().unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.text().unwrap(), "alpha");
    }
    // A 404 with a body, read to the end, keeps the connection too.
    let resp = client.get(nginx.url("/nope")).send().unwrap();
    assert_eq!(resp.status(), 404);
    resp.bytes().unwrap();
    let log = nginx.access_log(6);
    assert_eq!(log.len(), 6, "{log:?}");
    assert!(
        log.iter().all(|(c, ..)| *c == log[0].0),
        "one connection: {log:?}"
    );
    let numbers: Vec<&str> = log.iter().map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(numbers, ["1", "2", "3", "4", "5", "6"]);
}

#[test]
fn a_chunked_upload_is_stored_exactly() {
    let nginx = nginx();
    let client = Client::new();
    let data = pattern(5 * 1024 * 1024 + 99, 3);
    let resp = client
        .put(nginx.url("/uploads/streamed.bin"))
        .body(Body::from_reader(Cursor::new(data.clone()), None))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 201, "{resp:?}");
    let stored = std::fs::read(nginx.dir.path().join("www/uploads/streamed.bin")).unwrap();
    assert_eq!(stored.len(), data.len());
    assert!(stored == data, "the stored upload differs");
    // And back, over the same connection.
    let back = client
        .get(nginx.url("/uploads/streamed.bin"))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert!(back == data);
    let log = nginx.access_log(2);
    assert_eq!(log[0].0, log[1].0, "{log:?}");
}

#[test]
fn a_large_download_is_checksummed() {
    let nginx = nginx();
    let data = pattern(48 * 1024 * 1024 + 5, 9);
    std::fs::write(nginx.dir.path().join("www/large.bin"), &data).unwrap();
    let want = Fnv::of(&data);
    drop(data);
    let mut resp = Client::new().get(nginx.url("/large.bin")).send().unwrap();
    assert_eq!(resp.content_length(), Some(48 * 1024 * 1024 + 5));
    let mut hash = Fnv::default();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = resp.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        total += n as u64;
    }
    assert_eq!(total, 48 * 1024 * 1024 + 5);
    assert_eq!(hash.0, want);
}
