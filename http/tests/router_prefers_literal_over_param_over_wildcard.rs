//! Segment precedence does not depend on registration order: literal, then
//! `:param`, then `*wildcard`, backtracking when a branch dead-ends.

mod common;

use common::{body_text, get, tag};
use thicket_http::Router;

fn routes(reverse: bool) -> Router {
    let mut list: Vec<(&str, &'static str)> = vec![
        ("/files/*path", "wild"),
        ("/files/:name", "param"),
        ("/files/readme", "literal"),
        ("/files/:name/raw", "param-raw"),
    ];
    if reverse {
        list.reverse();
    }
    list.into_iter().fold(Router::new(), |r, (pattern, name)| {
        r.get(pattern, tag(name))
    })
}

#[test]
fn precedence_table_in_both_registration_orders() {
    let cases = [
        ("/files/readme", "literal"),
        ("/files/other", "param name=other"),
        ("/files/readme/raw", "param-raw name=readme"),
        ("/files/a/b/c", "wild path=a/b/c"),
        // The parameter branch dead-ends at `x`; the wildcard takes it.
        ("/files/readme/x", "wild path=readme/x"),
        // `:name` needs a non-empty segment; the wildcard matches empty.
        ("/files/", "wild path="),
    ];
    for reverse in [false, true] {
        let router = routes(reverse);
        for (uri, want) in cases {
            assert_eq!(
                body_text(get(&router, uri, &[])),
                want,
                "{uri} (reverse {reverse})"
            );
        }
    }
}

#[test]
fn trailing_slash_is_significant() {
    let router = Router::new()
        .get("/dir", tag("no-slash"))
        .get("/dir/", tag("slash"));
    assert_eq!(body_text(get(&router, "/dir", &[])), "no-slash");
    assert_eq!(body_text(get(&router, "/dir/", &[])), "slash");
}
