//! The `Date` header value, formatted at most once a second per thread.

use std::cell::Cell;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) is always this long.
pub(crate) const LEN: usize = 29;

thread_local! {
    /// The second last formatted, and its text.
    static CACHE: Cell<(u64, [u8; LEN])> = const { Cell::new((u64::MAX, [0; LEN])) };
    /// When the wall clock was last read, on the monotonic clock.
    static CHECKED: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The `Date` for a response to a request that started at `started`:
/// the wall clock is read again only when 100 ms have passed since it was
/// last read, so a busy connection reads one clock per request.
pub(crate) fn at(started: Instant) -> [u8; LEN] {
    let fresh = CHECKED.with(|c| match c.get() {
        Some(t) if started >= t && started - t < Duration::from_millis(100) => true,
        _ => {
            c.set(Some(started));
            false
        }
    });
    if fresh {
        let (secs, text) = CACHE.with(Cell::get);
        if secs != u64::MAX {
            return text;
        }
    }
    now()
}

/// Now, as an IMF-fixdate.
pub(crate) fn now() -> [u8; LEN] {
    let now = SystemTime::now();
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    CACHE.with(|c| {
        let (cached, text) = c.get();
        if cached == secs {
            return text;
        }
        let mut text = [0u8; LEN];
        let formatted = httpdate::fmt_http_date(now);
        // Dates before year 1000 or after 9999 do not fit; nobody's clock
        // says so, but keep the old text rather than panic.
        if formatted.len() == LEN {
            text.copy_from_slice(formatted.as_bytes());
            c.set((secs, text));
        }
        c.get().1
    })
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    #[test]
    fn is_an_imf_fixdate() {
        let v = super::now();
        let s = std::str::from_utf8(&v).unwrap();
        assert!(s.ends_with(" GMT"), "{s}");
        assert!(httpdate::parse_http_date(s).is_ok(), "{s}");
    }

    #[test]
    fn a_request_soon_after_the_last_gets_the_cached_text() {
        let t = Instant::now();
        let first = super::at(t);
        assert_eq!(super::at(t), first);
        assert!(httpdate::parse_http_date(std::str::from_utf8(&first).unwrap()).is_ok());
    }
}
