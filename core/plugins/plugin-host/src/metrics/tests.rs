use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;

use super::*;

fn exposition(metrics: &PluginMetrics) -> String {
    let mut registry = Registry::default();
    metrics.register(&mut registry);
    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    text
}

#[test]
fn calls_are_counted_by_plugin_version_and_outcome() {
    let metrics = PluginMetrics::new();
    let meters = metrics.meters("authz", "abc123");
    meters.record(CallOutcome::Ok, 2e-6);
    meters.record(CallOutcome::Ok, 3e-6);
    meters.record(CallOutcome::Timeout, 5e-3);
    let text = exposition(&metrics);
    assert!(
        text.contains(r#"plugin_calls_total{plugin="authz",version="abc123",outcome="ok"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"plugin_calls_total{plugin="authz",version="abc123",outcome="timeout"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"plugin_call_duration_seconds_count{plugin="authz",version="abc123",outcome="ok"} 2"#
        ),
        "{text}"
    );
    assert!(
        text.contains("# TYPE plugin_call_duration_seconds histogram"),
        "{text}"
    );
}

#[test]
fn only_the_active_version_is_reported_active() {
    let metrics = PluginMetrics::new();
    metrics.set_active("authz", "v1", None);
    metrics.set_active("authz", "v2", Some("v1"));
    let text = exposition(&metrics);
    assert!(
        text.contains(r#"plugin_active_version{plugin="authz",version="v2"} 1"#),
        "{text}"
    );
    assert!(!text.contains(r#"version="v1""#), "{text}");
}

#[test]
fn reloads_are_counted_by_outcome() {
    let metrics = PluginMetrics::new();
    metrics.reload("authz", true);
    metrics.reload("authz", false);
    metrics.reload("authz", false);
    let text = exposition(&metrics);
    assert!(
        text.contains(r#"plugin_reloads_total{plugin="authz",outcome="accepted"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"plugin_reloads_total{plugin="authz",outcome="rejected"} 2"#),
        "{text}"
    );
}
