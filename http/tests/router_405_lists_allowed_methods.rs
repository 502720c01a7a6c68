//! A path that matches routes for other methods is answered with 405 and an
//! `Allow` header naming the methods that would work.

mod common;

use common::{call, header, tag};
use thicket_http::http::{Method, StatusCode};
use thicket_http::Router;

#[test]
fn wrong_method_is_405_with_allow() {
    let router = Router::new()
        .get("/items/:id", tag("get"))
        .delete("/items/:id", tag("delete"))
        .patch("/items/:id", tag("patch"));
    let resp = call(&router, Method::POST, "/items/3");
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        header(&resp, "allow").as_deref(),
        Some("GET, HEAD, PATCH, DELETE, OPTIONS")
    );
}

#[test]
fn allow_gathers_methods_from_every_matching_pattern() {
    // `/items/new` matches both patterns: a PUT there would reach the
    // parameter route, so PUT is allowed too.
    let router = Router::new()
        .get("/items/new", tag("form"))
        .put("/items/:id", tag("put"));
    let resp = call(&router, Method::DELETE, "/items/new");
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        header(&resp, "allow").as_deref(),
        Some("GET, HEAD, PUT, OPTIONS")
    );
    assert_eq!(
        call(&router, Method::PUT, "/items/new").status(),
        StatusCode::OK
    );
}

#[test]
fn head_is_not_listed_without_get() {
    let router = Router::new().post("/submit", tag("post"));
    let resp = call(&router, Method::GET, "/submit");
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&resp, "allow").as_deref(), Some("POST, OPTIONS"));
}

#[test]
fn unknown_paths_are_404_not_405() {
    let router = Router::new().get("/a", tag("a"));
    let resp = call(&router, Method::POST, "/b");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(resp.headers().get("allow").is_none());
}

#[test]
fn extension_methods_are_routed_and_listed() {
    let purge = Method::from_bytes(b"PURGE").unwrap();
    let router = Router::new()
        .route(purge.clone(), "/cache", tag("purge"))
        .get("/cache", tag("get"));
    assert_eq!(call(&router, purge, "/cache").status(), StatusCode::OK);
    let resp = call(&router, Method::DELETE, "/cache");
    assert_eq!(
        header(&resp, "allow").as_deref(),
        Some("GET, HEAD, OPTIONS, PURGE")
    );
}
