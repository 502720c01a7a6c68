//! Errors name what went wrong: the URL, the host, what was refused.

mod client_support;

use client_support::{answer_all, TestServer};
use thicket_http::{Client, ErrorKind};

#[test]
fn refused_connections_name_the_host_and_port() {
    let port = client_support::free_port();
    let e = Client::new()
        .get(format!("http://127.0.0.1:{port}/x"))
        .send()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect);
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn unusable_urls_are_invalid_requests() {
    let client = Client::new();
    for (url, want) in [
        ("/relative/path", "no scheme"),
        ("http//missing-colon", "invalid URL"),
        ("ftp://files.example.com/x", "unsupported URL scheme"),
        ("https://user:pw@example.com/", "credentials"),
        ("http://exa mple.com/", "invalid URL"),
    ] {
        let e = client.get(url).send().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidRequest, "{url}: {e}");
        assert!(e.to_string().contains(want), "{url}: {e}");
    }
}

#[test]
fn malformed_responses_are_parse_errors_naming_the_server() {
    for raw in [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello"[..],
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"SMTP ready\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    ] {
        let server = TestServer::start(answer_all(raw));
        let e = Client::new().get(server.url("/")).send().unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::Parse,
            "{}",
            String::from_utf8_lossy(raw)
        );
        assert!(e.to_string().contains(&server.addr.to_string()), "{e}");
    }
}

#[test]
fn error_for_status_names_status_and_url() {
    let server = TestServer::start(answer_all(
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
    ));
    let e = Client::new()
        .get(server.url("/api"))
        .send()
        .unwrap()
        .error_for_status()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Status);
    assert!(e.to_string().contains("503"), "{e}");
    assert!(e.to_string().contains("/api"), "{e}");
}

#[test]
fn https_to_a_plain_text_server_fails_naming_it() {
    // A plain-text server: the handshake fails, and says with whom.
    let server = TestServer::start(|c| {
        let _ = c.read_rest_exact(1);
        c.write(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    });
    let e = Client::new()
        .get(format!("https://{}/", server.addr))
        .send()
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Tls | ErrorKind::Connect),
        "{e:?}"
    );
    assert!(e.to_string().contains(&server.addr.to_string()), "{e}");
}
