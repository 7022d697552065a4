use super::*;

fn stat(namespace: Option<&str>, resource: ResourceKind, name: Option<&str>) -> Query {
    Query {
        namespace: namespace.map(str::to_owned),
        resource,
        name: name.map(str::to_owned),
        window: Duration::from_secs(60),
    }
}

#[test]
fn stat_queries_as_linkerd_writes_them() {
    let queries = stat_queries(&stat(Some("mc-demo"), ResourceKind::Deployment, None));
    let sel = "{direction=\"inbound\", namespace=\"mc-demo\", deployment!=\"\"}";
    assert_eq!(
        queries.responses,
        format!(
            "sum(increase(response_total{sel}[1m])) by (namespace, deployment, classification)"
        )
    );
    assert_eq!(
        queries.quantiles[1],
        format!(
            "histogram_quantile(0.95, sum(irate(response_latency_ms_bucket{sel}[1m])) by (le, namespace, deployment))"
        )
    );
    assert_eq!(
        queries.tcp_open,
        format!("sum(tcp_open_connections{sel}) by (namespace, deployment)")
    );
    assert_eq!(
        queries.read_bytes,
        format!("sum(increase(tcp_read_bytes_total{sel}[1m])) by (namespace, deployment)")
    );
    let pods = stat_queries(&stat(None, ResourceKind::Pod, Some("bb-\"1")));
    assert_eq!(
        pods.tcp_open,
        "sum(tcp_open_connections{direction=\"inbound\", pod=\"bb-\\\"1\"}) by (namespace, pod)"
    );
}

#[test]
fn stat_queries_of_other_kinds() {
    let sts = stat_queries(&stat(Some("mc-demo"), ResourceKind::StatefulSet, None));
    assert_eq!(
        sts.tcp_open,
        "sum(tcp_open_connections{direction=\"inbound\", namespace=\"mc-demo\", statefulset!=\"\"}) by (namespace, statefulset)"
    );
    let rs = stat_queries(&stat(
        Some("mc-demo"),
        ResourceKind::ReplicaSet,
        Some("bb-5d4f"),
    ));
    assert_eq!(
        rs.tcp_open,
        "sum(tcp_open_connections{direction=\"inbound\", namespace=\"mc-demo\", replicaset=\"bb-5d4f\"}) by (namespace, replicaset)"
    );
    let ns = stat_queries(&stat(None, ResourceKind::Namespace, None));
    assert_eq!(
        ns.tcp_open,
        "sum(tcp_open_connections{direction=\"inbound\"}) by (namespace)"
    );
    // A Service's traffic is what its clients sent it.
    let svc = stat_queries(&stat(Some("mc-demo"), ResourceKind::Service, None));
    assert_eq!(
        svc.responses,
        "sum(increase(response_total{direction=\"outbound\", dst_namespace=\"mc-demo\", dst_service!=\"\"}[1m])) by (dst_namespace, dst_service, classification)"
    );
    let one = stat_queries(&stat(None, ResourceKind::Service, Some("bb")));
    assert_eq!(
        one.tcp_open,
        "sum(tcp_open_connections{direction=\"outbound\", dst_service=\"bb\"}) by (dst_namespace, dst_service)"
    );
}

#[test]
fn authz_queries_as_linkerd_writes_them() {
    let queries = authz_queries(&Query {
        namespace: Some("mc-demo".into()),
        resource: ResourceKind::Deployment,
        name: Some("bb".into()),
        window: Duration::from_secs(90),
    });
    let sel = "{direction=\"inbound\", namespace=\"mc-demo\", deployment=\"bb\"}";
    // The authz families are inbound by name; Linkerd's proxy gives them no
    // `direction` label.
    let inbound = "{namespace=\"mc-demo\", deployment=\"bb\"}";
    assert_eq!(
        queries.deny,
        format!(
            "sum(increase(inbound_http_authz_deny_total{inbound}[90s])) by (srv_kind, srv_name, route_name, plugin_version)"
        )
    );
    assert_eq!(
        queries.allow,
        format!(
            "sum(increase(inbound_http_authz_allow_total{inbound}[90s])) by (srv_kind, srv_name, route_name, authz_kind, authz_name, plugin_version)"
        )
    );
    assert_eq!(
        queries.responses,
        format!(
            "sum(increase(response_total{sel}[90s])) by (srv_kind, srv_name, route_name, classification)"
        )
    );
}

#[test]
fn ranges() {
    assert_eq!(promql_range(Duration::from_secs(60)), "1m");
    assert_eq!(promql_range(Duration::from_secs(3600)), "1h");
    assert_eq!(promql_range(Duration::from_secs(15)), "15s");
    assert_eq!(promql_range(Duration::from_millis(15_500)), "15500ms");
}

#[test]
fn vectors_and_errors() {
    let body = br#"{"status":"success","data":{"resultType":"vector","result":[
        {"metric":{"deployment":"bb","classification":"success"},"value":[1712345678.9,"618.5"]},
        {"metric":{},"value":[1712345678.9,"NaN"]}]}}"#;
    let vector = parse_vector(body).unwrap();
    assert_eq!(vector.len(), 2);
    assert_eq!(vector[0].label("deployment"), "bb");
    assert_eq!(vector[0].value, 618.5);
    assert!(vector[1].value.is_nan());

    let error = br#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#;
    assert_eq!(
        parse_vector(error).unwrap_err().to_string(),
        "bad_data: parse error at char 5"
    );
    let scalar = br#"{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}"#;
    assert_eq!(
        parse_vector(scalar).unwrap_err().to_string(),
        "expected a vector result, got \"scalar\""
    );
    assert!(
        parse_vector(b"<html>")
            .unwrap_err()
            .to_string()
            .starts_with("invalid response")
    );
}

#[test]
fn encoding() {
    assert_eq!(
        percent_encode("sum(x{a=\"b\"}) by (le)"),
        "sum%28x%7Ba%3D%22b%22%7D%29%20by%20%28le%29"
    );
}

#[tokio::test]
async fn only_http_urls() {
    let error = stat_from_prometheus(
        "https://prometheus:9090",
        &stat(None, ResourceKind::Pod, None),
        &[],
    )
    .await
    .unwrap_err();
    assert!(
        error.to_string().contains("https://prometheus:9090"),
        "{error}"
    );
}
