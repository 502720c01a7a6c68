//! `Range: bytes=...` (RFC 9110 §14.1.2) against a representation of a
//! known length.
//!
//! Only one range is served: a request for several satisfiable ranges is
//! answered with the whole representation (`200`), which §14.2 allows ("a
//! server MAY ignore the Range header field"). Browsers and download tools
//! ask for one range; `multipart/byteranges` would cost a multipart
//! encoder, and serving many small overlapping ranges of a large file is
//! a known amplification attack.

/// What to send for a `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ranged {
    /// The whole representation: the header is malformed, names a unit
    /// other than `bytes`, or asks for more than one satisfiable range.
    Full,
    /// `206` with these bytes: `start..start + len`, `len > 0`.
    Part { start: u64, len: u64 },
    /// `416`: no range overlaps the representation.
    Unsatisfiable,
}

/// One `range-spec`, before it is checked against the length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    /// `first-last` (`last` is `None` for `first-`).
    From { first: u64, last: Option<u64> },
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

/// Decides what to send for the `Range` header `value` against a
/// representation of `len` bytes.
pub(crate) fn parse(value: &str, len: u64) -> Ranged {
    let Some(specs) = parse_specs(value) else {
        return Ranged::Full;
    };
    let mut satisfiable = specs.into_iter().filter_map(|s| s.resolve(len));
    match (satisfiable.next(), satisfiable.next()) {
        (None, _) => Ranged::Unsatisfiable,
        (Some((start, len)), None) => Ranged::Part { start, len },
        (Some(_), Some(_)) => Ranged::Full,
    }
}

/// The `range-spec`s of a `bytes` ranges-specifier; `None` when the value
/// is malformed or has another unit (such a header is ignored).
fn parse_specs(value: &str) -> Option<Vec<Spec>> {
    let (unit, set) = value.split_once('=')?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return None;
    }
    let mut specs = Vec::new();
    // `1#range-spec`: a list whose empty elements are skipped (RFC 9110
    // §5.6.1), with optional whitespace around the commas.
    for item in set.split(',') {
        let item = item.trim_matches([' ', '\t']);
        if item.is_empty() {
            continue;
        }
        let (first, last) = item.split_once('-')?;
        let spec = if first.is_empty() {
            Spec::Suffix(digits(last)?)
        } else {
            let first = digits(first)?;
            let last = if last.is_empty() {
                None
            } else {
                Some(digits(last)?)
            };
            if last.is_some_and(|l| l < first) {
                return None;
            }
            Spec::From { first, last }
        };
        specs.push(spec);
    }
    (!specs.is_empty()).then_some(specs)
}

/// `1*DIGIT` as a number, saturating: a position past `u64::MAX` is past
/// any file's end anyway.
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

impl Spec {
    /// `(start, len)` of the bytes this spec selects, or `None` when it is
    /// unsatisfiable (RFC 9110 §14.1.1: it starts at or past the end, or
    /// is a suffix of zero bytes).
    fn resolve(self, len: u64) -> Option<(u64, u64)> {
        match self {
            Spec::From { first, last } => {
                if first >= len {
                    return None;
                }
                let last = last.map_or(len - 1, |l| l.min(len - 1));
                Some((first, last - first + 1))
            }
            Spec::Suffix(n) => {
                let n = n.min(len);
                (n > 0).then_some((len - n, n))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_table() {
        use Ranged::*;
        let cases: &[(&str, u64, Ranged)] = &[
            ("bytes=0-499", 1000, Part { start: 0, len: 500 }),
            (
                "bytes=500-999",
                1000,
                Part {
                    start: 500,
                    len: 500,
                },
            ),
            (
                "bytes=500-",
                1000,
                Part {
                    start: 500,
                    len: 500,
                },
            ),
            (
                "bytes=-200",
                1000,
                Part {
                    start: 800,
                    len: 200,
                },
            ),
            ("bytes=0-0", 1000, Part { start: 0, len: 1 }),
            ("bytes=999-999", 1000, Part { start: 999, len: 1 }),
            // A last position past the end is clamped to it.
            (
                "bytes=900-5000",
                1000,
                Part {
                    start: 900,
                    len: 100,
                },
            ),
            (
                "bytes=-5000",
                1000,
                Part {
                    start: 0,
                    len: 1000,
                },
            ),
            ("BYTES=1-2", 1000, Part { start: 1, len: 2 }),
            ("bytes= 1-2 ,", 1000, Part { start: 1, len: 2 }),
            (
                "bytes=0-18446744073709551615",
                10,
                Part { start: 0, len: 10 },
            ),
            // Several ranges, one satisfiable: that one.
            ("bytes=5000-6000, 1-2", 1000, Part { start: 1, len: 2 }),
            // Several satisfiable ranges: the whole file.
            ("bytes=0-1,5-6", 1000, Full),
            ("bytes=0-1, -1", 1000, Full),
            // Unsatisfiable.
            ("bytes=1000-", 1000, Unsatisfiable),
            ("bytes=1000-2000", 1000, Unsatisfiable),
            ("bytes=-0", 1000, Unsatisfiable),
            ("bytes=0-", 0, Unsatisfiable),
            ("bytes=-5", 0, Unsatisfiable),
            ("bytes=99999999999999999999-", 1000, Unsatisfiable),
            // Malformed or another unit: ignored.
            ("bytes=5-1", 1000, Full),
            ("bytes=", 1000, Full),
            ("bytes=,", 1000, Full),
            ("bytes=-", 1000, Full),
            ("bytes=a-b", 1000, Full),
            ("bytes=1-2-3", 1000, Full),
            ("bytes=+1-2", 1000, Full),
            ("bytes=1 -2", 1000, Full),
            ("bytes 0-1", 1000, Full),
            ("items=0-1", 1000, Full),
            ("", 1000, Full),
        ];
        for (value, len, want) in cases {
            assert_eq!(parse(value, *len), *want, "{value:?} against {len} bytes");
        }
    }
}
