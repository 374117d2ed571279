//! Medians and per-item times.

use std::time::Duration;

/// The median of `samples` (the mean of the middle two for an even count).
///
/// ```
/// assert_eq!(goro_benches::median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
/// ```
///
/// # Panics
///
/// If `samples` is empty.
pub fn median(samples: &[f64]) -> f64 {
    assert!(!samples.is_empty(), "median of no samples");
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

/// Nanoseconds per item.
///
/// ```
/// use std::time::Duration;
///
/// assert_eq!(goro_benches::ns_per(Duration::from_micros(3), 1000), 3.0);
/// ```
pub fn ns_per(elapsed: Duration, items: usize) -> f64 {
    elapsed.as_nanos() as f64 / items as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn ns_per_divides_by_the_item_count() {
        assert_eq!(ns_per(Duration::from_millis(1), 4), 250_000.0);
    }
}
