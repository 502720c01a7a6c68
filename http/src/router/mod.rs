//! Routing by method and path: [`Router`] and the [`Params`] it hands to
//! handlers.
//!
//! Patterns are split on `/` into segments and stored in a trie, so a
//! lookup costs one hash probe per path segment whatever the number of
//! routes; there are no regular expressions.

use std::borrow::Cow;
use std::ops::ControlFlow;
use std::sync::Arc;

use http::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use http::{Method, StatusCode};
use percent_encoding::percent_decode_str;

use self::trie::{parse_pattern, Node, Route, Segment};

use crate::{Body, Handler, Request, Response};

mod trie;

/// A [`Handler`] that picks another handler by the request's method and
/// path, and hands it the path's parameters as a [`Params`] extension.
///
/// # Patterns
///
/// A pattern starts with `/` and is made of segments separated by `/`:
///
/// - a literal (`users`) matches that segment exactly, after
///   percent-decoding both (`/caf%C3%A9` and `/café` are the same);
/// - `:name` matches any one non-empty segment;
/// - `*name`, only as the last segment, matches the rest of the path after
///   its `/`, which may be empty or span several segments
///   (`/static/*path` matches `/static/` and `/static/css/site.css`, not
///   `/static`).
///
/// A trailing slash is significant: `/users` and `/users/` are different
/// paths.
///
/// # Matching
///
/// At each segment a literal is preferred over `:name`, which is
/// preferred over `*name`, whatever the order of registration; when the
/// preferred branch leads nowhere the next one is tried. So with
/// `/users/new` and `/users/:id` registered, `/users/new` goes to the
/// first and `/users/7` to the second. The first route in that order that
/// accepts the request's method answers. Parameter values are
/// percent-decoded; one that does not decode to UTF-8 is answered with
/// `400 Bad Request`.
///
/// # Methods
///
/// - `HEAD` is answered by the `GET` route when there is no `HEAD` route
///   (the server sends the head of the response without its body).
/// - `OPTIONS` is answered with `204 No Content` and an `Allow` header
///   when no route takes `OPTIONS` itself.
/// - A path that matches some route, but none for the method, is answered
///   with `405 Method Not Allowed` and an `Allow` header listing the
///   methods that would work (with `HEAD` where `GET` is there, and
///   `OPTIONS`).
/// - A path no route matches goes to the [fallback](Router::fallback), or
///   is answered with `404 Not Found`.
///
/// # Panics
///
/// Registering a malformed pattern, or a route with the same method and
/// the same shape as an earlier one (`/users/:id` and `/users/:name` have
/// the same shape), panics with a message naming both: such a route could
/// never be reached, which is a bug in the program, not a runtime
/// condition.
///
/// # Examples
///
/// ```
/// use thicket_http::http::{self, Method, StatusCode};
/// use thicket_http::{Body, BodyReader, Handler, Params, Request, Response, Router};
///
/// let router = Router::new()
///     .get("/", |_req: Request| Response::new(Body::from("home")))
///     .get("/users/:id", |req: Request| {
///         let id = req.extensions().get::<Params>().unwrap().get("id").unwrap();
///         Response::new(Body::from(format!("user {id}")))
///     });
///
/// let get = |uri: &str| {
///     let req = http::Request::builder().uri(uri).body(BodyReader::empty()).unwrap();
///     router.handle(req)
/// };
/// assert_eq!(get("/users/42").body().as_bytes(), Some(&b"user 42"[..]));
/// assert_eq!(get("/nowhere").status(), StatusCode::NOT_FOUND);
///
/// let post = http::Request::builder().method(Method::POST).uri("/").body(BodyReader::empty()).unwrap();
/// let resp = router.handle(post);
/// assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
/// assert_eq!(resp.headers()["allow"], "GET, HEAD, OPTIONS");
/// ```
pub struct Router {
    root: Node,
    /// Every registration, kept so that [`Router::nest`] can replay them
    /// under a prefix.
    routes: Vec<RouteDef>,
    /// Fallbacks of nested routers, by their (literal) prefix.
    nested_fallbacks: Vec<(String, Arc<dyn Handler>)>,
    fallback: Option<Arc<dyn Handler>>,
}

struct RouteDef {
    method: Option<Method>,
    pattern: String,
    handler: Arc<dyn Handler>,
}

impl Router {
    /// A router with no routes: it answers everything with `404`.
    pub fn new() -> Router {
        Router {
            root: Node::default(),
            routes: Vec::new(),
            nested_fallbacks: Vec::new(),
            fallback: None,
        }
    }

    /// Routes `method` requests whose path matches `pattern` to `handler`.
    ///
    /// # Panics
    ///
    /// When `pattern` is malformed (see [`Router`]), or another route has
    /// the same method and the same pattern shape.
    pub fn route(self, method: Method, pattern: &str, handler: impl Handler) -> Router {
        self.add(Some(method), pattern, Arc::new(handler))
    }

    /// Routes requests of every method whose path matches `pattern` to
    /// `handler`; a route for a specific method on the same pattern takes
    /// precedence.
    ///
    /// # Panics
    ///
    /// As for [`route`](Router::route).
    pub fn any(self, pattern: &str, handler: impl Handler) -> Router {
        self.add(None, pattern, Arc::new(handler))
    }

    /// Routes `GET` (and so `HEAD`) requests; see [`route`](Router::route).
    ///
    /// # Panics
    ///
    /// As for [`route`](Router::route).
    pub fn get(self, pattern: &str, handler: impl Handler) -> Router {
        self.route(Method::GET, pattern, handler)
    }

    /// Routes `POST` requests; see [`route`](Router::route).
    ///
    /// # Panics
    ///
    /// As for [`route`](Router::route).
    pub fn post(self, pattern: &str, handler: impl Handler) -> Router {
        self.route(Method::POST, pattern, handler)
    }

    /// Routes `PUT` requests; see [`route`](Router::route).
    ///
    /// # Panics
    ///
    /// As for [`route`](Router::route).
    pub fn put(self, pattern: &str, handler: impl Handler) -> Router {
        self.route(Method::PUT, pattern, handler)
    }

    /// Routes `DELETE` requests; see [`route`](Router::route).
    ///
    /// # Panics
    ///
    /// As for [`route`](Router::route).
    pub fn delete(self, pattern: &str, handler: impl Handler) -> Router {
        self.route(Method::DELETE, pattern, handler)
    }

    /// Routes `PATCH` requests; see [`route`](Router::route).
    ///
    /// # Panics
    ///
    /// As for [`route`](Router::route).
    pub fn patch(self, pattern: &str, handler: impl Handler) -> Router {
        self.route(Method::PATCH, pattern, handler)
    }

    /// Answers requests that no route matches by path, instead of `404`.
    /// A path that matches a route for other methods is still answered
    /// with `405`.
    pub fn fallback(mut self, handler: impl Handler) -> Router {
        self.fallback = Some(Arc::new(handler));
        self
    }

    /// Mounts the routes of `router` under `prefix`, a literal path such as
    /// `/api` or `/api/v1`: its `/users` becomes `/api/users` and its `/`
    /// becomes `/api`. Its fallback, if any, answers the paths under the
    /// prefix (and the prefix itself) that no route matches.
    ///
    /// The request reaches the nested handlers unchanged: `uri().path()`
    /// still starts with the prefix.
    ///
    /// # Panics
    ///
    /// When `prefix` does not start with `/` or has a parameter segment,
    /// or when a nested route conflicts with one already here.
    ///
    /// # Examples
    ///
    /// ```
    /// use thicket_http::{http, Body, BodyReader, Handler, Request, Response, Router};
    ///
    /// let api = Router::new().get("/status", |_: Request| Response::new(Body::from("ok")));
    /// let app = Router::new().nest("/api", api);
    /// let req = http::Request::builder().uri("/api/status").body(BodyReader::empty()).unwrap();
    /// assert_eq!(app.handle(req).body().as_bytes(), Some(&b"ok"[..]));
    /// ```
    pub fn nest(mut self, prefix: &str, router: Router) -> Router {
        assert!(
            prefix.starts_with('/'),
            "nest prefix {prefix:?} must start with '/'"
        );
        let prefix = prefix.trim_end_matches('/');
        for segment in parse_pattern(if prefix.is_empty() { "/" } else { prefix }) {
            assert!(
                matches!(segment, Segment::Literal(_)),
                "nest prefix {prefix:?} must be literal, without ':' or '*' segments"
            );
        }
        let join = |pattern: &str| match (prefix, pattern) {
            ("", p) => p.to_string(),
            (pre, "/") => pre.to_string(),
            (pre, p) => format!("{pre}{p}"),
        };
        for def in router.routes {
            self = self.add(def.method, &join(&def.pattern), def.handler);
        }
        let mut fallbacks = router.nested_fallbacks;
        if let Some(f) = router.fallback {
            fallbacks.push(("/".to_string(), f));
        }
        for (at, handler) in fallbacks {
            let at = join(&at);
            let node = self.root.literal_path(&at);
            assert!(
                node.fallback.is_none(),
                "two nested routers with a fallback at {at:?}"
            );
            node.fallback = Some(handler.clone());
            self.nested_fallbacks.push((at, handler));
        }
        self
    }

    fn add(mut self, method: Option<Method>, pattern: &str, handler: Arc<dyn Handler>) -> Router {
        self.root.insert(method.clone(), pattern, handler.clone());
        self.routes.push(RouteDef {
            method,
            pattern: pattern.to_string(),
            handler,
        });
        self
    }

    fn lookup(&self, method: &Method, path: &str) -> Outcome<'_> {
        let Some(rest) = path.strip_prefix('/') else {
            return Outcome::NotFound(self.fallback.as_ref());
        };
        let raw: Vec<&str> = rest.split('/').collect();
        let decoded: Vec<Cow<'_, [u8]>> =
            raw.iter().map(|s| percent_decode_str(s).into()).collect();
        let mut found = None;
        let mut allowed = Vec::new();
        let mut path_matched = false;
        let mut captures = Vec::new();
        let _ = self.root.walk(
            &decoded,
            0,
            &mut captures,
            &mut |endpoints, captures, wild| {
                path_matched = true;
                match endpoints.find(method) {
                    Some(route) => {
                        found = Some((route, captures.to_vec(), wild));
                        ControlFlow::Break(())
                    }
                    None => {
                        endpoints.allowed(&mut allowed);
                        ControlFlow::Continue(())
                    }
                }
            },
        );
        if let Some((route, captures, wild)) = found {
            return match Params::build(route, &raw, &captures, wild, path) {
                Some(params) => Outcome::Found(route, params),
                None => Outcome::BadParam,
            };
        }
        if !path_matched {
            let nested = self.root.deepest_fallback(&decoded);
            return Outcome::NotFound(nested.or(self.fallback.as_ref()));
        }
        allowed.push(Method::OPTIONS);
        allowed.sort_by_key(|m| (method_rank(m), m.as_str().to_string()));
        allowed.dedup();
        let allow = allowed
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        if method == Method::OPTIONS {
            Outcome::Options(allow)
        } else {
            Outcome::NotAllowed(allow)
        }
    }
}

enum Outcome<'r> {
    Found(&'r Route, Params),
    BadParam,
    Options(String),
    NotAllowed(String),
    NotFound(Option<&'r Arc<dyn Handler>>),
}

impl Handler for Router {
    fn handle(&self, mut req: Request) -> Response {
        match self.lookup(req.method(), req.uri().path()) {
            Outcome::Found(route, params) => {
                req.extensions_mut().insert(params);
                route.handler.handle(req)
            }
            Outcome::BadParam => plain(
                StatusCode::BAD_REQUEST,
                "400 Bad Request: a path parameter is not UTF-8 once percent-decoded\n",
            ),
            Outcome::Options(allow) => {
                let mut resp = Response::new(Body::empty());
                *resp.status_mut() = StatusCode::NO_CONTENT;
                set_allow(&mut resp, &allow);
                resp
            }
            Outcome::NotAllowed(allow) => {
                let mut resp = plain(StatusCode::METHOD_NOT_ALLOWED, "405 Method Not Allowed\n");
                set_allow(&mut resp, &allow);
                resp
            }
            Outcome::NotFound(Some(fallback)) => fallback.handle(req),
            Outcome::NotFound(None) => plain(StatusCode::NOT_FOUND, "404 Not Found\n"),
        }
    }
}

impl Default for Router {
    fn default() -> Router {
        Router::new()
    }
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let routes: Vec<String> = self
            .routes
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    r.method.as_ref().map_or("ANY", Method::as_str),
                    r.pattern
                )
            })
            .collect();
        f.debug_struct("Router")
            .field("routes", &routes)
            .field("fallback", &self.fallback.is_some())
            .finish_non_exhaustive()
    }
}

fn set_allow(resp: &mut Response, allow: &str) {
    // Method names are tokens, so the joined list is a valid header value.
    if let Ok(v) = HeaderValue::from_str(allow) {
        resp.headers_mut().insert(ALLOW, v);
    }
}

/// A short `text/plain` response for the statuses the router and the file
/// handler answer themselves.
pub(crate) fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut resp = Response::new(Body::from(text));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// The order methods are listed in `Allow`: the common ones first, the
/// rest by name.
fn method_rank(m: &Method) -> usize {
    const ORDER: [Method; 7] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ];
    ORDER.iter().position(|o| o == m).unwrap_or(ORDER.len())
}

/// The parameters of the route that matched, as a request extension:
/// `req.extensions().get::<Params>()`.
///
/// Values are percent-decoded; a `*name` wildcard's value is the rest of
/// the path with its `/` separators.
///
/// # Examples
///
/// ```
/// use thicket_http::{http, Body, BodyReader, Handler, Params, Request, Response, Router};
///
/// let router = Router::new().get("/files/:owner/*path", |req: Request| {
///     let params = req.extensions().get::<Params>().unwrap();
///     let listed: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
///     Response::new(Body::from(listed.join(" ")))
/// });
/// let req = http::Request::builder().uri("/files/ann%20b/docs/a%20b.txt").body(BodyReader::empty()).unwrap();
/// let resp = router.handle(req);
/// assert_eq!(resp.body().as_bytes(), Some(&b"owner=ann b path=docs/a b.txt"[..]));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    entries: Vec<(Arc<str>, String)>,
    rest_raw: Option<String>,
}

impl Params {
    /// The decoded value of the parameter `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| &**k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `(name, value)` pairs in the order of the pattern.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries.iter().map(|(k, v)| (&**k, v.as_str()))
    }

    /// How many parameters the pattern has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the pattern had no parameters.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The part of the path a trailing `*name` matched, as it was sent
    /// (still percent-encoded), so that a handler can tell `a%2Fb` from
    /// `a/b`; [`StaticFiles`](crate::StaticFiles) serves this part when it
    /// is there.
    pub fn rest_raw(&self) -> Option<&str> {
        self.rest_raw.as_deref()
    }

    fn build(
        route: &Route,
        raw: &[&str],
        captures: &[usize],
        wild: Option<usize>,
        path: &str,
    ) -> Option<Params> {
        let decode = |s: &str| {
            percent_decode_str(s)
                .decode_utf8()
                .ok()
                .map(Cow::into_owned)
        };
        let mut entries = Vec::with_capacity(route.names.len());
        for (name, &i) in route.names.iter().zip(captures) {
            entries.push((name.clone(), decode(raw[i])?));
        }
        let mut rest_raw = None;
        if let Some(start) = wild {
            // One byte for the leading '/', then each segment and its '/'.
            let offset = 1 + raw[..start].iter().map(|s| s.len() + 1).sum::<usize>();
            let rest = &path[offset..];
            entries.push((route.names.last()?.clone(), decode(rest)?));
            rest_raw = Some(rest.to_string());
        }
        Some(Params { entries, rest_raw })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &'static str) -> impl Handler {
        move |req: Request| {
            let params = req
                .extensions()
                .get::<Params>()
                .cloned()
                .unwrap_or_default();
            let mut s = name.to_string();
            for (k, v) in params.iter() {
                s.push_str(&format!(" {k}={v}"));
            }
            Response::new(Body::from(s))
        }
    }

    fn call(router: &Router, method: Method, uri: &str) -> (StatusCode, String, Option<String>) {
        let req = http::Request::builder()
            .method(method)
            .uri(uri)
            .body(crate::BodyReader::empty())
            .unwrap();
        let resp = router.handle(req);
        let body = String::from_utf8(resp.body().as_bytes().unwrap().to_vec()).unwrap();
        let allow = resp
            .headers()
            .get(ALLOW)
            .map(|v| v.to_str().unwrap().to_string());
        (resp.status(), body, allow)
    }

    fn sample() -> Router {
        Router::new()
            .get("/", tag("root"))
            .get("/users", tag("users"))
            .get("/users/", tag("users-slash"))
            .get("/users/new", tag("new"))
            .get("/users/:id", tag("user"))
            .put("/users/:uid", tag("put-user"))
            .get("/users/:id/posts/:post", tag("post"))
            .get("/static/*path", tag("static"))
            .get("/static/special", tag("special"))
            .get("/a/:x/c", tag("axc"))
            .get("/a/b/d", tag("abd"))
            .get("/caf%C3%A9", tag("cafe"))
            .any("/any", tag("any"))
            .post("/any", tag("post-any"))
    }

    #[test]
    fn matching_table() {
        let r = sample();
        let cases: &[(Method, &str, &str)] = &[
            (Method::GET, "/", "root"),
            (Method::GET, "/users", "users"),
            (Method::GET, "/users/", "users-slash"),
            (Method::GET, "/users/new", "new"),
            (Method::GET, "/users/7", "user id=7"),
            (Method::PUT, "/users/7", "put-user uid=7"),
            (Method::PUT, "/users/new", "put-user uid=new"),
            (Method::GET, "/users/a%20b", "user id=a b"),
            (Method::GET, "/users/a%2Fb", "user id=a/b"),
            (Method::GET, "/users/7/posts/9", "post id=7 post=9"),
            (Method::GET, "/static/", "static path="),
            (
                Method::GET,
                "/static/css/site.css",
                "static path=css/site.css",
            ),
            (Method::GET, "/static/special", "special"),
            (Method::GET, "/static/special/x", "static path=special/x"),
            // The literal branch `/a/b` dead-ends at `c`; the parameter
            // branch is tried next.
            (Method::GET, "/a/b/c", "axc x=b"),
            (Method::GET, "/a/b/d", "abd"),
            (Method::GET, "/caf%c3%a9", "cafe"),
            (Method::GET, "/us%65rs", "users"),
            (Method::GET, "/users?x=1", "users"),
            (Method::HEAD, "/users/7", "user id=7"),
            (Method::DELETE, "/any", "any"),
            (Method::POST, "/any", "post-any"),
        ];
        for (method, uri, want) in cases {
            let (status, body, _) = call(&r, method.clone(), uri);
            assert_eq!(status, StatusCode::OK, "{method} {uri}");
            assert_eq!(body, *want, "{method} {uri}");
        }
    }

    #[test]
    fn not_found_and_not_allowed_table() {
        let r = sample();
        let cases: &[(Method, &str, StatusCode, Option<&str>)] = &[
            (Method::GET, "/nope", StatusCode::NOT_FOUND, None),
            (Method::GET, "/static", StatusCode::NOT_FOUND, None),
            (Method::GET, "/users//posts/1", StatusCode::NOT_FOUND, None),
            (Method::GET, "/users/7/posts", StatusCode::NOT_FOUND, None),
            (Method::GET, "*", StatusCode::NOT_FOUND, None),
            (
                Method::POST,
                "/users/7",
                StatusCode::METHOD_NOT_ALLOWED,
                Some("GET, HEAD, PUT, OPTIONS"),
            ),
            (
                Method::DELETE,
                "/users/new",
                StatusCode::METHOD_NOT_ALLOWED,
                Some("GET, HEAD, PUT, OPTIONS"),
            ),
            (
                Method::OPTIONS,
                "/users/7",
                StatusCode::NO_CONTENT,
                Some("GET, HEAD, PUT, OPTIONS"),
            ),
            (Method::GET, "/users/%FF", StatusCode::BAD_REQUEST, None),
        ];
        for (method, uri, status, allow) in cases {
            let (got, _, got_allow) = call(&r, method.clone(), uri);
            assert_eq!(got, *status, "{method} {uri}");
            assert_eq!(got_allow.as_deref(), *allow, "{method} {uri}");
        }
    }

    #[test]
    fn fallback_takes_unmatched_paths_only() {
        let r = sample().fallback(tag("fallback"));
        assert_eq!(call(&r, Method::GET, "/nope").1, "fallback");
        assert_eq!(
            call(&r, Method::POST, "/users").0,
            StatusCode::METHOD_NOT_ALLOWED
        );
    }

    #[test]
    fn nest_mounts_routes_and_fallback_under_prefix() {
        let api = Router::new()
            .get("/", tag("api-root"))
            .get("/items/:id", tag("item"))
            .fallback(tag("api-fallback"));
        let r = Router::new()
            .get("/", tag("root"))
            .nest("/api/v1/", api)
            .fallback(tag("outer"));
        assert_eq!(call(&r, Method::GET, "/api/v1").1, "api-root");
        assert_eq!(call(&r, Method::GET, "/api/v1/items/3").1, "item id=3");
        assert_eq!(call(&r, Method::GET, "/api/v1/other").1, "api-fallback");
        assert_eq!(call(&r, Method::GET, "/api/v1x").1, "outer");
        assert_eq!(call(&r, Method::GET, "/api").1, "outer");
        assert_eq!(call(&r, Method::GET, "/").1, "root");
    }

    #[test]
    fn rest_raw_keeps_encoding() {
        let r = Router::new().get("/f/*path", |req: Request| {
            let p = req.extensions().get::<Params>().unwrap();
            Response::new(Body::from(format!("{:?}", p.rest_raw())))
        });
        assert_eq!(call(&r, Method::GET, "/f/a%2Fb/c").1, "Some(\"a%2Fb/c\")");
    }

    #[test]
    #[should_panic(
        expected = "route conflict: GET /users/:name has the same shape as GET /users/:id"
    )]
    fn same_shape_panics() {
        let _ = Router::new()
            .get("/users/:id", tag("a"))
            .get("/users/:name", tag("b"));
    }
}
