use super::*;
use crate::TrafficStats;

fn row(namespace: &str, name: &str, kind: ResourceKind, stats: bool) -> StatRow {
    StatRow {
        namespace: namespace.into(),
        kind,
        name: name.into(),
        meshed_pods: 1,
        total_pods: 1,
        status: (kind == ResourceKind::Pod).then(|| "Running".to_owned()),
        stats: stats.then_some(TrafficStats {
            success_rate: 0.98765,
            request_rate: 1.25,
            latency_ms_p50: 12,
            latency_ms_p95: 250,
            latency_ms_p99: 3000,
            tcp_open_connections: 12,
            tcp_read_bytes_rate: 1024.0,
            tcp_write_bytes_rate: 0.5,
        }),
    }
}

#[test]
fn nothing_to_show() {
    assert_eq!(format_stat(&[], Output::Table), "No traffic found.\n");
    assert_eq!(format_stat(&[], Output::Json), "[]\n");
    assert_eq!(
        format_authz(&[], Output::Table),
        "ROUTE  SERVER  AUTHORIZATION  UNAUTHORIZED  SUCCESS  RPS  LATENCY_P50  LATENCY_P95  LATENCY_P99  \n"
    );
}

#[test]
fn rows_without_traffic_print_dashes() {
    let rows = [
        row("ns", "longer-name", ResourceKind::Deployment, true),
        row("ns", "idle", ResourceKind::Deployment, false),
    ];
    assert_eq!(
        format_stat(&rows, Output::Table),
        "NAME          MESHED   SUCCESS      RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99   TCP_CONN\n\
         longer-name      1/1    98.77%   1.2rps          12ms         250ms        3000ms         12\n\
         idle             1/1         -        -             -             -             -          -\n"
    );
}

#[test]
fn all_namespaces_and_pods() {
    let rows = [
        row("ns", "bb-1", ResourceKind::Pod, true),
        row("other", "bb-2", ResourceKind::Pod, false),
    ];
    assert_eq!(
        format_stat(&rows, Output::Table),
        "NAMESPACE   NAME    STATUS   MESHED   SUCCESS      RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99   TCP_CONN\n\
         ns          bb-1   Running      1/1    98.77%   1.2rps          12ms         250ms        3000ms         12\n\
         other       bb-2   Running      1/1         -        -             -             -             -          -\n"
    );
    let query = Query {
        namespace: None,
        resource: ResourceKind::Pod,
        name: None,
        window: std::time::Duration::from_secs(60),
    };
    assert!(format_stat_for(&query, &rows[..1], Output::Table).starts_with("NAMESPACE   NAME "));
    assert!(format_stat(&rows[..1], Output::Table).starts_with("NAME    STATUS"));
}

#[test]
fn stat_json_nulls_without_traffic() {
    let rows = [row("ns", "idle", ResourceKind::Deployment, false)];
    assert_eq!(
        format_stat(&rows, Output::Json),
        "[\n  {\n    \"namespace\": \"ns\",\n    \"kind\": \"deployment\",\n    \"name\": \"idle\",\n    \"meshed\": \"1/1\",\n    \"success\": null,\n    \"rps\": null,\n    \"latency_ms_p50\": null,\n    \"latency_ms_p95\": null,\n    \"latency_ms_p99\": null\n  }\n]\n"
    );
}

#[test]
fn json_numbers_as_go_writes_them() {
    assert_eq!(json_number(1.0).to_string(), "1");
    assert_eq!(json_number(10.3).to_string(), "10.3");
    assert_eq!(json_number(f64::NAN), Value::Null);
    assert_eq!(go_float32(0.1).to_string(), "0.1");
}
