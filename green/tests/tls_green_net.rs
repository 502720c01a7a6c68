//! TLS over green sockets: both ends on green threads of one hub, an external peer, and
//! transport timeouts passing through unchanged.

mod tls_support;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use thicket_green::net::{TcpListener, TcpStream};
use thicket_green::{spawn, tls, Event};
use tls_support::{checksum, lines_until_exit, text_lines, ChildGuard, Pki};

#[test]
fn green_server_and_client_echo_four_mib() {
    const TOTAL: usize = 4 << 20;
    const CHUNK: usize = 64 << 10;
    let pki = Pki::new();
    let server_config = tls::server_config(&pki.cert, &pki.key, &[]).unwrap();
    let client_config = tls::client_config_with_ca(&pki.ca, &[]).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();

    let server = spawn(move || -> io::Result<u64> {
        let (tcp, _) = listener.accept()?;
        let mut stream = tls::wrap_server(tcp, server_config)?;
        let mut buf = vec![0; CHUNK];
        let mut echoed = 0;
        loop {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                stream.close()?;
                return Ok(echoed);
            }
            stream.write_all(&buf[..n])?;
            echoed += n as u64;
        }
    });
    let client = spawn(move || -> io::Result<Vec<u8>> {
        let tcp = TcpStream::connect(addr)?;
        let mut stream = tls::wrap_client(tcp, "localhost", client_config)?;
        let sent = text_lines(TOTAL, 6);
        let mut received = vec![0; TOTAL];
        for (out, back) in sent.chunks(CHUNK).zip(received.chunks_mut(CHUNK)) {
            stream.write_all(out)?;
            stream.read_exact(back)?;
        }
        stream.close()?;
        assert_eq!(stream.read(&mut [0; 16])?, 0, "the server's close_notify");
        Ok(received)
    });
    let received = client.join().unwrap().unwrap();
    assert_eq!(server.join().unwrap().unwrap(), TOTAL as u64);
    assert_eq!(checksum(&received), checksum(&text_lines(TOTAL, 6)));
}

#[test]
fn green_server_serves_s_client() {
    let pki = Pki::new();
    let config = Arc::new(tls::server_config(&pki.cert, &pki.key, &[b"http/1.1"]).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = spawn(move || -> io::Result<(String, Option<Vec<u8>>)> {
        let (tcp, _) = listener.accept()?;
        let mut stream = tls::wrap_server(tcp, config)?;
        let alpn = stream.alpn_protocol().map(<[u8]>::to_vec);
        let mut line = String::new();
        BufReader::new(&mut stream).read_line(&mut line)?;
        stream.write_all(line.to_uppercase().as_bytes())?;
        stream.close()?;
        Ok((line, alpn))
    });
    let mut client = ChildGuard::spawn(
        Command::new("openssl")
            .arg("s_client")
            .args(["-connect", &format!("127.0.0.1:{port}")])
            .args(["-CAfile", pki.ca.to_str().unwrap(), "-verify_return_error"])
            .args(["-alpn", "http/1.1", "-quiet", "-nocommands"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    let lines = client.stdout_lines();
    client
        .0
        .stdin
        .take()
        .unwrap()
        .write_all(b"green hello\n")
        .unwrap();
    // join drives the hub: the server green thread runs while main waits.
    let (line, alpn) = server.join().unwrap().unwrap();
    assert_eq!(line, "green hello\n");
    assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(
        lines_until_exit(&lines, Duration::from_secs(20)),
        ["GREEN HELLO"]
    );
}

#[test]
fn a_read_timeout_passes_through_and_loses_nothing() {
    let pki = Pki::new();
    let server_config = tls::server_config(&pki.cert, &pki.key, &[]).unwrap();
    let client_config = tls::client_config_with_ca(&pki.ca, &[]).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let go = Event::new();
    let server = {
        let go = go.clone();
        spawn(move || -> io::Result<()> {
            let (tcp, _) = listener.accept()?;
            let mut stream = tls::wrap_server(tcp, server_config)?;
            go.wait().unwrap();
            stream.write_all(b"late")?;
            stream.close()
        })
    };
    let client = spawn(move || -> io::Result<Vec<u8>> {
        let tcp = TcpStream::connect(addr)?;
        let mut stream = tls::wrap_client(tcp, "localhost", client_config)?;
        stream
            .get_ref()
            .set_read_timeout(Some(Duration::from_millis(20)))?;
        let e = stream.read(&mut [0; 4]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{e}");
        let r = thicket_green::with_timeout(Duration::from_millis(20), || {
            stream.get_ref().set_read_timeout(None)?;
            stream.read(&mut [0; 4])
        });
        assert!(r.is_err(), "with_timeout's deadline ended the read: {r:?}");
        go.set();
        let mut got = Vec::new();
        stream.read_to_end(&mut got)?;
        Ok(got)
    });
    assert_eq!(client.join().unwrap().unwrap(), b"late");
    server.join().unwrap().unwrap();
}

#[test]
fn a_handshake_timeout_says_with_whom() {
    let pki = Pki::new();
    let client_config = tls::client_config_with_ca(&pki.ca, &[]).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let done = Event::new();
    let server = {
        let done = done.clone();
        // Accepts and never answers the ClientHello.
        spawn(move || {
            let (_tcp, _) = listener.accept().unwrap();
            done.wait().unwrap();
        })
    };
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let e = tls::wrap_client(tcp, "localhost", client_config).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{e}");
    assert!(
        e.to_string()
            .starts_with("TLS handshake with localhost failed: "),
        "{e}"
    );
    done.set();
    server.join().unwrap();
}
