//! `nest` mounts a router under a literal prefix with its fallback; the
//! outer fallback takes everything else no route matches.

mod common;

use common::{body_text, call, get, tag};
use thicket_http::http::{Method, StatusCode};
use thicket_http::{Body, Request, Response, Router};

fn app() -> Router {
    let v1 = Router::new()
        .get("/", tag("v1-index"))
        .get("/users/:id", tag("v1-user"))
        .fallback(tag("v1-fallback"));
    let api = Router::new().nest("/v1", v1).get("/health", tag("health"));
    Router::new()
        .get("/", tag("home"))
        .nest("/api", api)
        .fallback(tag("site-fallback"))
}

#[test]
fn nested_routes_table() {
    let router = app();
    let cases = [
        ("/", "home"),
        ("/api/health", "health"),
        ("/api/v1", "v1-index"),
        ("/api/v1/users/9", "v1-user id=9"),
        ("/api/v1/nothing/here", "v1-fallback"),
        ("/api/v1/users/9/extra", "v1-fallback"),
        ("/api/v2", "site-fallback"),
        ("/elsewhere", "site-fallback"),
    ];
    for (uri, want) in cases {
        assert_eq!(body_text(get(&router, uri, &[])), want, "{uri}");
    }
}

#[test]
fn nested_handlers_see_the_full_path() {
    let inner = Router::new().get("/p", |req: Request| {
        Response::new(Body::from(req.uri().path().to_string()))
    });
    let router = Router::new().nest("/outer", inner);
    assert_eq!(body_text(get(&router, "/outer/p", &[])), "/outer/p");
}

#[test]
fn fallback_does_not_hide_405() {
    let router = app();
    assert_eq!(
        call(&router, Method::DELETE, "/api/health").status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[test]
fn without_fallback_unmatched_is_404() {
    let router = Router::new().get("/", tag("home"));
    let resp = get(&router, "/missing", &[]);
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_text(resp), "404 Not Found\n");
}

#[test]
#[should_panic(expected = "must be literal")]
fn nest_prefix_with_parameter_panics() {
    let _ = Router::new().nest("/:tenant", Router::new());
}
