//! What [`send`](super::RequestBuilder::send) returns: an
//! `http::Response<BodyReader>` with the URL it came from and helpers to
//! read the body whole.

use std::fmt;
use std::io::{self, Read};
use std::ops::{Deref, DerefMut};

use bytes::Bytes;
use http::{HeaderMap, StatusCode, Uri, Version};

use crate::body::BodyReader;
use crate::error::{Error, ErrorKind};

/// A response from the client: the `http` crate's response with a streamed
/// [`BodyReader`] (it derefs to `http::Response<BodyReader>`), the final
/// URL after redirects, and helpers that read the body whole under a size
/// limit.
///
/// The body is read straight from the connection. Once it has been read to
/// its end, the connection goes back to the client's pool (when the server
/// allowed keep-alive); dropping a response whose body was not read closes
/// the connection instead, unless the rest of the body had already arrived.
///
/// # Examples
///
/// ```no_run
/// let client = thicket_http::Client::new();
/// let resp = client.get("http://127.0.0.1:8080/hello").send()?;
/// assert!(resp.status().is_success());
/// println!("{} from {}", resp.status(), resp.url());
/// let text = resp.error_for_status()?.text()?;
/// # Ok::<(), thicket_http::Error>(())
/// ```
pub struct Response {
    inner: http::Response<BodyReader>,
    url: Uri,
    limit: usize,
}

impl Response {
    pub(crate) fn new(inner: http::Response<BodyReader>, url: Uri, limit: usize) -> Response {
        Response { inner, url, limit }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.inner.status()
    }

    /// The HTTP version the server answered with.
    pub fn version(&self) -> Version {
        self.inner.version()
    }

    /// The header fields.
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The URL this response came from: the request's, or the last
    /// redirect's.
    pub fn url(&self) -> &Uri {
        &self.url
    }

    /// The body's declared length (`Content-Length`), if it had one.
    pub fn content_length(&self) -> Option<u64> {
        self.inner.body().content_length()
    }

    /// The trailer fields of a chunked body, once the body has been read to
    /// its end (`None` before that, or when there were none).
    pub fn trailers(&self) -> Option<&HeaderMap> {
        self.inner.body().trailers()
    }

    /// The size limit [`bytes`](Self::bytes), [`text`](Self::text) and
    /// [`json`](Self::json) apply (the client's
    /// [`max_body_size`](super::ClientBuilder::max_body_size) unless
    /// changed here).
    pub fn set_body_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    /// `Err` for a 4xx or 5xx status, naming it and the URL; the response
    /// otherwise.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Status`] for a client or server error status.
    ///
    /// # Examples
    ///
    /// ```
    /// use thicket_http::client::Response;
    /// use thicket_http::{BodyReader, ErrorKind};
    ///
    /// let resp = Response::from(http::Response::builder().status(404).body(BodyReader::empty()).unwrap());
    /// let err = resp.error_for_status().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Status);
    /// assert!(err.to_string().contains("404"), "{err}");
    /// ```
    pub fn error_for_status(self) -> Result<Response, Error> {
        let status = self.status();
        if status.is_client_error() || status.is_server_error() {
            return Err(Error::new(
                ErrorKind::Status,
                format!("HTTP status {status} from {}", self.url),
            ));
        }
        Ok(self)
    }

    /// Reads the whole body.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::TooLarge`] when the body is longer than the limit; any
    /// error reading it ([`ErrorKind::Closed`] when the connection ended
    /// early, [`ErrorKind::TimedOut`], ...).
    pub fn bytes(mut self) -> Result<Bytes, Error> {
        self.read_all()
    }

    /// Reads the whole body as UTF-8 text.
    ///
    /// # Errors
    ///
    /// As for [`bytes`](Self::bytes), and [`ErrorKind::Decode`] when the
    /// body is not UTF-8.
    pub fn text(mut self) -> Result<String, Error> {
        let bytes = self.read_all()?;
        String::from_utf8(bytes.to_vec()).map_err(|e| {
            Error::with_source(
                ErrorKind::Decode,
                format!("response body from {} is not UTF-8", self.url),
                e,
            )
        })
    }

    /// Reads the whole body and decodes it from JSON.
    ///
    /// # Errors
    ///
    /// As for [`bytes`](Self::bytes), and [`ErrorKind::Decode`] when the
    /// body is not JSON of the expected shape.
    #[cfg(feature = "json")]
    pub fn json<T: serde::de::DeserializeOwned>(mut self) -> Result<T, Error> {
        let bytes = self.read_all()?;
        serde_json::from_slice(&bytes).map_err(|e| {
            Error::with_source(
                ErrorKind::Decode,
                format!(
                    "response body from {} is not the expected JSON: {e}",
                    self.url
                ),
                e,
            )
        })
    }

    fn read_all(&mut self) -> Result<Bytes, Error> {
        let limit = self.limit;
        let mut out = Vec::new();
        if let Some(n) = self.content_length() {
            if n > limit as u64 {
                return Err(too_large(&self.url, limit, Some(n)));
            }
            out.reserve(n as usize);
        }
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = self.inner.body_mut().read(&mut buf).map_err(from_io_body)?;
            if n == 0 {
                return Ok(Bytes::from(out));
            }
            if out.len() + n > limit {
                return Err(too_large(&self.url, limit, None));
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    /// The body reader.
    pub fn body(&self) -> &BodyReader {
        self.inner.body()
    }

    /// The body reader, to read from.
    pub fn body_mut(&mut self) -> &mut BodyReader {
        self.inner.body_mut()
    }

    /// The body reader alone.
    pub fn into_body(self) -> BodyReader {
        self.inner.into_body()
    }

    /// The `http::Response` underneath.
    pub fn into_inner(self) -> http::Response<BodyReader> {
        self.inner
    }
}

fn too_large(url: &Uri, limit: usize, declared: Option<u64>) -> Error {
    let declared = declared.map_or(String::new(), |n| format!(" (Content-Length: {n})"));
    Error::new(
        ErrorKind::TooLarge,
        format!("response body from {url} is longer than the {limit}-byte limit{declared}"),
    )
}

/// An error from reading a body: the client's own error when that is what
/// the body reader passed on.
fn from_io_body(e: io::Error) -> Error {
    if !e.get_ref().is_some_and(|i| i.is::<Error>()) {
        return Error::from_io("reading the response body", e);
    }
    match e.into_inner().map(|i| i.downcast::<Error>()) {
        Some(Ok(err)) => *err,
        _ => unreachable!("the inner error was checked to be an Error"),
    }
}

impl From<http::Response<BodyReader>> for Response {
    /// A response with no URL (`/`) and the default body limit; for tests
    /// and for code holding a plain `http::Response`.
    fn from(inner: http::Response<BodyReader>) -> Response {
        Response::new(inner, Uri::from_static("/"), super::DEFAULT_MAX_BODY)
    }
}

impl From<Response> for http::Response<BodyReader> {
    fn from(r: Response) -> http::Response<BodyReader> {
        r.inner
    }
}

impl Deref for Response {
    type Target = http::Response<BodyReader>;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl DerefMut for Response {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

impl Read for Response {
    /// Reads the body.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.body_mut().read(buf)
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("url", &self.url)
            .field("status", &self.status())
            .field("version", &self.version())
            .field("headers", self.headers())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(body: &'static str) -> Response {
        Response::new(
            http::Response::new(BodyReader::from_bytes(body)),
            Uri::from_static("http://a/x"),
            8,
        )
    }

    #[test]
    fn body_helpers_enforce_the_limit() {
        assert_eq!(resp("12345678").text().unwrap(), "12345678");
        let e = resp("123456789").bytes().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooLarge);
        assert!(e.to_string().contains("8-byte limit"), "{e}");
        assert!(e.to_string().contains("http://a/x"), "{e}");
    }

    #[test]
    fn text_refuses_invalid_utf8() {
        let r = Response::new(
            http::Response::new(BodyReader::from_bytes(&b"\xff"[..])),
            Uri::from_static("http://a/x"),
            8,
        );
        assert_eq!(r.text().unwrap_err().kind(), ErrorKind::Decode);
    }

    #[cfg(feature = "json")]
    #[test]
    fn json_decodes_or_names_the_problem() {
        let v: Vec<u32> = resp("[1,2]").json().unwrap();
        assert_eq!(v, [1, 2]);
        let e = resp("{").json::<Vec<u32>>().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
        assert!(e.to_string().contains("JSON"), "{e}");
    }
}
