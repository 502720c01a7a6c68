//! The file handler answers GET and HEAD; every other method is 405 with
//! `Allow: GET, HEAD`. HEAD gets GET's head (the server drops the body).

mod common;

use common::{call, header, write};
use thicket_http::http::{Method, StatusCode};
use thicket_http::StaticFiles;

#[test]
fn other_methods_are_405() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "f.txt", "x");
    let files = StaticFiles::new(dir.path());
    for method in [
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
    ] {
        let resp = call(&files, method.clone(), "/f.txt");
        assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(
            header(&resp, "allow").as_deref(),
            Some("GET, HEAD"),
            "{method}"
        );
    }
}

#[test]
fn head_has_gets_head() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "f.txt", "hello");
    let files = StaticFiles::new(dir.path());
    let get = call(&files, Method::GET, "/f.txt");
    let head = call(&files, Method::HEAD, "/f.txt");
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.body().len(), Some(5));
    for name in ["content-type", "etag", "last-modified", "accept-ranges"] {
        assert!(head.headers().get(name).is_some(), "{name}");
        assert_eq!(head.headers().get(name), get.headers().get(name), "{name}");
    }
}
