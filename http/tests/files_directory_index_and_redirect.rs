//! A directory is served by its index file; asked for without its trailing
//! slash it is redirected to the path with one; without an index it is 404.

mod common;

use common::{body_text, get, header, write};
use thicket_http::http::StatusCode;
use thicket_http::{Router, StaticFiles};

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "index.html", "root index");
    write(dir.path(), "docs/index.html", "docs index");
    write(dir.path(), "docs/home.htm", "docs home");
    write(dir.path(), "empty/.keep", "");
    dir
}

#[test]
fn index_files_are_served() {
    let dir = fixture();
    let files = StaticFiles::new(dir.path());
    for (uri, want) in [("/", "root index"), ("/docs/", "docs index")] {
        let resp = get(&files, uri, &[]);
        assert_eq!(resp.status(), StatusCode::OK, "{uri}");
        assert_eq!(
            header(&resp, "content-type").as_deref(),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(body_text(resp), want, "{uri}");
    }
}

#[test]
fn missing_slash_redirects_keeping_the_query() {
    let dir = fixture();
    let files = StaticFiles::new(dir.path());
    let cases = [
        ("/docs", "/docs/"),
        ("/docs?lang=en", "/docs/?lang=en"),
        ("/empty", "/empty/"),
    ];
    for (uri, location) in cases {
        let resp = get(&files, uri, &[]);
        assert_eq!(resp.status(), StatusCode::MOVED_PERMANENTLY, "{uri}");
        assert_eq!(
            header(&resp, "location").as_deref(),
            Some(location),
            "{uri}"
        );
    }
}

#[test]
fn redirect_under_a_router_uses_the_full_path() {
    let dir = fixture();
    let router = Router::new().get("/static/*path", StaticFiles::new(dir.path()));
    let resp = get(&router, "/static/docs", &[]);
    assert_eq!(resp.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(header(&resp, "location").as_deref(), Some("/static/docs/"));
    assert_eq!(body_text(get(&router, "/static/", &[])), "root index");
}

#[test]
fn no_index_no_listing() {
    let dir = fixture();
    let files = StaticFiles::new(dir.path());
    assert_eq!(get(&files, "/empty/", &[]).status(), StatusCode::NOT_FOUND);
    let off = StaticFiles::new(dir.path()).index_files(Vec::<String>::new());
    assert_eq!(get(&off, "/docs/", &[]).status(), StatusCode::NOT_FOUND);
}

#[test]
fn index_files_are_tried_in_order() {
    let dir = fixture();
    let files = StaticFiles::new(dir.path()).index_files(["default.htm", "home.htm", "index.html"]);
    assert_eq!(body_text(get(&files, "/docs/", &[])), "docs home");
    assert_eq!(body_text(get(&files, "/", &[])), "root index");
}
