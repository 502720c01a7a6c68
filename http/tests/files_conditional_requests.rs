//! `ETag` and `Last-Modified` validators, and the preconditions of RFC 9110
//! §13 in their order: If-Match / If-Unmodified-Since fail with 412,
//! If-None-Match (taking precedence over If-Modified-Since) answers 304.

mod common;

use std::fs::File;
use std::path::Path;
use std::time::{Duration, SystemTime};

use common::{body_bytes, get, header, request, write};
use thicket_http::http::header::HeaderValue;
use thicket_http::http::{Method, StatusCode};
use thicket_http::{Handler, StaticFiles};

/// 2001-09-09T01:46:40Z, the modification time of the fixture's file.
const LAST_MODIFIED: &str = "Sun, 09 Sep 2001 01:46:40 GMT";
const EARLIER: &str = "Sun, 09 Sep 2001 01:46:39 GMT";
const LATER: &str = "Sun, 09 Sep 2001 01:46:41 GMT";

fn set_mtime(path: &Path, t: SystemTime) {
    let file = File::options().write(true).open(path).unwrap();
    file.set_modified(t).unwrap();
}

fn fixture() -> (tempfile::TempDir, StaticFiles) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "page.html", "<h1>hi</h1>");
    set_mtime(
        &dir.path().join("page.html"),
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000),
    );
    let files = StaticFiles::new(dir.path());
    (dir, files)
}

#[test]
fn validators_are_sent() {
    let (_dir, files) = fixture();
    let resp = get(&files, "/page.html", &[]);
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        header(&resp, "last-modified").as_deref(),
        Some(LAST_MODIFIED)
    );
    let etag = header(&resp, "etag").unwrap();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong: {etag}"
    );
    assert_eq!(get(&files, "/page.html", &[]).headers()["etag"], *etag);
}

#[test]
fn preconditions_table() {
    let (_dir, files) = fixture();
    let etag = header(&get(&files, "/page.html", &[]), "etag").unwrap();
    let weak = format!("W/{etag}");
    let list = format!("\"other\", {etag}");
    let ok = StatusCode::OK;
    let not_modified = StatusCode::NOT_MODIFIED;
    let failed = StatusCode::PRECONDITION_FAILED;
    let cases: Vec<(Vec<(&str, &str)>, StatusCode)> = vec![
        (vec![("if-none-match", &etag)], not_modified),
        (vec![("if-none-match", &weak)], not_modified),
        (vec![("if-none-match", &list)], not_modified),
        (vec![("if-none-match", "*")], not_modified),
        (vec![("if-none-match", "\"other\"")], ok),
        (vec![("if-modified-since", LAST_MODIFIED)], not_modified),
        (vec![("if-modified-since", LATER)], not_modified),
        (vec![("if-modified-since", EARLIER)], ok),
        (vec![("if-modified-since", "garbage")], ok),
        // If-None-Match takes precedence over If-Modified-Since.
        (
            vec![("if-none-match", "\"other\""), ("if-modified-since", LATER)],
            ok,
        ),
        (
            vec![("if-none-match", &etag), ("if-modified-since", EARLIER)],
            not_modified,
        ),
        (vec![("if-match", &etag)], ok),
        (vec![("if-match", "*")], ok),
        (vec![("if-match", "\"other\"")], failed),
        // If-Match uses the strong comparison.
        (vec![("if-match", &weak)], failed),
        (vec![("if-unmodified-since", LAST_MODIFIED)], ok),
        (vec![("if-unmodified-since", EARLIER)], failed),
        // If-Match takes precedence over If-Unmodified-Since.
        (
            vec![("if-match", &etag), ("if-unmodified-since", EARLIER)],
            ok,
        ),
        // A failing If-Match is decided before If-None-Match.
        (
            vec![("if-match", "\"other\""), ("if-none-match", &etag)],
            failed,
        ),
    ];
    for (headers, want) in &cases {
        let resp = get(&files, "/page.html", headers);
        assert_eq!(resp.status(), *want, "{headers:?}");
        let body = body_bytes(resp);
        if *want == ok {
            assert_eq!(body, b"<h1>hi</h1>", "{headers:?}");
        } else if *want == not_modified {
            assert!(body.is_empty(), "{headers:?}");
        }
    }
}

#[test]
fn not_modified_carries_validators_and_cache_control() {
    let (dir, _) = fixture();
    let files = StaticFiles::new(dir.path()).cache_control(HeaderValue::from_static("max-age=60"));
    let etag = header(&get(&files, "/page.html", &[]), "etag").unwrap();
    let resp = files.handle(request(
        Method::HEAD,
        "/page.html",
        &[("if-none-match", &etag)],
    ));
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&resp, "etag"), Some(etag));
    assert_eq!(
        header(&resp, "last-modified").as_deref(),
        Some(LAST_MODIFIED)
    );
    assert_eq!(
        header(&resp, "cache-control").as_deref(),
        Some("max-age=60")
    );
    assert!(resp.body().is_empty());
}

#[test]
fn etag_changes_when_the_file_does() {
    let (dir, files) = fixture();
    let before = header(&get(&files, "/page.html", &[]), "etag").unwrap();
    write(dir.path(), "page.html", "<h1>hello</h1>");
    let resp = get(&files, "/page.html", &[("if-none-match", &before)]);
    assert_eq!(resp.status(), StatusCode::OK);
    assert_ne!(header(&resp, "etag"), Some(before));
}

#[test]
fn a_future_modification_time_is_not_sent() {
    let (dir, files) = fixture();
    let path = dir.path().join("page.html");
    set_mtime(&path, SystemTime::now() + Duration::from_secs(86_400));
    let resp = get(&files, "/page.html", &[]);
    let sent = httpdate::parse_http_date(&header(&resp, "last-modified").unwrap()).unwrap();
    assert!(sent <= SystemTime::now(), "Last-Modified in the future");
}
