//! Single byte ranges are answered with 206 and `Content-Range`,
//! unsatisfiable ones with 416, several ranges with the whole file, and
//! `If-Range` decides whether a range is honoured.

mod common;

use std::fs::File;
use std::time::{Duration, SystemTime};

use common::{body_bytes, get, header, request, write};
use thicket_http::http::{Method, StatusCode};
use thicket_http::{Handler, StaticFiles};

const LAST_MODIFIED: &str = "Sun, 09 Sep 2001 01:46:40 GMT";

fn data() -> Vec<u8> {
    (0..100u8).collect()
}

fn fixture() -> (tempfile::TempDir, StaticFiles) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "data.bin", data());
    let file = File::options()
        .write(true)
        .open(dir.path().join("data.bin"))
        .unwrap();
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000))
        .unwrap();
    let files = StaticFiles::new(dir.path());
    (dir, files)
}

#[test]
fn single_ranges_table() {
    let (_dir, files) = fixture();
    let cases: &[(&str, usize, usize)] = &[
        ("bytes=10-19", 10, 20),
        ("bytes=90-", 90, 100),
        ("bytes=-5", 95, 100),
        ("bytes=0-0", 0, 1),
        ("bytes=95-1000", 95, 100),
        ("bytes=-1000", 0, 100),
        ("bytes=200-300, 3-4", 3, 5),
    ];
    for (range, start, end) in cases {
        let resp = get(&files, "/data.bin", &[("range", range)]);
        assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            header(&resp, "content-range"),
            Some(format!("bytes {start}-{}/100", end - 1)),
            "{range}"
        );
        assert_eq!(resp.body().len(), Some((end - start) as u64), "{range}");
        assert_eq!(header(&resp, "accept-ranges").as_deref(), Some("bytes"));
        assert_eq!(body_bytes(resp), &data()[*start..*end], "{range}");
    }
}

#[test]
fn unsatisfiable_is_416_with_the_length() {
    let (_dir, files) = fixture();
    for range in ["bytes=100-", "bytes=500-600", "bytes=-0"] {
        let resp = get(&files, "/data.bin", &[("range", range)]);
        assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
        assert_eq!(
            header(&resp, "content-range").as_deref(),
            Some("bytes */100")
        );
        assert!(body_bytes(resp).is_empty());
    }
}

#[test]
fn several_malformed_or_foreign_ranges_get_the_whole_file() {
    let (_dir, files) = fixture();
    for range in [
        "bytes=0-1,5-6",
        "bytes=9-3",
        "bytes=x-",
        "lines=1-2",
        "bytes 1-2",
    ] {
        let resp = get(&files, "/data.bin", &[("range", range)]);
        assert_eq!(resp.status(), StatusCode::OK, "{range}");
        assert!(resp.headers().get("content-range").is_none(), "{range}");
        assert_eq!(body_bytes(resp), data(), "{range}");
    }
}

#[test]
fn head_ignores_range() {
    let (_dir, files) = fixture();
    let resp = files.handle(request(
        Method::HEAD,
        "/data.bin",
        &[("range", "bytes=0-9")],
    ));
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.body().len(), Some(100));
}

#[test]
fn if_range_table() {
    let (_dir, files) = fixture();
    let etag = header(&get(&files, "/data.bin", &[]), "etag").unwrap();
    let cases = [
        (etag.clone(), StatusCode::PARTIAL_CONTENT),
        (LAST_MODIFIED.to_string(), StatusCode::PARTIAL_CONTENT),
        ("\"stale\"".to_string(), StatusCode::OK),
        ("Sun, 09 Sep 2001 01:46:41 GMT".to_string(), StatusCode::OK),
        ("not a validator".to_string(), StatusCode::OK),
        // A weak tag never validates a range.
        (format!("W/{etag}"), StatusCode::OK),
    ];
    for (if_range, want) in &cases {
        let if_range = if_range.as_str();
        let resp = get(
            &files,
            "/data.bin",
            &[("range", "bytes=0-9"), ("if-range", if_range)],
        );
        assert_eq!(resp.status(), *want, "If-Range: {if_range}");
        let want_len = if *want == StatusCode::OK { 100 } else { 10 };
        assert_eq!(body_bytes(resp).len(), want_len, "If-Range: {if_range}");
    }
}
