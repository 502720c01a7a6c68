//! Robustness: random bytes and mutated valid requests (proptest) sent to
//! a real server. The server must never panic, must answer every request
//! whose head (and body) is complete with a status (the one thicket's own
//! sans-IO parser predicts for the same bytes), must never answer an
//! incomplete one, and must keep serving other connections.

mod conformance_support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use conformance_support::echo::{echo, show};
use conformance_support::wire::{exchange, Delivery, End, Finish};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use thicket_http::http::Method;
use thicket_http::proto::{parse_request, Decoder, Framing, Limits, Scan};
use thicket_http::{RunningServer, Server};

/// Panics anywhere in this test binary (the echo handler never panics,
/// so any is the server's).
static PANICS: AtomicUsize = AtomicUsize::new(0);

/// How many cases were predicted a status, an answer, nothing.
static MIX: [AtomicUsize; 3] = [
    AtomicUsize::new(0),
    AtomicUsize::new(0),
    AtomicUsize::new(0),
];

fn server() -> SocketAddr {
    static SERVER: OnceLock<RunningServer> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                PANICS.fetch_add(1, Ordering::SeqCst);
                previous(info);
            }));
            Server::bind("127.0.0.1:0").unwrap().start(echo).unwrap()
        })
        .local_addr()
}

/// Well-formed requests the mutations start from.
const TEMPLATES: &[&[u8]] = &[
    b"GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n",
    b"POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\nhello world",
    b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n",
    b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"PUT /x HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc",
    b"OPTIONS * HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
    b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
];

/// Bytes that matter to an HTTP parser.
const INTERESTING: &[u8] = b"\r\n\0 :;\t09aAfF-_/#?%\"\\\x7f\x80\xff";

#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Duplicate(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let byte = prop_oneof![any::<u8>(), proptest::sample::select(INTERESTING)];
    prop_oneof![
        3 => (any::<usize>(), byte.clone()).prop_map(|(i, b)| Mutation::Set(i, b)),
        3 => (any::<usize>(), byte).prop_map(|(i, b)| Mutation::Insert(i, b)),
        2 => any::<usize>().prop_map(Mutation::Delete),
        2 => (any::<usize>(), 1usize..16).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(template: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut v = template.to_vec();
    for m in mutations {
        if v.is_empty() {
            break;
        }
        let at = |i: usize| i % v.len();
        match *m {
            Mutation::Set(i, b) => {
                let i = at(i);
                v[i] = b;
            }
            Mutation::Insert(i, b) => {
                let i = at(i);
                v.insert(i, b);
            }
            Mutation::Delete(i) => {
                let i = at(i);
                v.remove(i);
            }
            Mutation::Duplicate(i, n) => {
                let i = at(i);
                let piece = v[i..(i + n).min(v.len())].to_vec();
                v.splice(i..i, piece);
            }
            Mutation::Truncate(i) => {
                let i = at(i);
                v.truncate(i);
            }
        }
    }
    v
}

fn input() -> impl Strategy<Value = (Vec<u8>, Option<u64>)> {
    let bytes = prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..512),
        3 => (
            proptest::sample::select(TEMPLATES),
            proptest::collection::vec(mutation(), 1..4),
        )
            .prop_map(|(t, m)| mutate(t, &m)),
    ];
    // Whole, or in random chunks.
    (bytes, proptest::option::of(any::<u64>()))
}

/// What thicket's sans-IO parser says the server must do with the first
/// request in `raw`.
#[derive(Debug)]
enum Predicted {
    /// Answer with this status (then possibly more responses).
    Status(u16),
    /// Answer it, whatever the status (a complete request whose handler
    /// runs).
    Answer,
    /// Never answer: the head or the body does not end.
    Nothing,
}

fn predict(raw: &[u8]) -> (Predicted, Method) {
    let mut scan = Scan::default();
    let head = match parse_request(&mut scan, raw, &Limits::default()) {
        Err(e) => return (Predicted::Status(e.status().as_u16()), Method::GET),
        Ok(None) => return (Predicted::Nothing, Method::GET),
        Ok(Some(h)) => h,
    };
    let method = head.method.clone();
    if let Framing::Length(n) = head.framing {
        if n > 16 * 1024 * 1024 {
            return (Predicted::Status(413), method);
        }
    }
    let mut decoder = Decoder::new(head.framing);
    let mut rest = &raw[head.len..];
    while !decoder.is_done() {
        if rest.is_empty() {
            return (Predicted::Nothing, method);
        }
        match decoder.decode(rest) {
            Ok(step) => rest = &rest[step.consumed..],
            Err(e) => return (Predicted::Status(e.status().as_u16()), method),
        }
    }
    (Predicted::Answer, method)
}

fn one_case(raw: &[u8], split: Option<u64>) -> Result<(), TestCaseError> {
    let addr = server();
    let (predicted, method) = predict(raw);
    let slot = match predicted {
        Predicted::Status(_) => 0,
        Predicted::Answer => 1,
        Predicted::Nothing => 2,
    };
    MIX[slot].fetch_add(1, Ordering::Relaxed);
    let delivery = split.map_or(Delivery::Whole, Delivery::Random);
    let method_of = |i: usize| if i == 0 { method.clone() } else { Method::GET };
    let ex = exchange(addr, raw, delivery, Finish::Close, &method_of);
    let what = || format!("{} sent {delivery}: {ex:?}", show(raw));
    prop_assert!(
        matches!(ex.end, End::Eof | End::Reset(_)),
        "the server neither finished nor closed: {}",
        what()
    );
    match predicted {
        Predicted::Status(s) => {
            let first = ex.responses.first().map(|r| r.status);
            prop_assert_eq!(first, Some(s), "{}", what());
        }
        Predicted::Answer => prop_assert!(!ex.responses.is_empty(), "unanswered: {}", what()),
        Predicted::Nothing => prop_assert!(ex.responses.is_empty(), "answered: {}", what()),
    }
    prop_assert_eq!(PANICS.load(Ordering::SeqCst), 0, "the server panicked");

    // Still serving.
    let ok = exchange(
        addr,
        b"GET /alive HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Delivery::Whole,
        Finish::Close,
        &|_| Method::GET,
    );
    prop_assert_eq!(
        ok.responses.len(),
        1,
        "not serving any more after {}",
        what()
    );
    prop_assert_eq!(ok.responses[0].status, 200);
    Ok(())
}

#[test]
fn random_and_mutated_requests_never_break_the_server() {
    let mut runner = TestRunner::new(Config {
        cases: 500,
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    });
    let result = runner.run(&input(), |(raw, split)| one_case(&raw, split));
    let [refused, answered, waited] = &MIX;
    println!(
        "fuzz: {} refused with the predicted status, {} answered, {} never complete",
        refused.load(Ordering::Relaxed),
        answered.load(Ordering::Relaxed),
        waited.load(Ordering::Relaxed)
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "the server panicked");
}

/// The templates themselves are answered, so mutations start from
/// requests that reach the handler.
#[test]
fn templates_are_answered() {
    for t in TEMPLATES {
        let (p, _) = predict(t);
        assert!(matches!(p, Predicted::Answer), "{}: {p:?}", show(t));
        one_case(t, None).unwrap();
    }
}
