use prometheus_client::metrics::counter::Counter;

use super::*;

#[test]
fn the_registered_metrics_are_in_the_text() {
    let counter: Counter = Counter::default();
    counter.inc_by(3);
    let text = exposition(|registry| {
        registry.register("requests", "Requests seen", counter.clone());
    });
    assert!(text.contains("requests_total 3"), "{text}");
    assert!(text.ends_with("# EOF\n"), "{text}");
}
