//! `OPTIONS` on a routed path is answered by the router with 204 and
//! `Allow`, unless a route takes `OPTIONS` itself.

mod common;

use common::{body_text, call, header, tag};
use thicket_http::http::{Method, StatusCode};
use thicket_http::Router;

#[test]
fn automatic_options() {
    let router = Router::new()
        .get("/doc", tag("get"))
        .put("/doc", tag("put"));
    let resp = call(&router, Method::OPTIONS, "/doc");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        header(&resp, "allow").as_deref(),
        Some("GET, HEAD, PUT, OPTIONS")
    );
    assert_eq!(body_text(resp), "");
}

#[test]
fn an_options_route_wins() {
    let router =
        Router::new()
            .get("/doc", tag("get"))
            .route(Method::OPTIONS, "/doc", tag("custom"));
    let resp = call(&router, Method::OPTIONS, "/doc");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(body_text(resp), "custom");
}

#[test]
fn options_on_an_unknown_path_is_404() {
    let router = Router::new().get("/doc", tag("get"));
    assert_eq!(
        call(&router, Method::OPTIONS, "/other").status(),
        StatusCode::NOT_FOUND
    );
}
