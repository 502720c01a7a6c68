//! The `Date` header value, formatted at most once a second per thread.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use http::HeaderValue;

thread_local! {
    static CACHE: RefCell<(u64, Option<HeaderValue>)> = const { RefCell::new((0, None)) };
}

/// Now, as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn now() -> HeaderValue {
    let now = SystemTime::now();
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.0 != secs || c.1.is_none() {
            let text = httpdate::fmt_http_date(now);
            c.0 = secs;
            c.1 = Some(HeaderValue::from_str(&text).expect("an HTTP date is a valid header"));
        }
        c.1.clone().expect("just set")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn is_an_imf_fixdate() {
        let v = super::now();
        let s = v.to_str().unwrap();
        assert_eq!(s.len(), 29, "{s}");
        assert!(s.ends_with(" GMT"), "{s}");
        assert!(httpdate::parse_http_date(s).is_ok());
    }
}
