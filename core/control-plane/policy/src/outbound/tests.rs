use std::net::SocketAddr;

use k8s_openapi::api::core::v1::Service;
use serde_json::{Value, json};
use strait_api::gateway;
use strait_api::policy::HttpRoute;
use strait_api::policy::httproute::{HttpMethod, PathMatchType};

use crate::config::IndexConfig;
use crate::index::Index;
use crate::outbound::{
    OutboundError, OutboundPolicy, OutboundTarget, RouteBackend, RouteRef, ServiceRef,
};

const NS: &str = "mc-demo";
const CLIENTS: &str = "clients";

fn decode<T: serde::de::DeserializeOwned>(value: Value) -> T {
    match serde_json::from_value(value) {
        Ok(v) => v,
        Err(e) => panic!("fixture does not decode: {e}"),
    }
}

/// Service `name` of the guide's namespace on `ip`, ports 8080 and 5432.
fn service(name: &str, ip: &str, annotations: Value) -> Service {
    decode(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"namespace": NS, "name": name, "annotations": annotations},
        "spec": {"clusterIP": ip, "clusterIPs": [ip], "ports": [
            {"name": "http", "port": 8080}, {"name": "db", "port": 5432}
        ]}
    }))
}

/// A `policy.linkerd.io` HTTPRoute in `namespace` with these parents and
/// rules.
fn route(namespace: &str, name: &str, parents: Value, rules: Value) -> HttpRoute {
    decode(json!({
        "apiVersion": "policy.linkerd.io/v1beta3", "kind": "HTTPRoute",
        "metadata": {"namespace": namespace, "name": name},
        "spec": {"parentRefs": parents, "rules": rules}
    }))
}

fn bb_parent(port: Option<u16>) -> Value {
    let mut parent = json!({"group": "core", "kind": "Service", "name": "bb", "namespace": NS});
    if let Some(port) = port {
        parent["port"] = port.into();
    }
    json!([parent])
}

fn index() -> Index {
    let mut index = Index::new(IndexConfig::default());
    index.apply_service(&service("bb", "10.96.0.10", json!({})));
    index
}

fn addr(text: &str) -> SocketAddr {
    match text.parse() {
        Ok(addr) => addr,
        Err(e) => panic!("{text}: {e}"),
    }
}

fn at(index: &Index, target: &str) -> Result<OutboundPolicy, OutboundError> {
    index.outbound_policy(OutboundTarget::Addr(addr(target)), CLIENTS)
}

fn policy_at(index: &Index, target: &str) -> OutboundPolicy {
    match at(index, target) {
        Ok(policy) => policy,
        Err(e) => panic!("{target}: {e}"),
    }
}

fn bb() -> ServiceRef {
    ServiceRef {
        namespace: NS.into(),
        name: "bb".into(),
    }
}

#[test]
fn a_cluster_ip_gets_the_default_route_to_its_service() {
    let policy = policy_at(&index(), "10.96.0.10:8080");
    assert_eq!(policy.service, bb());
    assert_eq!(policy.port, 8080);
    assert_eq!(policy.authority, "bb.mc-demo.svc.cluster.local:8080");
    assert!(!policy.opaque);
    assert!(policy.routes.is_empty(), "no route: the default one");
}

#[test]
fn the_authority_is_spelled_in_the_configured_cluster_domain() {
    let mut index = Index::new(IndexConfig {
        cluster_domain: "east.local".into(),
        ..IndexConfig::default()
    });
    index.apply_service(&service("bb", "10.96.0.10", json!({})));
    let policy = policy_at(&index, "10.96.0.10:8080");
    assert_eq!(policy.authority, "bb.mc-demo.svc.east.local:8080");
    let named = index.outbound_policy(
        OutboundTarget::Authority("bb.mc-demo.svc.east.local:8080"),
        CLIENTS,
    );
    assert_eq!(named, Ok(policy));
}

#[test]
fn an_authority_resolves_the_same_service_as_its_address() {
    let index = index();
    let by_name = index.outbound_policy(
        OutboundTarget::Authority("bb.mc-demo.svc.cluster.local.:8080"),
        CLIENTS,
    );
    assert_eq!(by_name, Ok(policy_at(&index, "10.96.0.10:8080")));
}

#[test]
fn what_is_not_a_service_port_is_not_found() {
    let index = index();
    let not_found = [
        at(&index, "10.96.0.11:8080"),
        at(&index, "10.96.0.10:9999"),
        index.outbound_policy(
            OutboundTarget::Authority("web.mc-demo.svc.cluster.local:8080"),
            CLIENTS,
        ),
        index.outbound_policy(OutboundTarget::Authority("example.com:443"), CLIENTS),
        index.outbound_policy(
            OutboundTarget::Authority("bb.mc-demo.svc.west.local:8080"),
            CLIENTS,
        ),
        index.outbound_policy(
            OutboundTarget::Authority("web-0.web.mc-demo.svc.cluster.local:8080"),
            CLIENTS,
        ),
    ];
    for answer in not_found {
        match answer {
            Err(e) => assert!(e.is_not_found(), "{e}"),
            Ok(p) => panic!("a policy for {:?}", p.service),
        }
    }
    assert_eq!(
        at(&index, "10.96.0.10:9999"),
        Err(OutboundError::NoPort {
            namespace: NS.into(),
            name: "bb".into(),
            port: 9999
        })
    );
}

#[test]
fn a_malformed_target_is_refused_saying_what_is_wrong() {
    let index = index();
    for (authority, reason) in [
        ("", "empty"),
        ("bb.mc-demo.svc.cluster.local:http", "port"),
        ("bb.mc-demo.svc.cluster.local:0", "port"),
        (":8080", "no host"),
        ("http://bb.mc-demo.svc.cluster.local", "more than a host"),
    ] {
        match index.outbound_policy(OutboundTarget::Authority(authority), CLIENTS) {
            Err(e) => {
                assert!(!e.is_not_found(), "{authority:?}: {e}");
                assert!(e.to_string().contains(reason), "{authority:?}: {e}");
            }
            Ok(_) => panic!("{authority:?} was accepted"),
        }
    }
    let zero = at(&index, "10.96.0.10:0");
    assert_eq!(zero, Err(OutboundError::ZeroPort));
}

#[test]
fn an_authority_without_a_port_means_port_80() {
    let mut index = index();
    index.apply_service(&decode(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"namespace": NS, "name": "web"},
        "spec": {"clusterIP": "10.96.0.20", "ports": [{"port": 80}]}
    })));
    let policy = index.outbound_policy(
        OutboundTarget::Authority("web.mc-demo.svc.cluster.local"),
        CLIENTS,
    );
    assert_eq!(policy.map(|p| p.port), Ok(80));
}

#[test]
fn opaque_ports_come_from_the_annotation_else_linkerds_defaults() {
    let index = index();
    assert!(policy_at(&index, "10.96.0.10:5432").opaque, "a default");
    assert!(!policy_at(&index, "10.96.0.10:8080").opaque);

    let mut annotated = Index::new(IndexConfig::default());
    annotated.apply_service(&service(
        "bb",
        "10.96.0.10",
        json!({"config.linkerd.io/opaque-ports": "8080"}),
    ));
    assert!(policy_at(&annotated, "10.96.0.10:8080").opaque);
    assert!(
        !policy_at(&annotated, "10.96.0.10:5432").opaque,
        "the annotation replaces the defaults"
    );

    let mut unreadable = Index::new(IndexConfig::default());
    unreadable.apply_service(&service(
        "bb",
        "10.96.0.10",
        json!({"config.linkerd.io/opaque-ports": "http"}),
    ));
    assert!(policy_at(&unreadable, "10.96.0.10:5432").opaque);
}

#[test]
fn an_opaque_port_ignores_http_routes() {
    let mut index = Index::new(IndexConfig::default());
    index.apply_service(&service(
        "bb",
        "10.96.0.10",
        json!({"config.linkerd.io/opaque-ports": "8080"}),
    ));
    index.apply_http_route(&route(NS, "r", bb_parent(None), json!([{}])));
    assert!(policy_at(&index, "10.96.0.10:8080").routes.is_empty());
}

#[test]
fn an_http_route_replaces_the_default_route_with_its_matches_and_weights() {
    let mut index = index();
    index.apply_service(&service("bb-v2", "10.96.0.11", json!({})));
    index.apply_http_route(&route(
        NS,
        "canary",
        bb_parent(Some(8080)),
        json!([{
            "matches": [{
                "path": {"type": "PathPrefix", "value": "/api"},
                "headers": [{"name": "x-canary", "value": "1"}],
                "queryParams": [{"name": "v", "value": "2"}],
                "method": "POST"
            }],
            "backendRefs": [
                {"name": "bb", "port": 8080, "weight": 90},
                {"name": "bb-v2", "port": 8080, "weight": 10}
            ]
        }]),
    ));
    let policy = policy_at(&index, "10.96.0.10:8080");
    assert_eq!(policy.routes.len(), 1);
    let route = &policy.routes[0];
    assert_eq!(
        route.reference,
        RouteRef {
            group: "policy.linkerd.io",
            namespace: NS.into(),
            name: "canary".into()
        }
    );
    let rule = &route.rules[0];
    let m = &rule.matches[0];
    let path = m.path.as_ref().map(|p| (p.type_, p.value.as_deref()));
    assert_eq!(path, Some((Some(PathMatchType::PathPrefix), Some("/api"))));
    assert_eq!(m.method, Some(HttpMethod::Post));
    assert_eq!(m.headers.as_ref().map(Vec::len), Some(1));
    assert_eq!(m.query_params.as_ref().map(Vec::len), Some(1));
    let backends: Vec<(String, u32, String)> = rule
        .backends
        .iter()
        .map(|b| match b {
            RouteBackend::Service {
                service,
                weight,
                authority,
                ..
            } => (service.name.clone(), *weight, authority.clone()),
            RouteBackend::Invalid { message, .. } => panic!("invalid backend: {message}"),
        })
        .collect();
    assert_eq!(
        backends,
        vec![
            ("bb".into(), 90, "bb.mc-demo.svc.cluster.local:8080".into()),
            (
                "bb-v2".into(),
                10,
                "bb-v2.mc-demo.svc.cluster.local:8080".into()
            ),
        ]
    );
}

#[test]
fn a_route_for_another_port_leaves_this_one_alone() {
    let mut index = index();
    index.apply_http_route(&route(NS, "r", bb_parent(Some(9090)), json!([{}])));
    assert!(policy_at(&index, "10.96.0.10:8080").routes.is_empty());
    index.apply_http_route(&route(NS, "r", bb_parent(None), json!([{}])));
    let policy = policy_at(&index, "10.96.0.10:8080");
    assert_eq!(policy.routes.len(), 1, "no port: every port");
    let rule = &policy.routes[0].rules[0];
    assert!(
        rule.backends.is_empty(),
        "no backendRefs: the Service itself"
    );
    assert_eq!(rule.matches.len(), 1, "no matches: every request");
}

#[test]
fn a_backend_service_that_does_not_exist_fails_until_it_does() {
    let mut index = index();
    index.apply_http_route(&route(
        NS,
        "r",
        bb_parent(None),
        json!([{"backendRefs": [
            {"name": "missing", "port": 8080},
            {"name": "bb"},
            {"group": "policy.linkerd.io", "kind": "Server", "name": "bb", "port": 8080}
        ]}]),
    ));
    let backends = |index: &Index| {
        policy_at(index, "10.96.0.10:8080").routes[0].rules[0]
            .backends
            .clone()
    };
    assert_eq!(
        backends(&index),
        vec![
            RouteBackend::Invalid {
                weight: 1,
                message: "Service not found missing".into()
            },
            RouteBackend::Invalid {
                weight: 1,
                message: "missing port for backend Service bb".into()
            },
            RouteBackend::Invalid {
                weight: 1,
                message: "unsupported backend type policy.linkerd.io Server".into()
            },
        ]
    );
    index.apply_service(&service("missing", "10.96.0.12", json!({})));
    assert!(matches!(
        &backends(&index)[0],
        RouteBackend::Service { service, weight: 1, .. } if service.name == "missing"
    ));
}

#[test]
fn a_consumer_route_applies_to_its_own_namespace_only() {
    let mut index = index();
    index.apply_http_route(&route(CLIENTS, "mine", bb_parent(None), json!([{}])));
    let for_clients = policy_at(&index, "10.96.0.10:8080");
    assert_eq!(for_clients.routes.len(), 1);
    let for_others = index.outbound_policy(OutboundTarget::Addr(addr("10.96.0.10:8080")), "other");
    assert_eq!(for_others.map(|p| p.routes.len()), Ok(0));
}

#[test]
fn routes_of_both_groups_apply_oldest_first() {
    let mut index = index();
    let mut newer = route(NS, "a-newer", bb_parent(None), json!([{}]));
    newer.metadata.creation_timestamp = Some(decode(json!("2024-02-01T00:00:00Z")));
    let older: gateway::HttpRoute = decode(json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"namespace": NS, "name": "z-older", "creationTimestamp": "2024-01-01T00:00:00Z"},
        "spec": {"parentRefs": [{"kind": "Service", "group": "", "name": "bb"}], "rules": [{}]}
    }));
    index.apply_http_route(&newer);
    index.apply_gateway_http_route(&older);
    let names: Vec<(&str, String)> = policy_at(&index, "10.96.0.10:8080")
        .routes
        .iter()
        .map(|r| (r.reference.group, r.reference.name.clone()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("gateway.networking.k8s.io", "z-older".into()),
            ("policy.linkerd.io", "a-newer".into())
        ]
    );
}

#[test]
fn remote_discovery_and_federated_services_are_resolved_by_their_own_name() {
    let mut index = index();
    index.apply_service(&decode(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"namespace": NS, "name": "bb-east",
                     "labels": {"mirror.linkerd.io/mirrored-service": "true",
                                "multicluster.linkerd.io/remote-discovery": "east"}},
        "spec": {"clusterIP": "10.96.0.30", "ports": [{"port": 8080}]}
    })));
    index.apply_service(&decode(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"namespace": NS, "name": "bb-federated",
                     "annotations": {"multicluster.linkerd.io/remote-discovery": "bb@east",
                                     "multicluster.linkerd.io/local-discovery": "bb"}},
        "spec": {"clusterIP": "10.96.0.31", "ports": [{"port": 8080}]}
    })));
    let mirror = policy_at(&index, "10.96.0.30:8080");
    assert_eq!(mirror.authority, "bb-east.mc-demo.svc.cluster.local:8080");
    assert!(!mirror.opaque && mirror.routes.is_empty());
    let federated = index.outbound_policy(
        OutboundTarget::Authority("bb-federated.mc-demo.svc.cluster.local:8080"),
        CLIENTS,
    );
    assert_eq!(
        federated.map(|p| p.authority),
        Ok("bb-federated.mc-demo.svc.cluster.local:8080".into())
    );
}

#[test]
fn the_outbound_generation_moves_only_when_outbound_inputs_change() {
    let mut index = index();
    let start = index.outbound_generation();
    index.apply_service(&service("bb", "10.96.0.10", json!({})));
    assert_eq!(index.outbound_generation(), start, "unchanged Service");

    index.apply_service(&service(
        "bb",
        "10.96.0.10",
        json!({"config.linkerd.io/opaque-ports": "8080"}),
    ));
    let annotated = index.outbound_generation();
    assert!(annotated > start);
    assert!(index.generation() >= annotated, "published to watchers");

    let server_route = route(
        NS,
        "inbound",
        json!([{"group": "policy.linkerd.io", "kind": "Server", "name": "bb"}]),
        json!([{}]),
    );
    index.apply_http_route(&server_route);
    assert_eq!(index.outbound_generation(), annotated, "a Server's route");

    index.apply_http_route(&route(NS, "r", bb_parent(None), json!([{}])));
    let routed = index.outbound_generation();
    assert!(routed > annotated);
    index.delete_http_route(NS, "r");
    assert!(index.outbound_generation() > routed);

    let before = index.outbound_generation();
    index.delete_service(NS, "bb");
    assert!(index.outbound_generation() > before);
    assert!(matches!(
        at(&index, "10.96.0.10:8080"),
        Err(OutboundError::NoServiceAt(_))
    ));
}

#[test]
fn a_service_that_changes_its_cluster_ip_is_found_at_the_new_one() {
    let mut index = index();
    index.apply_service(&service("bb", "10.96.0.99", json!({})));
    assert!(at(&index, "10.96.0.10:8080").is_err());
    assert_eq!(policy_at(&index, "10.96.0.99:8080").service, bb());
}

#[test]
fn a_headless_service_has_no_address_but_a_name() {
    let mut index = Index::new(IndexConfig::default());
    index.apply_service(&service("web", "None", json!({})));
    assert!(at(&index, "10.96.0.10:8080").is_err());
    let named = index.outbound_policy(
        OutboundTarget::Authority("web.mc-demo.svc.cluster.local:8080"),
        CLIENTS,
    );
    assert!(named.is_ok());
}
