//! Building a request: [`RequestBuilder`] collects the method, URL,
//! fields, query and body, and keeps the first mistake to report it from
//! [`send`](RequestBuilder::send).

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use http::{Method, Uri};

use super::target::{encode_component, Target};
use super::{Client, Response};
use crate::body::{Body, Kind};
use crate::error::{Error, ErrorKind};

/// Something a request can be sent to: a URL as `&str` or `String`, or an
/// `http::Uri`. It must be absolute, `http` or `https`.
pub trait IntoUrl: sealed::Sealed {
    #[doc(hidden)]
    fn into_uri(self) -> Result<Uri, Error>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for &str {}
    impl Sealed for String {}
    impl Sealed for &String {}
    impl Sealed for http::Uri {}
    impl Sealed for &http::Uri {}
}

fn parse_url(s: &str) -> Result<Uri, Error> {
    Uri::try_from(s).map_err(|e| {
        Error::with_source(
            ErrorKind::InvalidRequest,
            format!("invalid URL {s:?}: {e}"),
            e,
        )
    })
}

impl IntoUrl for &str {
    fn into_uri(self) -> Result<Uri, Error> {
        parse_url(self)
    }
}

impl IntoUrl for String {
    fn into_uri(self) -> Result<Uri, Error> {
        parse_url(&self)
    }
}

impl IntoUrl for &String {
    fn into_uri(self) -> Result<Uri, Error> {
        parse_url(self)
    }
}

impl IntoUrl for Uri {
    fn into_uri(self) -> Result<Uri, Error> {
        Ok(self)
    }
}

impl IntoUrl for &Uri {
    fn into_uri(self) -> Result<Uri, Error> {
        Ok(self.clone())
    }
}

/// A request being built; [`send`](Self::send) it.
///
/// Mistakes (an invalid URL or field) are kept and reported by `send`, so
/// calls chain without a `?` at each step.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use thicket_http::{Body, Client};
///
/// let client = Client::new();
/// let resp = client
///     .post("http://127.0.0.1:8080/upload")
///     .query(&[("name", "report.csv"), ("overwrite", "yes")])
///     .header("content-type", "text/csv")
///     .body(Body::from_reader(std::fs::File::open("report.csv")?, None))
///     .timeout(Duration::from_secs(30))
///     .send()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder {
    client: Client,
    method: Method,
    uri: Result<Uri, Error>,
    headers: HeaderMap,
    query: Vec<(String, String)>,
    body: Option<Body>,
    timeout: Option<Duration>,
    error: Option<Error>,
}

/// What goes on the wire for a body: bytes can be sent again (after a
/// redirect, or on a fresh connection); a stream only once.
pub(crate) enum SendBody {
    Bytes(Bytes),
    Stream(Option<Body>, Option<u64>),
}

impl SendBody {
    pub fn from_body(body: Body) -> SendBody {
        match body.kind {
            Kind::Empty => SendBody::Bytes(Bytes::new()),
            Kind::Bytes(b) => SendBody::Bytes(b),
            _ => {
                let len = body.len();
                SendBody::Stream(Some(body), len)
            }
        }
    }

    /// The length when known before sending.
    pub fn len(&self) -> Option<u64> {
        match self {
            SendBody::Bytes(b) => Some(b.len() as u64),
            SendBody::Stream(_, len) => *len,
        }
    }

    /// Whether the body can still be sent (bytes always; a stream until it
    /// has been started).
    pub fn is_available(&self) -> bool {
        match self {
            SendBody::Bytes(_) => true,
            SendBody::Stream(b, _) => b.is_some(),
        }
    }

    /// Whether the body can be sent more than once.
    pub fn is_replayable(&self) -> bool {
        matches!(self, SendBody::Bytes(_))
    }
}

/// A request ready to go: the URL checked, the fields merged with the
/// client's defaults.
pub(crate) struct Prepared {
    pub method: Method,
    pub target: Target,
    pub headers: HeaderMap,
    pub body: SendBody,
    pub timeout: Option<Duration>,
    /// The URL asked for, once a redirect has changed `target`.
    pub first_url: Option<Uri>,
}

impl RequestBuilder {
    pub(crate) fn new(client: Client, method: Method, uri: Result<Uri, Error>) -> RequestBuilder {
        RequestBuilder {
            client,
            method,
            uri,
            headers: HeaderMap::new(),
            query: Vec::new(),
            body: None,
            timeout: None,
            error: None,
        }
    }

    fn fail(&mut self, e: Error) {
        self.error.get_or_insert(e);
    }

    pub(crate) fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// Adds a header field (after any of the same name). Fields set here
    /// replace the client's defaults of that name (`User-Agent`, `Accept`).
    /// `Content-Length` and `Transfer-Encoding` are not taken from here:
    /// the body decides them.
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        let name = match HeaderName::try_from(name) {
            Ok(n) => n,
            Err(e) => {
                let e: http::Error = e.into();
                self.fail(Error::with_source(
                    ErrorKind::InvalidRequest,
                    format!("invalid header field name: {e}"),
                    e,
                ));
                return self;
            }
        };
        match HeaderValue::try_from(value) {
            Ok(v) => {
                self.headers.append(name, v);
            }
            Err(e) => {
                let e: http::Error = e.into();
                self.fail(Error::with_source(
                    ErrorKind::InvalidRequest,
                    format!("invalid value for header field {name}: {e}"),
                    e,
                ));
            }
        }
        self
    }

    /// Adds every field of `headers`.
    pub fn headers(mut self, headers: HeaderMap) -> Self {
        for (name, value) in &headers {
            self.headers.append(name.clone(), value.clone());
        }
        self
    }

    /// Appends `pairs` to the URL's query, percent-encoded.
    pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        self.query.extend(
            pairs
                .iter()
                .map(|(k, v)| (k.as_ref().to_string(), v.as_ref().to_string())),
        );
        self
    }

    /// The body: bytes, a string, a reader ([`Body::from_reader`]), chunks
    /// ([`Body::from_chunks`]) or a file. A body whose length is known is
    /// sent with `Content-Length`, any other chunked.
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// A JSON body, with `Content-Type: application/json` unless one was
    /// set.
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(v) => {
                if !self.headers.contains_key(CONTENT_TYPE) {
                    self.headers
                        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
                self.body = Some(Body::from(v));
            }
            Err(e) => self.fail(Error::with_source(
                ErrorKind::InvalidRequest,
                format!("cannot encode the request body as JSON: {e}"),
                e,
            )),
        }
        self
    }

    /// A form body (`application/x-www-form-urlencoded`).
    pub fn form<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        let mut s = String::new();
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                s.push('&');
            }
            encode_component(k.as_ref(), &mut s);
            s.push('=');
            encode_component(v.as_ref(), &mut s);
        }
        if !self.headers.contains_key(CONTENT_TYPE) {
            self.headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            );
        }
        self.body = Some(Body::from(s));
        self
    }

    /// `Authorization: Basic` with `user` and `password`.
    pub fn basic_auth(self, user: impl fmt::Display, password: Option<impl fmt::Display>) -> Self {
        let creds = match password {
            Some(p) => format!("{user}:{p}"),
            None => format!("{user}:"),
        };
        let value = format!("Basic {}", base64(creds.as_bytes()));
        self.sensitive(value)
    }

    /// `Authorization: Bearer token`.
    pub fn bearer_auth(self, token: impl fmt::Display) -> Self {
        self.sensitive(format!("Bearer {token}"))
    }

    fn sensitive(mut self, value: String) -> Self {
        match HeaderValue::try_from(value) {
            Ok(mut v) => {
                v.set_sensitive(true);
                self.headers.insert(AUTHORIZATION, v);
            }
            Err(e) => self.fail(Error::with_source(
                ErrorKind::InvalidRequest,
                "invalid Authorization credentials",
                e,
            )),
        }
        self
    }

    /// How long the whole request may take, redirects and the response
    /// body included; replaces the client's [`timeout`](super::ClientBuilder::timeout).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    /// The request as an `http::Request`, with the query applied (the
    /// client's default fields are added when it is sent).
    ///
    /// # Errors
    ///
    /// The first mistake made while building it.
    pub fn build(self) -> Result<http::Request<Body>, Error> {
        let (_, prepared, body) = self.into_parts()?;
        let mut req = http::Request::new(body);
        *req.method_mut() = prepared.method;
        *req.uri_mut() = prepared.target.uri;
        *req.headers_mut() = prepared.headers;
        Ok(req)
    }

    fn into_parts(mut self) -> Result<(Client, Prepared, Body), Error> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let uri = self.uri?;
        let mut target = Target::parse(uri)?;
        if !self.query.is_empty() {
            target = target.with_query(&self.query)?;
        }
        if self.method == Method::CONNECT {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                format!("CONNECT is not supported by the client ({target})"),
            ));
        }
        let body = self.body.unwrap_or_default();
        if body.is_upgrade() {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                format!("an upgrade body cannot be sent as a request ({target})"),
            ));
        }
        let prepared = Prepared {
            method: self.method,
            target,
            headers: self.headers,
            body: SendBody::Bytes(Bytes::new()),
            timeout: self.timeout,
            first_url: None,
        };
        Ok((self.client, prepared, body))
    }

    /// Sends the request and returns the response once its head has
    /// arrived; the body is read from the response.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::InvalidRequest`]: a mistake while building (invalid
    ///   URL, scheme other than http/https, invalid field);
    /// - [`ErrorKind::Connect`]: the host could not be resolved or reached;
    /// - [`ErrorKind::Tls`]: the TLS handshake failed (untrusted
    ///   certificate...);
    /// - [`ErrorKind::TimedOut`]: the connect, read or total timeout
    ///   passed;
    /// - [`ErrorKind::Closed`]: the server closed the connection before
    ///   answering;
    /// - [`ErrorKind::Parse`]: the response is not valid HTTP/1.1;
    /// - [`ErrorKind::TooLarge`]: the response head is over the limit, or
    ///   more redirects than allowed;
    /// - [`ErrorKind::Io`]: reading the request body failed.
    pub fn send(self) -> Result<Response, Error> {
        let (client, mut prepared, body) = self.into_parts()?;
        prepared.body = SendBody::from_body(body);
        super::exec::execute(client.inner(), prepared)
    }
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .field("uri", &self.uri.as_ref().ok())
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

/// Standard base64 with padding (RFC 4648), for Basic credentials.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("Aladdin:open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }

    #[test]
    fn build_applies_query_and_keeps_the_first_mistake() {
        let c = Client::new();
        let req = c
            .get("http://a/p?x=1")
            .query(&[("q", "a b")])
            .header("x-one", "1")
            .basic_auth("Aladdin", Some("open sesame"))
            .build()
            .unwrap();
        assert_eq!(req.uri(), "http://a/p?x=1&q=a%20b");
        assert_eq!(req.headers()["x-one"], "1");
        assert_eq!(
            req.headers()["authorization"],
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        let e = c
            .get("http://a/")
            .header("bad name", "x")
            .header("x", "bad\nvalue")
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidRequest);
        assert!(e.to_string().contains("header field name"), "{e}");
        let e = c.get("not a url").build().unwrap_err();
        assert!(e.to_string().contains("not a url"), "{e}");
        let e = c.get("ftp://a/").build().unwrap_err();
        assert!(e.to_string().contains("ftp://a/"), "{e}");
    }
}
