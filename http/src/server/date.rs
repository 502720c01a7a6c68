//! The `Date` header value, formatted at most once a second per thread.

use std::cell::RefCell;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::HeaderValue;

thread_local! {
    static CACHE: RefCell<(u64, Option<HeaderValue>)> = const { RefCell::new((0, None)) };
    /// When the wall clock was last read, on the monotonic clock.
    static CHECKED: RefCell<Option<Instant>> = const { RefCell::new(None) };
}

/// The `Date` for a response to a request that started at `started`:
/// the wall clock is read again only when 100 ms have passed since it was
/// last read, so a busy connection reads one clock per request.
pub(crate) fn at(started: Instant) -> HeaderValue {
    let fresh = CHECKED.with(|c| {
        let mut c = c.borrow_mut();
        match *c {
            Some(t) if started >= t && started - t < Duration::from_millis(100) => true,
            _ => {
                *c = Some(started);
                false
            }
        }
    });
    if fresh {
        if let Some(v) = CACHE.with(|c| c.borrow().1.clone()) {
            return v;
        }
    }
    now()
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
