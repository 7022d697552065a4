//! The index against the guide's resources and Linkerd's defaults.

use std::sync::Arc;

use serde_json::json;
use strait_decisions::authz::{Authentication, Authorization, Decision, Protocol, ResourceRef};
use strait_decisions::net::Network;

use super::*;
use crate::config::{DefaultPolicy, IndexConfig};
use crate::fixtures::*;
use crate::inbound::{InboundPolicy, PortPolicy};

fn guide_index() -> Index {
    let mut index = Index::new(IndexConfig::default());
    index.apply_pod(&bb_pod("bb-1", json!({})));
    apply_guide(&mut index);
    index
}

fn policy_of(index: &Index, port: u16) -> Arc<InboundPolicy> {
    match index.policy(NS, "bb-1", port) {
        Some(p) => p.policy,
        None => panic!("port {port} is not tracked"),
    }
}

fn names(authzs: &[Authorization]) -> Vec<String> {
    authzs.iter().map(|a| a.reference.to_string()).collect()
}

fn allowed_by(decision: &Decision) -> String {
    match decision {
        Decision::Allow(r) => r.to_string(),
        Decision::Deny(reason) => format!("denied: {reason}"),
    }
}

#[test]
fn the_guides_policy_admits_only_slow_cooker() {
    let index = guide_index();
    let policy = policy_of(&index, 8080);
    assert_eq!(
        policy.server,
        ResourceRef::new("policy.linkerd.io", "server", "bb")
    );
    assert_eq!(policy.protocol, Protocol::Unknown);
    let route_names: Vec<String> = policy
        .routes
        .iter()
        .map(|r| r.reference.to_string())
        .collect();
    assert_eq!(route_names, ["default/default"]);
    let route = &policy.routes[0];
    assert_eq!(
        names(&route.authorizations),
        ["authorizationpolicy/bb-authz", "default/localhost"]
    );
    let bb_authz = &route.authorizations[0];
    assert_eq!(bb_authz.reference.group.as_ref(), "policy.linkerd.io");
    assert_eq!(bb_authz.networks, Network::all());
    assert_eq!(
        bb_authz.authentication,
        Authentication::TlsAuthenticated(strait_decisions::identity::IdentityMatch {
            identities: vec![SLOW_COOKER.to_string()],
            suffixes: Vec::new(),
        })
    );

    let slow_cooker = decide(&policy, mtls(SLOW_COOKER), "10.42.0.7", "/");
    assert_eq!(allowed_by(&slow_cooker), "authorizationpolicy/bb-authz");
    let evil = decide(&policy, mtls(SLOW_COOKER_EVIL), "10.42.0.8", "/");
    assert!(!evil.is_allow(), "{evil:?}");
    assert!(!decide(&policy, plain(), "10.42.0.8", "/").is_allow());
    // The pod's own containers are admitted whatever the policy.
    let local = decide(&policy, plain(), "127.0.0.1", "/");
    assert_eq!(allowed_by(&local), "default/localhost");
}

#[test]
fn a_port_no_server_selects_gets_the_default_server_and_probe_route() {
    let index = guide_index();
    let policy = policy_of(&index, 9990);
    assert_eq!(
        policy.server,
        ResourceRef::new("", "default", "all-unauthenticated")
    );
    assert_eq!(policy.server.to_string(), "default/all-unauthenticated");
    let probe = &policy.routes[0];
    assert_eq!(probe.reference.to_string(), "default/probe");
    let probe_paths: Vec<_> = probe
        .matches
        .iter()
        .map(|m| {
            let path = m.path.as_ref().and_then(|p| p.value.as_deref());
            (path, m.method)
        })
        .collect();
    let get = Some(strait_api::policy::httproute::HttpMethod::Get);
    assert_eq!(probe_paths, [(Some("/live"), get), (Some("/ready"), get)]);
    assert_eq!(
        names(&probe.authorizations),
        [
            "default/probe",
            "default/all-unauthenticated",
            "default/localhost"
        ]
    );
    assert_eq!(policy.routes[1].reference.to_string(), "default/default");
    assert!(policy.routes[1].matches.is_empty());

    let probe_decision = decide(&policy, plain(), "10.42.0.1", "/ready");
    assert_eq!(allowed_by(&probe_decision), "default/probe");
    let other = decide(&policy, plain(), "10.42.0.1", "/");
    assert_eq!(allowed_by(&other), "default/all-unauthenticated");
}

/// Who each default policy admits on the catch-all route: a plaintext
/// client and a meshed one, from inside and outside the cluster networks.
#[test]
fn each_default_policy_admits_what_linkerd_admits() {
    let cases = [
        (DefaultPolicy::AllUnauthenticated, [true, true, true, true]),
        (DefaultPolicy::AllAuthenticated, [false, true, false, true]),
        (
            DefaultPolicy::ClusterUnauthenticated,
            [true, true, false, false],
        ),
        (
            DefaultPolicy::ClusterAuthenticated,
            [false, true, false, false],
        ),
        (DefaultPolicy::Deny, [false, false, false, false]),
        (DefaultPolicy::Audit, [true, true, true, true]),
    ];
    for (default, expected) in cases {
        let mut index = Index::new(IndexConfig {
            default_policy: default,
            ..IndexConfig::default()
        });
        index.apply_pod(&bb_pod("bb-1", json!({})));
        let policy = policy_of(&index, 8080);
        assert_eq!(policy.server.to_string(), format!("default/{default}"));
        let got = [
            decide(&policy, plain(), "10.1.2.3", "/").is_allow(),
            decide(&policy, mtls(SLOW_COOKER), "10.1.2.3", "/").is_allow(),
            decide(&policy, plain(), "8.8.8.8", "/").is_allow(),
            decide(&policy, mtls(SLOW_COOKER), "8.8.8.8", "/").is_allow(),
        ];
        assert_eq!(got, expected, "{default}");
        // Probes pass even under deny.
        let probes = policy_of(&index, 9990);
        let probe = decide(&probes, plain(), "8.8.8.8", "/live");
        assert_eq!(allowed_by(&probe), "default/probe", "{default}");
        if default != DefaultPolicy::Deny {
            let admitted = decide(&policy, mtls(SLOW_COOKER), "10.1.2.3", "/");
            assert_eq!(allowed_by(&admitted), format!("default/{default}"));
        }
    }
}

#[test]
fn the_pod_annotation_overrides_the_index_default() {
    let mut index = Index::new(IndexConfig::default());
    let annotations = json!({"config.linkerd.io/default-inbound-policy": "deny"});
    index.apply_pod(&bb_pod("bb-1", annotations));
    index.apply_pod(&bb_pod(
        "bb-2",
        json!({"config.linkerd.io/default-inbound-policy": "bogus"}),
    ));
    let denied = policy_of(&index, 8080);
    assert_eq!(denied.server.to_string(), "default/deny");
    assert!(!decide(&denied, mtls(SLOW_COOKER), "10.1.2.3", "/").is_allow());
    let fallback = index
        .policy(NS, "bb-2", 8080)
        .map(|p| p.policy.server.to_string());
    assert_eq!(fallback.as_deref(), Some("default/all-unauthenticated"));
}

#[test]
fn a_policy_referring_to_a_missing_authentication_is_ignored() {
    let mut index = Index::new(IndexConfig::default());
    index.apply_pod(&bb_pod("bb-1", json!({})));
    index.apply_server(&server("bb", json!(8080)));
    index.apply_authorization_policy(&policy("bb-authz", "bb", meshtls_ref("bb-good")));
    let policy = policy_of(&index, 8080);
    assert_eq!(
        names(&policy.routes[0].authorizations),
        ["default/localhost"]
    );
    assert!(!decide(&policy, mtls(SLOW_COOKER), "10.1.2.3", "/").is_allow());
    let ignored = index.ignored();
    assert_eq!(ignored.len(), 1, "{ignored:?}");
    assert_eq!(
        (ignored[0].kind, ignored[0].name.as_str()),
        ("AuthorizationPolicy", "bb-authz")
    );
    assert!(
        ignored[0].reason.contains("does not exist"),
        "{}",
        ignored[0].reason
    );

    index.apply_meshtls_authentication(&meshtls("bb-good", json!([SLOW_COOKER])));
    assert!(index.ignored().is_empty());
    assert!(decide(&policy_of(&index, 8080), mtls(SLOW_COOKER), "10.1.2.3", "/").is_allow());
}

#[test]
fn an_empty_identity_list_is_invalid() {
    let mut index = guide_index();
    index.apply_meshtls_authentication(&meshtls("bb-good", json!([])));
    let policy = policy_of(&index, 8080);
    assert_eq!(
        names(&policy.routes[0].authorizations),
        ["default/localhost"]
    );
    let kinds: Vec<&str> = index.ignored().iter().map(|i| i.kind).collect();
    assert_eq!(kinds, ["MeshTLSAuthentication", "AuthorizationPolicy"]);
}

#[test]
fn adding_a_policy_moves_only_the_affected_ports_generation() {
    let mut index = Index::new(IndexConfig::default());
    index.apply_pod(&bb_pod("bb-1", json!({})));
    index.apply_server(&server("bb", json!(8080)));
    index.apply_meshtls_authentication(&meshtls("bb-good", json!([SLOW_COOKER])));
    let before = index.generation();
    let old = index.policy(NS, "bb-1", 8080);
    let admin_before = index.policy(NS, "bb-1", 9990).map(|p| p.generation);

    index.apply_authorization_policy(&policy("bb-authz", "bb", meshtls_ref("bb-good")));
    assert!(index.generation() > before);
    let key = |port| PortKey {
        namespace: NS.to_string(),
        pod: "bb-1".to_string(),
        port,
    };
    assert_eq!(index.changed_since(before), [key(8080)]);
    let new = index.policy(NS, "bb-1", 8080);
    assert_eq!(new.as_ref().map(|p| p.generation), Some(index.generation()));
    let ids = |p: &Option<PortPolicy>| p.as_ref().map(|p| p.policy.routes[0].authorizations.id());
    assert_ne!(ids(&old), ids(&new));
    assert_eq!(
        index.policy(NS, "bb-1", 9990).map(|p| p.generation),
        admin_before
    );

    // Applying the same resource again changes nothing.
    let now = index.generation();
    index.apply_authorization_policy(&policy("bb-authz", "bb", meshtls_ref("bb-good")));
    index.apply_pod(&bb_pod("bb-1", json!({})));
    assert_eq!(index.generation(), now);
    assert!(index.changed_since(now).is_empty());

    index.delete_pod(NS, "bb-1");
    assert_eq!(index.changed_since(now), [key(8080), key(9990)]);
    assert!(index.policy(NS, "bb-1", 8080).is_none());
}

#[test]
fn a_server_port_may_be_a_container_port_name() {
    let mut index = Index::new(IndexConfig::default());
    index.apply_pod(&bb_pod("bb-1", json!({})));
    index.apply_server(&server("bb-http", json!("http")));
    index.apply_server(&server("bb-admin", json!("admin")));
    index.apply_server(&server("bb-missing", json!("grpc")));
    assert_eq!(policy_of(&index, 8080).server.name.as_ref(), "bb-http");
    let admin = policy_of(&index, 9990);
    assert_eq!(admin.server.name.as_ref(), "bb-admin");
    // A Server without HTTPRoutes keeps the probe route, as in Linkerd.
    assert_eq!(admin.routes[0].reference.to_string(), "default/probe");
    // A Server's access policy defaults to deny.
    assert!(!decide(&admin, plain(), "10.1.2.3", "/").is_allow());
}

#[test]
fn a_port_nothing_declares_can_be_tracked() {
    let mut index = guide_index();
    assert!(index.policy(NS, "bb-1", 4191).is_none());
    let tracked = index
        .track_port(NS, "bb-1", 4191)
        .map(|p| p.policy.server.to_string());
    assert_eq!(tracked.as_deref(), Some("default/all-unauthenticated"));
    assert!(index.track_port(NS, "nope", 4191).is_none());
}

#[test]
fn a_server_on_a_port_name_no_selected_pod_declares_is_reported() {
    let mut index = guide_index();
    // No pod selected yet: nothing to say.
    let mut elsewhere = server("other-app", json!("no-such-port"));
    elsewhere.spec.pod_selector = Some(strait_api::LabelSelector {
        match_labels: Some([("app".to_string(), "other".to_string())].into()),
        ..Default::default()
    });
    index.apply_server(&elsewhere);
    assert!(index.ignored().is_empty(), "{:?}", index.ignored());
    index.apply_server(&server("no-such-port", json!("no-such-port")));
    let ignored = index.ignored();
    assert_eq!(ignored.len(), 1, "{ignored:?}");
    assert_eq!(
        (ignored[0].kind, ignored[0].name.as_str()),
        ("Server", "no-such-port")
    );
    assert_eq!(
        ignored[0].reason,
        "spec.port \"no-such-port\" names no container port of the pods it selects (e.g. bb-1), \
         so it applies to no port"
    );
    // A name some selected pod declares, and a number, are fine.
    index.apply_server(&server("no-such-port", json!("admin")));
    assert!(index.ignored().is_empty(), "{:?}", index.ignored());
    index.apply_server(&server("no-such-port", json!(7777)));
    assert!(index.ignored().is_empty(), "{:?}", index.ignored());
    // The guide's policy is untouched by the bad Server.
    assert_eq!(
        policy_of(&index, 8080).server,
        ResourceRef::new("policy.linkerd.io", "server", "bb")
    );
}

#[test]
fn a_policy_whose_target_does_not_exist_is_reported() {
    let mut index = guide_index();
    index.apply_authorization_policy(&policy(
        "points-at-nothing",
        "no-such-server",
        meshtls_ref("bb-good"),
    ));
    let ignored = index.ignored();
    assert_eq!(ignored.len(), 1, "{ignored:?}");
    assert_eq!(
        (ignored[0].kind, ignored[0].name.as_str()),
        ("AuthorizationPolicy", "points-at-nothing")
    );
    assert_eq!(
        ignored[0].reason,
        format!("spec.targetRef: Server {NS}/no-such-server does not exist, so it admits no one")
    );
    // Once the Server exists the policy applies.
    index.apply_server(&server("no-such-server", json!(9990)));
    assert!(index.ignored().is_empty(), "{:?}", index.ignored());

    let mut on_grpc = policy("on-grpc", "bb", meshtls_ref("bb-good"));
    on_grpc.spec.target_ref.kind = "GRPCRoute".into();
    on_grpc.spec.target_ref.group = Some("gateway.networking.k8s.io".into());
    index.apply_authorization_policy(&on_grpc);
    let reasons: Vec<String> = index.ignored().into_iter().map(|i| i.reason).collect();
    assert_eq!(
        reasons,
        [
            "spec.targetRef: a GRPCRoute (group \"gateway.networking.k8s.io\") target is not \
             supported by this policy server (only a Server, an HTTPRoute of group \
             policy.linkerd.io or gateway.networking.k8s.io, or the policy's Namespace), so it \
             admits no one"
        ]
    );
}

mod routes;
