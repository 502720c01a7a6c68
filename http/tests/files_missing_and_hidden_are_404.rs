//! Missing files, a missing root, names used as directories and hidden
//! (dot) files all answer 404; hidden files can be allowed.

mod common;

use common::{body_text, get, write};
use thicket_http::http::StatusCode;
use thicket_http::StaticFiles;

#[test]
fn not_found_table() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "f.txt", "x");
    write(dir.path(), ".env", "SECRET=1");
    write(dir.path(), ".git/config", "[core]");
    write(dir.path(), "sub/.hidden", "h");
    let files = StaticFiles::new(dir.path());
    for uri in [
        "/missing.txt",
        "/f.txt/x",
        "/.env",
        "/.git/config",
        "/sub/.hidden",
        "/.git/",
    ] {
        let resp = get(&files, uri, &[]);
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(body_text(resp), "404 Not Found\n", "{uri}");
    }
}

#[test]
fn hidden_files_can_be_served() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".well-known/security.txt", "Contact: x");
    let files = StaticFiles::new(dir.path()).serve_hidden(true);
    let resp = get(&files, "/.well-known/security.txt", &[]);
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(body_text(resp), "Contact: x");
}

#[test]
fn missing_root_is_404() {
    let dir = tempfile::tempdir().unwrap();
    let files = StaticFiles::new(dir.path().join("not-yet"));
    assert_eq!(get(&files, "/", &[]).status(), StatusCode::NOT_FOUND);
    // Created later, it is served without rebuilding the handler.
    write(&dir.path().join("not-yet"), "index.html", "now");
    assert_eq!(body_text(get(&files, "/", &[])), "now");
}
