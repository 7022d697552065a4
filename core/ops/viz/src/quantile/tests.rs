use super::*;

const INF: f64 = f64::INFINITY;

#[test]
fn interpolates_within_the_bucket() {
    // 10 observations up to 5, 70 more up to 10, 20 more up to 20.
    let buckets = [(5.0, 10.0), (10.0, 80.0), (20.0, 100.0), (INF, 100.0)];
    // Rank 50: 40 into the (5, 10] bucket of 70.
    assert!((histogram_quantile(0.5, &buckets) - (5.0 + 5.0 * 40.0 / 70.0)).abs() < 1e-9);
    // Rank 95: 15 into the (10, 20] bucket of 20.
    assert!((histogram_quantile(0.95, &buckets) - 17.5).abs() < 1e-9);
    // The first bucket starts at 0.
    assert!((histogram_quantile(0.05, &buckets) - 2.5).abs() < 1e-9);
}

#[test]
fn order_and_duplicate_bounds_do_not_matter() {
    let sorted = [(1.0, 4.0), (2.0, 8.0), (INF, 8.0)];
    let shuffled = [
        (INF, 4.0),
        (2.0, 4.0),
        (1.0, 2.0),
        (1.0, 2.0),
        (2.0, 4.0),
        (INF, 4.0),
    ];
    assert_eq!(
        histogram_quantile(0.5, &sorted),
        histogram_quantile(0.5, &shuffled)
    );
    assert_eq!(histogram_quantile(0.5, &sorted), 1.0);
}

#[test]
fn edges() {
    // Observations above every finite bound: the highest finite bound.
    assert_eq!(
        histogram_quantile(0.99, &[(1.0, 0.0), (5.0, 1.0), (INF, 10.0)]),
        5.0
    );
    // No observations, or no +Inf bucket: undefined.
    assert!(histogram_quantile(0.5, &[(1.0, 0.0), (INF, 0.0)]).is_nan());
    assert!(histogram_quantile(0.5, &[(1.0, 3.0), (2.0, 4.0)]).is_nan());
    assert!(histogram_quantile(0.5, &[]).is_nan());
    assert_eq!(histogram_quantile(1.5, &[(1.0, 1.0), (INF, 1.0)]), INF);
    assert_eq!(
        histogram_quantile(-1.0, &[(1.0, 1.0), (INF, 1.0)]),
        f64::NEG_INFINITY
    );
}

#[test]
fn latency_rounds_half_away_from_zero() {
    assert_eq!(latency_ms(0.5), 1);
    assert_eq!(latency_ms(2.5), 3);
    assert_eq!(latency_ms(2.49), 2);
    assert_eq!(latency_ms(f64::NAN), 0);
    assert_eq!(latency_ms(f64::INFINITY), 0);
}
