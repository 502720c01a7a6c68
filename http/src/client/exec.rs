//! Sending a request: the redirect loop, the retry of a request that met a
//! stale pooled connection, and one exchange on a connection (writing the
//! head and body, reading the response head).

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::time::Duration;

use http::header::{
    HeaderMap, CONNECTION, CONTENT_LENGTH, EXPECT, HOST, LOCATION, TRANSFER_ENCODING,
};
use http::{Method, StatusCode};

use super::conn::{Conn, ConnectSettings, Deadline, HeadError};
use super::pool::{Checkout, Key};
use super::redirect::{self, Next};
use super::request::{Prepared, SendBody};
use super::stream::ResponseStream;
use super::target::Target;
use super::{ClientInner, Response};
use crate::body::{Body, BodyReader, Kind};
use crate::error::{Error, ErrorKind};
use crate::proto::ResponseHead;

/// Bodies up to this size go out in one write with the head.
const COALESCE: usize = 64 * 1024;
/// How long to wait for `100 Continue` before sending the body anyway.
const CONTINUE_WAIT: Duration = Duration::from_secs(1);
/// A redirect response's body is read (so its connection can be reused)
/// when it is at most this long; a longer one closes the connection.
const REDIRECT_DRAIN: u64 = 64 * 1024;

/// Sends `req`, following redirects.
pub(crate) fn execute(client: &ClientInner, mut req: Prepared) -> Result<Response, Error> {
    let deadline = Deadline::new(
        client.config.read_timeout,
        req.timeout.or(client.config.timeout),
    );
    let max = client.config.max_redirects;
    let mut followed = 0;
    loop {
        let mut resp = exchange(client, &mut req, &deadline)?;
        let status = resp.status();
        if max == 0 || !redirect::is_redirect(status) {
            return Ok(resp);
        }
        let Some(location) = resp.headers().get(LOCATION).cloned() else {
            return Ok(resp);
        };
        if followed == max {
            return Err(Error::new(
                ErrorKind::TooLarge,
                format!(
                    "too many redirects: more than {max} (the limit) starting from {}; the last \
                     was {status} from {} to {:?}",
                    first_url(&req),
                    req.target,
                    String::from_utf8_lossy(location.as_bytes())
                ),
            ));
        }
        match redirect::next(&mut req, status, &location)? {
            Next::Stop => return Ok(resp),
            Next::Follow => {}
        }
        followed += 1;
        drain(&mut resp);
    }
}

fn first_url(req: &Prepared) -> String {
    req.first_url
        .as_ref()
        .map_or_else(|| req.target.to_string(), |u| u.to_string())
}

/// Reads a short redirect body to its end so its connection goes back to
/// the pool; a long or unknown one is dropped (closing the connection).
fn drain(resp: &mut Response) {
    let short = resp.content_length().is_some_and(|n| n <= REDIRECT_DRAIN);
    if short {
        let _ = io::copy(&mut resp.body_mut().take(REDIRECT_DRAIN), &mut io::sink());
    }
}

/// One request and its response head, retried once on a fresh connection
/// when a pooled one turned out to be closed.
fn exchange(
    client: &ClientInner,
    req: &mut Prepared,
    deadline: &Deadline,
) -> Result<Response, Error> {
    let key = Key {
        tls: req.target.tls,
        host: req.target.host.clone(),
        port: req.target.port,
    };
    let settings = ConnectSettings {
        connect_timeout: client.config.connect_timeout,
        tls: &client.config.tls,
        nodelay: client.config.nodelay,
    };
    let mut fresh = false;
    loop {
        let conn = loop {
            match client.pool.checkout(&key, fresh, deadline.at())? {
                Checkout::Idle(conn) if conn.is_stale() => continue,
                Checkout::Idle(conn) => break conn,
                Checkout::New(slot) => {
                    break Conn::connect(&req.target, &settings, deadline, slot)?
                }
            }
        };
        match send_on(client, conn, req, deadline, &key) {
            Ok(resp) => return Ok(resp),
            Err(f) if f.retry && !fresh => {
                log::debug!(
                    "retrying {} {} on a new connection: {}",
                    req.method,
                    req.target,
                    f.error
                );
                fresh = true;
            }
            Err(f) => return Err(f.error),
        }
    }
}

/// Why one exchange failed, and whether it may be tried again.
struct Failure {
    error: Error,
    retry: bool,
}

fn is_idempotent(m: &Method) -> bool {
    [
        Method::GET,
        Method::HEAD,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
        Method::TRACE,
    ]
    .contains(m)
}

fn send_on(
    client: &ClientInner,
    mut conn: Conn,
    req: &mut Prepared,
    deadline: &Deadline,
    key: &Key,
) -> Result<Response, Failure> {
    let cfg = &client.config;
    let reused = conn.reused;
    let idempotent = is_idempotent(&req.method);
    let len = req.body.len();
    let expect = len != Some(0)
        && cfg
            .expect_continue
            .is_some_and(|t| len.is_none_or(|l| l >= t));
    let head = request_head(client, req, len, expect);
    let url = req.target.clone();
    let fail = |error: Error, retry: bool| Failure { error, retry };

    let mut written = 0u64;
    let small = match &req.body {
        SendBody::Bytes(b) if !expect && b.len() <= COALESCE => Some(b.clone()),
        _ => None,
    };
    let first = match &small {
        Some(b) if !b.is_empty() => [head.as_slice(), b].concat(),
        _ => head,
    };
    if let Err(e) = write_counting(&mut conn, &first, &mut written, deadline, &url) {
        let retry = reused && (idempotent || written == 0) && req.body.is_available();
        return Err(fail(e, retry));
    }

    let mut early: Option<ResponseHead> = None;
    if expect {
        let wait = Deadline {
            read_timeout: Some(
                cfg.read_timeout
                    .map_or(CONTINUE_WAIT, |t| t.min(CONTINUE_WAIT)),
            ),
            total: deadline.total,
        };
        match conn.read_head(&req.method, &cfg.limits, &wait, &url, true) {
            Ok(h) if h.status == StatusCode::CONTINUE => {}
            Ok(h) => early = Some(h),
            Err(HeadError { error, .. })
                if error.kind() == ErrorKind::TimedOut && deadline.left(&url, "").is_ok() => {}
            Err(he) => {
                let retry = reused && he.nothing_received && idempotent && req.body.is_available();
                return Err(fail(he.error, retry));
            }
        }
    }

    let body_sent = early.is_none();
    if body_sent && small.is_none() {
        if let Err(e) = write_body(&mut conn, &mut req.body, deadline, &url) {
            let connection_lost = matches!(e.kind(), ErrorKind::Closed);
            // The server may have answered (413, 401...) and closed
            // without reading the body: that answer is the one to return.
            match connection_lost
                .then(|| conn.read_head(&req.method, &cfg.limits, deadline, &url, false))
            {
                Some(Ok(h)) => early = Some(h),
                _ => {
                    let retry = reused && idempotent && req.body.is_replayable();
                    return Err(fail(e, retry));
                }
            }
        }
    }

    let head = match early {
        Some(h) => h,
        None => match conn.read_head(&req.method, &cfg.limits, deadline, &url, false) {
            Ok(h) => h,
            Err(he) => {
                let retry = reused && he.nothing_received && idempotent && req.body.is_available();
                return Err(fail(he.error, retry));
            }
        },
    };
    let ambiguous =
        head.headers.contains_key(CONTENT_LENGTH) && head.headers.contains_key(TRANSFER_ENCODING);
    let keep_alive = head.keep_alive
        && body_sent
        && cfg.keep_alive
        && head.status != StatusCode::SWITCHING_PROTOCOLS
        && !ambiguous
        && !says_close(&req.headers);
    let stream = ResponseStream::new(
        conn,
        head.framing,
        keep_alive,
        client.pool.clone(),
        key.clone(),
        *deadline,
        Arc::new(url.clone()),
    );
    let mut resp = http::Response::new(BodyReader::from_source(Box::new(stream)));
    *resp.status_mut() = head.status;
    *resp.version_mut() = head.version;
    *resp.headers_mut() = head.headers;
    Ok(Response::new(resp, url.uri, cfg.max_body))
}

fn says_close(headers: &HeaderMap) -> bool {
    headers.get_all(CONNECTION).iter().any(|v| {
        v.as_bytes()
            .split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"))
    })
}

/// The request line and fields: `Host` first, then the client's defaults
/// not overridden, then the request's own, then the framing.
fn request_head(client: &ClientInner, req: &Prepared, len: Option<u64>, expect: bool) -> Vec<u8> {
    let mut h = Vec::with_capacity(256);
    h.extend_from_slice(req.method.as_str().as_bytes());
    h.push(b' ');
    h.extend_from_slice(req.target.request_target().as_bytes());
    h.extend_from_slice(b" HTTP/1.1\r\n");
    let mut field = |name: &[u8], value: &[u8]| {
        h.extend_from_slice(name);
        h.extend_from_slice(b": ");
        h.extend_from_slice(value);
        h.extend_from_slice(b"\r\n");
    };
    match req.headers.get(HOST) {
        Some(v) => field(b"host", v.as_bytes()),
        None => field(b"host", req.target.host_header().as_bytes()),
    }
    for (name, value) in &client.config.default_headers {
        if !req.headers.contains_key(name) {
            field(name.as_str().as_bytes(), value.as_bytes());
        }
    }
    for (name, value) in &req.headers {
        if name != HOST && name != CONTENT_LENGTH && name != TRANSFER_ENCODING && name != EXPECT {
            field(name.as_str().as_bytes(), value.as_bytes());
        }
    }
    if !client.config.keep_alive && !req.headers.contains_key(CONNECTION) {
        field(b"connection", b"close");
    }
    match len {
        Some(0) if !matches!(req.method, Method::POST | Method::PUT | Method::PATCH) => {}
        Some(n) => field(b"content-length", n.to_string().as_bytes()),
        None => field(b"transfer-encoding", b"chunked"),
    }
    if expect {
        field(b"expect", b"100-continue");
    }
    h.extend_from_slice(b"\r\n");
    h
}

/// Writes `buf`, counting the bytes that went out before any error.
fn write_counting(
    conn: &mut Conn,
    buf: &[u8],
    written: &mut u64,
    deadline: &Deadline,
    url: &Target,
) -> Result<(), Error> {
    use std::io::Write;
    deadline.apply(&conn.io, url, "sending the request")?;
    let mut rest = buf;
    while !rest.is_empty() {
        match conn.io.write(rest) {
            Ok(0) => {
                return Err(Error::new(
                    ErrorKind::Closed,
                    format!(
                        "connection to {} closed while sending the request",
                        url.host_header()
                    ),
                ))
            }
            Ok(n) => {
                *written += n as u64;
                rest = &rest[n..];
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(deadline.io_error(url, "sending the request", e)),
        }
    }
    Ok(())
}

/// Writes the body after the head: whole when it is bytes, exactly its
/// length when that is known, chunked otherwise.
fn write_body(
    conn: &mut Conn,
    body: &mut SendBody,
    deadline: &Deadline,
    url: &Target,
) -> Result<(), Error> {
    let stream = match body {
        SendBody::Bytes(b) => return conn.write_all(b, deadline, url),
        SendBody::Stream(s, _) => s.take(),
    };
    let Some(Body { kind }) = stream else {
        return Err(Error::new(
            ErrorKind::InvalidRequest,
            format!("the request body for {url} was already sent once and cannot be replayed"),
        ));
    };
    let source_error = |e: io::Error| {
        Error::with_source(
            ErrorKind::Io,
            format!("reading the request body for {url}: {e}"),
            e,
        )
    };
    match kind {
        Kind::Empty | Kind::Bytes(_) | Kind::Upgrade(_) => {
            unreachable!("in-memory and upgrade bodies are not streams")
        }
        Kind::Reader {
            reader,
            len: Some(n),
        } => copy_exact(conn, reader, n, deadline, url),
        Kind::File {
            mut file,
            offset,
            len,
        } => {
            file.seek(SeekFrom::Start(offset)).map_err(source_error)?;
            copy_exact(conn, Box::new(file), len, deadline, url)
        }
        Kind::Reader {
            mut reader,
            len: None,
        } => {
            let mut buf = vec![0u8; 16 * 1024 + 32];
            loop {
                // Room for the size line before the data and CRLF after.
                let n = match reader.read(&mut buf[16..16 + 16 * 1024]) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(source_error(e)),
                };
                if n == 0 {
                    return conn.write_all(b"0\r\n\r\n", deadline, url);
                }
                let size = format!("{n:x}\r\n");
                let start = 16 - size.len();
                buf[start..16].copy_from_slice(size.as_bytes());
                buf[16 + n..16 + n + 2].copy_from_slice(b"\r\n");
                conn.write_all(&buf[start..16 + n + 2], deadline, url)?;
            }
        }
        Kind::Chunks(chunks) => {
            for chunk in chunks {
                let chunk = chunk.map_err(source_error)?;
                if chunk.is_empty() {
                    // An empty chunk would end the body.
                    continue;
                }
                let mut out = Vec::with_capacity(chunk.len() + 20);
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(&chunk);
                out.extend_from_slice(b"\r\n");
                conn.write_all(&out, deadline, url)?;
            }
            conn.write_all(b"0\r\n\r\n", deadline, url)
        }
    }
}

/// Copies exactly `len` bytes of `reader`; a reader that ends early is an
/// error (the connection is then unusable: the server waits for the rest).
fn copy_exact(
    conn: &mut Conn,
    reader: Box<dyn Read + Send>,
    len: u64,
    deadline: &Deadline,
    url: &Target,
) -> Result<(), Error> {
    let mut reader = reader.take(len);
    let mut buf = vec![0u8; 64 * 1024];
    let mut sent = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Error::with_source(
                    ErrorKind::Io,
                    format!("reading the request body for {url}: {e}"),
                    e,
                ))
            }
        };
        if n == 0 {
            if sent < len {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!("the request body for {url} ended after {sent} of its {len} bytes"),
                ));
            }
            return Ok(());
        }
        conn.write_all(&buf[..n], deadline, url)?;
        sent += n as u64;
    }
}
