use super::*;

fn req(raw: &[u8]) -> Result<RequestHead, ParseError> {
    let mut scan = Scan::default();
    match parse_request(&mut scan, raw, &Limits::default())? {
        Some(h) => Ok(h),
        None => Err(ParseError::bad("incomplete (test)")),
    }
}

fn status_of(raw: &[u8]) -> u16 {
    match req(raw) {
        Ok(_) => 200,
        Err(e) => e.status().as_u16(),
    }
}

#[test]
fn a_plain_get() {
    let h = req(b"GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nX-Y: z\r\n\r\n").unwrap();
    assert_eq!(h.method, Method::GET);
    assert_eq!(h.uri.path(), "/a");
    assert_eq!(h.uri.query(), Some("b=c"));
    assert_eq!(h.version, Version::HTTP_11);
    assert_eq!(h.headers["x-y"], "z");
    assert_eq!(h.framing, Framing::Length(0));
    assert!(h.keep_alive);
    assert!(!h.expect_continue);
}

#[test]
fn keep_alive_rules() {
    assert!(!req(b"GET / HTTP/1.0\r\n\r\n").unwrap().keep_alive);
    assert!(
        req(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
            .unwrap()
            .keep_alive
    );
    assert!(
        !req(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n")
            .unwrap()
            .keep_alive
    );
}

/// Each row: the request, the status a server answers (200: accepted).
#[test]
fn framing_and_field_table() {
    let rows: &[(&[u8], u16)] = &[
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", 200),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 200),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n", 200),
        // Ambiguous framing.
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked\r\n\r\n", 400),
        (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        // Codings thicket does not implement.
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 501),
        // Host.
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost:\r\n\r\n", 200),
        (b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", 200),
        (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 200),
        (b"GET / HTTP/1.1\r\nHost: www.example.com:443\r\n\r\n", 200),
        (b"GET / HTTP/1.1\r\nHost: user@example.com\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: example.com:123456\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: [zz]\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
        (b"GET / HTTP/1.0\r\n\r\n", 200),
        // Fields.
        (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nBad\x01Name: 3\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x07b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n", 200),
        (b"GET / HTTP/1.1\r\nHost: a\r\nLong: one\r\n two\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n", 400),
        // Request line.
        (b"GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET a HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 200),
        (b"GET http://example.com/x HTTP/1.1\r\nHost: a\r\n\r\n", 200),
        (b"GET http://u:p@example.com/x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET ftp://example.com/x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 200),
        (b"CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET /\xc3\xa0 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        (b"GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505),
        (b"GET / FOO/1.1\r\nHost: a\r\n\r\n", 400),
        (b"-blargh /foo HTTP/1.1\r\nHost: a\r\n\r\n", 200),
        (b"G\x01T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        // Expect.
        (b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n", 200),
        (b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417),
    ];
    for (raw, want) in rows {
        assert_eq!(
            status_of(raw),
            *want,
            "{}",
            String::from_utf8_lossy(raw).escape_debug()
        );
    }
}

#[test]
fn too_many_fields_is_431() {
    let mut raw = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
    for i in 0..100 {
        raw.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    raw.extend_from_slice(b"\r\n");
    let e = req(&raw).unwrap_err();
    assert_eq!(e.status(), 431);
    assert!(e.reason().contains("100"), "{e}");
}

#[test]
fn expect_continue_only_on_http11() {
    let h = req(b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n")
        .unwrap();
    assert!(h.expect_continue);
    let h = req(b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n").unwrap();
    assert!(!h.expect_continue);
}

#[test]
fn upgrade_needs_connection_upgrade() {
    let h = req(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        .unwrap();
    assert!(h.upgrade);
    let h = req(b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n").unwrap();
    assert!(!h.upgrade);
}

#[test]
fn partial_heads_wait_for_more() {
    let raw = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let mut scan = Scan::default();
    for i in 0..raw.len() {
        assert!(parse_request(&mut scan, &raw[..i], &Limits::default())
            .unwrap()
            .is_none());
    }
    let h = parse_request(&mut scan, raw, &Limits::default())
        .unwrap()
        .unwrap();
    assert_eq!(h.len, raw.len());
}

fn resp(raw: &[u8], method: &Method) -> ResponseHead {
    let mut scan = Scan::default();
    parse_response(&mut scan, raw, &Limits::default(), method)
        .unwrap()
        .unwrap()
}

#[test]
fn response_framing() {
    let get = Method::GET;
    let r = resp(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", &get);
    assert_eq!(r.framing, Framing::Length(3));
    assert_eq!(r.reason, "OK");
    assert!(r.keep_alive);
    let r = resp(b"HTTP/1.1 200 OK\r\n\r\n", &get);
    assert_eq!(r.framing, Framing::Eof);
    assert!(!r.keep_alive);
    let r = resp(
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n",
        &Method::HEAD,
    );
    assert_eq!(r.framing, Framing::Length(0));
    let r = resp(
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n\r\n",
        &get,
    );
    assert_eq!(r.framing, Framing::Length(0));
    let r = resp(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", &get);
    assert_eq!(r.framing, Framing::Eof);
    let r = resp(b"HTTP/1.0 200 OK\nX: y\n\n", &get);
    assert_eq!(r.version, Version::HTTP_10);
    assert_eq!(r.headers["x"], "y");
    let mut scan = Scan::default();
    assert!(parse_response(
        &mut scan,
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        &Limits::default(),
        &get
    )
    .is_err());
}
