//! Validators and conditional requests (RFC 9110 §8.8 and §13).

use std::fs::Metadata;
use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{
    HeaderMap, HeaderValue, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE,
    IF_UNMODIFIED_SINCE,
};

/// What a file's validators are: its entity tag and modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Validators {
    /// The opaque part of the (strong) entity tag, without quotes.
    opaque: String,
    /// `Last-Modified` in whole seconds since the epoch, never later than
    /// when the validators were taken.
    last_modified: u64,
    /// When the validators were taken, in whole seconds since the epoch.
    now: u64,
}

/// The outcome of evaluating the preconditions of a `GET` or `HEAD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Precondition {
    /// Send the representation (or a range of it).
    Proceed,
    /// `304 Not Modified`.
    NotModified,
    /// `412 Precondition Failed`.
    Failed,
}

impl Validators {
    /// Validators as `of` would compute them (for the fuzz targets).
    pub(crate) fn from_parts(opaque: String, last_modified: u64, now: u64) -> Validators {
        Validators {
            opaque,
            last_modified,
            now,
        }
    }

    /// The validators of a file, or `None` when the file system keeps no
    /// modification time.
    ///
    /// The entity tag is strong, made of the modification time to the
    /// nanosecond and the length: the bytes are served as stored (no
    /// content coding), so equal tags mean equal bytes unless a file was
    /// rewritten with the same length within the file system's timestamp
    /// granularity, the same assumption nginx and Apache make. The inode
    /// is left out so that servers sharing a copy of the files agree.
    pub(crate) fn of(meta: &Metadata) -> Option<Validators> {
        let mtime = meta.modified().ok()?;
        let since = mtime.duration_since(UNIX_EPOCH).unwrap_or_default();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        Some(Validators {
            opaque: format!(
                "{:x}.{:x}-{:x}",
                since.as_secs(),
                since.subsec_nanos(),
                meta.len()
            ),
            // RFC 9110 §8.8.2.1: a modification time in the future is
            // replaced by the time of the response.
            last_modified: since.as_secs().min(now),
            now,
        })
    }

    /// The `ETag` header value.
    pub(crate) fn etag(&self) -> HeaderValue {
        HeaderValue::from_str(&format!("\"{}\"", self.opaque))
            .expect("hex digits, '.' and '-' make a valid header value")
    }

    /// The `Last-Modified` header value.
    pub(crate) fn last_modified(&self) -> HeaderValue {
        let date = httpdate::fmt_http_date(
            UNIX_EPOCH + std::time::Duration::from_secs(self.last_modified),
        );
        HeaderValue::from_str(&date).expect("an HTTP-date is a valid header value")
    }
}

/// Evaluates `If-Match`, `If-Unmodified-Since`, `If-None-Match` and
/// `If-Modified-Since` in the order of RFC 9110 §13.2.2, for a `GET` or
/// `HEAD` of an existing file (`validators` is `None` when it has none).
pub(crate) fn evaluate(headers: &HeaderMap, validators: Option<&Validators>) -> Precondition {
    // Step 1 and 2: If-Match, else If-Unmodified-Since.
    if headers.contains_key(IF_MATCH) {
        if !tag_list_matches(headers, IF_MATCH, validators, Comparison::Strong) {
            return Precondition::Failed;
        }
    } else if let (Some(date), Some(v)) = (date_header(headers, IF_UNMODIFIED_SINCE), validators) {
        if v.last_modified > date {
            return Precondition::Failed;
        }
    }
    // Step 3 and 4: If-None-Match, else If-Modified-Since. For GET and
    // HEAD a match means 304, not 412.
    if headers.contains_key(IF_NONE_MATCH) {
        if tag_list_matches(headers, IF_NONE_MATCH, validators, Comparison::Weak) {
            return Precondition::NotModified;
        }
    } else if let (Some(date), Some(v)) = (date_header(headers, IF_MODIFIED_SINCE), validators) {
        if v.last_modified <= date {
            return Precondition::NotModified;
        }
    }
    Precondition::Proceed
}

/// Whether a `Range` may be honoured given `If-Range` (RFC 9110 §13.1.5):
/// true without `If-Range`, or when it names the current representation
/// by a strong entity tag or by its exact, strong `Last-Modified` date.
pub(crate) fn if_range_allows(headers: &HeaderMap, validators: Option<&Validators>) -> bool {
    let Some(value) = headers.get(IF_RANGE) else {
        return true;
    };
    let (Ok(value), Some(v)) = (value.to_str(), validators) else {
        return false;
    };
    let value = value.trim_matches([' ', '\t']);
    if value.starts_with('"') || value.starts_with("W/") {
        return parse_tags(value).is_some_and(|tags| {
            tags.len() == 1
                && matches!(tags[0], Tag::Tag { weak: false, opaque } if opaque == v.opaque)
        });
    }
    // A date validates only if it is strong (§8.8.2.2): at least a second
    // older than the response, so no change can hide in the same second.
    httpdate::parse_http_date(value)
        .ok()
        .and_then(|d| d.duration_since(UNIX_EPOCH).ok())
        .is_some_and(|d| d.as_secs() == v.last_modified && v.last_modified < v.now)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Strong,
    Weak,
}

#[derive(Debug, PartialEq, Eq)]
enum Tag<'a> {
    Any,
    Tag { weak: bool, opaque: &'a str },
}

/// Whether any of the entity tags in the `name` fields matches (§8.8.3.2).
/// A malformed list matches nothing, except that `*` matches any existing
/// representation.
fn tag_list_matches(
    headers: &HeaderMap,
    name: http::header::HeaderName,
    validators: Option<&Validators>,
    cmp: Comparison,
) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(parse_tags)
        .flatten()
        .any(|tag| match tag {
            Tag::Any => true,
            Tag::Tag { weak, opaque } => {
                validators.is_some_and(|v| opaque == v.opaque && (cmp == Comparison::Weak || !weak))
            }
        })
}

/// `"*" / #entity-tag`; `None` when malformed. Entity tags may contain
/// commas, so the list is scanned rather than split.
fn parse_tags(value: &str) -> Option<Vec<Tag<'_>>> {
    let mut tags = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return Some(tags);
        }
        if let Some(after) = rest.strip_prefix('*') {
            tags.push(Tag::Any);
            rest = after;
        } else {
            let (weak, quoted) = match rest.strip_prefix("W/") {
                Some(after) => (true, after),
                None => (false, rest),
            };
            let inner = quoted.strip_prefix('"')?;
            let end = inner.find('"')?;
            tags.push(Tag::Tag {
                weak,
                opaque: &inner[..end],
            });
            rest = &inner[end + 1..];
        }
        // Elements are separated by commas (with optional whitespace).
        let after = rest.trim_start_matches([' ', '\t']);
        if !after.is_empty() && !after.starts_with(',') {
            return None;
        }
        rest = after;
    }
}

/// A date header in whole seconds since the epoch; `None` when absent or
/// not a valid HTTP-date (an invalid date is ignored, §13.1.3 and §13.1.4).
fn date_header(headers: &HeaderMap, name: http::header::HeaderName) -> Option<u64> {
    let value = headers.get(name)?.to_str().ok()?;
    let date = httpdate::parse_http_date(value.trim()).ok()?;
    Some(date.duration_since(UNIX_EPOCH).ok()?.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validators() -> Validators {
        Validators {
            opaque: "abc".into(),
            // 2015-10-21 07:28:00 UTC
            last_modified: 1_445_412_480,
            now: 1_445_412_480 + 3600,
        }
    }

    const LM: &str = "Wed, 21 Oct 2015 07:28:00 GMT";
    const EARLIER: &str = "Wed, 21 Oct 2015 07:27:59 GMT";
    const LATER: &str = "Wed, 21 Oct 2015 07:28:01 GMT";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn preconditions_table() {
        use Precondition::*;
        let cases: &[(&[(&str, &str)], Precondition)] = &[
            (&[], Proceed),
            (&[("if-match", "\"abc\"")], Proceed),
            (&[("if-match", "\"x\", \"abc\"")], Proceed),
            (&[("if-match", "*")], Proceed),
            (&[("if-match", "W/\"abc\"")], Failed),
            (&[("if-match", "\"x\"")], Failed),
            (&[("if-match", "garbage")], Failed),
            (&[("if-match", "\"x\""), ("if-match", "\"abc\"")], Proceed),
            (&[("if-unmodified-since", LM)], Proceed),
            (&[("if-unmodified-since", LATER)], Proceed),
            (&[("if-unmodified-since", EARLIER)], Failed),
            (&[("if-unmodified-since", "yesterday")], Proceed),
            // If-Match takes precedence over If-Unmodified-Since.
            (
                &[("if-match", "\"abc\""), ("if-unmodified-since", EARLIER)],
                Proceed,
            ),
            (&[("if-none-match", "\"abc\"")], NotModified),
            (&[("if-none-match", "W/\"abc\"")], NotModified),
            (&[("if-none-match", "\"a,b\", \"abc\"")], NotModified),
            (&[("if-none-match", "*")], NotModified),
            (&[("if-none-match", "\"other\"")], Proceed),
            (&[("if-modified-since", LM)], NotModified),
            (&[("if-modified-since", LATER)], NotModified),
            (&[("if-modified-since", EARLIER)], Proceed),
            (&[("if-modified-since", "not a date")], Proceed),
            // If-None-Match takes precedence over If-Modified-Since.
            (
                &[("if-none-match", "\"other\""), ("if-modified-since", LM)],
                Proceed,
            ),
            (
                &[("if-none-match", "\"abc\""), ("if-modified-since", EARLIER)],
                NotModified,
            ),
            // A failed If-Match wins over a matching If-None-Match.
            (
                &[("if-match", "\"x\""), ("if-none-match", "\"abc\"")],
                Failed,
            ),
        ];
        let v = validators();
        for (pairs, want) in cases {
            assert_eq!(evaluate(&headers(pairs), Some(&v)), *want, "{pairs:?}");
        }
    }

    #[test]
    fn if_range_table() {
        let cases: &[(&[(&str, &str)], bool)] = &[
            (&[], true),
            (&[("if-range", "\"abc\"")], true),
            (&[("if-range", "\"abd\"")], false),
            (&[("if-range", "W/\"abc\"")], false),
            (&[("if-range", LM)], true),
            (&[("if-range", LATER)], false),
            (&[("if-range", EARLIER)], false),
            (&[("if-range", "garbage")], false),
        ];
        let v = validators();
        for (pairs, want) in cases {
            assert_eq!(
                if_range_allows(&headers(pairs), Some(&v)),
                *want,
                "{pairs:?}"
            );
        }
        // A Last-Modified of this very second is weak: no date matches it.
        let fresh = Validators {
            now: v.last_modified,
            ..v
        };
        assert!(!if_range_allows(
            &headers(&[("if-range", LM)]),
            Some(&fresh)
        ));
    }

    #[test]
    fn tag_lists_parse() {
        assert_eq!(
            parse_tags(" \"a\" ,W/\"b,c\",*"),
            Some(vec![
                Tag::Tag {
                    weak: false,
                    opaque: "a"
                },
                Tag::Tag {
                    weak: true,
                    opaque: "b,c"
                },
                Tag::Any,
            ])
        );
        assert_eq!(parse_tags("\"a\" \"b\""), None);
        assert_eq!(parse_tags("\"unterminated"), None);
        assert_eq!(parse_tags("abc"), None);
    }
}
