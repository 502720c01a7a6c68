//! Medians and ratios for the comparison tables.

/// The median of `values` (the mean of the middle two for an even count); `None` if empty.
/// NaNs are ignored.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// Whether a larger figure is better (requests per second) or worse (latency, memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

/// thicket's advantage over a peer on one metric, oriented so that above 1 always means
/// thicket is ahead: thicket / peer for throughput, peer / thicket for latency and memory.
/// `None` when either figure is missing or the divisor is not positive.
pub fn advantage(thicket: Option<f64>, peer: Option<f64>, better: Better) -> Option<f64> {
    let (t, p) = (thicket?, peer?);
    let (num, den) = match better {
        Better::Higher => (t, p),
        Better::Lower => (p, t),
    };
    (den > 0.0 && num.is_finite()).then(|| num / den)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 5.0, f64::NAN]), Some(5.0));
        // An outlier does not move it.
        assert_eq!(median(&[101_602.0, 66_000.0, 93_029.0]), Some(93_029.0));
    }

    #[test]
    fn advantage_above_one_means_thicket_is_ahead() {
        // Throughput: thicket 120k req/s against 100k.
        assert_eq!(
            advantage(Some(120_000.0), Some(100_000.0), Better::Higher),
            Some(1.2)
        );
        // Latency: thicket 0.5 ms against 1 ms.
        assert_eq!(advantage(Some(0.5), Some(1.0), Better::Lower), Some(2.0));
        // Memory: thicket 20 KiB against 10 KiB per connection: behind.
        assert_eq!(advantage(Some(20.0), Some(10.0), Better::Lower), Some(0.5));
        assert_eq!(advantage(None, Some(1.0), Better::Lower), None);
        assert_eq!(advantage(Some(1.0), None, Better::Higher), None);
        assert_eq!(advantage(Some(1.0), Some(0.0), Better::Higher), None);
        assert_eq!(advantage(Some(0.0), Some(1.0), Better::Lower), None);
    }
}
