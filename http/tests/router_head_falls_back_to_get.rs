//! `HEAD` reaches the `GET` route when there is no `HEAD` route; the server
//! strips the body.

mod common;

use common::{body_text, call, tag};
use thicket_http::http::{Method, StatusCode};
use thicket_http::Router;

#[test]
fn head_uses_get_route() {
    let router = Router::new().get("/page/:n", tag("page"));
    let resp = call(&router, Method::HEAD, "/page/2");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(body_text(resp), "page n=2");
}

#[test]
fn explicit_head_route_wins() {
    let router = Router::new()
        .get("/page", tag("get"))
        .route(Method::HEAD, "/page", tag("head"));
    assert_eq!(body_text(call(&router, Method::HEAD, "/page")), "head");
    assert_eq!(body_text(call(&router, Method::GET, "/page")), "get");
}

#[test]
fn get_route_is_preferred_to_any_for_head() {
    let router = Router::new()
        .any("/page", tag("any"))
        .get("/page", tag("get"));
    assert_eq!(body_text(call(&router, Method::HEAD, "/page")), "get");
    assert_eq!(body_text(call(&router, Method::POST, "/page")), "any");
}
