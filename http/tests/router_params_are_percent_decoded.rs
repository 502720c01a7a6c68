//! Parameters reach handlers percent-decoded, one segment each; a value that
//! is not UTF-8 once decoded is refused with 400.

mod common;

use common::{body_text, get, tag};
use thicket_http::http::StatusCode;
use thicket_http::{Body, Params, Request, Response, Router};

#[test]
fn decoded_values_table() {
    let router = Router::new()
        .get("/u/:name", tag("user"))
        .get("/u/:name/f/*rest", tag("file"));
    let cases = [
        ("/u/ann", "user name=ann"),
        ("/u/ann%20lee", "user name=ann lee"),
        ("/u/caf%C3%A9", "user name=café"),
        ("/u/a+b", "user name=a+b"),
        ("/u/a%2Fb", "user name=a/b"),
        ("/u/ann/f/a%20b/c.txt", "file name=ann rest=a b/c.txt"),
        ("/u/ann?name=zed", "user name=ann"),
    ];
    for (uri, want) in cases {
        assert_eq!(body_text(get(&router, uri, &[])), want, "{uri}");
    }
}

#[test]
fn invalid_utf8_is_400() {
    let router = Router::new().get("/u/:name", tag("user"));
    assert_eq!(
        get(&router, "/u/%C3%28", &[]).status(),
        StatusCode::BAD_REQUEST
    );
}

#[test]
fn params_iterate_in_pattern_order_and_keep_the_raw_rest() {
    let router = Router::new().get("/:a/:b/*c", |req: Request| {
        let p = req.extensions().get::<Params>().unwrap();
        assert_eq!(p.len(), 3);
        assert!(!p.is_empty());
        let names: Vec<&str> = p.iter().map(|(k, _)| k).collect();
        Response::new(Body::from(format!(
            "{names:?} {:?} {:?} {:?}",
            p.get("c"),
            p.rest_raw(),
            p.get("missing")
        )))
    });
    assert_eq!(
        body_text(get(&router, "/x/y/p%2Fq/r", &[])),
        r#"["a", "b", "c"] Some("p/q/r") Some("p%2Fq/r") None"#
    );
}
