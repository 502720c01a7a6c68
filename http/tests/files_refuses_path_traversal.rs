//! Nothing outside the root is served: dot segments (plain or encoded),
//! encoded separators and NUL bytes are 400; absolute-looking paths stay
//! under the root; symbolic links leading outside it are 404.

mod common;

use std::os::unix::fs::symlink;

use common::{body_text, get, tag, write};
use thicket_http::http::StatusCode;
use thicket_http::{Router, StaticFiles};

struct Site {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
}

/// `public/` is served; `secret.txt` and `private/` sit next to it.
fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("public");
    write(&root, "ok.txt", "public");
    write(&root, "sub/inner.txt", "inner");
    write(dir.path(), "secret.txt", "SECRET");
    write(dir.path(), "private/key.pem", "SECRET");
    symlink(dir.path().join("secret.txt"), root.join("leak.txt")).unwrap();
    symlink(dir.path().join("private"), root.join("privdir")).unwrap();
    symlink(root.join("ok.txt"), root.join("alias.txt")).unwrap();
    symlink("../ok.txt", root.join("sub/up.txt")).unwrap();
    Site { _dir: dir, root }
}

#[test]
fn traversal_attempts_table() {
    let site = site();
    let files = StaticFiles::new(&site.root);
    let cases = [
        ("/../secret.txt", StatusCode::BAD_REQUEST),
        ("/sub/../../secret.txt", StatusCode::BAD_REQUEST),
        ("/%2e%2e/secret.txt", StatusCode::BAD_REQUEST),
        ("/%2E%2E/secret.txt", StatusCode::BAD_REQUEST),
        ("/.%2e/secret.txt", StatusCode::BAD_REQUEST),
        ("/..%2fsecret.txt", StatusCode::BAD_REQUEST),
        ("/%2e%2e%2fsecret.txt", StatusCode::BAD_REQUEST),
        ("/sub%2f..%2f..%2fsecret.txt", StatusCode::BAD_REQUEST),
        ("/..%5csecret.txt", StatusCode::BAD_REQUEST),
        ("/ok.txt%00.png", StatusCode::BAD_REQUEST),
        ("/./ok.txt", StatusCode::BAD_REQUEST),
        // An absolute-looking path is still under the root.
        ("//etc/passwd", StatusCode::NOT_FOUND),
        ("/etc/passwd", StatusCode::NOT_FOUND),
        // Symbolic links resolving outside the root.
        ("/leak.txt", StatusCode::NOT_FOUND),
        ("/privdir/key.pem", StatusCode::NOT_FOUND),
        ("/privdir/", StatusCode::NOT_FOUND),
    ];
    for (uri, want) in cases {
        let resp = get(&files, uri, &[]);
        assert_eq!(resp.status(), want, "{uri}");
        let body = body_text(resp);
        assert!(
            !body.contains("SECRET") && !body.contains("root:"),
            "{uri}: {body}"
        );
    }
}

#[test]
fn links_inside_the_root_are_served() {
    let site = site();
    let files = StaticFiles::new(&site.root);
    for uri in ["/alias.txt", "/sub/up.txt", "/ok.txt"] {
        let resp = get(&files, uri, &[]);
        assert_eq!(resp.status(), StatusCode::OK, "{uri}");
        assert_eq!(body_text(resp), "public", "{uri}");
    }
}

#[test]
fn a_root_given_through_a_symlink_still_works() {
    let site = site();
    let link = site.root.parent().unwrap().join("current");
    symlink(&site.root, &link).unwrap();
    let files = StaticFiles::new(&link);
    assert_eq!(body_text(get(&files, "/sub/inner.txt", &[])), "inner");
    assert_eq!(
        get(&files, "/leak.txt", &[]).status(),
        StatusCode::NOT_FOUND
    );
}

#[test]
fn traversal_through_a_router_wildcard_is_refused() {
    let site = site();
    let router = Router::new()
        .get("/static/*path", StaticFiles::new(&site.root))
        .fallback(tag("fallback"));
    let cases = [
        ("/static/ok.txt", StatusCode::OK),
        ("/static/..%2fsecret.txt", StatusCode::BAD_REQUEST),
        ("/static/%2e%2e/secret.txt", StatusCode::BAD_REQUEST),
        (
            "/static/sub/%2E%2E/%2E%2E/secret.txt",
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (uri, want) in cases {
        assert_eq!(get(&router, uri, &[]).status(), want, "{uri}");
    }
}
