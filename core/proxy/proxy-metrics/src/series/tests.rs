use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;

use super::RequestSeries;
use crate::{Labels, ProxyMetrics};

fn text(metrics: &ProxyMetrics) -> String {
    let mut registry = Registry::default();
    metrics.register(&mut registry);
    let mut out = String::new();
    encode(&mut out, &registry).unwrap();
    out
}

#[test]
fn reused_series_count_into_the_same_labelled_families() {
    let metrics = ProxyMetrics::new();
    let labels = Labels::outbound().with("authority", "bb:8080").build();
    let series = RequestSeries::new(&metrics, labels.clone());
    for _ in 0..3 {
        series.request();
        series.latency(200, 0.4);
        series.response(200, true);
    }
    series.request();
    series.latency(503, 12.0);
    series.response(503, false);
    // A second handle on the same labels is the same series.
    RequestSeries::new(&metrics, labels).request();

    // Series nobody counted into do not appear.
    RequestSeries::new(
        &metrics,
        Labels::outbound().with("authority", "idle:80").build(),
    );

    let text = text(&metrics);
    assert!(!text.contains("idle:80"), "{text}");
    let has = |line: &str| assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
    has(r#"request_total{direction="outbound",authority="bb:8080"} 5"#);
    has(
        r#"response_total{direction="outbound",authority="bb:8080",status_code="200",classification="success"} 3"#,
    );
    has(
        r#"response_total{direction="outbound",authority="bb:8080",status_code="503",classification="failure"} 1"#,
    );
    has(
        r#"response_latency_ms_count{direction="outbound",authority="bb:8080",status_code="200"} 3"#,
    );
    has(
        r#"response_latency_ms_bucket{le="1.0",direction="outbound",authority="bb:8080",status_code="200"} 3"#,
    );
    has(
        r#"response_latency_ms_bucket{le="10.0",direction="outbound",authority="bb:8080",status_code="503"} 0"#,
    );
    has(
        r#"response_latency_ms_bucket{le="20.0",direction="outbound",authority="bb:8080",status_code="503"} 1"#,
    );
}
