//! gunicorn's request corpus (`../shared/corpora/gunicorn-requests`) sent
//! to a real thicket server over real sockets: whole, line by line, byte
//! by byte and in random chunks. Valid requests must parse to exactly what
//! gunicorn's tests expect (echoed back as JSON by a test-mode handler);
//! invalid ones must get an error status and a closed connection with no
//! 2xx for them; incomplete ones must be waited for.
//!
//! Where the RFC leaves a choice, or gunicorn's expectation depends on one
//! of its own settings, [`POLICY`] records what thicket does and why, and
//! that is what is checked. HTTP/1.1 requests without `Host` get 400 (RFC
//! 9112 3.2, thicket's policy); the same bytes with a `Host` line inserted
//! are checked against the corpus as well.

mod conformance_support;

use conformance_support::echo::{latin1, Expected, Trailers};
use conformance_support::plan::{run_cases, Case, Msg, Plan, Policy, ServerLimits};
use conformance_support::wire::{seed_for, Delivery};
use conformance_support::{b64, load_corpus};
use serde_json::Value;

/// gunicorn's default limits as far as thicket has them: a request line of
/// 4,094 bytes and 100 fields map directly; gunicorn's 8,190-byte limit on
/// one field line has no thicket equivalent (thicket limits the whole
/// head), so the head limit stands in for it.
const GUNICORN_DEFAULTS: ServerLimits = ServerLimits {
    max_request_line: Some(4094),
    max_head: Some(8190),
    max_headers: Some(100),
};

/// Cases run against a server with other limits than thicket's defaults.
const LIMITS: &[(&str, ServerLimits, &str)] = &[
    (
        "invalid/006",
        GUNICORN_DEFAULTS,
        "request line over gunicorn's 4,094 bytes",
    ),
    (
        "invalid/007",
        GUNICORN_DEFAULTS,
        "one field line over gunicorn's 8,190 bytes",
    ),
    (
        "invalid/008",
        GUNICORN_DEFAULTS,
        "one field line over gunicorn's 8,190 bytes",
    ),
    ("invalid/009", GUNICORN_DEFAULTS, "103 fields, over 100"),
    (
        "invalid/017",
        GUNICORN_DEFAULTS,
        "one field line over gunicorn's 8,190 bytes",
    ),
    (
        "invalid/limit_header_default_01",
        GUNICORN_DEFAULTS,
        "a field line of exactly 8,190 bytes plus its name",
    ),
    (
        "invalid/011",
        ServerLimits {
            max_request_line: None,
            max_head: None,
            max_headers: Some(2),
        },
        "limit_request_fields=2 is thicket's max_headers(2)",
    ),
];

const BAD: &[u16] = &[400];
const TOO_LONG_LINE: &[u16] = &[414];
const TOO_LARGE_HEAD: &[u16] = &[431];
const NOT_IMPLEMENTED: &[u16] = &[501];

/// thicket's choices where the corpus marks a policy choice, where a case
/// needs a gunicorn-only setting, and where thicket differs from
/// gunicorn's expectation: (case id, what thicket does, why).
const POLICY: &[(&str, Policy, &str)] = &[
    // Request targets.
    ("valid/005", Policy::Reject(0, BAD), "a fragment is not part of an origin-form target (RFC 9112 3.2.1); thicket refuses `#`"),
    ("valid/014", Policy::Reject(0, BAD), "`\"` is not a URI character (RFC 3986 appendix A); the target is refused"),
    ("valid/027", Policy::Reject(0, BAD), "raw non-ASCII bytes in the target are refused: only visible ASCII is a target character"),
    ("valid/rfc9112_target_absolute_userinfo_01", Policy::Reject(0, BAD), "userinfo in an absolute-form target is treated as an error (RFC 9110 4.2.4)"),
    // Transfer codings.
    ("valid/009", Policy::Reject(0, BAD), "Content-Length together with Transfer-Encoding is refused before the codings are looked at (RFC 9112 6.3 allows it; it closes a smuggling door)"),
    ("valid/025", Policy::Reject(0, NOT_IMPLEMENTED), "gzip transfer coding is not implemented: 501 (RFC 9112 6.1 SHOULD)"),
    ("valid/025_line", Policy::Reject(0, NOT_IMPLEMENTED), "as valid/025"),
    ("valid/029", Policy::Reject(0, NOT_IMPLEMENTED), "`identity` is not a registered transfer coding: 501"),
    ("valid/030", Policy::Reject(0, NOT_IMPLEMENTED), "as valid/029"),
    ("valid/rfc9112_smuggle_gzip_chunked_01", Policy::Reject(0, NOT_IMPLEMENTED), "as valid/025"),
    ("valid/rfc9112_smuggle_te_identity_chunked_01", Policy::Reject(0, NOT_IMPLEMENTED), "as valid/029"),
    // Trailers.
    ("valid/012", Policy::Reject(0, BAD), "Content-Type describes the content format and may not arrive as a trailer (RFC 9110 6.5.1); thicket refuses forbidden trailer fields rather than dropping them"),
    ("invalid/rfc9110_trailer_forbidden_cl_01", Policy::Reject(0, BAD), "forbidden trailer fields are refused, not silently dropped, so a smuggling attempt is visible"),
    ("invalid/rfc9110_trailer_forbidden_host_01", Policy::Reject(0, BAD), "as trailer_forbidden_cl_01"),
    ("invalid/rfc9110_trailer_forbidden_te_01", Policy::Reject(0, BAD), "as trailer_forbidden_cl_01"),
    // Fields.
    ("valid/compat_obs_fold", Policy::Reject(0, BAD), "obs-fold is refused (RFC 9112 5.2 allows 400 or unfolding); gunicorn unfolds only with permit_obsolete_folding"),
    ("valid/compat_obs_fold_huge", Policy::Reject(0, BAD), "as compat_obs_fold"),
    ("invalid/obs_fold_01", Policy::Reject(0, BAD), "as compat_obs_fold"),
    ("invalid/rfc9110_field_value_ctl_bel_01", Policy::Reject(0, BAD), "control characters other than HTAB in a value are refused (RFC 9110 5.5 allows retaining or refusing)"),
    ("invalid/rfc9110_field_value_ctl_del_01", Policy::Reject(0, BAD), "as ctl_bel_01"),
    ("invalid/041", Policy::AcceptSimple, "two Content-Type fields: thicket does not police duplicates of fields that do not frame the message (gunicorn does); the handler sees both"),
    ("valid/040", Policy::AcceptLike("valid/040_compat"), "`Transfer_Encoding` and `Content_Length` are valid field names (`_` is a tchar) and are kept as ordinary fields, as gunicorn's header_map=dangerous does; framing comes from Content-Length alone"),
    ("valid/040_compat", Policy::Accept, "thicket's default is what header_map=dangerous does"),
    // Framing.
    ("invalid/rfc9112_smuggle_cl_list_form_01", Policy::Reject(0, BAD), "a Content-Length list, even of equal values, is refused rather than guessed at"),
    ("invalid/rfc9112_smuggle_cl_te_chunked_01", Policy::Reject(0, BAD), "Content-Length with Transfer-Encoding is refused (RFC 9112 6.3 MAY)"),
    // Connections.
    ("valid/022", Policy::Accept, "an HTTP/1.0 request with Connection: keep-alive keeps the connection, so the second request is read"),
    // Methods.
    ("invalid/003c", Policy::AcceptSimple, "`-bl` is a valid token, so a valid method; gunicorn's 3-20 upper-case letters rule is its own"),
    // Limits.
    ("valid/024", Policy::Accept, "fits thicket's defaults: an 8,189-byte request line under the 8 KiB limit, and no per-field limit (the head is under 64 KiB)"),
    ("valid/026", Policy::Accept, "fits thicket's defaults: no per-field limit, the head is under 64 KiB"),
    ("invalid/006", Policy::Reject(0, TOO_LONG_LINE), "run with max_request_line(4094), gunicorn's default: 414"),
    ("invalid/007", Policy::Reject(0, TOO_LARGE_HEAD), "run with max_head(8190) standing in for gunicorn's per-field limit: 431"),
    ("invalid/008", Policy::Reject(0, TOO_LARGE_HEAD), "as invalid/007"),
    ("invalid/009", Policy::Reject(0, TOO_LARGE_HEAD), "more than max_headers(100) fields: 431"),
    ("invalid/017", Policy::Reject(0, TOO_LARGE_HEAD), "as invalid/007"),
    ("invalid/limit_header_default_01", Policy::Reject(0, TOO_LARGE_HEAD), "as invalid/007"),
    ("invalid/011", Policy::Reject(0, TOO_LARGE_HEAD), "run with max_headers(2): 431"),
    // gunicorn-only settings: skipped.
    ("invalid/010", Policy::Skip, "limit_request_field_size=10: thicket has no per-field limit"),
    ("invalid/012", Policy::Skip, "limit_request_field_size=98: thicket has no per-field limit"),
    ("invalid/013", Policy::Skip, "limit_request_field_size=14 with obs-fold: no per-field limit, and obs-fold is refused anyway"),
    ("invalid/019", Policy::Skip, "forwarded_allow_ips: gunicorn's X-Forwarded-* consistency check; thicket leaves those fields to the application"),
    ("invalid/040", Policy::Skip, "header_map=refuse: thicket keeps underscore names (see valid/040, the same bytes)"),
    ("invalid/chunked_07", Policy::Skip, "header_map=refuse: thicket keeps `Transfer_Encoding` as an ordinary field"),
    ("valid/028", Policy::Skip, "strip_header_spaces contradicts RFC 9112 5.1; the same bytes are invalid/020, which runs"),
    ("valid/031compat", Policy::Skip, "casefold_http_method: methods are case-sensitive"),
    ("valid/pp_01", Policy::Skip, "PROXY protocol is not implemented"),
    ("valid/pp_02", Policy::Skip, "PROXY protocol is not implemented"),
    ("valid/pp_04", Policy::Skip, "PROXY protocol v2 is not implemented"),
    ("valid/pp_05", Policy::Skip, "PROXY protocol v2 is not implemented"),
    ("invalid/pp_01", Policy::Skip, "PROXY protocol is not implemented"),
    ("invalid/pp_02", Policy::Skip, "PROXY protocol is not implemented"),
    ("invalid/pp_03", Policy::Skip, "PROXY protocol is not implemented"),
];

fn policy(id: &str) -> Option<&'static (&'static str, Policy, &'static str)> {
    POLICY.iter().find(|(p, _, _)| *p == id)
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn fields(v: &Value) -> Vec<(String, Vec<u8>)> {
    v.as_array()
        .map(|list| {
            list.iter()
                .map(|p| (text(&p[0]).to_ascii_lowercase(), latin1(text(&p[1]))))
                .collect()
        })
        .unwrap_or_default()
}

/// The requests gunicorn expects a case to parse to.
fn messages(case: &Value) -> Vec<Msg> {
    let Some(requests) = case["requests"].as_array() else {
        return Vec::new();
    };
    requests
        .iter()
        .map(|r| {
            let headers = fields(&r["headers"]);
            let minor = r["version"][1].as_u64().unwrap_or(1);
            Msg {
                has_host: headers.iter().any(|(n, _)| n == "host"),
                is_11: minor == 1,
                head_complete: true,
                expected: Expected {
                    method: text(&r["method"]).to_owned(),
                    target: latin1(text(&r["uri"])),
                    version: format!("HTTP/1.{minor}"),
                    headers,
                    body: b64::decode(text(&r["body_base64"])).unwrap(),
                    trailers: fields(&r["trailers"]),
                    trailer_style: Trailers::Separate,
                },
            }
        })
        .collect()
}

/// The statuses thicket may answer an invalid case with, from the error
/// gunicorn raises.
fn statuses_for(error: &str) -> Vec<u16> {
    match error {
        "LimitRequestLine" => vec![414],
        "LimitRequestHeaders" => vec![431],
        "InvalidHTTPVersion" => vec![505, 400],
        _ => vec![400],
    }
}

/// Whether the first request of `raw` is HTTP/1.1 without a Host field
/// (then 400 is always a right answer too).
fn first_lacks_host(raw: &[u8]) -> bool {
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = raw[..head_end].to_ascii_lowercase();
    let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    head[..line_end].ends_with(b"http/1.1\r")
        && !head
            .windows(7)
            .any(|w| w == b"\nhost: " || w == b"\nhost:\t")
}

fn load_cases() -> Option<Vec<Case>> {
    let corpus = load_corpus("gunicorn-requests")?;
    let list = corpus["cases"].as_array().expect("cases");
    let mut cases = Vec::new();
    for c in list {
        let id = text(&c["id"]).to_owned();
        let raw = b64::decode(text(&c["raw_base64"])).unwrap();
        let mut msgs = messages(c);
        let limits = LIMITS
            .iter()
            .find(|(l, _, _)| *l == id)
            .map(|(_, l, _)| *l)
            .unwrap_or_default();
        let (plan, why) = match policy(&id) {
            Some((_, p, why)) => {
                if let Policy::AcceptLike(other) = p {
                    let twin = list
                        .iter()
                        .find(|o| text(&o["id"]) == *other)
                        .unwrap_or_else(|| panic!("{id}: no case {other}"));
                    msgs = messages(twin);
                }
                let n = msgs.len();
                let (plan, m) = p.apply(why, &raw, msgs, n);
                msgs = m;
                (plan, Some(*why))
            }
            None => {
                let plan = match text(&c["portable_verdict"]) {
                    "accept" => Plan::Accept(msgs.len()),
                    "reject" => {
                        let mut status = statuses_for(text(&c["gunicorn_error"]));
                        if first_lacks_host(&raw) && !status.contains(&400) {
                            status.push(400);
                        }
                        Plan::Reject { after: 0, status }
                    }
                    "incomplete" => Plan::Incomplete { after: 0 },
                    other => Plan::Skip(format!(
                        "portable verdict {other:?}: {}",
                        text(&c["portable_note"])
                    )),
                };
                (plan, None)
            }
        };
        cases.push(Case {
            id,
            raw,
            msgs,
            plan,
            limits,
            policy: why,
        });
    }
    Some(cases)
}

#[test]
fn gunicorn_corpus_sent_whole() {
    let Some(cases) = load_cases() else { return };
    run_cases("gunicorn corpus, whole", &cases, |_| Delivery::Whole);
}

#[test]
fn gunicorn_corpus_sent_line_by_line() {
    let Some(cases) = load_cases() else { return };
    run_cases("gunicorn corpus, line by line", &cases, |_| Delivery::Lines);
}

#[test]
fn gunicorn_corpus_sent_byte_by_byte() {
    let Some(cases) = load_cases() else { return };
    run_cases("gunicorn corpus, byte by byte", &cases, |_| Delivery::Bytes);
}

#[test]
fn gunicorn_corpus_sent_in_random_chunks() {
    let Some(cases) = load_cases() else { return };
    run_cases("gunicorn corpus, random chunks", &cases, |c| {
        Delivery::Random(seed_for(&c.id))
    });
}

/// The tables name real cases, every case the corpus marks as a policy
/// choice or as needing a gunicorn setting is decided in them, and every
/// case the corpus calls valid but lacking Host is run both ways.
#[test]
fn gunicorn_policy_table_covers_the_corpus() {
    let Some(corpus) = load_corpus("gunicorn-requests") else {
        return;
    };
    let list = corpus["cases"].as_array().unwrap();
    let ids: Vec<&str> = list.iter().map(|c| text(&c["id"])).collect();
    for (id, _, _) in POLICY {
        assert!(
            ids.contains(id),
            "POLICY names {id}, which the corpus lacks"
        );
    }
    for (id, _, _) in LIMITS {
        assert!(
            ids.contains(id),
            "LIMITS names {id}, which the corpus lacks"
        );
        assert!(
            policy(id).is_some(),
            "{id} runs with other limits but has no POLICY row"
        );
    }
    let mut undecided = Vec::new();
    for c in list {
        let id = text(&c["id"]);
        let needs_setting = c["options"]
            .as_object()
            .is_some_and(|o| !o.is_empty() && text(&c["portable_verdict"]) != "accept");
        if (c["policy_choice"].as_bool() == Some(true)
            || needs_setting
            || text(&c["portable_verdict"]) == "skip")
            && policy(id).is_none()
        {
            undecided.push(id);
        }
    }
    assert!(undecided.is_empty(), "no POLICY row for {undecided:?}");

    let cases = load_cases().unwrap();
    let mut without_host = 0;
    for c in list
        .iter()
        .filter(|c| c["http11_without_host"].as_bool() == Some(true))
    {
        let case = cases.iter().find(|k| k.id == text(&c["id"])).unwrap();
        if matches!(case.plan, Plan::Skip(_)) {
            continue;
        }
        let runs = case.outcomes();
        assert_eq!(
            runs[0].2.kind(),
            "reject",
            "{}: an HTTP/1.1 request without Host must get 400",
            case.id
        );
        assert!(
            runs.len() == 2,
            "{}: no Host line could be inserted",
            case.id
        );
        without_host += 1;
    }
    assert!(
        without_host >= 20,
        "only {without_host} cases without Host were found"
    );
}
