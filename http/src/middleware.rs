//! Middleware: functions that take a [`Handler`] and return another that
//! wraps it.
//!
//! There is no middleware trait: a wrapper is just a handler holding the
//! one it wraps, so wrappers nest by calling one on the result of another,
//! and any closure over a handler is middleware too. The innermost
//! wrapper sees the request last and the response first.
//!
//! Handler panics need no wrapper: the server answers them with `500` and
//! logs them.
//!
//! # Examples
//!
//! ```
//! use thicket_http::http::header::{HeaderValue, SERVER};
//! use thicket_http::middleware::{map_response, with_header};
//! use thicket_http::{Body, BodyReader, Handler, Request, Response};
//!
//! let app = |_req: Request| Response::new(Body::from("hi"));
//! let app = with_header(app, SERVER, HeaderValue::from_static("thicket"));
//! let app = map_response(app, |mut resp: Response| {
//!     resp.headers_mut().insert("x-served-by", HeaderValue::from_static("test"));
//!     resp
//! });
//!
//! let resp = app.handle(Request::new(BodyReader::empty()));
//! assert_eq!(resp.headers()["server"], "thicket");
//! assert_eq!(resp.headers()["x-served-by"], "test");
//! ```

use http::header::{HeaderName, HeaderValue};

use crate::{Handler, Request, Response};

/// Adds the header `name: value` to every response of `handler` that does
/// not already have a `name` header (so a handler can still override it).
///
/// # Examples
///
/// ```
/// use thicket_http::http::header::{HeaderValue, CACHE_CONTROL};
/// use thicket_http::middleware::with_header;
/// use thicket_http::{http, Body, BodyReader, Handler, Request, Response};
///
/// let app = with_header(
///     |req: Request| {
///         let mut resp = Response::new(Body::empty());
///         if req.uri().path() == "/live" {
///             resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
///         }
///         resp
///     },
///     CACHE_CONTROL,
///     HeaderValue::from_static("max-age=60"),
/// );
/// let get = |path: &str| {
///     app.handle(http::Request::builder().uri(path).body(BodyReader::empty()).unwrap())
/// };
/// assert_eq!(get("/").headers()["cache-control"], "max-age=60");
/// assert_eq!(get("/live").headers()["cache-control"], "no-store");
/// ```
pub fn with_header(handler: impl Handler, name: HeaderName, value: HeaderValue) -> impl Handler {
    move |req: Request| {
        let mut resp = handler.handle(req);
        resp.headers_mut()
            .entry(name.clone())
            .or_insert_with(|| value.clone());
        resp
    }
}

/// Passes each request through `f` before `handler` sees it: to rewrite
/// the path, add an extension, normalise a header.
///
/// # Examples
///
/// ```
/// use thicket_http::middleware::map_request;
/// use thicket_http::{Body, BodyReader, Handler, Request, Response};
///
/// #[derive(Clone)]
/// struct AppName(&'static str);
///
/// let app = map_request(
///     |req: Request| {
///         let name = req.extensions().get::<AppName>().unwrap().0;
///         Response::new(Body::from(name))
///     },
///     |mut req: Request| {
///         req.extensions_mut().insert(AppName("demo"));
///         req
///     },
/// );
/// let resp = app.handle(Request::new(BodyReader::empty()));
/// assert_eq!(resp.body().as_bytes(), Some(&b"demo"[..]));
/// ```
pub fn map_request<F>(handler: impl Handler, f: F) -> impl Handler
where
    F: Fn(Request) -> Request + Send + Sync + 'static,
{
    move |req: Request| handler.handle(f(req))
}

/// Passes each response of `handler` through `f`.
///
/// # Examples
///
/// ```
/// use thicket_http::http::StatusCode;
/// use thicket_http::middleware::map_response;
/// use thicket_http::{Body, BodyReader, Handler, Request, Response};
///
/// // Give every error status the same body.
/// let app = map_response(
///     |_req: Request| {
///         let mut resp = Response::new(Body::from("internal detail"));
///         *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
///         resp
///     },
///     |mut resp: Response| {
///         if resp.status().is_server_error() {
///             *resp.body_mut() = Body::from("something went wrong\n");
///         }
///         resp
///     },
/// );
/// let resp = app.handle(Request::new(BodyReader::empty()));
/// assert_eq!(resp.body().as_bytes(), Some(&b"something went wrong\n"[..]));
/// ```
pub fn map_response<F>(handler: impl Handler, f: F) -> impl Handler
where
    F: Fn(Response) -> Response + Send + Sync + 'static,
{
    move |req: Request| f(handler.handle(req))
}

/// The general form: `f` gets each request and the wrapped handler, and
/// decides whether and how to call it. Use it for anything that needs both
/// the request and the response (timing, access logs), or that answers
/// some requests itself (authentication, rate limits).
///
/// # Examples
///
/// ```
/// use thicket_http::http::StatusCode;
/// use thicket_http::middleware::wrap;
/// use thicket_http::{http, Body, BodyReader, Handler, Request, Response};
///
/// let app = wrap(
///     |_req: Request| Response::new(Body::from("secret")),
///     |req: Request, next: &dyn Handler| {
///         if req.headers().get("authorization").is_some_and(|v| v == "Bearer let-me-in") {
///             return next.handle(req);
///         }
///         let mut resp = Response::new(Body::from("unauthorized\n"));
///         *resp.status_mut() = StatusCode::UNAUTHORIZED;
///         resp
///     },
/// );
///
/// let anonymous = Request::new(BodyReader::empty());
/// assert_eq!(app.handle(anonymous).status(), StatusCode::UNAUTHORIZED);
/// let authorized = http::Request::builder()
///     .header("authorization", "Bearer let-me-in")
///     .body(BodyReader::empty())
///     .unwrap();
/// assert_eq!(app.handle(authorized).body().as_bytes(), Some(&b"secret"[..]));
/// ```
pub fn wrap<F>(handler: impl Handler, f: F) -> impl Handler
where
    F: Fn(Request, &dyn Handler) -> Response + Send + Sync + 'static,
{
    move |req: Request| f(req, &handler)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use http::header::SERVER;

    use super::*;
    use crate::{Body, BodyReader};

    fn get(h: &impl Handler, path: &str) -> Response {
        h.handle(
            http::Request::builder()
                .uri(path)
                .body(BodyReader::empty())
                .unwrap(),
        )
    }

    #[test]
    fn with_header_keeps_a_header_the_handler_set() {
        let app = with_header(
            |_: Request| {
                let mut r = Response::new(Body::empty());
                r.headers_mut()
                    .insert(SERVER, HeaderValue::from_static("inner"));
                r
            },
            SERVER,
            HeaderValue::from_static("outer"),
        );
        let resp = get(&app, "/");
        assert_eq!(resp.headers().get_all(SERVER).iter().count(), 1);
        assert_eq!(resp.headers()[SERVER], "inner");
    }

    #[test]
    fn wrappers_run_outermost_first_on_the_request() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let log = |tag: &'static str, order: &Arc<Mutex<Vec<&'static str>>>| {
            let order = order.clone();
            move |req: Request| {
                order.lock().unwrap().push(tag);
                req
            }
        };
        let inner = {
            let order = order.clone();
            move |_: Request| {
                order.lock().unwrap().push("handler");
                Response::new(Body::empty())
            }
        };
        let app = map_request(
            map_request(inner, log("inner", &order)),
            log("outer", &order),
        );
        get(&app, "/");
        assert_eq!(*order.lock().unwrap(), ["outer", "inner", "handler"]);
    }

    #[test]
    fn wrap_can_rewrite_the_path_before_calling_next() {
        let app = wrap(
            |req: Request| Response::new(Body::from(req.uri().path().to_string())),
            |mut req: Request, next: &dyn Handler| {
                if let Some(rest) = req.uri().path().strip_prefix("/old") {
                    *req.uri_mut() = format!("/new{rest}").parse().unwrap();
                }
                next.handle(req)
            },
        );
        assert_eq!(get(&app, "/old/x").body().as_bytes(), Some(&b"/new/x"[..]));
        assert_eq!(get(&app, "/other").body().as_bytes(), Some(&b"/other"[..]));
    }
}
