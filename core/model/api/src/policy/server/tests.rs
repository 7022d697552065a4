use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::json;

use super::*;
use crate::testing::{pod_to_pod_document, refusal, round_trip};

#[test]
fn the_guides_server_round_trips_as_v1beta1() {
    let server: v1beta1::Server = round_trip(&pod_to_pod_document("Server"));
    assert_eq!(server.metadata.name.as_deref(), Some("bb"));
    assert_eq!(server.metadata.namespace.as_deref(), Some("mc-demo"));
    assert_eq!(
        server.spec.pod_selector.match_labels,
        Some([("app".to_owned(), "bb".to_owned())].into())
    );
    assert_eq!(server.spec.port, IntOrString::Int(8080));
    assert_eq!(server.spec.proxy_protocol, None);
}

#[test]
fn every_proxy_protocol_has_linkerds_spelling() {
    for (wire, protocol) in [
        ("unknown", ProxyProtocol::Unknown),
        ("HTTP/1", ProxyProtocol::Http1),
        ("HTTP/2", ProxyProtocol::Http2),
        ("gRPC", ProxyProtocol::Grpc),
        ("opaque", ProxyProtocol::Opaque),
        ("TLS", ProxyProtocol::Tls),
    ] {
        let server: Server = round_trip(&json!({
            "apiVersion": "policy.linkerd.io/v1beta3",
            "kind": "Server",
            "metadata": {"name": "s", "namespace": "ns"},
            "spec": {"podSelector": {}, "port": "http", "proxyProtocol": wire}
        }));
        assert_eq!(server.spec.proxy_protocol, Some(protocol), "{wire}");
    }
}

#[test]
fn an_unknown_proxy_protocol_is_refused_at_that_field() {
    // Read as `unknown` instead, an opaque port would get protocol detection
    // and hang on server-speaks-first protocols.
    for spelling in ["HTTP/3", "http/1", "grpc", "Opaque"] {
        let yaml = format!(
            "apiVersion: policy.linkerd.io/v1beta3\nkind: Server\nmetadata: {{name: s}}\n\
             spec: {{podSelector: {{}}, port: 8080, proxyProtocol: {spelling}}}\n"
        );
        let err = refusal::<Server>(&yaml);
        assert!(
            err.starts_with(&format!("spec.proxyProtocol: unknown variant `{spelling}`")),
            "{err}"
        );
    }
}

#[test]
fn a_port_is_a_number_or_a_container_port_name() {
    let named: v1beta1::Server = round_trip(&json!({
        "apiVersion": "policy.linkerd.io/v1beta1",
        "kind": "Server",
        "metadata": {"name": "admin"},
        "spec": {"podSelector": {"matchLabels": {"app": "bb"}}, "port": "linkerd-admin"}
    }));
    assert_eq!(named.spec.port, IntOrString::String("linkerd-admin".into()));
}

#[test]
fn v1beta1_requires_a_pod_selector_and_later_versions_do_not() {
    let yaml = "apiVersion: policy.linkerd.io/v1beta1\nkind: Server\n\
                metadata: {name: s}\nspec: {port: 8080}\n";
    let err = refusal::<v1beta1::Server>(yaml);
    assert!(err.contains("missing field `podSelector`"), "{err}");

    let v1beta3: Server = round_trip(&json!({
        "apiVersion": "policy.linkerd.io/v1beta3",
        "kind": "Server",
        "metadata": {"name": "vm-http", "namespace": "ns"},
        "spec": {
            "externalWorkloadSelector": {"matchLabels": {"app": "legacy"}},
            "port": 8080,
            "proxyProtocol": "HTTP/1",
            "accessPolicy": "all-authenticated"
        }
    }));
    assert_eq!(v1beta3.spec.pod_selector, None);
    assert_eq!(
        v1beta3.spec.access_policy.as_deref(),
        Some("all-authenticated")
    );

    let v1beta2: v1beta2::Server = round_trip(&json!({
        "apiVersion": "policy.linkerd.io/v1beta2",
        "kind": "Server",
        "metadata": {"name": "vm-http"},
        "spec": {"externalWorkloadSelector": {}, "port": 8080}
    }));
    assert_eq!(
        v1beta2.spec.external_workload_selector,
        Some(Default::default())
    );
}

#[test]
fn a_port_is_required() {
    let yaml = "apiVersion: policy.linkerd.io/v1beta3\nkind: Server\n\
                metadata: {name: s}\nspec: {podSelector: {}}\n";
    let err = refusal::<Server>(yaml);
    assert!(err.starts_with("spec: missing field `port`"), "{err}");
}
