//! The client against the response corpora of llhttp and http-parser
//! (`<workspace>/../shared/corpora`, read in place): each raw response is
//! served by a scripted server, whole, byte by byte and in random chunks,
//! and what the client reports (status, fields, body, or an error) is
//! compared with what the corpus expects.
//!
//! Expectations come from the corpus mechanically:
//!
//! - llhttp: the messages of a case are split at llhttp's `message begin`
//!   offsets and served one per request on keep-alive connections;
//!   informational (1xx, not 101) messages go with the message after them,
//!   since the client skips them. A complete message must come back with
//!   its status, fields (values without surrounding whitespace) and body
//!   (the bytes of its logged `span[body]`s). A message left incomplete is
//!   an error for the client, unless its head is complete and its body is
//!   close-delimited: the server closes after the last byte, which ends
//!   such a body, so it must come back whole. An `error` verdict must be an
//!   error at that message.
//! - http-parser: one message per case, with status, fields and body; and
//!   a second request must reuse the connection exactly when the corpus
//!   says `should_keep_alive`.
//!
//! Cases handled differently are listed in [`DIFFERENT`] with the reason;
//! the test checks that each of them really behaves as listed, so the list
//! cannot go stale. Lenient llhttp cases (accepted by llhttp only with a
//! leniency flag) may be rejected; if accepted, the result must match.

mod client_support;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use client_support::{ServerConn, TestServer};
use serde_json::Value;
use thicket_http::http::Method;
use thicket_http::Client;

/// How a case listed in [`DIFFERENT`] is handled instead.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Diff {
    /// The response is returned where the corpus (strict llhttp) says
    /// error.
    Accepted,
    /// Refused (an error) where the corpus accepts it.
    Refused,
    /// Returned with an empty body.
    NoContent,
    /// The connection is reused (`true`) or not, against the corpus's
    /// `should_keep_alive`.
    KeepAlive(bool),
}

/// Cases the client treats differently from the corpus, and why.
const DIFFERENT: &[(&str, Diff, &str)] = &[
    (
        "test/response/connection.md:167",
        Diff::Accepted,
        "bytes after a response that ends the connection (Connection: close) are discarded \
         with the connection, not reported: the response itself is complete",
    ),
    (
        "test/response/connection.md:230",
        Diff::Accepted,
        "as above: data after a Connection: close response is discarded",
    ),
    (
        "test/response/invalid.md:290",
        Diff::Accepted,
        "bare LF line endings are accepted in responses (RFC 9112 2.2 lets a recipient \
         recognise a single LF; llhttp needs a leniency flag)",
    ),
    (
        "test/response/invalid.md:330",
        Diff::Accepted,
        "bare LF line endings are accepted in responses (RFC 9112 2.2)",
    ),
    (
        "test/response/sample.md:333",
        Diff::Accepted,
        "bare LF line endings are accepted in responses (RFC 9112 2.2)",
    ),
    (
        "test/response/transfer-encoding.md:251",
        Diff::Accepted,
        "chunk extensions are skipped, not parsed (the client has no use for them): an empty \
         extension after ';' is not refused",
    ),
    (
        "test/response/sample.md:43",
        Diff::Refused,
        "RTSP/1.1 is not HTTP: the client speaks HTTP/1.0 and 1.1 only",
    ),
    (
        "test/response/sample.md:63",
        Diff::Refused,
        "ICE/1.1 is not HTTP: the client speaks HTTP/1.0 and 1.1 only",
    ),
    (
        "test/response/sample.md:648",
        Diff::Refused,
        "HTTP/0.9 status lines are refused (httparse speaks HTTP/1.x only)",
    ),
    (
        "http-parser/200 trailing space on chunked body",
        Diff::Refused,
        "whitespace after a chunk size without an extension is refused, as strict llhttp \
         does (transfer-encoding.md:7); http-parser is lenient",
    ),
    (
        "http-parser/field space",
        Diff::Refused,
        "a space inside a field name is refused, as strict llhttp does (sample.md:577)",
    ),
    (
        "http-parser/http version 0.9",
        Diff::Refused,
        "HTTP/0.9 status lines are refused (httparse speaks HTTP/1.x only)",
    ),
    (
        "test/response/transfer-encoding.md:46",
        Diff::Refused,
        "`chunked` followed by another transfer coding is refused as malformed framing by the \
         shared response parser (proto), rather than read to EOF as RFC 9112 6.3 allows: the \
         conservative reading, since no sender may chunk before another coding and then rely \
         on the close",
    ),
    (
        "test/response/transfer-encoding.md:77",
        Diff::Refused,
        "as above: `chunked` then `identity` across two Transfer-Encoding fields",
    ),
    (
        "http-parser/HTTP 200 response with `chunked` being *not last* Transfer-Encoding",
        Diff::Refused,
        "as above: `chunked, identity`",
    ),
    (
        "http-parser/HTTP 101 response with Upgrade and Content-Length header",
        Diff::NoContent,
        "a 101 response has no content (RFC 9110 15.2): the bytes after its head belong to \
         the new protocol, as llhttp reads it too (connection.md:296)",
    ),
    (
        "http-parser/HTTP 101 response with Upgrade and Transfer-Encoding header",
        Diff::NoContent,
        "as above (llhttp: connection.md:334)",
    ),
    (
        "http-parser/proxy connection",
        Diff::KeepAlive(true),
        "Proxy-Connection is not a standard field (RFC 9112 9.6 names only Connection): its \
         `close` does not end an HTTP/1.1 connection that Connection leaves open",
    ),
];

fn corpora() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora");
    if dir.join("llhttp/cases.json").is_file() && dir.join("http-parser/messages.json").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "client_response_corpus: no corpora at {} (expected <workspace>/../shared/corpora); \
             skipping",
            dir.display()
        );
        None
    }
}

fn base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = s.bytes().filter(|&c| c != b'=').map(val).collect();
    let mut out = Vec::new();
    for group in digits.chunks(4) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &d)| n | u32::from(d) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..group.len()]);
    }
    out
}

/// What one exchange should produce.
#[derive(Debug, Clone)]
enum Want {
    Ok {
        status: u16,
        /// (lowercase name, value), in order.
        fields: Vec<(String, Vec<u8>)>,
        body: Vec<u8>,
    },
    Error,
}

/// One exchange: the bytes served for one request, and what the client
/// should make of them.
#[derive(Debug, Clone)]
struct Exchange {
    bytes: Vec<u8>,
    /// The server closes the connection after sending these bytes.
    close: bool,
    method: Method,
    want: Want,
}

struct Case {
    id: String,
    lenient: bool,
    exchanges: Vec<Exchange>,
    /// http-parser: whether a second request reuses the connection.
    keep_alive: Option<bool>,
}

fn fields_of(v: &Value) -> Vec<(String, Vec<u8>)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let name = f[0].as_str().unwrap().to_ascii_lowercase();
            let value = f[1]
                .as_str()
                .unwrap()
                .trim_matches([' ', '\t'])
                .as_bytes()
                .to_vec();
            (name, value)
        })
        .collect()
}

/// Whether a response with these fields has a close-delimited body (RFC
/// 9112 6.3): no chunked-last Transfer-Encoding and no Content-Length.
fn close_delimited(status: u16, fields: &[(String, Vec<u8>)], method: &Method) -> bool {
    if (100..200).contains(&status) || status == 204 || status == 304 || method == Method::HEAD {
        return false;
    }
    let te: Vec<String> = fields
        .iter()
        .filter(|(n, _)| n == "transfer-encoding")
        .flat_map(|(_, v)| {
            String::from_utf8_lossy(v)
                .split(',')
                .map(|c| c.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .collect();
    if !te.is_empty() {
        return te.last().map(String::as_str) != Some("chunked");
    }
    !fields.iter().any(|(n, _)| n == "content-length")
}

/// The llhttp response cases, split into exchanges.
fn llhttp_cases(dir: &Path) -> Vec<Case> {
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("llhttp/cases.json")).unwrap())
            .unwrap();
    let mut out = Vec::new();
    for case in json["cases"].as_array().unwrap() {
        if !case["llhttp_type"]
            .as_str()
            .unwrap()
            .starts_with("response")
        {
            continue;
        }
        let raw = base64(case["raw_base64"].as_str().unwrap());
        // Per message: where it begins, where its body begins, its status,
        // and its body spans, from the log.
        let mut begins = Vec::new();
        let mut heads: Vec<Option<(usize, u16)>> = Vec::new();
        let mut bodies: Vec<Vec<u8>> = Vec::new();
        for line in case["log"].as_array().unwrap() {
            let line = line.as_str().unwrap();
            let Some(rest) = line.strip_prefix("off=") else {
                continue;
            };
            let (off, what) = rest.split_once(' ').unwrap();
            // `off=NULL finish=1`: llhttp's finish call, no bytes.
            let Ok(off) = off.parse::<usize>() else {
                continue;
            };
            if what == "message begin" {
                begins.push(if begins.is_empty() { 0 } else { off });
                heads.push(None);
                bodies.push(Vec::new());
            } else if let Some(flags) = what.strip_prefix("headers complete status=") {
                let status = flags.split(' ').next().unwrap().parse().unwrap();
                *heads.last_mut().unwrap() = Some((off, status));
            } else if let Some(span) = what.strip_prefix("len=") {
                let (len, kind) = span.split_once(' ').unwrap();
                if kind.starts_with("span[body]") {
                    let len: usize = len.parse().unwrap();
                    bodies
                        .last_mut()
                        .unwrap()
                        .extend_from_slice(&raw[off..off + len]);
                }
            }
        }
        let messages = case["messages"].as_array().unwrap();
        assert_eq!(messages.len(), begins.len(), "{}", case["id"]);
        let verdict = case["verdict"].as_str().unwrap();
        let mut exchanges = Vec::new();
        let mut start = 0;
        let mut i = 0;
        while i < messages.len() {
            let m = &messages[i];
            let end = begins.get(i + 1).copied().unwrap_or(raw.len());
            let complete = m["complete"].as_bool().unwrap();
            let head = heads[i];
            let interim =
                complete && head.is_some_and(|(_, s)| (100..200).contains(&s) && s != 101);
            if interim && i + 1 < messages.len() {
                i += 1;
                continue;
            }
            let fields = fields_of(&m["headers"]);
            // A complete message with a declared length and no body was an
            // answer to HEAD (llhttp's skip-body API cases).
            let declared = fields
                .iter()
                .any(|(n, v)| n == "content-length" && v != b"0");
            let method = if complete && declared && bodies[i].is_empty() {
                Method::HEAD
            } else {
                Method::GET
            };
            let last = i + 1 == messages.len();
            let want = match head {
                Some((_, status)) if complete => Want::Ok {
                    status,
                    fields,
                    body: bodies[i].clone(),
                },
                Some((body_at, status))
                    if last && verdict != "error" && close_delimited(status, &fields, &method) =>
                {
                    Want::Ok {
                        status,
                        fields,
                        body: raw[body_at..].to_vec(),
                    }
                }
                _ => Want::Error,
            };
            exchanges.push(Exchange {
                bytes: raw[start..end].to_vec(),
                close: last,
                method,
                want,
            });
            start = end;
            i += 1;
        }
        out.push(Case {
            id: case["id"].as_str().unwrap().to_string(),
            lenient: case["lenient"].as_bool().unwrap(),
            exchanges,
            keep_alive: None,
        });
    }
    out
}

fn http_parser_cases(dir: &Path) -> Vec<Case> {
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("http-parser/messages.json")).unwrap(),
    )
    .unwrap();
    let text = |v: &Value| -> Vec<u8> {
        match v {
            Value::String(s) => s.as_bytes().to_vec(),
            Value::Null => Vec::new(),
            other => base64(other["base64"].as_str().unwrap()),
        }
    };
    json["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let upgrade = r["upgrade"].is_string();
            Case {
                id: format!("http-parser/{}", r["name"].as_str().unwrap()),
                lenient: false,
                exchanges: vec![Exchange {
                    bytes: base64(r["raw_base64"].as_str().unwrap()),
                    // Only a close-delimited body needs the close; otherwise
                    // the connection stays open for the keep-alive probe.
                    close: r["message_complete_on_eof"] == "TRUE",
                    method: Method::GET,
                    want: Want::Ok {
                        status: r["status_code"].as_u64().unwrap() as u16,
                        fields: fields_of(&r["headers"]),
                        body: text(&r["body"]),
                    },
                }],
                // A 101 hands the connection to another protocol; the
                // client does not pool it.
                keep_alive: (!upgrade).then(|| r["should_keep_alive"] == "TRUE"),
            }
        })
        .collect()
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Whole,
    Bytewise,
    Random(u64),
}

/// Serves `exchanges` in order, one per request, across connections,
/// closing where an exchange says (which ends a close-delimited body).
/// After the last, it answers a fixed probe response (the keep-alive
/// check).
fn serve(exchanges: Vec<Exchange>, mode: Mode) -> TestServer {
    let exchanges = Arc::new(exchanges);
    let next = Arc::new(AtomicUsize::new(0));
    TestServer::start(move |c: &mut ServerConn| {
        while c.read_head_only().is_some() {
            let i = next.fetch_add(1, Ordering::SeqCst);
            let Some(ex) = exchanges.get(i) else {
                c.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nprobe");
                continue;
            };
            write_in(c, &ex.bytes, mode);
            if ex.close {
                c.close();
                return;
            }
        }
    })
}

fn write_in(c: &mut ServerConn, bytes: &[u8], mode: Mode) {
    match mode {
        Mode::Whole => c.write(bytes),
        Mode::Bytewise => {
            for b in bytes {
                c.write(std::slice::from_ref(b));
            }
        }
        Mode::Random(seed) => {
            let mut x = seed | 1;
            let mut rest = bytes;
            while !rest.is_empty() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let n = ((x % 17) as usize + 1).min(rest.len());
                c.write(&rest[..n]);
                rest = &rest[n..];
            }
        }
    }
}

/// What the client made of one exchange.
#[derive(Debug)]
enum Got {
    Ok {
        status: u16,
        fields: Vec<(String, Vec<u8>)>,
        body: Vec<u8>,
    },
    Error(#[allow(dead_code)] String),
}

fn run(client: &Client, url: &str, method: &Method) -> Got {
    let resp = match client.request(method.clone(), url).send() {
        Ok(r) => r,
        Err(e) => return Got::Error(e.to_string()),
    };
    let status = resp.status().as_u16();
    let fields = resp
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
        .collect();
    let mut body = Vec::new();
    match resp.into_body().read_to_end(&mut body) {
        Ok(_) => Got::Ok {
            status,
            fields,
            body,
        },
        Err(e) => Got::Error(format!("body: {e}")),
    }
}

/// Fields compared per name, in order within a name (`HeaderMap` groups
/// values by name).
fn by_name(fields: &[(String, Vec<u8>)]) -> BTreeMap<String, Vec<Vec<u8>>> {
    let mut m: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    for (n, v) in fields {
        m.entry(n.clone()).or_default().push(v.clone());
    }
    m
}

fn matches(want: &Want, got: &Got) -> bool {
    match (want, got) {
        (Want::Error, Got::Error(_)) => true,
        (
            Want::Ok {
                status,
                fields,
                body,
            },
            Got::Ok {
                status: s,
                fields: f,
                body: b,
            },
        ) => status == s && by_name(fields) == by_name(f) && body == b,
        _ => false,
    }
}

/// Runs a case in one mode; `Ok(accepted_everything)` when every exchange
/// met its expectation, `Err(report)` otherwise.
fn run_case(case: &Case, mode: Mode) -> Result<(), String> {
    let server = serve(case.exchanges.clone(), mode);
    // Redirect responses are what is tested, not followed.
    let client = Client::builder()
        .timeout(Duration::from_secs(5))
        .max_redirects(0)
        .build()
        .unwrap();
    for (i, ex) in case.exchanges.iter().enumerate() {
        let got = run(&client, &server.url("/"), &ex.method);
        if !matches(&ex.want, &got) {
            return Err(format!(
                "{} ({mode:?}) exchange {i}:\n  served {:?}\n  want {:?}\n  got  {:?}",
                case.id,
                String::from_utf8_lossy(&ex.bytes),
                ex.want,
                got
            ));
        }
        if matches!(got, Got::Error(_)) {
            return Ok(());
        }
    }
    if let Some(keep_alive) = case.keep_alive {
        let before = server.accepted();
        let probe = run(&client, &server.url("/"), &Method::GET);
        assert!(
            matches!(probe, Got::Ok { .. }),
            "{}: probe {probe:?}",
            case.id
        );
        let reused = server.accepted() == before;
        if reused != keep_alive {
            return Err(format!(
                "{} ({mode:?}): connection reused: {reused}, should_keep_alive: {keep_alive}",
                case.id
            ));
        }
    }
    Ok(())
}

/// The expectation of a case listed in [`DIFFERENT`].
fn apply(case: &Case, diff: Diff) -> Case {
    let mut exchanges = case.exchanges.clone();
    let mut keep_alive = case.keep_alive;
    match diff {
        Diff::Refused => {
            // The first exchange is already an error.
            exchanges.truncate(1);
            exchanges[0].want = Want::Error;
            keep_alive = None;
        }
        Diff::Accepted => {
            for ex in &mut exchanges {
                if let Want::Error = ex.want {
                    ex.want = accepted_want(&ex.bytes);
                }
            }
        }
        Diff::NoContent => {
            for ex in &mut exchanges {
                if let Want::Ok { body, .. } = &mut ex.want {
                    body.clear();
                }
            }
        }
        Diff::KeepAlive(reused) => keep_alive = Some(reused),
    }
    Case {
        id: case.id.clone(),
        lenient: case.lenient,
        exchanges,
        keep_alive,
    }
}

/// For the bare-LF and chunk-extension cases the client accepts: what it
/// must return, worked out by hand from the bytes.
fn accepted_want(bytes: &[u8]) -> Want {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .or_else(|| text.split_once("\n\n"))
        .unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let fields: Vec<_> = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.to_ascii_lowercase(), v.trim().as_bytes().to_vec())
        })
        .collect();
    let body = if fields.iter().any(|(n, _)| n == "transfer-encoding") {
        // The one chunked case: "2;\r\naa\r\n0\r\n\r\n".
        b"aa".to_vec()
    } else {
        body.as_bytes().to_vec()
    };
    Want::Ok {
        status,
        fields,
        body,
    }
}

#[test]
fn response_corpora() {
    let Some(dir) = corpora() else { return };
    let mut cases = llhttp_cases(&dir);
    let llhttp = cases.len();
    cases.extend(http_parser_cases(&dir));
    assert_eq!(llhttp, 85, "llhttp response cases");
    assert_eq!(cases.len() - llhttp, 30, "http-parser responses");

    let modes = [
        Mode::Whole,
        Mode::Bytewise,
        Mode::Random(7),
        Mode::Random(1234567),
    ];
    let mut passed = 0;
    let mut different = 0;
    let mut lenient_refused = Vec::new();
    let mut failures = Vec::new();
    for case in &cases {
        let listed = DIFFERENT.iter().find(|(id, ..)| *id == case.id);
        let effective = match listed {
            Some(&(_, diff, _)) => apply(case, diff),
            None => Case {
                id: case.id.clone(),
                lenient: case.lenient,
                exchanges: case.exchanges.clone(),
                keep_alive: case.keep_alive,
            },
        };
        let mut ok = true;
        for mode in modes {
            if let Err(report) = run_case(&effective, mode) {
                if case.lenient {
                    // Lenient cases may be refused: check it is a refusal.
                    let refused = apply(case, Diff::Refused);
                    if run_case(&refused, mode).is_ok() {
                        lenient_refused.push(case.id.clone());
                        ok = false;
                        break;
                    }
                }
                failures.push(report);
                ok = false;
                break;
            }
        }
        if ok {
            if listed.is_some() {
                different += 1;
            } else {
                passed += 1;
            }
        }
    }
    lenient_refused.dedup();
    eprintln!(
        "response corpora: {} cases ({llhttp} llhttp, {} http-parser), 4 ways each: {passed} as \
         the corpus says, {different} handled differently as documented, {} lenient cases \
         refused ({}), {} failures",
        cases.len(),
        cases.len() - llhttp,
        lenient_refused.len(),
        lenient_refused.join(", "),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_eq!(
        different,
        DIFFERENT.len(),
        "every documented difference was exercised"
    );
}
