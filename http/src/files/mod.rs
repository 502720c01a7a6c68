//! Serving a directory: [`StaticFiles`].

pub(crate) mod conditional;
mod mime;
pub(crate) mod range;

use std::fs::{self, File};
use std::io;
use std::path::{Component, Path, PathBuf};

use http::header::{
    HeaderValue, ACCEPT_RANGES, ALLOW, CACHE_CONTROL, CONTENT_RANGE, CONTENT_TYPE, ETAG,
    LAST_MODIFIED, LOCATION, RANGE,
};
use http::{Method, StatusCode};
use percent_encoding::percent_decode_str;

use self::conditional::{Precondition, Validators};
use self::range::Ranged;
use crate::router::plain;
use crate::{Body, Handler, Params, Request, Response};

/// A [`Handler`] serving the files under a directory, for `GET` and
/// `HEAD`.
///
/// The request path (percent-decoded) names a file under the root. Under a
/// [`Router`](crate::Router) route ending in `*name`, only the part of the
/// path that the wildcard matched is used (see [`Params::rest_raw`]), so
/// `router.get("/static/*path", StaticFiles::new("public"))` serves
/// `public/css/site.css` for `/static/css/site.css`.
///
/// # What is served
///
/// - A regular file, with `Content-Type` from its extension (text types
///   with `charset=utf-8`), `Content-Length`, `Accept-Ranges: bytes`, a
///   strong `ETag` made of the modification time (to the nanosecond) and
///   the length, and `Last-Modified`.
/// - For a directory, its first existing index file (`index.html` unless
///   set with [`index_files`](StaticFiles::index_files)); a directory
///   requested without its trailing slash is redirected (`301`) to the
///   path with it, so that relative links in the index resolve. Directory
///   contents are never listed.
/// - `HEAD` gets the same head as `GET`; the server leaves the body out.
///
/// # Conditional and range requests
///
/// Preconditions are evaluated as RFC 9110 §13.2.2 orders them:
/// `If-Match`, else `If-Unmodified-Since` (failing: `412`); then
/// `If-None-Match`, else `If-Modified-Since` (matching: `304`). A `GET`
/// with a single byte range (`bytes=a-b`, `a-`, `-n`) is answered with
/// `206` and `Content-Range`; a range that starts past the end with `416`
/// and `Content-Range: bytes */len`. Several ranges are answered with the
/// whole file (`200`), which RFC 9110 §14.2 allows; so is a range whose
/// `If-Range` does not name the current file.
///
/// # Refusals
///
/// - `405` (with `Allow: GET, HEAD`) for other methods.
/// - `400` for a path that cannot name a file under the root: a `.` or
///   `..` segment (plain or percent-encoded), an encoded `/` or `\`
///   (`%2F`, `%5C`), a `\`, a NUL byte, or bytes that are not UTF-8 once
///   decoded. Clients normalise dot segments before sending (RFC 3986
///   §5.2.4), so such a request was crafted.
/// - `404` for anything missing, for names starting with `.` (unless
///   [`serve_hidden`](StaticFiles::serve_hidden) is set: `.git` and `.env`
///   are not for the web), for anything that is not a regular file or a
///   directory, and for a symbolic link that resolves outside the root
///   (paths are canonicalized and must stay under the canonical root).
///   These look the same from outside, so a client cannot probe what
///   exists outside the root.
/// - `403` when the operating system denies access to the file.
///
/// The root is canonicalized on every request, so replacing it by
/// swapping a symbolic link takes effect at once. File metadata is read
/// with ordinary blocking calls, which are short for local file systems;
/// the server sends the body.
///
/// # Examples
///
/// ```
/// use std::io::Read;
/// use thicket_http::http::{self, StatusCode};
/// use thicket_http::{BodyReader, Handler, StaticFiles};
///
/// let root = std::env::temp_dir().join(format!("thicket-files-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&root)?;
/// std::fs::write(root.join("hello.txt"), "hello, world")?;
///
/// let files = StaticFiles::new(&root);
/// let req = http::Request::builder()
///     .uri("/hello.txt")
///     .header("range", "bytes=7-")
///     .body(BodyReader::empty())
///     .unwrap();
/// let resp = files.handle(req);
/// assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
/// assert_eq!(resp.headers()["content-range"], "bytes 7-11/12");
/// assert_eq!(resp.headers()["content-type"], "text/plain; charset=utf-8");
/// let mut text = String::new();
/// resp.into_body().into_reader().read_to_string(&mut text)?;
/// assert_eq!(text, "world");
/// # std::fs::remove_dir_all(&root)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct StaticFiles {
    root: PathBuf,
    index_files: Vec<String>,
    cache_control: Option<HeaderValue>,
    serve_hidden: bool,
}

/// What a request path resolved to.
enum Resolved {
    /// An open regular file and the name whose extension gives its type.
    File(File, PathBuf),
    /// A directory asked for without its trailing slash.
    AddSlash,
    /// A refusal.
    Status(StatusCode),
}

impl StaticFiles {
    /// Serves the files under `root`. The directory need not exist yet:
    /// until it does, every request is answered with `404`.
    pub fn new(root: impl Into<PathBuf>) -> StaticFiles {
        StaticFiles {
            root: root.into(),
            index_files: vec!["index.html".to_string()],
            cache_control: None,
            serve_hidden: false,
        }
    }

    /// The file names tried, in order, when a directory is requested
    /// (`index.html` by default; none turns index files off, so every
    /// directory is `404`).
    pub fn index_files<I, S>(mut self, names: I) -> StaticFiles
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.index_files = names.into_iter().map(Into::into).collect();
        self
    }

    /// A `Cache-Control` value sent with every file (and with `304`
    /// answers, as RFC 9110 §15.4.5 requires), such as `max-age=3600` or
    /// `no-cache`. None is sent by default, leaving caches to their
    /// heuristics.
    pub fn cache_control(mut self, value: HeaderValue) -> StaticFiles {
        self.cache_control = Some(value);
        self
    }

    /// Whether names starting with `.` are served (default: no, `404`).
    pub fn serve_hidden(mut self, yes: bool) -> StaticFiles {
        self.serve_hidden = yes;
        self
    }

    fn resolve(&self, relative: &Path, slash: bool) -> Resolved {
        let root = match fs::canonicalize(&self.root) {
            Ok(root) => root,
            Err(e) => {
                log::warn!("static files root {}: {e}", self.root.display());
                return Resolved::Status(StatusCode::NOT_FOUND);
            }
        };
        let (path, meta) = match inside(&root, &root.join(relative)) {
            Ok(found) => found,
            Err(status) => return Resolved::Status(status),
        };
        if meta.is_file() {
            return open(&path, relative.to_path_buf());
        }
        if !meta.is_dir() {
            return Resolved::Status(StatusCode::NOT_FOUND);
        }
        if !slash {
            return Resolved::AddSlash;
        }
        for name in &self.index_files {
            if let Ok((index, meta)) = inside(&root, &path.join(name)) {
                if meta.is_file() {
                    return open(&index, PathBuf::from(name));
                }
            }
        }
        Resolved::Status(StatusCode::NOT_FOUND)
    }

    fn serve(&self, req: &Request, file: File, name: &Path) -> Response {
        let meta = match file.metadata() {
            Ok(meta) if meta.is_file() => meta,
            Ok(_) => return status(StatusCode::NOT_FOUND),
            Err(e) => {
                log::error!("static file {}: {e}", name.display());
                return status(StatusCode::INTERNAL_SERVER_ERROR);
            }
        };
        let len = meta.len();
        let validators = Validators::of(&meta);
        let mut resp = Response::new(Body::empty());
        let headers = resp.headers_mut();
        if let Some(v) = &validators {
            headers.insert(ETAG, v.etag());
            headers.insert(LAST_MODIFIED, v.last_modified());
        }
        if let Some(cc) = &self.cache_control {
            headers.insert(CACHE_CONTROL, cc.clone());
        }
        match conditional::evaluate(req.headers(), validators.as_ref()) {
            Precondition::Proceed => {}
            Precondition::NotModified => {
                *resp.status_mut() = StatusCode::NOT_MODIFIED;
                return resp;
            }
            Precondition::Failed => return status(StatusCode::PRECONDITION_FAILED),
        }
        let file_name = name.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let headers = resp.headers_mut();
        headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(mime::content_type(file_name)),
        );
        // Range requests are defined for GET only (RFC 9110 §14.2).
        let range = req
            .headers()
            .get(RANGE)
            .filter(|_| req.method() == Method::GET)
            .and_then(|v| v.to_str().ok())
            .filter(|_| conditional::if_range_allows(req.headers(), validators.as_ref()));
        let (start, part_len) = match range.map_or(Ranged::Full, |r| range::parse(r, len)) {
            Ranged::Full => (0, len),
            Ranged::Part { start, len: part } => {
                *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
                let end = start + part - 1;
                resp.headers_mut()
                    .insert(CONTENT_RANGE, header(&format!("bytes {start}-{end}/{len}")));
                (start, part)
            }
            Ranged::Unsatisfiable => {
                *resp.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
                resp.headers_mut().remove(CONTENT_TYPE);
                resp.headers_mut()
                    .insert(CONTENT_RANGE, header(&format!("bytes */{len}")));
                return resp;
            }
        };
        *resp.body_mut() = Body::from_file_range(file, start, part_len);
        resp
    }
}

impl Handler for StaticFiles {
    fn handle(&self, req: Request) -> Response {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            let mut resp = status(StatusCode::METHOD_NOT_ALLOWED);
            resp.headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            return resp;
        }
        let path = req.uri().path();
        let raw = req
            .extensions()
            .get::<Params>()
            .and_then(Params::rest_raw)
            .unwrap_or(path);
        let relative = match relative_path(raw, self.serve_hidden) {
            Ok(relative) => relative,
            Err(code) => return status(code),
        };
        match self.resolve(&relative, path.ends_with('/')) {
            Resolved::File(file, name) => self.serve(&req, file, &name),
            Resolved::AddSlash => redirect_with_slash(&req),
            Resolved::Status(code) => status(code),
        }
    }
}

/// The relative file path a (percent-encoded) request path names, or the
/// status refusing it.
pub(crate) fn relative_path(raw: &str, serve_hidden: bool) -> Result<PathBuf, StatusCode> {
    let mut path = PathBuf::new();
    for segment in raw.split('/').filter(|s| !s.is_empty()) {
        let encoded_separator = ["%2f", "%5c"].iter().any(|sep| {
            segment
                .as_bytes()
                .windows(3)
                .any(|w| w.eq_ignore_ascii_case(sep.as_bytes()))
        });
        if encoded_separator {
            return Err(StatusCode::BAD_REQUEST);
        }
        let decoded = percent_decode_str(segment)
            .decode_utf8()
            .map_err(|_| StatusCode::BAD_REQUEST)?;
        if decoded.contains(['\0', '\\', '/']) {
            return Err(StatusCode::BAD_REQUEST);
        }
        // Exactly one ordinary name: not `.`, `..`, a root or a prefix.
        let mut components = Path::new(&*decoded).components();
        if !matches!(
            (components.next(), components.next()),
            (Some(Component::Normal(_)), None)
        ) {
            return Err(StatusCode::BAD_REQUEST);
        }
        if decoded.starts_with('.') && !serve_hidden {
            return Err(StatusCode::NOT_FOUND);
        }
        path.push(&*decoded);
    }
    Ok(path)
}

/// Canonicalizes `path` and checks that it stays under `root` (itself
/// canonical), returning it with its metadata.
fn inside(root: &Path, path: &Path) -> Result<(PathBuf, fs::Metadata), StatusCode> {
    let canonical = fs::canonicalize(path).map_err(|e| io_status(&e))?;
    if !canonical.starts_with(root) {
        return Err(StatusCode::NOT_FOUND);
    }
    let meta = fs::metadata(&canonical).map_err(|e| io_status(&e))?;
    Ok((canonical, meta))
}

fn open(path: &Path, name: PathBuf) -> Resolved {
    match File::open(path) {
        Ok(file) => Resolved::File(file, name),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            Resolved::Status(StatusCode::FORBIDDEN)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Resolved::Status(StatusCode::NOT_FOUND),
        Err(e) => {
            log::error!("static file {}: {e}", path.display());
            Resolved::Status(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// Resolving a path: a denied permission is `403`; anything else (missing,
/// a file used as a directory, a name too long, a symlink loop) means the
/// path names nothing servable, `404`.
fn io_status(e: &io::Error) -> StatusCode {
    match e.kind() {
        io::ErrorKind::PermissionDenied => StatusCode::FORBIDDEN,
        _ => StatusCode::NOT_FOUND,
    }
}

/// `301` to the request's path with a `/` added, keeping the query.
fn redirect_with_slash(req: &Request) -> Response {
    // A path starting with `//` would make the Location a network-path
    // reference to another host (an open redirect): keep one slash.
    let path = format!("/{}/", req.uri().path().trim_start_matches('/'));
    let location = match req.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let mut resp = status(StatusCode::MOVED_PERMANENTLY);
    resp.headers_mut().insert(LOCATION, header(&location));
    resp
}

fn status(code: StatusCode) -> Response {
    let text = match code {
        StatusCode::BAD_REQUEST => "400 Bad Request\n",
        StatusCode::FORBIDDEN => "403 Forbidden\n",
        StatusCode::NOT_FOUND => "404 Not Found\n",
        StatusCode::METHOD_NOT_ALLOWED => "405 Method Not Allowed\n",
        StatusCode::PRECONDITION_FAILED => "412 Precondition Failed\n",
        StatusCode::MOVED_PERMANENTLY => "301 Moved Permanently\n",
        _ => "500 Internal Server Error\n",
    };
    plain(code, text)
}

/// A header value built from a request's path and query, or from numbers:
/// both are visible ASCII.
fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).expect("paths and numbers are valid header values")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_table() {
        let ok: &[(&str, &str)] = &[
            ("/", ""),
            ("/a.txt", "a.txt"),
            ("/dir/a.txt", "dir/a.txt"),
            ("//dir//a.txt", "dir/a.txt"),
            ("/dir/", "dir"),
            ("/a%20b.txt", "a b.txt"),
            ("/caf%C3%A9", "café"),
            ("/a..b", "a..b"),
            ("css/site.css", "css/site.css"),
        ];
        for (raw, want) in ok {
            assert_eq!(relative_path(raw, false), Ok(PathBuf::from(want)), "{raw}");
        }
        let refused: &[(&str, StatusCode)] = &[
            ("/../etc/passwd", StatusCode::BAD_REQUEST),
            ("/a/../../etc/passwd", StatusCode::BAD_REQUEST),
            ("/%2e%2e/etc/passwd", StatusCode::BAD_REQUEST),
            ("/%2E%2E/etc/passwd", StatusCode::BAD_REQUEST),
            ("/.%2e/x", StatusCode::BAD_REQUEST),
            ("/./a", StatusCode::BAD_REQUEST),
            ("/a%2F..%2F..%2Fetc", StatusCode::BAD_REQUEST),
            ("/a%2fb", StatusCode::BAD_REQUEST),
            ("/a%5cb", StatusCode::BAD_REQUEST),
            ("/a\\b", StatusCode::BAD_REQUEST),
            ("/a%00.txt", StatusCode::BAD_REQUEST),
            ("/%FF", StatusCode::BAD_REQUEST),
            ("/.env", StatusCode::NOT_FOUND),
            ("/.git/config", StatusCode::NOT_FOUND),
            ("/dir/.hidden", StatusCode::NOT_FOUND),
        ];
        for (raw, want) in refused {
            assert_eq!(relative_path(raw, false), Err(*want), "{raw}");
        }
        assert_eq!(
            relative_path("/.well-known/x", true),
            Ok(PathBuf::from(".well-known/x"))
        );
        assert_eq!(relative_path("/..", true), Err(StatusCode::BAD_REQUEST));
    }

    #[test]
    fn redirect_keeps_query_and_refuses_network_paths() {
        let cases = [
            ("/docs?lang=en", "/docs/?lang=en"),
            ("/a/b", "/a/b/"),
            ("//evil.example/x", "/evil.example/x/"),
        ];
        for (uri, want) in cases {
            let req = http::Request::builder()
                .uri(uri)
                .body(crate::BodyReader::empty())
                .unwrap();
            let resp = redirect_with_slash(&req);
            assert_eq!(resp.status(), StatusCode::MOVED_PERMANENTLY);
            assert_eq!(resp.headers()[LOCATION], want, "{uri}");
        }
    }
}
