use std::collections::HashMap;

use http::{HeaderMap, Method};
use linkerd2_proxy_api::http_route::{HttpRouteMatch, PathMatch as ProtoPath, path_match};
use linkerd2_proxy_api::http_types::HttpMethod;
use linkerd2_proxy_api::inbound::authn::permit_mesh_tls::{Clients, PermitClientIdentities};
use linkerd2_proxy_api::inbound::authn::{Permit, PermitMeshTls, PermitUnauthenticated};
use linkerd2_proxy_api::inbound::proxy_protocol::{self, Kind};
use linkerd2_proxy_api::inbound::{
    self as api, Authn, Authz, HttpRoute, Identity, IdentitySuffix, ProxyProtocol,
};
use linkerd2_proxy_api::meta::{Metadata, Resource, metadata};
use linkerd2_proxy_api::net::IpNetwork;
use strait_decisions::authz::{Authentication, Protocol, ResourceRef};
use strait_decisions::identity::IdentityMatch;
use strait_decisions::net::{Cidr, Network};

use super::matching::RequestParts;
use super::port_policy;

fn labels(group: &str, kind: &str, name: &str) -> HashMap<String, String> {
    HashMap::from([
        ("group".to_string(), group.to_string()),
        ("kind".to_string(), kind.to_string()),
        ("name".to_string(), name.to_string()),
    ])
}

fn all_networks() -> Vec<api::Network> {
    vec![
        api::Network {
            net: Some(IpNetwork::from((std::net::Ipv4Addr::UNSPECIFIED, 0))),
            except: Vec::new(),
        },
        api::Network {
            net: Some(IpNetwork::from((std::net::Ipv6Addr::UNSPECIFIED, 0))),
            except: Vec::new(),
        },
    ]
}

fn authz(meta: Metadata, permit: Permit) -> Authz {
    Authz {
        networks: all_networks(),
        authentication: Some(Authn {
            permit: Some(permit),
        }),
        labels: HashMap::new(),
        metadata: Some(meta),
    }
}

fn resource(group: &str, kind: &str, name: &str) -> Metadata {
    Metadata {
        kind: Some(metadata::Kind::Resource(Resource {
            group: group.to_string(),
            kind: kind.to_string(),
            name: name.to_string(),
            ..Resource::default()
        })),
    }
}

fn default_meta(name: &str) -> Metadata {
    Metadata {
        kind: Some(metadata::Kind::Default(name.to_string())),
    }
}

fn path_match(kind: path_match::Kind, method: Option<Method>) -> HttpRouteMatch {
    HttpRouteMatch {
        path: Some(ProtoPath { kind: Some(kind) }),
        method: method.map(HttpMethod::from),
        ..HttpRouteMatch::default()
    }
}

fn route(name: &str, matches: Vec<HttpRouteMatch>) -> HttpRoute {
    HttpRoute {
        metadata: Some(default_meta(name)),
        hosts: Vec::new(),
        authorizations: vec![authz(
            default_meta("all-unauthenticated"),
            Permit::Unauthenticated(PermitUnauthenticated {}),
        )],
        rules: vec![api::http_route::Rule {
            matches,
            filters: Vec::new(),
        }],
    }
}

fn detect_server(routes: Vec<HttpRoute>, authorizations: Vec<Authz>) -> api::Server {
    api::Server {
        protocol: Some(ProxyProtocol {
            kind: Some(Kind::Detect(proxy_protocol::Detect {
                timeout: std::time::Duration::from_secs(3).try_into().ok(),
                http_routes: routes,
                http_local_rate_limit: None,
            })),
        }),
        server_ips: Vec::new(),
        authorizations,
        labels: labels("policy.linkerd.io", "server", "bb"),
    }
}

#[test]
fn authentications_and_references_decode_as_encoded() {
    let server = detect_server(
        Vec::new(),
        vec![
            authz(
                resource("policy.linkerd.io", "authorizationpolicy", "bb-authz"),
                Permit::MeshTls(PermitMeshTls {
                    clients: Some(Clients::Identities(PermitClientIdentities {
                        identities: vec![Identity {
                            name: "a.ns.serviceaccount.identity.linkerd.cluster.local".into(),
                        }],
                        suffixes: vec![
                            IdentitySuffix {
                                parts: vec!["ns".into(), "serviceaccount".into()],
                            },
                            IdentitySuffix { parts: Vec::new() },
                        ],
                    })),
                }),
            ),
            authz(
                default_meta("all-authenticated"),
                Permit::MeshTls(PermitMeshTls {
                    clients: Some(Clients::Unauthenticated(PermitUnauthenticated {})),
                }),
            ),
            authz(
                default_meta("probe"),
                Permit::Unauthenticated(PermitUnauthenticated {}),
            ),
        ],
    );
    let policy = port_policy(&server);
    assert_eq!(
        policy.server,
        ResourceRef::new("policy.linkerd.io", "server", "bb")
    );
    assert_eq!(policy.protocol, Protocol::Unknown);
    assert_eq!(
        policy.detect_timeout,
        Some(std::time::Duration::from_secs(3))
    );
    let candidates = &policy.server_authorizations;
    assert_eq!(candidates.len(), 3);
    assert_eq!(
        candidates[0].reference,
        ResourceRef::new("policy.linkerd.io", "authorizationpolicy", "bb-authz")
    );
    assert_eq!(
        candidates[0].authentication,
        Authentication::TlsAuthenticated(IdentityMatch {
            identities: vec!["a.ns.serviceaccount.identity.linkerd.cluster.local".into()],
            suffixes: vec!["ns.serviceaccount".into(), String::new()],
        })
    );
    assert_eq!(candidates[0].networks, Network::all().to_vec());
    assert_eq!(
        candidates[1].reference,
        ResourceRef::new("", "default", "all-authenticated")
    );
    assert_eq!(
        candidates[1].authentication,
        Authentication::TlsUnauthenticated
    );
    assert_eq!(
        candidates[2].authentication,
        Authentication::Unauthenticated
    );
}

#[test]
fn unreadable_networks_and_authentications_admit_less() {
    let mut no_authn = authz(
        default_meta("x"),
        Permit::Unauthenticated(PermitUnauthenticated {}),
    );
    no_authn.authentication = None;
    let mut bad_except = authz(
        default_meta("y"),
        Permit::Unauthenticated(PermitUnauthenticated {}),
    );
    bad_except.networks = vec![api::Network {
        net: Some(IpNetwork::from((std::net::Ipv4Addr::new(10, 0, 0, 0), 8))),
        except: vec![IpNetwork {
            ip: None,
            prefix_len: 24,
        }],
    }];
    let policy = port_policy(&detect_server(Vec::new(), vec![no_authn, bad_except]));
    assert_eq!(policy.server_authorizations.len(), 1);
    assert!(policy.server_authorizations[0].networks.is_empty());
}

#[test]
fn labels_name_the_authorization_without_metadata() {
    let mut a = authz(
        default_meta("x"),
        Permit::Unauthenticated(PermitUnauthenticated {}),
    );
    a.metadata = None;
    a.labels = labels("policy.linkerd.io", "serverauthorization", "old-style");
    let policy = port_policy(&detect_server(Vec::new(), vec![a]));
    assert_eq!(
        policy.server_authorizations[0].reference,
        ResourceRef::new("policy.linkerd.io", "serverauthorization", "old-style")
    );
    let cidr: Cidr = "0.0.0.0/0".parse().expect("cidr");
    assert_eq!(policy.server_authorizations[0].networks[0].cidr, cidr);
}

fn parts<'a>(method: &'a Method, path: &'a str, headers: &'a HeaderMap) -> RequestParts<'a> {
    RequestParts {
        method,
        path,
        query: None,
        host: None,
        headers,
    }
}

#[test]
fn the_most_specific_route_wins() {
    let server = detect_server(
        vec![
            route(
                "default",
                vec![path_match(path_match::Kind::Prefix("/".into()), None)],
            ),
            route(
                "probe",
                vec![
                    path_match(path_match::Kind::Exact("/live".into()), Some(Method::GET)),
                    path_match(path_match::Kind::Exact("/ready".into()), Some(Method::GET)),
                ],
            ),
            route(
                "api",
                vec![path_match(path_match::Kind::Prefix("/api".into()), None)],
            ),
            route(
                "numbers",
                vec![path_match(
                    path_match::Kind::Regex("/n/[0-9]+".into()),
                    None,
                )],
            ),
        ],
        Vec::new(),
    );
    let policy = port_policy(&server);
    let headers = HeaderMap::new();
    let chosen = |method: &Method, path: &str| {
        policy
            .route_for(&parts(method, path, &headers))
            .map(|r| r.reference.name.to_string())
    };
    assert_eq!(chosen(&Method::GET, "/live").as_deref(), Some("probe"));
    assert_eq!(chosen(&Method::POST, "/live").as_deref(), Some("default"));
    assert_eq!(chosen(&Method::GET, "/api/x").as_deref(), Some("api"));
    assert_eq!(chosen(&Method::GET, "/api").as_deref(), Some("api"));
    assert_eq!(chosen(&Method::GET, "/apix").as_deref(), Some("default"));
    assert_eq!(chosen(&Method::GET, "/n/42").as_deref(), Some("numbers"));
    assert_eq!(chosen(&Method::GET, "/n/x").as_deref(), Some("default"));
}

#[test]
fn no_matching_route_is_none_and_bad_expressions_never_match() {
    let server = detect_server(
        vec![
            route(
                "probe",
                vec![path_match(
                    path_match::Kind::Exact("/live".into()),
                    Some(Method::GET),
                )],
            ),
            route(
                "broken",
                vec![path_match(path_match::Kind::Regex("(".into()), None)],
            ),
        ],
        Vec::new(),
    );
    let policy = port_policy(&server);
    assert_eq!(policy.http_routes.len(), 1, "the broken route is dropped");
    let headers = HeaderMap::new();
    assert!(
        policy
            .route_for(&parts(&Method::GET, "/other", &headers))
            .is_none()
    );
}

#[test]
fn hosts_restrict_a_route_by_exact_name_or_suffix() {
    use linkerd2_proxy_api::http_route::{HostMatch as ProtoHost, host_match};
    let mut only_cluster = route(
        "cluster",
        vec![path_match(path_match::Kind::Prefix("/".into()), None)],
    );
    only_cluster.hosts = vec![
        ProtoHost {
            r#match: Some(host_match::Match::Suffix(host_match::Suffix {
                reverse_labels: vec!["local".into(), "cluster".into()],
            })),
        },
        ProtoHost {
            r#match: Some(host_match::Match::Exact("bb".into())),
        },
    ];
    let policy = port_policy(&detect_server(vec![only_cluster], Vec::new()));
    let headers = HeaderMap::new();
    let routed = |host: Option<&str>| {
        policy
            .route_for(&RequestParts {
                method: &Method::GET,
                path: "/",
                query: None,
                host,
                headers: &headers,
            })
            .is_some()
    };
    assert!(routed(Some("bb.mc-demo.svc.cluster.local")));
    assert!(routed(Some("BB")));
    assert!(!routed(Some("cluster.local")));
    assert!(!routed(Some("bb.example.com")));
    assert!(!routed(Some("ünïcödé.clüster.local")));
    assert!(!routed(None));
}

/// A route's candidates are its own, then the server's, whether the
/// control plane lists the server's on the route (strait) or not
/// (Linkerd): an AuthorizationPolicy on the Server applies on every route,
/// one on an HTTPRoute on that route only.
#[test]
fn route_candidates_are_the_routes_then_the_servers() {
    let unauthenticated = || Permit::Unauthenticated(PermitUnauthenticated {});
    let server_authz = || {
        authz(
            resource("policy.linkerd.io", "authorizationpolicy", "bb-authz"),
            unauthenticated(),
        )
    };
    let route_authz = authz(
        resource("policy.linkerd.io", "authorizationpolicy", "on-route"),
        unauthenticated(),
    );
    let mut linkerd_style = route("unused", vec![]);
    linkerd_style.metadata = Some(resource("policy.linkerd.io", "HTTPRoute", "bb-allowed"));
    linkerd_style.authorizations = vec![route_authz.clone()];
    let mut strait_style = linkerd_style.clone();
    strait_style.metadata = Some(resource("gateway.networking.k8s.io", "HTTPRoute", "other"));
    strait_style.authorizations = vec![route_authz, server_authz()];
    let mut default = route("default", vec![]);
    default.authorizations = Vec::new();
    let server = detect_server(
        vec![linkerd_style, strait_style, default],
        vec![server_authz()],
    );
    let policy = port_policy(&server);
    let names: Vec<Vec<String>> = policy
        .http_routes
        .iter()
        .map(|r| {
            r.authorizations
                .iter()
                .map(|a| a.reference.to_string())
                .collect()
        })
        .collect();
    assert_eq!(
        names,
        [
            vec![
                "authorizationpolicy/on-route",
                "authorizationpolicy/bb-authz"
            ],
            vec![
                "authorizationpolicy/on-route",
                "authorizationpolicy/bb-authz"
            ],
            vec!["authorizationpolicy/bb-authz"],
        ]
    );
    assert_eq!(
        policy.http_routes[1].reference,
        ResourceRef::new("gateway.networking.k8s.io", "HTTPRoute", "other")
    );
}
