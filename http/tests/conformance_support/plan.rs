//! Cases, what thicket must do with each, and the runner that sends them
//! to a real server and reports every mismatch.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};

use thicket_http::http::Method;
use thicket_http::{RunningServer, Server};

use super::echo::{compare, echo, show, Echo, Expected};
use super::wire::{exchange, Delivery, End, Exchange, Finish};

/// One request of a case, as far as the corpus describes it.
#[derive(Debug, Clone)]
pub struct Msg {
    /// What it must parse to (meaningful when it is answered).
    pub expected: Expected,
    /// The corpus saw the whole head (the Host rule applies to it).
    pub head_complete: bool,
    /// It carries a Host field.
    pub has_host: bool,
    /// It is HTTP/1.1.
    pub is_11: bool,
}

/// What thicket does with a case, leaving aside the Host rule (which the
/// runner applies on top, see [`Case::outcomes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// The first `n` requests are answered 2xx with the expected echoes,
    /// and nothing else is answered.
    Accept(usize),
    /// The first `after` requests are answered 2xx, the next gets one of
    /// `status` and the server closes the connection.
    Reject { after: usize, status: Vec<u16> },
    /// The first `after` requests are answered 2xx; the next is never
    /// complete: the server waits, and at end of file closes without a
    /// 2xx.
    Incomplete { after: usize },
    /// Not run, for this reason.
    Skip(String),
}

/// Server limits a case runs with (`None`: thicket's default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerLimits {
    pub max_request_line: Option<usize>,
    pub max_head: Option<usize>,
    pub max_headers: Option<usize>,
}

/// A corpus case made ready to run.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub raw: Vec<u8>,
    pub msgs: Vec<Msg>,
    pub plan: Plan,
    pub limits: ServerLimits,
    /// Set when the plan comes from a policy table (the reason).
    pub policy: Option<&'static str>,
}

/// What one run of a case must produce.
#[derive(Debug, Clone)]
pub enum Outcome {
    Accept(Vec<Expected>),
    Reject {
        answered: Vec<Expected>,
        status: Vec<u16>,
    },
    Incomplete {
        answered: Vec<Expected>,
    },
}

impl Outcome {
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Accept(_) => "accept",
            Outcome::Reject { .. } => "reject",
            Outcome::Incomplete { .. } => "incomplete",
        }
    }

    fn answered(&self) -> &[Expected] {
        match self {
            Outcome::Accept(a) => a,
            Outcome::Reject { answered, .. } | Outcome::Incomplete { answered } => answered,
        }
    }
}

/// The `Host` field the runner inserts into HTTP/1.1 requests that lack
/// one.
pub const INSERTED_HOST: &[u8] = b"localhost";

impl Case {
    /// How many requests the plan answers.
    fn stop(&self) -> usize {
        match &self.plan {
            Plan::Accept(n) => *n,
            Plan::Reject { after, .. } | Plan::Incomplete { after } => *after,
            Plan::Skip(_) => 0,
        }
    }

    fn expected(&self, n: usize) -> Vec<Expected> {
        self.msgs[..n].iter().map(|m| m.expected.clone()).collect()
    }

    /// The requests that lack the Host field RFC 9112 3.2 requires and
    /// that the server reaches with their whole head.
    fn hostless(&self) -> Vec<usize> {
        // An accepted case ends after its last answered request; the
        // request after an answered prefix of a rejected or incomplete
        // one is read too.
        let reached = match self.plan {
            Plan::Accept(n) => n,
            _ => self.stop() + 1,
        };
        self.msgs
            .iter()
            .enumerate()
            .filter(|(i, m)| *i < reached && m.is_11 && !m.has_host && m.head_complete)
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether a request the server reads lacks the Host field.
    pub fn lacks_host(&self) -> bool {
        !self.hostless().is_empty()
    }

    /// The outcome of the plan as written (Host rule aside).
    fn planned(&self) -> Outcome {
        match &self.plan {
            Plan::Accept(n) => Outcome::Accept(self.expected(*n)),
            Plan::Reject { after, status } => Outcome::Reject {
                answered: self.expected(*after),
                status: status.clone(),
            },
            Plan::Incomplete { after } => Outcome::Incomplete {
                answered: self.expected(*after),
            },
            Plan::Skip(_) => unreachable!("skipped cases have no outcome"),
        }
    }

    /// What to send and what must come back: the case's own bytes (where
    /// an HTTP/1.1 request without Host gets 400: thicket's documented
    /// policy, RFC 9112 3.2), and, when the case has such requests and a
    /// `Host` line can be inserted after each of their request lines, the
    /// same bytes with it (which must then do what the plan says).
    pub fn outcomes(&self) -> Vec<(&'static str, Vec<u8>, Outcome)> {
        if matches!(self.plan, Plan::Skip(_)) {
            return Vec::new();
        }
        let hostless = self.hostless();
        let Some(&first) = hostless.first() else {
            return vec![("", self.raw.clone(), self.planned())];
        };
        let stop = self.stop();
        let original = if first < stop {
            Outcome::Reject {
                answered: self.expected(first),
                status: vec![400],
            }
        } else {
            match self.planned() {
                Outcome::Reject {
                    answered,
                    mut status,
                } => {
                    if !status.contains(&400) {
                        status.push(400);
                    }
                    Outcome::Reject { answered, status }
                }
                Outcome::Incomplete { answered } => Outcome::Reject {
                    answered,
                    status: vec![400],
                },
                accept => accept,
            }
        };
        let mut out = vec![("", self.raw.clone(), original)];
        if let Some(raw) = self.with_host(&hostless) {
            let mut fixed = self.planned();
            let answered = match &mut fixed {
                Outcome::Accept(a) => a,
                Outcome::Reject { answered, .. } | Outcome::Incomplete { answered } => answered,
            };
            for &i in &hostless {
                if let Some(e) = answered.get_mut(i) {
                    e.headers
                        .insert(0, ("host".to_owned(), INSERTED_HOST.to_vec()));
                }
            }
            out.push((" +Host", raw, fixed));
        }
        out
    }

    /// The raw bytes with `Host: localhost` after the request line of each
    /// of `which`, or `None` when a request line cannot be found.
    fn with_host(&self, which: &[usize]) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(self.raw.len() + 20 * which.len());
        let mut cursor = 0;
        for &i in which {
            let e = &self.msgs[i].expected;
            let mut line = Vec::new();
            line.extend_from_slice(e.method.as_bytes());
            line.push(b' ');
            line.extend_from_slice(&e.target);
            line.extend_from_slice(b" HTTP/1.1\r\n");
            let at = cursor + find(&self.raw[cursor..], &line)?;
            let end = at + line.len();
            out.extend_from_slice(&self.raw[cursor..end]);
            out.extend_from_slice(b"Host: ");
            out.extend_from_slice(INSERTED_HOST);
            out.extend_from_slice(b"\r\n");
            cursor = end;
        }
        out.extend_from_slice(&self.raw[cursor..]);
        Some(out)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The echo servers of this test binary, one per set of limits, started
/// on first use and kept for the life of the process.
pub fn server(limits: ServerLimits) -> SocketAddr {
    static SERVERS: OnceLock<Mutex<HashMap<ServerLimits, RunningServer>>> = OnceLock::new();
    let mut map = SERVERS
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    map.entry(limits)
        .or_insert_with(|| {
            let mut s = Server::bind("127.0.0.1:0").expect("bind a loopback port");
            if let Some(n) = limits.max_request_line {
                s = s.max_request_line(n);
            }
            if let Some(n) = limits.max_head {
                s = s.max_head(n);
            }
            if let Some(n) = limits.max_headers {
                s = s.max_headers(n);
            }
            s.start(echo).expect("start the echo server")
        })
        .local_addr()
}

/// Sends `raw` and checks what comes back against `outcome`.
pub fn run_one(
    addr: SocketAddr,
    raw: &[u8],
    delivery: Delivery,
    outcome: &Outcome,
) -> Result<(), String> {
    let finish = match outcome {
        Outcome::Accept(_) => Finish::Close,
        Outcome::Reject { .. } => Finish::WaitForServer,
        Outcome::Incomplete { answered } if delivery == Delivery::Whole => {
            Finish::QuietThenClose(answered.len())
        }
        Outcome::Incomplete { .. } => Finish::Close,
    };
    let answered = outcome.answered();
    let method_of = |i: usize| {
        answered
            .get(i)
            .and_then(|e| Method::from_bytes(e.method.as_bytes()).ok())
            .unwrap_or(Method::GET)
    };
    let ex = exchange(addr, raw, delivery, finish, &method_of);
    check(outcome, &ex)
}

/// The echo a 2xx response carries.
fn echo_of(resp: &super::wire::Resp) -> Result<Echo, String> {
    match resp.header("x-echo") {
        Some(h) => Echo::from_json(&super::b64::decode(h)?),
        None => Echo::from_json(&resp.body),
    }
}

fn check_answered(want: &[Expected], ex: &Exchange) -> Result<(), String> {
    for (i, (w, r)) in want.iter().zip(&ex.responses).enumerate() {
        if r.status != 200 {
            return Err(format!(
                "request {i} ({} {}) got {} where 200 was expected: {}",
                w.method,
                show(&w.target),
                r.status,
                show(&r.body)
            ));
        }
        let e = echo_of(r)?;
        compare(&e, w).map_err(|d| format!("request {i} parsed differently: {d}"))?;
    }
    Ok(())
}

fn describe_end(ex: &Exchange) -> String {
    match &ex.end {
        End::Eof => "closed".to_owned(),
        End::Reset(e) => format!("reset ({e})"),
        End::Timeout => "neither answered nor closed in time".to_owned(),
        End::Garbage(g) => g.clone(),
    }
}

fn statuses(ex: &Exchange) -> String {
    let s: Vec<String> = ex.responses.iter().map(|r| r.status.to_string()).collect();
    format!("[{}]", s.join(", "))
}

/// Whether the server closed the connection properly after its last
/// response: an end of file, or a reset that came only because the client
/// was still writing after the server had finished with the connection
/// (it lingers a while reading, then closes; a slow client sending byte
/// by byte can outlast that).
fn closed_cleanly(ex: &Exchange) -> bool {
    match ex.end {
        End::Eof => true,
        End::Reset(_) => ex.write_error.is_some(),
        _ => false,
    }
}

/// Checks an exchange against the outcome.
pub fn check(outcome: &Outcome, ex: &Exchange) -> Result<(), String> {
    if ex.interim.iter().any(|&s| s != 100) {
        return Err(format!("unexpected interim responses {:?}", ex.interim));
    }
    match outcome {
        Outcome::Accept(want) => {
            check_answered(want, ex)?;
            if ex.responses.len() != want.len() || !closed_cleanly(ex) {
                return Err(format!(
                    "expected {} 200 responses then a close, got statuses {} then {}",
                    want.len(),
                    statuses(ex),
                    describe_end(ex)
                ));
            }
        }
        Outcome::Reject { answered, status } => {
            check_answered(answered, ex)?;
            let n = answered.len();
            let Some(r) = ex.responses.get(n) else {
                return Err(format!(
                    "expected {n} 200 responses then one of {status:?}, got statuses {} then {}",
                    statuses(ex),
                    describe_end(ex)
                ));
            };
            if !status.contains(&r.status) {
                return Err(format!(
                    "request {n} got {} where one of {status:?} was expected: {}",
                    r.status,
                    show(&r.body)
                ));
            }
            if !r.closes() {
                return Err(format!(
                    "the {} response does not say `Connection: close`",
                    r.status
                ));
            }
            if ex.responses.len() > n + 1 {
                return Err(format!(
                    "responses after the {} error: statuses {}",
                    r.status,
                    statuses(ex)
                ));
            }
            if !closed_cleanly(ex) {
                return Err(format!(
                    "after the {} response the connection was not closed cleanly: {}",
                    r.status,
                    describe_end(ex)
                ));
            }
        }
        Outcome::Incomplete { answered } => {
            check_answered(answered, ex)?;
            let n = answered.len();
            if ex.responses.len() < n {
                return Err(format!(
                    "expected {n} 200 responses, got statuses {} then {}",
                    statuses(ex),
                    describe_end(ex)
                ));
            }
            if ex.spoke_early {
                return Err(format!(
                    "the server answered an incomplete request before the client closed: statuses {}",
                    statuses(ex)
                ));
            }
            if let Some(r) = ex.responses[n..].iter().find(|r| r.status < 400) {
                return Err(format!(
                    "an incomplete request got {}: statuses {}",
                    r.status,
                    statuses(ex)
                ));
            }
            if ex.responses.len() > n + 1 || !closed_cleanly(ex) {
                return Err(format!(
                    "after end of file expected a close, got statuses {} then {}",
                    statuses(ex),
                    describe_end(ex)
                ));
            }
        }
    }
    Ok(())
}

/// Tallies and mismatches of one run over a corpus.
#[derive(Debug, Default)]
pub struct Report {
    pub counts: BTreeMap<String, usize>,
    pub failures: Vec<String>,
}

impl Report {
    pub fn count(&mut self, key: impl Into<String>) {
        *self.counts.entry(key.into()).or_default() += 1;
    }

    /// Prints the summary and panics listing every mismatch, if any.
    pub fn finish(self, title: &str) {
        let mut s = format!("{title}:");
        for (k, v) in &self.counts {
            let _ = write!(s, " {k}: {v};");
        }
        println!("{s}");
        if !self.failures.is_empty() {
            let mut msg = format!("{title}: {} mismatches\n", self.failures.len());
            for f in &self.failures {
                let _ = writeln!(msg, "  {f}");
            }
            panic!("{msg}");
        }
    }
}

/// Runs every case with one delivery, collecting a report. Cases run on a
/// few threads at once (the server serves each on its own connection).
pub fn run_cases(title: &str, cases: &[Case], delivery: impl Fn(&Case) -> Delivery + Sync) {
    let report = Mutex::new(Report::default());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                let mut local = Vec::new();
                let mut counts = Vec::new();
                if let Plan::Skip(_) = case.plan {
                    counts.push("skipped".to_owned());
                    if case.policy.is_some() {
                        counts.push("decided by POLICY".to_owned());
                    }
                } else {
                    let addr = server(case.limits);
                    let d = delivery(case);
                    for (variant, raw, outcome) in case.outcomes() {
                        if let Err(e) = run_one(addr, &raw, d, &outcome) {
                            local.push(format!(
                                "{}{variant} [{d}, expected {}{}]: {e}",
                                case.id,
                                outcome.kind(),
                                if case.policy.is_some() {
                                    " by policy"
                                } else {
                                    ""
                                },
                            ));
                        }
                        counts.push(if !variant.is_empty() {
                            format!("{} (Host inserted)", outcome.kind())
                        } else if case.lacks_host() {
                            "400 for lack of Host".to_owned()
                        } else {
                            outcome.kind().to_owned()
                        });
                    }
                    if case.policy.is_some() {
                        counts.push("decided by POLICY".to_owned());
                    }
                }
                let mut r = report.lock().unwrap();
                for c in counts {
                    r.count(c);
                }
                r.failures.extend(local);
            });
        }
    });
    let mut r = report.into_inner().unwrap();
    r.failures.sort();
    r.finish(title);
}

/// A decision recorded in a corpus file's policy table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Answered, parsing as the corpus describes it.
    Accept,
    /// Answered, parsing as another case of the corpus says.
    AcceptLike(&'static str),
    /// Answered, parsing as [`simple_messages`] reads the bytes (for a
    /// case the corpus lists no parse for).
    AcceptSimple,
    /// Answered as the corpus describes it, except that the first
    /// request's target reads as given (the `http` crate's URI type
    /// normalises it).
    AcceptTarget(&'static str),
    /// Answered as the corpus describes the first request's head, with
    /// this body (the corpus stopped before the body).
    AcceptBody(&'static [u8]),
    /// The first `n` requests answered, the next refused with one of these.
    Reject(usize, &'static [u16]),
    /// The first `n` requests answered, the body of the next waited for.
    Incomplete(usize),
    /// The first `n` requests answered, the head of the next waited for:
    /// it never ends in thicket's reading (so the Host rule never applies
    /// to it), whatever the corpus's parser made of it.
    IncompleteHead(usize),
    /// Not run.
    Skip,
}

impl Policy {
    /// The plan, and the requests with the policy's changes, for a case
    /// whose corpus describes `msgs` (the first `complete` of them whole).
    pub fn apply(
        self,
        reason: &str,
        raw: &[u8],
        mut msgs: Vec<Msg>,
        complete: usize,
    ) -> (Plan, Vec<Msg>) {
        let plan = match self {
            Policy::Accept | Policy::AcceptLike(_) => Plan::Accept(complete),
            Policy::AcceptSimple => {
                msgs = simple_messages(raw);
                Plan::Accept(msgs.len())
            }
            Policy::AcceptTarget(target) => {
                msgs[0].expected.target = target.as_bytes().to_vec();
                Plan::Accept(complete)
            }
            Policy::AcceptBody(body) => {
                msgs[0].expected.body = body.to_vec();
                Plan::Accept(1)
            }
            Policy::Reject(after, status) => Plan::Reject {
                after,
                status: status.to_vec(),
            },
            Policy::Incomplete(after) => Plan::Incomplete { after },
            Policy::IncompleteHead(after) => {
                if let Some(m) = msgs.get_mut(after) {
                    m.head_complete = false;
                }
                Plan::Incomplete { after }
            }
            Policy::Skip => Plan::Skip(reason.to_owned()),
        };
        (plan, msgs)
    }
}

/// The requests of `raw` read the simple way: request line split at
/// spaces, fields split at the first colon with whitespace trimmed,
/// `Content-Length` bodies. For the few cases a policy accepts that the
/// corpus lists no parse for; these are plain enough that the simple
/// reading is the only one.
pub fn simple_messages(raw: &[u8]) -> Vec<Msg> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(end) = find(rest, b"\r\n\r\n") {
        let head = &rest[..end];
        let mut lines = head
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        let line = lines.next().unwrap_or_default();
        let parts: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
        if parts.len() != 3 {
            break;
        }
        let headers: Vec<(String, Vec<u8>)> = lines
            .filter_map(|l| {
                let colon = l.iter().position(|&b| b == b':')?;
                Some((
                    String::from_utf8_lossy(&l[..colon]).to_ascii_lowercase(),
                    super::echo::trim_ows(&l[colon + 1..]),
                ))
            })
            .collect();
        let len: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse().ok())
            .unwrap_or(0);
        let body_start = end + 4;
        let body = rest[body_start..(body_start + len).min(rest.len())].to_vec();
        let version = String::from_utf8_lossy(parts[2]).into_owned();
        out.push(Msg {
            has_host: headers.iter().any(|(n, _)| n == "host"),
            is_11: version == "HTTP/1.1",
            head_complete: true,
            expected: Expected {
                method: String::from_utf8_lossy(parts[0]).into_owned(),
                target: parts[1].to_vec(),
                version,
                headers,
                body,
                trailers: Vec::new(),
                trailer_style: super::echo::Trailers::Separate,
            },
        });
        rest = &rest[(body_start + len).min(rest.len())..];
    }
    out
}
