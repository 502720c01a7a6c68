//! The request cases of llhttp's test corpus
//! (`../shared/corpora/llhttp`, from Node.js's HTTP parser) sent to a real
//! thicket server over real sockets: whole, line by line, byte by byte
//! and in random chunks. Requests llhttp completes in strict mode must
//! parse to exactly what llhttp logged (echoed back as JSON by a
//! test-mode handler); requests it refuses must get an error status and a
//! closed connection with no 2xx for them; requests it waits for must be
//! waited for.
//!
//! llhttp is a parser, not a server, and speaks more than HTTP/1.1
//! (RTSP, ICE, HTTP/0.9, leniency flags). Where thicket's answer differs
//! from llhttp's verdict for such a reason, [`POLICY`] records what thicket
//! does and why, and that is what is checked. HTTP/1.1 requests without
//! `Host` get 400 (RFC 9112 3.2); the same bytes with a `Host` line
//! inserted are checked against llhttp's parse as well.

mod conformance_support;

use conformance_support::echo::{trim_ows, Expected, Trailers};
use conformance_support::plan::{run_cases, Case, Msg, Plan, Policy, ServerLimits};
use conformance_support::wire::{seed_for, Delivery};
use conformance_support::{b64, load_corpus};
use serde_json::Value;

const BAD: &[u16] = &[400];
const VERSION: &[u16] = &[505];

/// thicket's choices for llhttp's lenient cases, for requests it pauses on
/// (CONNECT, Upgrade, PRI), for what only llhttp speaks, and wherever
/// thicket's answer differs from llhttp's strict verdict: (case id, what
/// thicket does, why).
const POLICY: &[(&str, Policy, &str)] = &[
    // Requests llhttp pauses on. The echo handler never switches
    // protocols, which RFC 9110 7.8 allows a server to decline.
    ("test/request/connection.md:545", Policy::Incomplete(1), "Upgrade is ignored (the handler does not switch protocols), so what follows the head is read as the next request, which never ends"),
    ("test/request/connection.md:682", Policy::Accept, "Upgrade is ignored; nothing follows"),
    ("test/request/connection.md:716", Policy::Incomplete(1), "Upgrade is ignored: the 4-byte body is read, the bytes after it start a request that never ends"),
    ("test/request/connection.md:756", Policy::Incomplete(1), "as connection.md:716"),
    ("test/request/connection.md:815", Policy::Incomplete(1), "as connection.md:716"),
    ("test/request/method.md:30", Policy::Accept, "a 2xx to CONNECT without a tunnel handler: head only, then the connection ends (and HTTP/1.0 ends it anyway)"),
    ("test/request/method.md:65", Policy::Accept, "as method.md:30"),
    ("test/request/method.md:99", Policy::AcceptBody(b"blarfcicle"), "Content-Length frames a CONNECT request like any other (RFC 9112 6.3), so the handler reads 10 bytes of body"),
    ("test/request/uri.md:191", Policy::Accept, "as method.md:30; `_` is allowed in a reg-name"),
    ("test/request/method.md:461", Policy::Reject(0, BAD), "PRI * is the HTTP/2 preface: an asterisk-form target is only for OPTIONS (RFC 9112 3.2.4) and thicket speaks HTTP/1.x only"),
    // What only llhttp speaks.
    ("test/request/method.md:138", Policy::Reject(0, BAD), "asterisk-form is only for OPTIONS; SSDP's `M-SEARCH *` is HTTP over UDP, not HTTP/1.1"),
    ("test/request/method.md:375", Policy::Reject(0, BAD), "ICE/1.0 is not HTTP"),
    ("test/request/method.md:405", Policy::Reject(0, BAD), "RTSP/1.0 is not HTTP"),
    ("test/request/method.md:433", Policy::Reject(0, BAD), "RTSP/1.0 is not HTTP"),
    ("test/request/sample.md:317", Policy::Reject(0, BAD), "an HTTP/0.9 request line (no version) is refused: thicket speaks HTTP/1.0 and 1.1"),
    ("test/request/invalid.md:69", Policy::AcceptSimple, "ANNOUNCE is an RTSP method to llhttp, but any token is an HTTP method (RFC 9110 9.1); the handler decides"),
    // Heads that llhttp refuses at the first bad byte and thicket judges
    // when the head is complete, which these never are.
    ("test/request/content-length.md:78", Policy::IncompleteHead(0), "the head never ends (no empty line): thicket waits for it (the header timeout bounds the wait)"),
    ("test/request/content-length.md:103", Policy::IncompleteHead(0), "as content-length.md:78"),
    ("test/request/content-length.md:496", Policy::IncompleteHead(0), "a CR not followed by LF starts a line that never ends"),
    ("test/request/content-length.md:522", Policy::IncompleteHead(0), "as content-length.md:496 (llhttp accepts it only leniently)"),
    ("test/request/invalid.md:150", Policy::IncompleteHead(0), "as content-length.md:78"),
    ("test/request/invalid.md:184", Policy::IncompleteHead(0), "as content-length.md:78"),
    ("test/request/invalid.md:493", Policy::IncompleteHead(0), "the request line never ends"),
    ("test/request/invalid.md:512", Policy::IncompleteHead(0), "as content-length.md:78"),
    ("test/request/lenient-header-value-relaxed.md:141", Policy::IncompleteHead(0), "as content-length.md:78"),
    ("test/request/sample.md:436", Policy::IncompleteHead(0), "as content-length.md:78"),
    ("test/request/sample.md:458", Policy::IncompleteHead(0), "as content-length.md:78"),
    // Connections.
    ("test/request/connection.md:84", Policy::Accept, "after a request that ends the connection (HTTP/1.0, Connection: close) what follows is never read: one answer, then the server closes (RFC 9112 9.6)"),
    ("test/request/connection.md:297", Policy::Accept, "as connection.md:84"),
    ("test/request/connection.md:347", Policy::Accept, "as connection.md:84"),
    ("test/request/connection.md:113", Policy::Accept, "as connection.md:84"),
    ("test/request/connection.md:397", Policy::Accept, "as connection.md:84"),
    ("test/request/content-length.md:447", Policy::Incomplete(0), "llhttp's callback skips the body here; on the wire the second request is the first one's 123-byte body, which never completes"),
    // Targets.
    ("test/request/uri.md:7", Policy::Reject(0, BAD), "`\"` and `\\` are not URI characters; the target is refused"),
    ("test/request/uri.md:168", Policy::Reject(0, BAD), "a fragment is not part of an origin-form target (RFC 9112 3.2.1)"),
    ("test/request/transfer-encoding.md:754", Policy::Reject(0, BAD), "the target has a fragment (refused before the transfer coding is looked at)"),
    ("test/request/transfer-encoding.md:796", Policy::Reject(0, BAD), "as transfer-encoding.md:754"),
    ("test/request/uri.md:225", Policy::Reject(0, BAD), "userinfo in an absolute-form target is treated as an error (RFC 9110 4.2.4)"),
    ("test/request/uri.md:55", Policy::AcceptTarget("http://hypnotoad.org/?hail=all"), "an empty path in an absolute-form target reads as `/` (RFC 9110 4.2.3 normalisation, done by the http crate's URI type)"),
    ("test/request/uri.md:78", Policy::AcceptTarget("http://hypnotoad.org:1234/?hail=all"), "as uri.md:55"),
    ("test/request/uri.md:128", Policy::AcceptTarget("http://hypnotoad.org:1234/"), "as uri.md:55"),
    // Chunked bodies.
    ("test/request/transfer-encoding.md:189", Policy::Reject(0, BAD), "Content-Type may not arrive as a trailer (RFC 9110 6.5.1); forbidden trailer fields are refused"),
    ("test/request/transfer-encoding.md:331", Policy::AcceptBody(b"aa"), "chunk extensions are skipped unread (RFC 9112 7.1.1: unrecognised extensions MUST be ignored); only control characters in them are refused, so an empty one after `;` passes"),
    ("test/request/transfer-encoding.md:427", Policy::Incomplete(0), "as transfer-encoding.md:331, so the unbalanced quote is not an error; the body then lacks its final CRLF and never ends"),
    // llhttp's lenient modes: thicket is strict.
    ("test/request/connection.md:484", Policy::Reject(0, BAD), "obs-fold is refused (RFC 9112 5.2 allows 400)"),
    ("test/request/connection.md:579", Policy::Reject(0, BAD), "obs-fold is refused"),
    ("test/request/connection.md:640", Policy::Reject(0, BAD), "whitespace between a field name and the colon MUST be refused (RFC 9112 5.1)"),
    ("test/request/content-length.md:192", Policy::Reject(0, BAD), "as connection.md:640"),
    ("test/request/content-length.md:232", Policy::Reject(0, BAD), "Content-Length with Transfer-Encoding is refused"),
    ("test/request/transfer-encoding.md:539", Policy::Reject(0, BAD), "Content-Length with Transfer-Encoding is refused"),
    ("test/request/transfer-encoding.md:683", Policy::Reject(0, BAD), "chunked must be the last transfer coding (RFC 9112 6.1)"),
    ("test/request/transfer-encoding.md:716", Policy::Reject(0, BAD), "as transfer-encoding.md:683"),
    ("test/request/transfer-encoding.md:945", Policy::Reject(0, BAD), "obs-fold is refused"),
    ("test/request/invalid.md:571", Policy::Reject(0, BAD), "a bare LF line ending is refused"),
    ("test/request/invalid.md:690", Policy::Reject(0, BAD), "a line starting with whitespace after a field is obs-fold: refused"),
    ("test/request/lenient-header-value-relaxed.md:13", Policy::Reject(0, BAD), "a control character (FF) in a value is refused"),
    ("test/request/lenient-header-value-relaxed.md:71", Policy::Reject(0, BAD), "a bare LF is refused"),
    ("test/request/lenient-header-value-relaxed.md:106", Policy::Reject(0, BAD), "a bare CR is refused"),
    ("test/request/lenient-headers.md:9", Policy::Reject(0, BAD), "a control character (FF) in a value is refused"),
    ("test/request/lenient-headers.md:37", Policy::Reject(1, BAD), "the first request is answered; the second has FF in a value"),
    ("test/request/lenient-headers.md:112", Policy::Reject(0, BAD), "a bare CR is refused"),
    ("test/request/lenient-version.md:7", Policy::Reject(0, VERSION), "HTTP/5.6 is well formed and not spoken: 505"),
    ("test/request/sample.md:336", Policy::Reject(0, BAD), "obs-fold is refused"),
    ("test/request/sample.md:576", Policy::Reject(0, BAD), "obs-fold is refused"),
    ("test/request/transfer-encoding.md:1029", Policy::Reject(0, BAD), "a CR after a chunk size must be followed by LF"),
    ("test/request/transfer-encoding.md:1144", Policy::Reject(0, BAD), "chunk data must be followed by CRLF"),
    ("test/request/transfer-encoding.md:1218", Policy::Reject(0, BAD), "whitespace after a chunk size without an extension is refused"),
];

fn policy(id: &str) -> Option<&'static (&'static str, Policy, &'static str)> {
    POLICY.iter().find(|(p, _, _)| *p == id)
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// A string, or `{"base64": ...}` for bytes that are not UTF-8 text.
fn bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Object(o) => b64::decode(o["base64"].as_str().unwrap_or_default()).unwrap(),
        _ => Vec::new(),
    }
}

fn messages(case: &Value) -> Vec<Msg> {
    let list = case["messages"].as_array().cloned().unwrap_or_default();
    list.iter()
        .map(|m| {
            let headers: Vec<(String, Vec<u8>)> = m["headers"]
                .as_array()
                .map(|h| {
                    h.iter()
                        .map(|p| (text(&p[0]).to_ascii_lowercase(), trim_ows(&bytes(&p[1]))))
                        .collect()
                })
                .unwrap_or_default();
            let version = text(&m["version"]);
            Msg {
                has_host: headers.iter().any(|(n, _)| n == "host"),
                is_11: text(&m["protocol"]) == "HTTP" && version == "1.1",
                head_complete: !m["headers_complete"].is_null(),
                expected: Expected {
                    method: text(&m["method"]).to_owned(),
                    target: text(&m["url"]).as_bytes().to_vec(),
                    version: format!("{}/{version}", text(&m["protocol"])),
                    headers,
                    body: text(&m["body"]).as_bytes().to_vec(),
                    trailers: Vec::new(),
                    trailer_style: Trailers::InHeaders,
                },
            }
        })
        .collect()
}

/// The statuses thicket may refuse a request with, from llhttp's reason.
fn statuses_for(reason: &str) -> Vec<u16> {
    let mut s = vec![400];
    if reason.contains("version") {
        s.push(505);
    }
    if reason.contains("Transfer-Encoding") {
        s.push(501);
    }
    s
}

fn request_cases(corpus: &Value) -> Vec<&Value> {
    corpus["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| text(&c["llhttp_type"]).starts_with("request"))
        .collect()
}

fn load_cases() -> Option<Vec<Case>> {
    let corpus = load_corpus("llhttp")?;
    let mut cases = Vec::new();
    for c in request_cases(&corpus) {
        let id = text(&c["id"]).to_owned();
        let raw = b64::decode(text(&c["raw_base64"])).unwrap();
        let mut msgs = messages(c);
        let leading_complete = c["messages"]
            .as_array()
            .map(|l| l.iter().take_while(|m| m["complete"] == true).count())
            .unwrap_or(0);
        let (plan, why) = match policy(&id) {
            Some((_, p, why)) => {
                let (plan, m) = p.apply(why, &raw, msgs, leading_complete);
                msgs = m;
                (plan, Some(*why))
            }
            None => {
                let plan = match text(&c["verdict"]) {
                    "complete" => Plan::Accept(leading_complete),
                    "error" => Plan::Reject {
                        after: leading_complete,
                        status: statuses_for(text(&c["error"]["reason"])),
                    },
                    "incomplete" => Plan::Incomplete {
                        after: leading_complete,
                    },
                    other => Plan::Skip(format!("verdict {other} without a POLICY row")),
                };
                (plan, None)
            }
        };
        cases.push(Case {
            id,
            raw,
            msgs,
            plan,
            limits: ServerLimits::default(),
            policy: why,
        });
    }
    Some(cases)
}

#[test]
fn llhttp_corpus_sent_whole() {
    let Some(cases) = load_cases() else { return };
    run_cases("llhttp request corpus, whole", &cases, |_| Delivery::Whole);
}

#[test]
fn llhttp_corpus_sent_line_by_line() {
    let Some(cases) = load_cases() else { return };
    run_cases("llhttp request corpus, line by line", &cases, |_| {
        Delivery::Lines
    });
}

#[test]
fn llhttp_corpus_sent_byte_by_byte() {
    let Some(cases) = load_cases() else { return };
    run_cases("llhttp request corpus, byte by byte", &cases, |_| {
        Delivery::Bytes
    });
}

#[test]
fn llhttp_corpus_sent_in_random_chunks() {
    let Some(cases) = load_cases() else { return };
    run_cases("llhttp request corpus, random chunks", &cases, |c| {
        Delivery::Random(seed_for(&c.id))
    });
}

/// The table names real request cases, and decides every lenient case and
/// every case llhttp pauses on.
#[test]
fn llhttp_policy_table_covers_the_corpus() {
    let Some(corpus) = load_corpus("llhttp") else {
        return;
    };
    let cases = request_cases(&corpus);
    let ids: Vec<&str> = cases.iter().map(|c| text(&c["id"])).collect();
    for (id, _, _) in POLICY {
        assert!(
            ids.contains(id),
            "POLICY names {id}, which is not a request case"
        );
    }
    let undecided: Vec<&str> = cases
        .iter()
        .filter(|c| {
            (c["lenient"].as_bool() == Some(true) || text(&c["verdict"]) == "upgrade_or_paused")
                && policy(text(&c["id"])).is_none()
        })
        .map(|c| text(&c["id"]))
        .collect();
    assert!(undecided.is_empty(), "no POLICY row for {undecided:?}");
}
