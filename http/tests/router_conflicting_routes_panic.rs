//! Registering two routes with the same method and pattern shape panics
//! with a message naming both; different methods or shapes do not.

mod common;

use std::panic::catch_unwind;

use common::{body_text, get, tag};
use thicket_http::Router;

fn panic_message(f: impl FnOnce() -> Router + std::panic::UnwindSafe) -> String {
    let err = catch_unwind(f).expect_err("registration should panic");
    err.downcast_ref::<String>().cloned().unwrap_or_default()
}

#[test]
fn same_shape_same_method_panics() {
    let msg = panic_message(|| {
        Router::new()
            .get("/a/:id/*rest", tag("x"))
            .get("/a/:key/*tail", tag("y"))
    });
    assert!(msg.contains("route conflict"), "{msg}");
    assert!(msg.contains("/a/:key/*tail"), "{msg}");
    assert!(msg.contains("/a/:id/*rest"), "{msg}");
}

#[test]
fn duplicate_any_panics() {
    let msg = panic_message(|| Router::new().any("/x", tag("a")).any("/x", tag("b")));
    assert!(msg.contains("ANY /x"), "{msg}");
}

#[test]
fn nested_duplicate_panics() {
    let msg = panic_message(|| {
        let inner = Router::new().get("/users", tag("inner"));
        Router::new()
            .get("/api/users", tag("outer"))
            .nest("/api", inner)
    });
    assert!(msg.contains("route conflict"), "{msg}");
}

#[test]
fn different_method_or_shape_is_fine() {
    let router = Router::new()
        .get("/a/:id", tag("get"))
        .post("/a/:name", tag("post"))
        .get("/a/*rest", tag("wild"))
        .get("/a/literal", tag("literal"));
    assert_eq!(body_text(get(&router, "/a/literal", &[])), "literal");
    assert_eq!(body_text(get(&router, "/a/7", &[])), "get id=7");
}
