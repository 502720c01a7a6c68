//! Our TLS server against `openssl s_client`, which sends its stdin and prints what it
//! receives.

mod tls_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use thicket_green::tls;
use tls_support::{checksum, lines_until_exit, text_lines, ChildGuard, Pki};

/// Starts `openssl s_client` against `port`, verifying the server as `localhost` with the
/// test CA; `-quiet` keeps the connection open after its stdin ends and prints only data.
fn s_client(pki: &Pki, port: u16, extra: &[&str]) -> ChildGuard {
    ChildGuard::spawn(
        Command::new("openssl")
            .arg("s_client")
            .args(["-connect", &format!("127.0.0.1:{port}")])
            .args(["-servername", "localhost", "-verify_hostname", "localhost"])
            .args(["-CAfile", pki.ca.to_str().unwrap(), "-verify_return_error"])
            .args(["-quiet", "-nocommands"])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    )
}

#[test]
fn server_exchanges_lines_with_s_client_and_closes_cleanly() {
    let pki = Pki::new();
    let config = tls::server_config(&pki.cert, &pki.key, &[]).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = s_client(&pki, listener.local_addr().unwrap().port(), &[]);
    let lines = client.stdout_lines();
    client
        .0
        .stdin
        .take()
        .unwrap()
        .write_all(b"hello from s_client\n")
        .unwrap();

    let (tcp, _) = listener.accept().unwrap();
    let mut stream = tls::wrap_server(tcp, config).unwrap();
    assert_eq!(stream.sni_hostname(), Some("localhost"));
    assert!(
        stream.peer_certificates().is_none(),
        "no client certificate asked"
    );
    let mut line = String::new();
    BufReader::new(&mut stream).read_line(&mut line).unwrap();
    assert_eq!(line, "hello from s_client\n");

    stream.write_all(b"hello from thicket\n").unwrap();
    stream.close().unwrap();
    // s_client ends at our close_notify, answering with its own: a clean end of stream.
    let mut rest = Vec::new();
    assert_eq!(stream.read_to_end(&mut rest).unwrap(), 0);
    drop(stream);
    let output = lines_until_exit(&lines, Duration::from_secs(20));
    assert_eq!(output, ["hello from thicket"]);
    assert!(client.0.wait().unwrap().success());
}

#[test]
fn four_mib_each_way_with_s_client() {
    const TOTAL: usize = 4 << 20;
    let pki = Pki::new();
    let config = tls::server_config(&pki.cert, &pki.key, &[]).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = s_client(&pki, listener.local_addr().unwrap().port(), &[]);
    let lines = client.stdout_lines();
    let upload = text_lines(TOTAL, 2);
    let mut stdin = client.0.stdin.take().unwrap();
    let feeder = {
        let upload = upload.clone();
        std::thread::spawn(move || stdin.write_all(&upload))
    };

    let (tcp, _) = listener.accept().unwrap();
    let mut stream = tls::wrap_server(tcp, config).unwrap();
    // One direction after the other: s_client blocks in a write while it has stdin data,
    // so writing to it at the same time could fill both sides' buffers.
    let mut received = vec![0; TOTAL];
    stream.read_exact(&mut received).unwrap();
    assert_eq!(checksum(&received), checksum(&upload));
    assert!(received == upload);
    feeder.join().unwrap().unwrap();

    let download = text_lines(TOTAL, 3);
    stream.write_all(&download).unwrap();
    stream.close().unwrap();
    let printed = lines_until_exit(&lines, Duration::from_secs(60));
    let mut printed = printed.join("\n").into_bytes();
    printed.push(b'\n');
    assert_eq!(printed.len(), download.len());
    assert_eq!(checksum(&printed), checksum(&download));
    assert!(client.0.wait().unwrap().success());
}
