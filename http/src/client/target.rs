//! Where a request goes: the parts of a URL the client needs (scheme, host,
//! port, request target), relative references resolved against a base
//! (RFC 3986 section 5), and percent-encoding for query strings.

use std::fmt;

use http::uri::{Authority, PathAndQuery, Scheme};
use http::Uri;

use crate::error::{Error, ErrorKind};

/// A URL the client can send a request to: `http` or `https`, with a host.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub uri: Uri,
    pub tls: bool,
    /// The host as written in the URL, lowercased; IPv6 literals keep their
    /// brackets.
    pub host: String,
    pub port: u16,
}

impl Target {
    /// Checks that `uri` is an absolute `http` or `https` URL with a host
    /// and no credentials.
    pub fn parse(uri: Uri) -> Result<Target, Error> {
        let invalid = |why: &str| Error::new(ErrorKind::InvalidRequest, format!("{why}: {uri}"));
        let tls = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("http") => false,
            Some(s) if s.eq_ignore_ascii_case("https") => true,
            Some(_) => return Err(invalid("unsupported URL scheme (only http and https)")),
            None => return Err(invalid("URL has no scheme (expected http:// or https://)")),
        };
        let Some(authority) = uri.authority() else {
            return Err(invalid("URL has no host"));
        };
        if authority.as_str().contains('@') {
            return Err(invalid(
                "credentials in URLs are not supported (use RequestBuilder::basic_auth)",
            ));
        }
        let host = authority.host().to_ascii_lowercase();
        if host.is_empty() {
            return Err(invalid("URL has no host"));
        }
        let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
        Ok(Target {
            uri,
            tls,
            host,
            port,
        })
    }

    /// The host without the brackets of an IPv6 literal: what DNS and TLS
    /// take.
    pub fn bare_host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }

    /// The `Host` field value: the host, and the port unless it is the
    /// scheme's default.
    pub fn host_header(&self) -> String {
        let default = if self.tls { 443 } else { 80 };
        if self.port == default {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The origin-form request target: path and query, `/` when empty.
    pub fn request_target(&self) -> &str {
        match self.uri.path_and_query() {
            Some(pq) if !pq.as_str().is_empty() => pq.as_str(),
            _ => "/",
        }
    }

    /// Whether `other` is the same origin (scheme, host and port).
    pub fn same_origin(&self, other: &Target) -> bool {
        self.tls == other.tls && self.host == other.host && self.port == other.port
    }

    /// This URL with `pairs` appended to its query, percent-encoded.
    pub fn with_query(&self, pairs: &[(String, String)]) -> Result<Target, Error> {
        let mut pq = self.request_target().to_string();
        let mut sep = if pq.contains('?') {
            if pq.ends_with('?') || pq.ends_with('&') {
                ""
            } else {
                "&"
            }
        } else {
            "?"
        };
        for (k, v) in pairs {
            pq.push_str(sep);
            encode_component(k, &mut pq);
            pq.push('=');
            encode_component(v, &mut pq);
            sep = "&";
        }
        let mut parts = self.uri.clone().into_parts();
        parts.path_and_query = Some(PathAndQuery::try_from(pq.as_str()).map_err(|e| {
            Error::with_source(ErrorKind::InvalidRequest, "invalid query string", e)
        })?);
        let uri = Uri::from_parts(parts)
            .map_err(|e| Error::with_source(ErrorKind::InvalidRequest, "invalid URL", e))?;
        Target::parse(uri)
    }

    /// Resolves a `Location` value against this URL (RFC 3986 5.2).
    pub fn join(&self, reference: &str) -> Result<Target, Error> {
        let uri = resolve(&self.uri, reference)?;
        Target::parse(uri)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.uri, f)
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Target({})", self.uri)
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub(crate) fn encode_component(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

/// Percent-encodes the bytes a URI may not contain (spaces, controls,
/// non-ASCII, and a few delimiters servers send unescaped in `Location`),
/// keeping everything else, including existing escapes, as it is.
fn escape_reference(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b <= b' '
            || b >= 0x7f
            || matches!(
                b,
                b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
            )
        {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        } else {
            out.push(b as char);
        }
    }
    out
}

/// `reference` resolved against the absolute URL `base`; the fragment is
/// dropped (it is not sent).
fn resolve(base: &Uri, reference: &str) -> Result<Uri, Error> {
    let invalid = || {
        Error::new(
            ErrorKind::InvalidRequest,
            format!("invalid redirect location {reference:?} (from {base})"),
        )
    };
    let reference = escape_reference(reference.trim());
    let reference = match reference.find('#') {
        Some(i) => &reference[..i],
        None => &reference[..],
    };
    // A scheme: letters, digits, + - . before the first ':', and no '/' '?'
    // before it.
    let scheme_end = reference.find(':').filter(|&i| {
        i > 0
            && reference.as_bytes()[0].is_ascii_alphabetic()
            && reference[..i]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    });
    if scheme_end.is_some() {
        let uri = Uri::try_from(reference).map_err(|_| invalid())?;
        return normalized(uri).ok_or_else(invalid);
    }
    let scheme = base.scheme().cloned().unwrap_or(Scheme::HTTP);
    if let Some(rest) = reference.strip_prefix("//") {
        let uri = Uri::try_from(format!("{scheme}://{rest}")).map_err(|_| invalid())?;
        return normalized(uri).ok_or_else(invalid);
    }
    let authority: Authority = base.authority().cloned().ok_or_else(invalid)?;
    let base_path = base.path();
    let base_query = base.query();
    let (ref_path, ref_query) = match reference.find('?') {
        Some(i) => (&reference[..i], Some(&reference[i + 1..])),
        None => (reference, None),
    };
    let (path, query) = if ref_path.is_empty() {
        (base_path.to_string(), ref_query.or(base_query))
    } else if ref_path.starts_with('/') {
        (remove_dot_segments(ref_path), ref_query)
    } else {
        let dir = match base_path.rfind('/') {
            Some(i) => &base_path[..=i],
            None => "/",
        };
        (remove_dot_segments(&format!("{dir}{ref_path}")), ref_query)
    };
    let mut s = format!("{scheme}://{authority}{path}");
    if let Some(q) = query {
        s.push('?');
        s.push_str(q);
    }
    Uri::try_from(s).map_err(|_| invalid())
}

/// An absolute URI with its path's dot segments removed.
fn normalized(uri: Uri) -> Option<Uri> {
    uri.scheme()?;
    uri.authority()?;
    let mut parts = uri.into_parts();
    if let Some(pq) = &parts.path_and_query {
        let path = remove_dot_segments(pq.path());
        let s = match pq.query() {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        parts.path_and_query = Some(PathAndQuery::try_from(s).ok()?);
    }
    Uri::from_parts(parts).ok()
}

/// RFC 3986 5.2.4, on an absolute path.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => {
                if i == last {
                    out.push("");
                }
            }
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if joined.starts_with('/') {
        joined
    } else {
        format!("/{joined}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Target {
        Target::parse(Uri::try_from(s).unwrap()).unwrap()
    }

    #[test]
    fn parses_hosts_ports_and_targets() {
        let a = t("http://Example.COM/a/b?x=1");
        assert_eq!(a.host, "example.com");
        assert_eq!(a.port, 80);
        assert_eq!(a.request_target(), "/a/b?x=1");
        assert_eq!(a.host_header(), "example.com");
        let b = t("https://[::1]:8443");
        assert!(b.tls);
        assert_eq!(b.bare_host(), "::1");
        assert_eq!(b.request_target(), "/");
        assert_eq!(b.host_header(), "[::1]:8443");
    }

    #[test]
    fn refuses_what_it_cannot_send() {
        for (url, want) in [
            ("ftp://a/", "unsupported URL scheme"),
            ("/just/a/path", "no scheme"),
            ("http://user:pw@a/", "credentials"),
        ] {
            let e = Target::parse(Uri::try_from(url).unwrap()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidRequest);
            assert!(e.to_string().contains(want), "{url}: {e}");
            assert!(e.to_string().contains(url), "{url}: {e}");
        }
    }

    #[test]
    fn resolves_references_as_rfc_3986_does() {
        // RFC 3986 5.4.1, less the cases a redirect cannot produce.
        let base = t("http://a/b/c/d;p?q");
        for (reference, want) in [
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g/"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p?q"),
            ("g#s", "http://a/b/c/g"),
            ("", "http://a/b/c/d;p?q"),
            (".", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../../g", "http://a/g"),
            ("/./g", "http://a/g"),
            ("g/../h", "http://a/b/c/h"),
            ("https://other:8443/x/../y", "https://other:8443/y"),
        ] {
            assert_eq!(
                base.join(reference).unwrap().uri.to_string(),
                want,
                "{reference:?}"
            );
        }
    }

    #[test]
    fn escapes_what_servers_send_raw() {
        let base = t("http://a/b");
        assert_eq!(
            base.join("/a b/é").unwrap().uri.to_string(),
            "http://a/a%20b/%C3%A9"
        );
    }

    #[test]
    fn appends_encoded_query_pairs() {
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let a = t("http://a/p")
            .with_query(&pairs(&[("q", "a b&c"), ("é", "1")]))
            .unwrap();
        assert_eq!(a.request_target(), "/p?q=a%20b%26c&%C3%A9=1");
        let b = t("http://a/p?x=1")
            .with_query(&pairs(&[("y", "2")]))
            .unwrap();
        assert_eq!(b.request_target(), "/p?x=1&y=2");
    }
}
