//! Field values and paths the server and client interpret after the head
//! is parsed: `Range`, the `If-*` preconditions, the router's and static
//! files' paths, and a redirect's `Location`.

use std::borrow::Cow;
use std::path::Component;
use std::sync::OnceLock;

use http::header::{
    HeaderMap, HeaderName, HeaderValue, ALLOW, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    IF_RANGE, IF_UNMODIFIED_SINCE,
};
use http::{Method, StatusCode, Uri};
use percent_encoding::percent_decode_str;
use thicket_http::fuzzing::{self, Precondition, Range, Validators};
use thicket_http::{Body, BodyReader, Handler, Params, Request, Response, Router};

/// A `Range` value against representations of several lengths: a part it
/// selects is non-empty and inside the representation.
pub fn range(data: &[u8]) {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    for len in [0, 1, 2, 100, 1 << 40, u64::MAX] {
        match fuzzing::range(value, len) {
            Range::Part { start, len: n } => {
                assert!(n > 0, "{value:?} against {len}: empty part");
                assert!(
                    start.checked_add(n).is_some_and(|end| end <= len),
                    "{value:?} against {len}: {start}+{n} past the end"
                );
            }
            Range::Full | Range::Unsatisfiable => {}
        }
    }
}

const PRECONDITION_FIELDS: [HeaderName; 5] = [
    IF_MATCH,
    IF_NONE_MATCH,
    IF_MODIFIED_SINCE,
    IF_UNMODIFIED_SINCE,
    IF_RANGE,
];

/// Lines of the input as `If-*` fields (the first byte of a line picks
/// which), evaluated for a file with validators and for one without:
/// only `If-Match` and `If-Unmodified-Since` can fail a request, only
/// `If-None-Match` and `If-Modified-Since` can make it a `304`, an
/// `If-None-Match` naming the file's own tag makes it a `304` unless the
/// request failed first, and `If-Range` never holds without validators.
pub fn conditional(data: &[u8]) {
    let mut headers = HeaderMap::new();
    for line in data.split(|&b| b == b'\n') {
        let Some((&pick, value)) = line.split_first() else {
            continue;
        };
        if let Ok(value) = HeaderValue::from_bytes(value) {
            let name = &PRECONDITION_FIELDS[usize::from(pick) % PRECONDITION_FIELDS.len()];
            headers.append(name.clone(), value);
        }
    }
    let file = Validators {
        opaque: "5627e0a0.1a2b3c-2a".into(),
        // 2015-10-21 07:28:00 UTC, an hour before "now".
        last_modified: 1_445_412_480,
        now: 1_445_416_080,
    };
    let can_fail = headers.contains_key(IF_MATCH) || headers.contains_key(IF_UNMODIFIED_SINCE);
    let can_304 = headers.contains_key(IF_NONE_MATCH) || headers.contains_key(IF_MODIFIED_SINCE);
    for validators in [Some(&file), None] {
        let (outcome, if_range) = fuzzing::preconditions(&headers, validators);
        match outcome {
            Precondition::Failed => assert!(can_fail, "{headers:?}"),
            Precondition::NotModified => assert!(can_304, "{headers:?}"),
            Precondition::Proceed => {}
        }
        if validators.is_none() || !headers.contains_key(IF_RANGE) {
            assert_eq!(if_range, !headers.contains_key(IF_RANGE), "{headers:?}");
        }
    }
    let (before, _) = fuzzing::preconditions(&headers, Some(&file));
    let mut matching = headers.clone();
    matching.append(
        IF_NONE_MATCH,
        HeaderValue::from_str(&format!("\"{}\"", file.opaque)).expect("a valid tag"),
    );
    let (after, _) = fuzzing::preconditions(&matching, Some(&file));
    if before != Precondition::Failed {
        assert_eq!(after, Precondition::NotModified, "{matching:?}");
    }
}

/// A handler that answers with its name and the parameters it was given,
/// each as `<name length> <value length> <name><value>` (a value may hold
/// any character).
fn tag(name: &'static str) -> impl Handler {
    move |req: Request| {
        let params = req
            .extensions()
            .get::<Params>()
            .expect("routed requests have params");
        let mut out = format!("{name}\n");
        for (k, v) in params.iter() {
            out.push_str(&format!("{} {} {k}{v}", k.len(), v.len()));
        }
        Response::new(Body::from(out))
    }
}

/// The handler's name and parameters back from what [`tag`] wrote.
fn untag(body: &str) -> (&str, Vec<(&str, &str)>) {
    let (name, mut rest) = body.split_once('\n').expect("a name line");
    let mut params = Vec::new();
    while !rest.is_empty() {
        let mut lens = rest.splitn(3, ' ');
        let k: usize = lens.next().and_then(|n| n.parse().ok()).expect("a length");
        let v: usize = lens.next().and_then(|n| n.parse().ok()).expect("a length");
        let tail = lens.next().expect("name and value");
        params.push((&tail[..k], &tail[k..k + v]));
        rest = &tail[k + v..];
    }
    (name, params)
}

fn sample_router() -> &'static Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER.get_or_init(|| {
        let api = Router::new()
            .get("/items/:id", tag("item"))
            .fallback(|_req: Request| Response::new(Body::from("api-fallback\n")));
        Router::new()
            .get("/", tag("home"))
            .get("/users", tag("users"))
            .get("/users/new", tag("new-user"))
            .get("/users/:id", tag("user"))
            .delete("/users/:id", tag("delete-user"))
            .get("/users/:id/posts/:post", tag("post"))
            .get("/static/*path", tag("static"))
            .get("/caf%C3%A9", tag("cafe"))
            .post("/a/:b/c", tag("abc"))
            .nest("/api", api)
    })
}

/// The input as a request target, routed as a `GET`, a `DELETE` and an
/// `OPTIONS`: the answer is one the router can give, a `405` or `OPTIONS`
/// answer lists the allowed methods, and a parameter is the
/// percent-decoded segment (or, for a wildcard, rest of the path) that it
/// stands for.
pub fn router(data: &[u8]) {
    let Ok(uri) = Uri::try_from(data) else {
        return;
    };
    let router = sample_router();
    for method in [Method::GET, Method::DELETE, Method::OPTIONS] {
        let mut req = http::Request::new(BodyReader::empty());
        *req.method_mut() = method.clone();
        *req.uri_mut() = uri.clone();
        let resp = router.handle(req);
        let status = resp.status();
        match status.as_u16() {
            200 | 400 | 404 => {}
            204 | 405 => {
                let allow = resp.headers().get(ALLOW).expect("an Allow field");
                assert!(allow.to_str().is_ok_and(|a| a.contains("OPTIONS")));
            }
            _ => panic!("{method} {uri}: status {status}"),
        }
        if status == StatusCode::OK {
            let body = resp.body().as_bytes().expect("a whole body");
            check_params(uri.path(), std::str::from_utf8(body).expect("UTF-8"));
        }
    }
}

fn check_params(path: &str, body: &str) {
    let (name, params) = untag(body);
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    fn decoded(s: &str) -> Cow<'_, str> {
        percent_decode_str(s)
            .decode_utf8()
            .expect("a routed parameter is UTF-8")
    }
    match name {
        "user" | "delete-user" => {
            assert_eq!(params, [("id", &*decoded(segments[1]))], "{path}");
            assert!(!params[0].1.is_empty());
        }
        "post" => assert_eq!(
            params,
            [
                ("id", &*decoded(segments[1])),
                ("post", &*decoded(segments[3]))
            ],
            "{path}"
        ),
        "static" => {
            let rest = path.split_once("/static/").map_or("", |(_, r)| r);
            assert_eq!(params, [("path", &*decoded(rest))], "{path}");
        }
        _ => {}
    }
}

/// The input as a path below a `StaticFiles` mount: a file path it
/// accepts is relative, made only of ordinary names (no `..`, no root, no
/// hidden name unless those are served), one per segment of the request
/// path.
pub fn static_path(data: &[u8]) {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    for serve_hidden in [false, true] {
        match fuzzing::static_path(raw, serve_hidden) {
            Ok(path) => {
                assert!(path.is_relative(), "{raw:?} -> {path:?}");
                let mut names = 0;
                for c in path.components() {
                    let Component::Normal(name) = c else {
                        panic!("{raw:?} -> {path:?}: component {c:?}");
                    };
                    let name = name.to_str().expect("decoded as UTF-8");
                    assert!(!name.contains('\0'));
                    assert!(
                        serve_hidden || !name.starts_with('.'),
                        "{raw:?} -> {path:?}"
                    );
                    names += 1;
                }
                let segments = raw.split('/').filter(|s| !s.is_empty()).count();
                assert_eq!(names, segments, "{raw:?} -> {path:?}");
            }
            Err(status) => assert!(
                status == StatusCode::BAD_REQUEST
                    || (status == StatusCode::NOT_FOUND && !serve_hidden),
                "{raw:?}: {status}"
            ),
        }
    }
}

const BASES: [&str; 3] = [
    "http://example.com/a/b?q=1",
    "https://[::1]:8443/x/",
    "http://h",
];

/// The input as a `Location` (decoded as the client does), resolved
/// against a few URLs: the next URL is absolute `http` or `https` with a
/// host and no credentials, its path has no dot segments, and resolving it
/// again, against itself, changes nothing.
pub fn redirect(data: &[u8]) {
    let location = String::from_utf8_lossy(data);
    for base in BASES {
        let Ok((uri, tls, host, port)) =
            fuzzing::resolve_location(Uri::from_static(base), &location)
        else {
            continue;
        };
        let scheme = uri.scheme_str().expect("absolute");
        assert_eq!(scheme.eq_ignore_ascii_case("https"), tls, "{uri}");
        let authority = uri.authority().expect("a host");
        assert!(!authority.as_str().contains('@'));
        assert!(!host.is_empty() && host == host.to_ascii_lowercase());
        assert_eq!(
            authority.port_u16().unwrap_or(if tls { 443 } else { 80 }),
            port
        );
        let path = uri.path();
        assert!(path.starts_with('/'), "{location:?} from {base}: {uri}");
        assert!(
            !path.split('/').any(|s| s == "." || s == ".."),
            "{location:?} from {base}: dot segments left in {uri}"
        );
        let again = fuzzing::resolve_location(uri.clone(), &uri.to_string());
        let again = again.unwrap_or_else(|e| panic!("{uri} against itself: {e}"));
        assert_eq!(
            again,
            (uri.clone(), tls, host, port),
            "{location:?} from {base}"
        );
    }
}
