use serde_json::json;

use super::*;

#[test]
fn a_meshed_pod_has_its_account_ports_proxy_and_address() {
    let built = pod("mc-demo", "bb-1")
        .label("app", "bb")
        .service_account("bb")
        .container("app", &[("http", 8080)])
        .meshed()
        .ip("127.0.0.1")
        .build();
    assert_eq!(
        built,
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "bb-1", "namespace": "mc-demo", "labels": {"app": "bb"}},
            "spec": {"serviceAccountName": "bb", "containers": [
                {"name": "app", "ports": [{"name": "http", "containerPort": 8080}]},
                {"name": "linkerd-proxy"}
            ]},
            "status": {"podIP": "127.0.0.1", "podIPs": [{"ip": "127.0.0.1"}]}
        })
    );
}

#[test]
fn a_pod_leaves_out_what_it_was_not_given() {
    assert_eq!(
        Value::from(pod("mc-demo", "bare")),
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "bare", "namespace": "mc-demo"},
            "spec": {"containers": []}
        })
    );
}

#[test]
fn a_service_takes_numbered_and_named_targets() {
    let built = service("mc-demo", "bb")
        .label("mirror.linkerd.io/mirrored-service", "true")
        .cluster_ip("10.96.0.10")
        .selector("app", "bb")
        .port("http", 8080, "http")
        .port("admin", 9990, 9990)
        .build();
    assert_eq!(
        built,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "bb", "namespace": "mc-demo",
                         "labels": {"mirror.linkerd.io/mirrored-service": "true"}},
            "spec": {"clusterIP": "10.96.0.10", "selector": {"app": "bb"}, "ports": [
                {"name": "http", "port": 8080, "targetPort": "http"},
                {"name": "admin", "port": 9990, "targetPort": 9990}
            ]}
        })
    );
}

#[test]
fn a_slice_lists_its_endpoints_in_the_services_namespace() {
    let built = endpoint_slice("mc-demo", "bb-slice", "bb")
        .endpoint("10.0.0.1", "bb-1", true)
        .endpoint("10.0.0.2", "bb-2", false)
        .port("http", 8080)
        .build();
    assert_eq!(
        built,
        json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "bb-slice", "namespace": "mc-demo",
                         "labels": {"kubernetes.io/service-name": "bb"}},
            "addressType": "IPv4",
            "endpoints": [
                {"addresses": ["10.0.0.1"], "conditions": {"ready": true},
                 "targetRef": {"kind": "Pod", "name": "bb-1", "namespace": "mc-demo"}},
                {"addresses": ["10.0.0.2"], "conditions": {"ready": false},
                 "targetRef": {"kind": "Pod", "name": "bb-2", "namespace": "mc-demo"}}
            ],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]
        })
    );
}

#[test]
fn policies_are_written_as_the_guide_writes_them() {
    assert_eq!(
        server_with_protocol("mc-demo", "bb-tcp", "bb", 9000, "opaque"),
        json!({
            "apiVersion": "policy.linkerd.io/v1beta1", "kind": "Server",
            "metadata": {"namespace": "mc-demo", "name": "bb-tcp"},
            "spec": {"podSelector": {"matchLabels": {"app": "bb"}}, "port": 9000,
                     "proxyProtocol": "opaque"}
        })
    );
    assert_eq!(
        authorization_policy("mc-demo", "bb-authz", "bb", "bb-good"),
        json!({
            "apiVersion": "policy.linkerd.io/v1alpha1", "kind": "AuthorizationPolicy",
            "metadata": {"namespace": "mc-demo", "name": "bb-authz"},
            "spec": {
                "targetRef": {"group": "policy.linkerd.io", "kind": "Server", "name": "bb"},
                "requiredAuthenticationRefs": [
                    {"group": "policy.linkerd.io", "kind": "MeshTLSAuthentication", "name": "bb-good"}
                ]
            }
        })
    );
    assert_eq!(
        mesh_tls_authentication("mc-demo", "bb-good", &["a.b"]),
        json!({
            "apiVersion": "policy.linkerd.io/v1alpha1", "kind": "MeshTLSAuthentication",
            "metadata": {"namespace": "mc-demo", "name": "bb-good"},
            "spec": {"identities": ["a.b"]}
        })
    );
}
