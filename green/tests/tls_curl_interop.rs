//! `curl` against our TLS server answering minimal HTTP/1.0.

mod tls_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use thicket_green::tls;
use tls_support::{checksum, lines_until_exit, text_lines, ChildGuard, Pki};

fn curl(pki: &Pki, port: u16, url: &str, extra: &[&str]) -> ChildGuard {
    ChildGuard::spawn(
        Command::new("curl")
            .args(["--silent", "--show-error", "--max-time", "30"])
            .args(["--cacert", pki.ca.to_str().unwrap()])
            .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
            .args(extra)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit()),
    )
}

/// What the server saw of one request.
struct Seen {
    head: Vec<String>,
    body: Vec<u8>,
    alpn: Option<Vec<u8>>,
}

/// Accepts one connection, reads one request (with a Content-Length body, if any), answers
/// `200 OK` with `body`, and closes with close_notify.
fn serve_one(listener: &TcpListener, config: tls::ServerConfig, body: &[u8]) -> Seen {
    let (tcp, _) = listener.accept().unwrap();
    let mut stream = tls::wrap_server(tcp, config).unwrap();
    let alpn = stream.alpn_protocol().map(<[u8]>::to_vec);
    let mut reader = BufReader::new(&mut stream);
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end().to_string();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let length = head
        .iter()
        .find_map(|h| {
            h.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    let mut request_body = vec![0; length];
    reader.read_exact(&mut request_body).unwrap();
    write!(
        stream,
        "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    stream.close().unwrap();
    Seen {
        head,
        body: request_body,
        alpn,
    }
}

#[test]
fn curl_gets_a_response_by_name() {
    let pki = Pki::new();
    let config = tls::server_config(&pki.cert, &pki.key, &[b"http/1.1"]).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut client = curl(&pki, port, &format!("https://localhost:{port}/hello"), &[]);
    let lines = client.stdout_lines();

    let seen = serve_one(&listener, config, b"hello over tls\n");
    assert_eq!(seen.head[0], "GET /hello HTTP/1.1");
    // curl offers h2 and http/1.1; we accept only http/1.1.
    assert_eq!(seen.alpn.as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(
        lines_until_exit(&lines, Duration::from_secs(30)),
        ["hello over tls"]
    );
    assert!(client.0.wait().unwrap().success());
}

#[test]
fn curl_gets_a_response_by_ip_address() {
    let pki = Pki::new();
    let config = tls::server_config(&pki.cert, &pki.key, &[]).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut client = curl(&pki, port, &format!("https://127.0.0.1:{port}/ip"), &[]);
    let lines = client.stdout_lines();

    let seen = serve_one(&listener, config, b"by address\n");
    assert_eq!(seen.head[0], "GET /ip HTTP/1.1");
    assert_eq!(seen.alpn, None);
    assert_eq!(
        lines_until_exit(&lines, Duration::from_secs(30)),
        ["by address"]
    );
    assert!(client.0.wait().unwrap().success());
}

#[test]
fn curl_uploads_and_downloads_four_mib() {
    const TOTAL: usize = 4 << 20;
    let pki = Pki::new();
    let config = tls::server_config(&pki.cert, &pki.key, &[b"http/1.1"]).unwrap();
    let upload = text_lines(TOTAL, 4);
    let upload_path = pki.dir.write("upload.txt", &upload);
    let download_path = pki.dir.path().join("download.txt");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut client = curl(
        &pki,
        port,
        &format!("https://localhost:{port}/upload"),
        &[
            "--data-binary",
            &format!("@{}", upload_path.display()),
            "--header",
            "Expect:",
            "--output",
            download_path.to_str().unwrap(),
        ],
    );
    let lines = client.stdout_lines();

    let download = text_lines(TOTAL, 5);
    let seen = serve_one(&listener, config, &download);
    assert_eq!(seen.head[0], "POST /upload HTTP/1.1");
    assert_eq!(seen.body.len(), TOTAL);
    assert_eq!(checksum(&seen.body), checksum(&upload));
    assert_eq!(
        lines_until_exit(&lines, Duration::from_secs(60)),
        Vec::<String>::new()
    );
    assert!(client.0.wait().unwrap().success());
    let got = std::fs::read(&download_path).unwrap();
    assert_eq!(got.len(), TOTAL);
    assert_eq!(checksum(&got), checksum(&download));
}
