//! The test-mode handler: it answers every request with a JSON echo of
//! what the server parsed, and the comparison of such an echo with what a
//! corpus says the request means.

use std::fmt::Write as _;
use std::io::Read;

use serde_json::{json, Value};
use thicket_http::http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use thicket_http::http::Method;
use thicket_http::{Body, Request, Response};

use super::b64;

/// Answers with `200` and a JSON object: `method`, `target`, `version`,
/// `headers` and `trailers` (lists of `[name, base64 value]` in the order
/// the server's `HeaderMap` keeps them), `body` (base64, read to the end)
/// and `body_error` (why reading the body failed, if it did). Responses
/// to `HEAD` and 2xx responses to `CONNECT` carry no body (RFC 9110 9.3.2,
/// 9.3.6), so there the echo also travels base64-encoded in an `x-echo`
/// header.
pub fn echo(mut req: Request) -> Response {
    let mut body = Vec::new();
    let body_error = req
        .body_mut()
        .read_to_end(&mut body)
        .err()
        .map(|e| e.to_string());
    let trailers = req.body().trailers().map(pairs).unwrap_or_default();
    let text = json!({
        "method": req.method().as_str(),
        "target": req.uri().to_string(),
        "version": format!("{:?}", req.version()),
        "headers": pairs(req.headers()),
        "body": b64::encode(&body),
        "trailers": trailers,
        "body_error": body_error,
    })
    .to_string();
    let mut resp = Response::new(Body::from(text.clone()));
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if req.method() == Method::HEAD || req.method() == Method::CONNECT {
        h.insert(
            "x-echo",
            HeaderValue::from_str(&b64::encode(text.as_bytes())).expect("base64 is a valid value"),
        );
    }
    resp
}

fn pairs(map: &HeaderMap) -> Vec<Value> {
    map.iter()
        .map(|(n, v)| json!([n.as_str(), b64::encode(v.as_bytes())]))
        .collect()
}

/// A field as compared: lowercase name, value bytes.
pub type Field = (String, Vec<u8>);

/// What the server said it parsed.
#[derive(Debug, Clone)]
pub struct Echo {
    pub method: String,
    pub target: String,
    pub version: String,
    pub headers: Vec<Field>,
    pub body: Vec<u8>,
    pub trailers: Vec<Field>,
    pub body_error: Option<String>,
}

impl Echo {
    pub fn from_json(text: &[u8]) -> Result<Echo, String> {
        let v: Value = serde_json::from_slice(text)
            .map_err(|e| format!("the echo is not JSON ({e}): {}", show(text)))?;
        let s = |k: &str| {
            v[k].as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("echo field {k} missing"))
        };
        let fields = |k: &str| -> Result<Vec<Field>, String> {
            let list = v[k]
                .as_array()
                .ok_or_else(|| format!("echo field {k} missing"))?;
            list.iter()
                .map(|p| {
                    let name = p[0].as_str().ok_or("bad field name")?.to_owned();
                    let value = b64::decode(p[1].as_str().ok_or("bad field value")?)?;
                    Ok((name, value))
                })
                .collect()
        };
        Ok(Echo {
            method: s("method")?,
            target: s("target")?,
            version: s("version")?,
            headers: fields("headers")?,
            body: b64::decode(&s("body")?)?,
            trailers: fields("trailers")?,
            body_error: v["body_error"].as_str().map(str::to_owned),
        })
    }
}

/// Where a corpus lists trailer fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trailers {
    /// In a list of their own (gunicorn).
    Separate,
    /// After the header fields, in the same list (llhttp logs them as
    /// more `header_field` spans).
    InHeaders,
}

/// What a corpus says one request means.
#[derive(Debug, Clone)]
pub struct Expected {
    pub method: String,
    pub target: Vec<u8>,
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: String,
    pub headers: Vec<Field>,
    pub body: Vec<u8>,
    pub trailers: Vec<Field>,
    pub trailer_style: Trailers,
}

/// Fields grouped by name in the order each name first appears, values in
/// order within a name: the order `http::HeaderMap` iterates in. Comparing
/// two lists in this form checks every value and the order of values that
/// share a name, which is all a `HeaderMap` keeps.
pub fn grouped(fields: &[Field]) -> Vec<Field> {
    let mut names: Vec<String> = Vec::new();
    for (n, _) in fields {
        let n = n.to_ascii_lowercase();
        if !names.contains(&n) {
            names.push(n);
        }
    }
    let mut out = Vec::with_capacity(fields.len());
    for name in names {
        for (n, v) in fields {
            if n.eq_ignore_ascii_case(&name) {
                out.push((name.clone(), v.clone()));
            }
        }
    }
    out
}

/// Every way `echo` differs from `want`, or `Ok` when it does not.
pub fn compare(echo: &Echo, want: &Expected) -> Result<(), String> {
    let mut diffs = String::new();
    if echo.method != want.method {
        let _ = write!(diffs, "method {:?} != {:?}; ", echo.method, want.method);
    }
    if echo.target.as_bytes() != want.target {
        let _ = write!(
            diffs,
            "target {:?} != {}; ",
            echo.target,
            show(&want.target)
        );
    }
    if echo.version != want.version {
        let _ = write!(diffs, "version {} != {}; ", echo.version, want.version);
    }
    let (got_h, want_h, got_t, want_t) = match want.trailer_style {
        Trailers::Separate => (
            grouped(&echo.headers),
            grouped(&want.headers),
            grouped(&echo.trailers),
            grouped(&want.trailers),
        ),
        Trailers::InHeaders => {
            let mut all = grouped(&echo.headers);
            all.extend(grouped(&echo.trailers));
            (grouped(&all), grouped(&want.headers), vec![], vec![])
        }
    };
    if got_h != want_h {
        let _ = write!(
            diffs,
            "headers {} != {}; ",
            show_fields(&got_h),
            show_fields(&want_h)
        );
    }
    if got_t != want_t {
        let _ = write!(
            diffs,
            "trailers {} != {}; ",
            show_fields(&got_t),
            show_fields(&want_t)
        );
    }
    if let Some(e) = &echo.body_error {
        let _ = write!(diffs, "reading the body failed: {e}; ");
    }
    if echo.body != want.body {
        let _ = write!(diffs, "body {} != {}; ", show(&echo.body), show(&want.body));
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(diffs.trim_end_matches("; ").to_owned())
    }
}

/// Bytes for a message: escaped, and cut short when long.
pub fn show(bytes: &[u8]) -> String {
    const MAX: usize = 120;
    let s = bytes[..bytes.len().min(MAX)].escape_ascii().to_string();
    if bytes.len() > MAX {
        format!("\"{s}\"...({} bytes)", bytes.len())
    } else {
        format!("\"{s}\"")
    }
}

fn show_fields(fields: &[Field]) -> String {
    let inner: Vec<String> = fields
        .iter()
        .map(|(n, v)| format!("{n}: {}", show(v)))
        .collect();
    format!("[{}]", inner.join(", "))
}

/// Latin-1 text (a corpus that decoded bytes one per character) back to
/// its bytes.
pub fn latin1(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

/// The value without the optional whitespace around it (RFC 9110 5.5:
/// it is not part of the field value).
pub fn trim_ows(v: &[u8]) -> Vec<u8> {
    let start = v.iter().position(|&b| b != b' ' && b != b'\t');
    let end = v.iter().rposition(|&b| b != b' ' && b != b'\t');
    match (start, end) {
        (Some(s), Some(e)) => v[s..=e].to_vec(),
        _ => Vec::new(),
    }
}
