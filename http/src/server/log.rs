//! The access log: one line per request from a template.

use std::fmt::{self, Write as _};
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use http::{HeaderMap, Method, StatusCode, Uri, Version};
use parking_lot::Mutex;

/// An access log: a line per request, made from a template, written to the
/// `log` facade (target `thicket_http::access`, level info) or to a writer.
///
/// Template fields, in braces: `{client}` (the peer's address, or the
/// first `X-Forwarded-For` address when [`trust_forwarded`] is on),
/// `{method}`, `{target}`, `{version}`, `{request}` (the request line),
/// `{status}`, `{bytes}` (body bytes sent), `{duration_ms}`,
/// `{duration_us}`, `{referer}`, `{user_agent}`. Anything else is copied.
///
/// [`trust_forwarded`]: AccessLog::trust_forwarded
///
/// # Examples
///
/// ```
/// use thicket_http::server::AccessLog;
///
/// let log = AccessLog::to_writer(std::io::stderr())
///     .template("{client} \"{request}\" {status} {bytes} {duration_ms}ms")
///     .unwrap();
/// # drop(log);
/// ```
pub struct AccessLog {
    parts: Vec<Part>,
    sink: Sink,
    trust_forwarded: bool,
}

/// The template gunicorn users know, in this syntax.
pub const DEFAULT_TEMPLATE: &str =
    "{client} \"{request}\" {status} {bytes} \"{referer}\" \"{user_agent}\" {duration_ms}ms";

enum Sink {
    Log,
    Writer(Mutex<Box<dyn Write + Send>>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Client,
    Method,
    Target,
    Version,
    Request,
    Status,
    Bytes,
    DurationMs,
    DurationUs,
    Referer,
    UserAgent,
}

/// A template that names a field that does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "access log template: {}", self.0)
    }
}

impl std::error::Error for TemplateError {}

/// What the access log knows about one request.
pub(crate) struct Entry<'a> {
    pub peer: SocketAddr,
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub version: Version,
    pub headers: &'a HeaderMap,
    pub status: StatusCode,
    pub bytes: u64,
    pub duration: Duration,
}

impl AccessLog {
    /// Lines go to the `log` facade, target `thicket_http::access`.
    pub fn to_log() -> AccessLog {
        AccessLog::with_sink(Sink::Log)
    }

    /// Lines go to `w`, each ending with a newline.
    pub fn to_writer(w: impl Write + Send + 'static) -> AccessLog {
        AccessLog::with_sink(Sink::Writer(Mutex::new(Box::new(w))))
    }

    fn with_sink(sink: Sink) -> AccessLog {
        AccessLog {
            parts: parse(DEFAULT_TEMPLATE).expect("the default template is valid"),
            sink,
            trust_forwarded: false,
        }
    }

    /// Uses `template` instead of [`DEFAULT_TEMPLATE`].
    ///
    /// # Errors
    ///
    /// An unknown field or an unclosed brace, named in the error.
    pub fn template(mut self, template: &str) -> Result<AccessLog, TemplateError> {
        self.parts = parse(template)?;
        Ok(self)
    }

    /// Takes `{client}` from the first address of `X-Forwarded-For` when
    /// there is one. Turn it on only behind a proxy you trust: clients can
    /// send the header themselves.
    #[must_use]
    pub fn trust_forwarded(mut self, yes: bool) -> AccessLog {
        self.trust_forwarded = yes;
        self
    }

    pub(crate) fn record(&self, e: &Entry<'_>) {
        let line = self.format(e);
        match &self.sink {
            Sink::Log => log::info!(target: "thicket_http::access", "{line}"),
            Sink::Writer(w) => {
                let mut w = w.lock();
                let _ = writeln!(w, "{line}");
                let _ = w.flush();
            }
        }
    }

    fn format(&self, e: &Entry<'_>) -> String {
        let mut s = String::with_capacity(128);
        let header = |name: http::header::HeaderName| {
            e.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_owned()
        };
        for p in &self.parts {
            let _ = match p {
                Part::Text(t) => s.write_str(t),
                Part::Client => {
                    let forwarded = self
                        .trust_forwarded
                        .then(|| e.headers.get("x-forwarded-for"))
                        .flatten()
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.split(',').next())
                        .map(str::trim)
                        .filter(|v| !v.is_empty());
                    match forwarded {
                        Some(f) => s.write_str(f),
                        None => write!(s, "{}", e.peer.ip()),
                    }
                }
                Part::Method => s.write_str(e.method.as_str()),
                Part::Target => write!(s, "{}", e.uri),
                Part::Version => write!(s, "{:?}", e.version),
                Part::Request => write!(s, "{} {} {:?}", e.method, e.uri, e.version),
                Part::Status => write!(s, "{}", e.status.as_u16()),
                Part::Bytes => write!(s, "{}", e.bytes),
                Part::DurationMs => write!(s, "{:.3}", e.duration.as_secs_f64() * 1e3),
                Part::DurationUs => write!(s, "{}", e.duration.as_micros()),
                Part::Referer => s.write_str(&header(http::header::REFERER)),
                Part::UserAgent => s.write_str(&header(http::header::USER_AGENT)),
            };
        }
        s
    }
}

impl fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessLog")
            .field(
                "sink",
                &match self.sink {
                    Sink::Log => "log",
                    Sink::Writer(_) => "writer",
                },
            )
            .field("trust_forwarded", &self.trust_forwarded)
            .finish_non_exhaustive()
    }
}

fn parse(template: &str) -> Result<Vec<Part>, TemplateError> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push(Part::Text(rest[..open].to_owned()));
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| TemplateError(format!("unclosed brace at {:?}", &rest[open..])))?;
        let part = match &after[..close] {
            "client" => Part::Client,
            "method" => Part::Method,
            "target" => Part::Target,
            "version" => Part::Version,
            "request" => Part::Request,
            "status" => Part::Status,
            "bytes" => Part::Bytes,
            "duration_ms" => Part::DurationMs,
            "duration_us" => Part::DurationUs,
            "referer" => Part::Referer,
            "user_agent" => Part::UserAgent,
            other => return Err(TemplateError(format!("unknown field {{{other}}}"))),
        };
        parts.push(part);
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_owned()));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry<'a>(method: &'a Method, uri: &'a Uri, headers: &'a HeaderMap) -> Entry<'a> {
        Entry {
            peer: "10.0.0.1:5000".parse().unwrap(),
            method,
            uri,
            version: Version::HTTP_11,
            headers,
            status: StatusCode::NOT_FOUND,
            bytes: 12,
            duration: Duration::from_micros(1500),
        }
    }

    #[test]
    fn formats_every_field() {
        let log = AccessLog::to_log()
            .template("{client} {method} {target} \"{request}\" {status} {bytes} {duration_us} {user_agent}")
            .unwrap();
        let (m, u) = (Method::GET, Uri::from_static("/a?b"));
        let mut h = HeaderMap::new();
        h.insert("user-agent", "curl/8".parse().unwrap());
        let line = log.format(&entry(&m, &u, &h));
        assert_eq!(
            line,
            "10.0.0.1 GET /a?b \"GET /a?b HTTP/1.1\" 404 12 1500 curl/8"
        );
    }

    #[test]
    fn forwarded_for_only_when_trusted() {
        let (m, u) = (Method::GET, Uri::from_static("/"));
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.7, 10.0.0.2".parse().unwrap());
        let plain = AccessLog::to_log().template("{client}").unwrap();
        assert_eq!(plain.format(&entry(&m, &u, &h)), "10.0.0.1");
        let trusting = plain.trust_forwarded(true);
        assert_eq!(trusting.format(&entry(&m, &u, &h)), "203.0.113.7");
    }

    #[test]
    fn bad_templates_name_the_problem() {
        let e = AccessLog::to_log().template("{nope}").unwrap_err();
        assert!(e.to_string().contains("{nope}"), "{e}");
        let e = AccessLog::to_log().template("{client").unwrap_err();
        assert!(e.to_string().contains("unclosed"), "{e}");
    }
}
