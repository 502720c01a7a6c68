//! Files are sent whole with a type from their extension, their length,
//! `Accept-Ranges` and an optional `Cache-Control`.

mod common;

use common::{body_bytes, get, header, write};
use thicket_http::http::header::HeaderValue;
use thicket_http::http::StatusCode;
use thicket_http::StaticFiles;

#[test]
fn content_types_table() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("a.html", "text/html; charset=utf-8"),
        ("a.css", "text/css; charset=utf-8"),
        ("a.js", "text/javascript; charset=utf-8"),
        ("a.mjs", "text/javascript; charset=utf-8"),
        ("a.txt", "text/plain; charset=utf-8"),
        ("a.json", "application/json"),
        ("a.svg", "image/svg+xml"),
        ("a.PNG", "image/png"),
        ("a.wasm", "application/wasm"),
        ("a.woff2", "font/woff2"),
        ("LICENSE", "application/octet-stream"),
        ("a.weird", "application/octet-stream"),
    ];
    for (name, _) in cases {
        write(dir.path(), name, name);
    }
    let files = StaticFiles::new(dir.path());
    for (name, want) in cases {
        let resp = get(&files, &format!("/{name}"), &[]);
        assert_eq!(resp.status(), StatusCode::OK, "{name}");
        assert_eq!(
            header(&resp, "content-type").as_deref(),
            Some(want),
            "{name}"
        );
    }
}

#[test]
fn whole_file_with_length_and_accept_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let contents: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    write(dir.path(), "big.bin", &contents);
    let files = StaticFiles::new(dir.path());
    let resp = get(&files, "/big.bin", &[]);
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.body().len(), Some(70_000));
    assert_eq!(header(&resp, "accept-ranges").as_deref(), Some("bytes"));
    assert!(resp.headers().get("cache-control").is_none());
    assert_eq!(body_bytes(resp), contents);
}

#[test]
fn cache_control_is_sent_when_set() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.js", "1");
    let files = StaticFiles::new(dir.path()).cache_control(HeaderValue::from_static(
        "public, max-age=31536000, immutable",
    ));
    let resp = get(&files, "/app.js", &[]);
    assert_eq!(
        header(&resp, "cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
}

#[test]
fn percent_encoded_names_are_found() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a b/café.txt", "accented");
    let files = StaticFiles::new(dir.path());
    let resp = get(&files, "/a%20b/caf%C3%A9.txt", &[]);
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(body_bytes(resp), b"accented");
}
