//! Middleware wrappers compose with the router and the file handler.

mod common;

use common::{body_text, get, header, tag, write};
use thicket_http::http::header::{HeaderValue, X_CONTENT_TYPE_OPTIONS};
use thicket_http::http::StatusCode;
use thicket_http::middleware::{map_request, map_response, with_header, wrap};
use thicket_http::{Body, Handler, Request, Response, Router, StaticFiles};

#[test]
fn headers_apply_to_every_answer_including_router_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.txt", "a");
    let router = Router::new()
        .get("/static/*path", StaticFiles::new(dir.path()))
        .get("/hello", tag("hello"));
    let app = with_header(
        router,
        X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    for (uri, status) in [
        ("/static/a.txt", StatusCode::OK),
        ("/hello", StatusCode::OK),
        ("/missing", StatusCode::NOT_FOUND),
    ] {
        let resp = get(&app, uri, &[]);
        assert_eq!(resp.status(), status, "{uri}");
        assert_eq!(
            header(&resp, "x-content-type-options").as_deref(),
            Some("nosniff")
        );
    }
}

#[test]
fn map_request_runs_before_routing() {
    // Strip a mount prefix so the router sees `/hello`.
    let router = Router::new().get("/hello", tag("hello"));
    let app = map_request(router, |mut req: Request| {
        if let Some(rest) = req.uri().path().strip_prefix("/app") {
            *req.uri_mut() = rest.parse().unwrap();
        }
        req
    });
    assert_eq!(body_text(get(&app, "/app/hello", &[])), "hello");
}

#[test]
fn wrap_short_circuits_and_map_response_sees_everything() {
    let app = wrap(tag("inner"), |req: Request, next: &dyn Handler| {
        if req.uri().path().starts_with("/admin") {
            let mut resp = Response::new(Body::from("no"));
            *resp.status_mut() = StatusCode::FORBIDDEN;
            return resp;
        }
        next.handle(req)
    });
    let app = map_response(app, |mut resp: Response| {
        let status = resp.status().as_u16().to_string();
        resp.headers_mut()
            .insert("x-status", HeaderValue::from_str(&status).unwrap());
        resp
    });
    let denied = get(&app, "/admin/x", &[]);
    assert_eq!(header(&denied, "x-status").as_deref(), Some("403"));
    assert_eq!(body_text(denied), "no");
    let allowed = get(&app, "/public", &[]);
    assert_eq!(header(&allowed, "x-status").as_deref(), Some("200"));
    assert_eq!(body_text(allowed), "inner");
}
