//! Prometheus' `histogram_quantile`, so that quantiles computed from kept
//! scrapes equal those Prometheus computes from the same buckets.

/// The `q` quantile (0..=1) of a histogram given as cumulative buckets
/// `(upper bound, count)` in any order, as Prometheus' `histogram_quantile`
/// computes it: find the bucket holding rank `q * total`, then interpolate
/// linearly between its lower and upper bounds (from 0 for the first
/// bucket). `NaN` without a `+Inf` bucket or without observations; the
/// highest finite bound when the rank falls in the `+Inf` bucket.
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    let mut sorted: Vec<(f64, f64)> = buckets
        .iter()
        .copied()
        .filter(|(le, _)| !le.is_nan())
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Buckets with the same bound (e.g. "1" and "1.0") are one bucket.
    let mut coalesced: Vec<(f64, f64)> = Vec::with_capacity(sorted.len());
    for (le, count) in sorted {
        match coalesced.last_mut() {
            Some(last) if last.0 == le => last.1 += count,
            _ => coalesced.push((le, count)),
        }
    }
    // Cumulative counts never decrease; precision loss or a scrape taken
    // mid-update may make them, and Prometheus evens them out the same way.
    let mut max = f64::NEG_INFINITY;
    for bucket in &mut coalesced {
        max = max.max(bucket.1);
        bucket.1 = max;
    }
    let n = coalesced.len();
    if n < 2 || coalesced[n - 1].0 != f64::INFINITY {
        return f64::NAN;
    }
    let observations = coalesced[n - 1].1;
    if observations == 0.0 || observations.is_nan() {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let b = coalesced[..n - 1]
        .iter()
        .position(|(_, count)| *count >= rank)
        .unwrap_or(n - 1);
    if b == n - 1 {
        return coalesced[n - 2].0;
    }
    if b == 0 && coalesced[0].0 <= 0.0 {
        return coalesced[0].0;
    }
    let bucket_end = coalesced[b].0;
    let mut bucket_start = 0.0;
    let mut count = coalesced[b].1;
    if b > 0 {
        bucket_start = coalesced[b - 1].0;
        count -= coalesced[b - 1].1;
        rank -= coalesced[b - 1].1;
    }
    bucket_start + (bucket_end - bucket_start) * (rank / count)
}

/// A latency quantile as Linkerd prints it: rounded to whole milliseconds
/// (half away from zero, as Go's `math.Round`), 0 when undefined.
pub(crate) fn latency_ms(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        value.round() as u64
    } else {
        0
    }
}

#[cfg(test)]
mod tests;
