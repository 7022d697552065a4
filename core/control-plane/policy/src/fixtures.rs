//! Resources for tests, written as the manifests users apply.

use std::net::IpAddr;

use k8s_openapi::api::core::v1::Pod;
use serde_json::{Value, json};
use strait_api::gateway;
use strait_api::policy::httproute::PathMatchType;
use strait_api::policy::{
    AuthorizationPolicy, HttpRoute, MeshTlsAuthentication, NetworkAuthentication, Server,
    ServerAuthorization,
};
use strait_decisions::authz::{ClientTls, Decision, Inbound, authorize};

use crate::inbound::{InboundPolicy, InboundRoute};
use crate::index::Index;

pub(crate) const NS: &str = "mc-demo";
pub(crate) const SLOW_COOKER: &str =
    "slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local";
pub(crate) const SLOW_COOKER_EVIL: &str =
    "slow-cooker-evil.mc-demo.serviceaccount.identity.linkerd.cluster.local";

fn decode<T: serde::de::DeserializeOwned>(value: Value) -> T {
    match serde_json::from_value(value) {
        Ok(v) => v,
        Err(e) => panic!("fixture does not decode: {e}"),
    }
}

/// A `bb` pod of the guide: port 8080 named `http`, plus a container with a
/// liveness probe on 9990 `/live` and a readiness probe on `admin` `/ready`.
pub(crate) fn bb_pod(name: &str, annotations: Value) -> Pod {
    decode(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": {"app": "bb"}, "annotations": annotations},
        "spec": {"containers": [
            {"name": "bb", "ports": [{"name": "http", "containerPort": 8080}]},
            {"name": "admin", "ports": [{"name": "admin", "containerPort": 9990}],
             "livenessProbe": {"httpGet": {"path": "/live", "port": 9990}},
             "readinessProbe": {"httpGet": {"path": "/ready", "port": "admin"}}}
        ]}
    }))
}

/// The guide's Server, with any port.
pub(crate) fn server(name: &str, port: Value) -> Server {
    decode(json!({
        "apiVersion": "policy.linkerd.io/v1beta3", "kind": "Server",
        "metadata": {"namespace": NS, "name": name, "labels": {"tier": "backend"}},
        "spec": {"podSelector": {"matchLabels": {"app": "bb"}}, "port": port}
    }))
}

/// An AuthorizationPolicy on Server `target`.
pub(crate) fn policy(name: &str, target: &str, refs: Value) -> AuthorizationPolicy {
    decode(json!({
        "apiVersion": "policy.linkerd.io/v1alpha1", "kind": "AuthorizationPolicy",
        "metadata": {"namespace": NS, "name": name},
        "spec": {
            "targetRef": {"group": "policy.linkerd.io", "kind": "Server", "name": target},
            "requiredAuthenticationRefs": refs
        }
    }))
}

/// A reference to a MeshTLSAuthentication, as `requiredAuthenticationRefs` has it.
pub(crate) fn meshtls_ref(name: &str) -> Value {
    json!([{"group": "policy.linkerd.io", "kind": "MeshTLSAuthentication", "name": name}])
}

/// A MeshTLSAuthentication with these `identities`.
pub(crate) fn meshtls(name: &str, identities: Value) -> MeshTlsAuthentication {
    decode(json!({
        "apiVersion": "policy.linkerd.io/v1alpha1", "kind": "MeshTLSAuthentication",
        "metadata": {"namespace": NS, "name": name},
        "spec": {"identities": identities}
    }))
}

/// A NetworkAuthentication with these `networks`.
pub(crate) fn network_authn(name: &str, networks: Value) -> NetworkAuthentication {
    decode(json!({
        "apiVersion": "policy.linkerd.io/v1alpha1", "kind": "NetworkAuthentication",
        "metadata": {"namespace": NS, "name": name},
        "spec": {"networks": networks}
    }))
}

/// A ServerAuthorization with this `server` and `client`.
pub(crate) fn server_authz(name: &str, server: Value, client: Value) -> ServerAuthorization {
    decode(json!({
        "apiVersion": "policy.linkerd.io/v1beta1", "kind": "ServerAuthorization",
        "metadata": {"namespace": NS, "name": name},
        "spec": {"server": server, "client": client}
    }))
}

/// The guide's step 6: Server `bb`, AuthorizationPolicy `bb-authz` and
/// MeshTLSAuthentication `bb-good`, exactly as applied there.
pub(crate) fn apply_guide(index: &mut Index) {
    index.apply_server(&server("bb", json!(8080)));
    index.apply_authorization_policy(&policy("bb-authz", "bb", meshtls_ref("bb-good")));
    index.apply_meshtls_authentication(&meshtls("bb-good", json!([SLOW_COOKER])));
}

/// The route a `GET` of `path` takes, for the index's own tests: a route
/// with an exact match of the path, else one whose path prefix covers it,
/// else the catch-all. The proxy's full matching (hosts, headers, the
/// Gateway API's precedence) is tested with the proxy.
pub(crate) fn route_for<'a>(policy: &'a InboundPolicy, path: &str) -> Option<&'a InboundRoute> {
    let matches = |route: &&InboundRoute, exact: bool| {
        route.matches.iter().any(|m| {
            let Some(p) = &m.path else {
                return !exact;
            };
            let value = p.value.as_deref().unwrap_or("/");
            match p.type_.unwrap_or_default() {
                PathMatchType::Exact => value == path,
                PathMatchType::PathPrefix => !exact && path.starts_with(value),
                PathMatchType::RegularExpression => false,
            }
        })
    };
    let routes = || policy.routes.iter();
    routes()
        .find(|r| matches(r, true))
        .or_else(|| routes().find(|r| matches(r, false)))
        .or_else(|| routes().find(|r| r.matches.is_empty()))
}

/// How a client fares on the route a request to `path` takes, as the
/// authorization plugin would decide.
pub(crate) fn decide(policy: &InboundPolicy, tls: ClientTls, ip: &str, path: &str) -> Decision {
    let route = match route_for(policy, path) {
        Some(r) => r,
        None => panic!("no route for {path}"),
    };
    let client_ip: IpAddr = match ip.parse() {
        Ok(ip) => ip,
        Err(e) => panic!("bad test address {ip}: {e}"),
    };
    let request = Inbound {
        client_tls: tls,
        client_ip,
        server: policy.server.clone(),
        port: 8080,
        protocol: policy.protocol,
        route: Some(route.reference.clone()),
        http: None,
    };
    authorize(&request, &route.authorizations)
}

/// The spec of an HTTPRoute on Server `server` taking every path under
/// `prefix`.
fn route_spec(server: &str, prefix: &str) -> Value {
    json!({
        "parentRefs": [{"group": "policy.linkerd.io", "kind": "Server", "name": server}],
        "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": prefix}}]}]
    })
}

/// A `policy.linkerd.io` HTTPRoute on Server `server` for paths under `prefix`.
pub(crate) fn http_route(name: &str, server: &str, prefix: &str) -> HttpRoute {
    decode(json!({
        "apiVersion": "policy.linkerd.io/v1beta3", "kind": "HTTPRoute",
        "metadata": {"namespace": NS, "name": name},
        "spec": route_spec(server, prefix)
    }))
}

/// A Gateway API HTTPRoute on Server `server` for paths under `prefix`.
pub(crate) fn gateway_route(name: &str, server: &str, prefix: &str) -> gateway::HttpRoute {
    decode(json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"namespace": NS, "name": name},
        "spec": route_spec(server, prefix)
    }))
}

/// An AuthorizationPolicy on the HTTPRoute `route` of API group `group`.
pub(crate) fn route_policy(
    name: &str,
    group: &str,
    route: &str,
    refs: Value,
) -> AuthorizationPolicy {
    decode(json!({
        "apiVersion": "policy.linkerd.io/v1alpha1", "kind": "AuthorizationPolicy",
        "metadata": {"namespace": NS, "name": name},
        "spec": {
            "targetRef": {"group": group, "kind": "HTTPRoute", "name": route},
            "requiredAuthenticationRefs": refs
        }
    }))
}

/// A meshed client with this identity.
pub(crate) fn mtls(identity: &str) -> ClientTls {
    ClientTls::Mtls(identity.to_string())
}

/// A client without TLS.
pub(crate) fn plain() -> ClientTls {
    ClientTls::Plaintext("no_tls_from_remote".to_string())
}
