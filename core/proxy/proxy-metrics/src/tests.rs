use std::collections::BTreeMap;

use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;
use strait_decisions::authz::ResourceRef;

use super::*;

fn text(metrics: &ProxyMetrics) -> String {
    let mut registry = Registry::default();
    metrics.register(&mut registry);
    let mut out = String::new();
    encode(&mut out, &registry).unwrap();
    out
}

#[test]
fn families_carry_linkerds_names_and_labels() {
    let metrics = ProxyMetrics::new();
    let server = ResourceRef::new("policy.linkerd.io", "server", "bb");
    let authz = ResourceRef::new("policy.linkerd.io", "authorizationpolicy", "bb-authz");
    let labels = Labels::inbound()
        .with("target_addr", "10.0.0.5:8080")
        .with_tls(&Tls::Client(
            "slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local".into(),
        ))
        .with_resource("srv", &server);
    metrics
        .request_total
        .get_or_create(&labels.clone().build())
        .inc();
    metrics
        .inbound_http_authz_allow_total
        .get_or_create(&labels.clone().with_resource("authz", &authz).build())
        .inc();
    metrics
        .response_latency_ms
        .get_or_create(&labels.with("status_code", "200").build())
        .observe(7.0);
    let out = text(&metrics);
    assert!(
        out.contains(
            "request_total{direction=\"inbound\",target_addr=\"10.0.0.5:8080\",tls=\"true\",\
             client_id=\"slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local\",\
             srv_group=\"policy.linkerd.io\",srv_kind=\"server\",srv_name=\"bb\"} 1"
        ),
        "{out}"
    );
    assert!(
        out.contains("authz_kind=\"authorizationpolicy\",authz_name=\"bb-authz\"} 1"),
        "{out}"
    );
    assert!(out.contains("inbound_http_authz_allow_total{"), "{out}");
    // 7 ms falls in the 10 ms bucket, not the 5 ms one.
    let bucket = |le: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("response_latency_ms_bucket{{le=\"{le}\",")))
            .and_then(|l| l.rsplit(' ').next())
            .map(str::to_string)
    };
    assert_eq!(bucket("5.0").as_deref(), Some("0"), "{out}");
    assert_eq!(bucket("10.0").as_deref(), Some("1"), "{out}");
}

#[test]
fn plaintext_and_outbound_labels() {
    let plain = Labels::inbound()
        .with_tls(&Tls::Plaintext("no_tls_from_remote".into()))
        .build();
    assert_eq!(
        plain,
        [
            ("direction".to_string(), "inbound".to_string()),
            ("tls".to_string(), "no_identity".to_string()),
            (
                "no_tls_reason".to_string(),
                "no_tls_from_remote".to_string()
            ),
        ]
    );
    let endpoint = BTreeMap::from([
        ("pod".to_string(), "bb-1".to_string()),
        ("namespace".to_string(), "mc-demo".to_string()),
    ]);
    let outbound = Labels::outbound()
        .with_tls(&Tls::Server(
            "bb.mc-demo.serviceaccount.identity.linkerd.cluster.local".into(),
        ))
        .with_prefixed("dst_", &endpoint)
        .build();
    let names: Vec<&str> = outbound.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        ["direction", "tls", "server_id", "dst_namespace", "dst_pod"]
    );
}

#[test]
fn client_tls_maps_to_linkerds_tls_labels() {
    use strait_decisions::authz::ClientTls;
    assert_eq!(
        Tls::from(&ClientTls::Mtls("a".into())),
        Tls::Client("a".into())
    );
    assert_eq!(Tls::from(&ClientTls::TlsAnonymous), Tls::Anonymous);
    assert_eq!(
        Tls::from(&ClientTls::Plaintext("no_tls_from_remote".into())),
        Tls::Plaintext("no_tls_from_remote".into())
    );
}

#[test]
fn refusals_are_counted_by_direction_and_reason() {
    let metrics = ProxyMetrics::new();
    metrics.refused(Refusal::Loop);
    metrics.refused(Refusal::Loop);
    metrics.refused(Refusal::NotFromPod);
    let out = text(&metrics);
    assert!(
        out.contains("connection_refused_total{direction=\"inbound\",reason=\"loop\"} 2"),
        "{out}"
    );
    assert!(
        out.contains("connection_refused_total{direction=\"outbound\",reason=\"not_from_pod\"} 1"),
        "{out}"
    );
}

#[test]
fn outbound_errors_are_counted_by_kind_under_linkerds_name() {
    let metrics = ProxyMetrics::new();
    metrics.outbound_http_error(HttpError::FailFast);
    metrics.outbound_http_error(HttpError::FailFast);
    metrics.outbound_http_error(HttpError::Forbidden);
    let out = text(&metrics);
    assert!(
        out.contains("outbound_http_errors_total{error=\"failfast\"} 2"),
        "{out}"
    );
    assert!(
        out.contains("outbound_http_errors_total{error=\"forbidden\"} 1"),
        "{out}"
    );
    assert!(!out.contains("error=\"unexpected\""), "{out}");
}

#[test]
fn an_authority_label_is_cut_to_the_longest_real_one() {
    let real = format!("{}.example:8080", "a".repeat(240));
    assert_eq!(
        Labels::new().with_authority(&real).build(),
        [("authority".to_string(), real.clone())]
    );
    let long = format!("{}é", "b".repeat(MAX_AUTHORITY_LABEL - 1));
    let labels = Labels::new().with_authority(&long).build();
    assert_eq!(labels[0].1, "b".repeat(MAX_AUTHORITY_LABEL - 1));
    let huge = "c".repeat(64 * 1024);
    assert_eq!(
        Labels::new().with_authority(&huge).build()[0].1.len(),
        MAX_AUTHORITY_LABEL
    );
}
