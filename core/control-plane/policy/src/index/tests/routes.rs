//! HTTPRoutes on a Server and AuthorizationPolicies targeting them, as
//! Linkerd's policy controller applies them.

use serde_json::json;

use super::*;

const POLICY_GROUP: &str = "policy.linkerd.io";
const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

/// Server `bb` (access policy deny) with routes `bb-allowed` (`/allowed`)
/// and `bb-denied` (`/denied`), and MeshTLSAuthentications admitting
/// slow-cooker (`bb-good`) and slow-cooker-evil (`bb-evil`).
fn routed_index() -> Index {
    let mut index = Index::new(IndexConfig::default());
    index.apply_pod(&bb_pod("bb-1", json!({})));
    index.apply_server(&server("bb", json!(8080)));
    index.apply_meshtls_authentication(&meshtls("bb-good", json!([SLOW_COOKER])));
    index.apply_meshtls_authentication(&meshtls("bb-evil", json!([SLOW_COOKER_EVIL])));
    index.apply_http_route(&http_route("bb-allowed", "bb", "/allowed"));
    index.apply_http_route(&http_route("bb-denied", "bb", "/denied"));
    index
}

fn route_names(policy: &InboundPolicy) -> Vec<String> {
    policy
        .routes
        .iter()
        .map(|r| r.reference.to_string())
        .collect()
}

fn reasons(index: &Index) -> Vec<(&'static str, String, String)> {
    index
        .ignored()
        .into_iter()
        .map(|i| (i.kind, i.name, i.reason))
        .collect()
}

#[test]
fn a_policy_on_a_route_admits_requests_on_that_route_only() {
    let mut index = routed_index();
    index.apply_authorization_policy(&route_policy(
        "allowed-authz",
        POLICY_GROUP,
        "bb-allowed",
        meshtls_ref("bb-good"),
    ));
    let policy = policy_of(&index, 8080);
    // The routes replace the default and probe routes, so a request
    // matching neither is refused (404) by the proxy.
    assert_eq!(
        route_names(&policy),
        ["HTTPRoute/bb-allowed", "HTTPRoute/bb-denied"]
    );
    assert_eq!(
        policy.routes[0].reference,
        ResourceRef::new(POLICY_GROUP, "HTTPRoute", "bb-allowed")
    );
    assert_eq!(
        names(&policy.routes[0].authorizations),
        ["authorizationpolicy/allowed-authz", "default/localhost"]
    );
    assert_eq!(
        names(&policy.routes[1].authorizations),
        ["default/localhost"]
    );

    let on = |tls, path| allowed_by(&decide(&policy, tls, "10.42.0.7", path));
    assert_eq!(
        on(mtls(SLOW_COOKER), "/allowed"),
        "authorizationpolicy/allowed-authz"
    );
    assert!(on(mtls(SLOW_COOKER), "/denied").starts_with("denied"));
    assert!(on(mtls(SLOW_COOKER_EVIL), "/allowed").starts_with("denied"));
    // Connection-level (opaque) decisions know no route: the server's own.
    assert_eq!(names(&policy.authorizations), ["default/localhost"]);
    assert!(index.ignored().is_empty(), "{:?}", index.ignored());
}

#[test]
fn server_and_route_authorizations_combine() {
    let mut index = routed_index();
    index.apply_authorization_policy(&policy("bb-authz", "bb", meshtls_ref("bb-good")));
    index.apply_authorization_policy(&route_policy(
        "evil-on-allowed",
        POLICY_GROUP,
        "bb-allowed",
        meshtls_ref("bb-evil"),
    ));
    let policy = policy_of(&index, 8080);
    assert_eq!(
        names(&policy.routes[0].authorizations),
        [
            "authorizationpolicy/evil-on-allowed",
            "authorizationpolicy/bb-authz",
            "default/localhost"
        ]
    );
    let on = |tls, path| allowed_by(&decide(&policy, tls, "10.42.0.7", path));
    assert_eq!(
        on(mtls(SLOW_COOKER), "/allowed"),
        "authorizationpolicy/bb-authz"
    );
    assert_eq!(
        on(mtls(SLOW_COOKER), "/denied"),
        "authorizationpolicy/bb-authz"
    );
    assert_eq!(
        on(mtls(SLOW_COOKER_EVIL), "/allowed"),
        "authorizationpolicy/evil-on-allowed"
    );
    assert!(on(mtls(SLOW_COOKER_EVIL), "/denied").starts_with("denied"));
}

#[test]
fn a_policy_targets_the_route_of_its_group_only() {
    let mut index = Index::new(IndexConfig::default());
    index.apply_pod(&bb_pod("bb-1", json!({})));
    index.apply_server(&server("bb", json!(8080)));
    index.apply_meshtls_authentication(&meshtls("bb-good", json!([SLOW_COOKER])));
    // Two routes of the same name, one per group.
    index.apply_http_route(&http_route("bb-route", "bb", "/linkerd"));
    index.apply_gateway_http_route(&gateway_route("bb-route", "bb", "/gateway"));
    index.apply_authorization_policy(&route_policy(
        "on-gateway",
        GATEWAY_GROUP,
        "bb-route",
        meshtls_ref("bb-good"),
    ));
    let policy = policy_of(&index, 8080);
    let refs: Vec<&ResourceRef> = policy.routes.iter().map(|r| &r.reference).collect();
    assert_eq!(
        refs,
        [
            &ResourceRef::new(GATEWAY_GROUP, "HTTPRoute", "bb-route"),
            &ResourceRef::new(POLICY_GROUP, "HTTPRoute", "bb-route"),
        ]
    );
    let on = |path| allowed_by(&decide(&policy, mtls(SLOW_COOKER), "10.42.0.7", path));
    assert_eq!(on("/gateway"), "authorizationpolicy/on-gateway");
    assert!(on("/linkerd").starts_with("denied"));

    // A reset of one group's routes keeps the other's.
    index.reset_gateway_http_routes([]);
    let policy = policy_of(&index, 8080);
    assert_eq!(route_names(&policy), ["HTTPRoute/bb-route"]);
    assert_eq!(policy.routes[0].reference.group.as_ref(), POLICY_GROUP);
    index.reset_http_routes([]);
    assert_eq!(route_names(&policy_of(&index, 8080)), ["default/default"]);
}

#[test]
fn a_policy_on_a_missing_route_is_reported_naming_it() {
    let mut index = routed_index();
    index.apply_authorization_policy(&route_policy(
        "on-missing",
        GATEWAY_GROUP,
        "bb-allowed",
        meshtls_ref("bb-good"),
    ));
    assert_eq!(
        reasons(&index),
        [(
            "AuthorizationPolicy",
            "on-missing".to_string(),
            format!(
                "spec.targetRef: HTTPRoute {NS}/bb-allowed (group gateway.networking.k8s.io) does \
                 not exist, so it admits no one"
            )
        )]
    );
    // The route of the other group does not get its authorization.
    let policy = policy_of(&index, 8080);
    assert_eq!(
        names(&policy.routes[0].authorizations),
        ["default/localhost"]
    );

    index.apply_gateway_http_route(&gateway_route("bb-allowed", "bb", "/allowed"));
    assert!(index.ignored().is_empty(), "{:?}", index.ignored());
    index.delete_gateway_http_route(NS, "bb-allowed");
    assert_eq!(reasons(&index).len(), 1);
}

#[test]
fn a_route_on_a_missing_server_is_reported_and_changes_nothing() {
    let mut index = guide_index();
    let before = policy_of(&index, 8080);
    let generation = index.generation();
    index.apply_http_route(&http_route("orphan", "no-such-server", "/"));
    let mut elsewhere = http_route("elsewhere", "bb", "/");
    if let Some(parents) = elsewhere.spec.parent_refs.as_mut() {
        parents[0].namespace = Some("other".into());
    }
    index.apply_http_route(&elsewhere);
    assert_eq!(
        reasons(&index),
        [
            (
                "HTTPRoute",
                "elsewhere".to_string(),
                "spec.parentRefs[0]: Server other/bb is not in the route's namespace \"mc-demo\", \
                 and a route attaches only to Servers of its own namespace"
                    .to_string()
            ),
            (
                "HTTPRoute",
                "orphan".to_string(),
                format!(
                    "spec.parentRefs[0]: Server {NS}/no-such-server does not exist, so the route \
                     applies to no port there"
                )
            ),
        ]
    );
    // Nothing already accepted is lost: the guide's policy is untouched.
    assert_eq!(index.generation(), generation);
    assert!(before.same_as(&policy_of(&index, 8080)));
    let ignored = index.ignored();
    assert_eq!(ignored[0].api_version, "policy.linkerd.io/v1beta3");
}

#[test]
fn route_changes_move_the_generation_only_when_they_change_a_port() {
    let mut index = routed_index();
    let now = index.generation();
    index.apply_http_route(&http_route("bb-allowed", "bb", "/allowed"));
    assert_eq!(index.generation(), now);
    index.apply_http_route(&http_route("bb-allowed", "bb", "/elsewhere"));
    assert!(index.generation() > now);
    let now = index.generation();
    index.delete_http_route(NS, "bb-allowed");
    index.delete_http_route(NS, "bb-allowed");
    assert_eq!(index.generation(), now + 1);
    assert_eq!(
        route_names(&policy_of(&index, 8080)),
        ["HTTPRoute/bb-denied"]
    );
}

#[test]
fn a_grpc_server_keeps_its_default_routes() {
    let mut index = routed_index();
    let mut grpc = server("bb", json!(8080));
    grpc.spec.proxy_protocol = Some(strait_api::policy::ProxyProtocol::Grpc);
    index.apply_server(&grpc);
    assert_eq!(route_names(&policy_of(&index, 8080)), ["default/default"]);
}

#[test]
fn probe_routes_go_once_a_route_is_attached() {
    let mut index = routed_index();
    index.apply_server(&server("bb-admin", json!(9990)));
    assert_eq!(
        route_names(&policy_of(&index, 9990)),
        ["default/probe", "default/default"]
    );
    index.apply_http_route(&http_route("admin", "bb-admin", "/ready"));
    assert_eq!(route_names(&policy_of(&index, 9990)), ["HTTPRoute/admin"]);
}
