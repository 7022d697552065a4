//! Reference cases of Linkerd's semantics for both decisions.
//!
//! One table serves the native functions' tests and the tests that run the
//! default plugins through the Wasm host, so the two cannot drift apart.

use std::net::IpAddr;

use crate::authz::{
    Authentication, Authorization, ClientTls, HttpRequest, Inbound, Protocol, ResourceRef,
};
use crate::export::{Link, RemoteService, ServicePort};
use crate::identity::IdentityMatch;
use crate::net::{Cidr, Network};
use crate::selector::{LabelSelector, Labels, Operator, Requirement};

/// The identity of the guide's admitted client.
pub const SLOW_COOKER: &str = "slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local";
/// The identity of the guide's refused client.
pub const SLOW_COOKER_EVIL: &str =
    "slow-cooker-evil.mc-demo.serviceaccount.identity.linkerd.cluster.local";

/// An authorization case: the decision must allow through `allowed_by`, or
/// deny when it is `None`.
#[derive(Clone, Debug)]
pub struct AuthzCase {
    /// What the case shows.
    pub name: &'static str,
    /// The request.
    pub request: Inbound,
    /// The candidates, in order.
    pub candidates: Vec<Authorization>,
    /// The authorization that must admit the request, or `None` for a denial.
    pub allowed_by: Option<ResourceRef>,
}

/// An export case: the decision's mode must be `expected`.
#[derive(Clone, Debug)]
pub struct ExportCase {
    /// What the case shows.
    pub name: &'static str,
    /// The remote Service.
    pub service: RemoteService,
    /// The Link.
    pub link: Link,
    /// The expected mode.
    pub expected: ExportMode,
    /// Whether the Service joins the federated Service.
    pub federated: bool,
}

/// The mode of an export decision, without reasons or extras.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportMode {
    /// Not mirrored.
    NotExported,
    /// Mirrored through the gateway.
    Gateway,
    /// Mirrored pod to pod.
    RemoteDiscovery,
}

fn ip(s: &str) -> IpAddr {
    s.parse()
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

fn cidr(s: &str) -> Cidr {
    s.parse().unwrap_or(Cidr::ALL_V4)
}

fn any_network() -> Vec<Network> {
    Network::all().to_vec()
}

fn server_bb() -> ResourceRef {
    ResourceRef::new("policy.linkerd.io", "server", "bb")
}

fn policy(name: &str) -> ResourceRef {
    ResourceRef::new("policy.linkerd.io", "authorizationpolicy", name)
}

fn ids(patterns: &[&str]) -> Authentication {
    Authentication::TlsAuthenticated(IdentityMatch::from_patterns(patterns).unwrap_or_default())
}

/// A request to the guide's `bb` server, from `client_ip` with `tls`.
pub fn request(tls: ClientTls, client_ip: &str) -> Inbound {
    Inbound {
        client_tls: tls,
        client_ip: ip(client_ip),
        server: server_bb(),
        port: 8080,
        protocol: Protocol::Http1,
        route: Some(ResourceRef::new("", "default", "default")),
        http: Some(HttpRequest {
            method: "GET".into(),
            path: "/".into(),
            authority: "bb-target.mc-demo.svc.cluster.local:8080".into(),
            headers: vec![crate::authz::Header {
                name: "user-agent".into(),
                value: "slow_cooker".into(),
            }],
        }),
    }
}

fn mtls(id: &str) -> ClientTls {
    ClientTls::Mtls(id.into())
}

fn plaintext() -> ClientTls {
    ClientTls::Plaintext("no_tls_from_remote".into())
}

/// The guide's `bb-authz` policy: only slow-cooker's identity.
pub fn bb_authz() -> Authorization {
    Authorization {
        reference: policy("bb-authz"),
        networks: any_network(),
        authentication: ids(&[SLOW_COOKER]),
    }
}

fn authz(name: &str, networks: Vec<Network>, authentication: Authentication) -> Authorization {
    Authorization {
        reference: policy(name),
        networks,
        authentication,
    }
}

/// Every rule of Linkerd's inbound authorization, one case at a time.
pub fn authz_cases() -> Vec<AuthzCase> {
    let net = |c: &str, except: &[&str]| Network {
        cidr: cidr(c),
        except: except.iter().map(|e| cidr(e)).collect(),
    };
    let case = |name, request, candidates, allowed_by: Option<&str>| AuthzCase {
        name,
        request,
        candidates,
        allowed_by: allowed_by.map(policy),
    };
    vec![
        case(
            "guide: slow-cooker is admitted by bb-authz",
            request(mtls(SLOW_COOKER), "127.10.0.5"),
            vec![bb_authz()],
            Some("bb-authz"),
        ),
        case(
            "guide: slow-cooker-evil is refused",
            request(mtls(SLOW_COOKER_EVIL), "127.10.0.6"),
            vec![bb_authz()],
            None,
        ),
        case(
            "no candidates: refused (fail closed)",
            request(mtls(SLOW_COOKER), "127.10.0.5"),
            vec![],
            None,
        ),
        case(
            "first matching authorization wins",
            request(mtls(SLOW_COOKER), "10.0.0.1"),
            vec![
                authz("first", any_network(), ids(&["*"])),
                authz("second", any_network(), ids(&[SLOW_COOKER])),
            ],
            Some("first"),
        ),
        case(
            "a non-matching authorization is skipped for a later one",
            request(mtls(SLOW_COOKER), "10.0.0.1"),
            vec![
                authz("evil-only", any_network(), ids(&[SLOW_COOKER_EVIL])),
                authz("cooker", any_network(), ids(&[SLOW_COOKER])),
            ],
            Some("cooker"),
        ),
        case(
            "`*` admits any authenticated identity",
            request(mtls(SLOW_COOKER_EVIL), "10.0.0.1"),
            vec![authz("any", any_network(), ids(&["*"]))],
            Some("any"),
        ),
        case(
            "`*` does not admit an anonymous TLS client",
            request(ClientTls::TlsAnonymous, "10.0.0.1"),
            vec![authz("any", any_network(), ids(&["*"]))],
            None,
        ),
        case(
            "`*` does not admit plaintext",
            request(plaintext(), "10.0.0.1"),
            vec![authz("any", any_network(), ids(&["*"]))],
            None,
        ),
        case(
            "`*.suffix` admits identities under the suffix",
            request(mtls(SLOW_COOKER_EVIL), "10.0.0.1"),
            vec![authz(
                "ns",
                any_network(),
                ids(&["*.mc-demo.serviceaccount.identity.linkerd.cluster.local"]),
            )],
            Some("ns"),
        ),
        case(
            "`*.suffix` refuses identities of another namespace",
            request(
                mtls("web.other.serviceaccount.identity.linkerd.cluster.local"),
                "10.0.0.1",
            ),
            vec![authz(
                "ns",
                any_network(),
                ids(&["*.mc-demo.serviceaccount.identity.linkerd.cluster.local"]),
            )],
            None,
        ),
        case(
            "unauthenticated admits plaintext clients",
            request(plaintext(), "192.0.2.1"),
            vec![authz(
                "open",
                any_network(),
                Authentication::Unauthenticated,
            )],
            Some("open"),
        ),
        case(
            "tls-unauthenticated admits an anonymous TLS client",
            request(ClientTls::TlsAnonymous, "192.0.2.1"),
            vec![authz(
                "tls",
                any_network(),
                Authentication::TlsUnauthenticated,
            )],
            Some("tls"),
        ),
        case(
            "tls-unauthenticated admits a mesh identity",
            request(mtls(SLOW_COOKER), "192.0.2.1"),
            vec![authz(
                "tls",
                any_network(),
                Authentication::TlsUnauthenticated,
            )],
            Some("tls"),
        ),
        case(
            "tls-unauthenticated refuses plaintext",
            request(plaintext(), "192.0.2.1"),
            vec![authz(
                "tls",
                any_network(),
                Authentication::TlsUnauthenticated,
            )],
            None,
        ),
        case(
            "a client inside the network is admitted",
            request(plaintext(), "10.1.2.3"),
            vec![authz(
                "cluster",
                vec![net("10.0.0.0/8", &["10.9.0.0/16"])],
                Authentication::Unauthenticated,
            )],
            Some("cluster"),
        ),
        case(
            "a client in an except range is refused",
            request(plaintext(), "10.9.2.3"),
            vec![authz(
                "cluster",
                vec![net("10.0.0.0/8", &["10.9.0.0/16"])],
                Authentication::Unauthenticated,
            )],
            None,
        ),
        case(
            "a client outside every network is refused",
            request(mtls(SLOW_COOKER), "172.16.0.1"),
            vec![authz(
                "cluster",
                vec![net("10.0.0.0/8", &[])],
                ids(&[SLOW_COOKER]),
            )],
            None,
        ),
        case(
            "an IPv6 client does not match an IPv4 network",
            request(plaintext(), "2001:db8::1"),
            vec![authz(
                "v4",
                vec![net("0.0.0.0/0", &[])],
                Authentication::Unauthenticated,
            )],
            None,
        ),
        case(
            "an IPv6 client matches an IPv6 network",
            request(plaintext(), "2001:db8::1"),
            vec![authz(
                "v6",
                vec![net("2001:db8::/32", &[])],
                Authentication::Unauthenticated,
            )],
            Some("v6"),
        ),
        case(
            "an authorization with no networks admits no one",
            request(plaintext(), "10.0.0.1"),
            vec![authz("none", vec![], Authentication::Unauthenticated)],
            None,
        ),
        case(
            "network and identity must both match",
            request(mtls(SLOW_COOKER), "10.9.0.1"),
            vec![
                authz(
                    "outside",
                    vec![net("10.0.0.0/8", &["10.9.0.0/16"])],
                    ids(&[SLOW_COOKER]),
                ),
                authz("evil", any_network(), ids(&[SLOW_COOKER_EVIL])),
            ],
            None,
        ),
        AuthzCase {
            name: "default probe route admits the kubelet without TLS",
            request: Inbound {
                route: Some(ResourceRef::new("", "default", "probe")),
                ..request(plaintext(), "10.0.0.1")
            },
            candidates: vec![Authorization {
                reference: ResourceRef::new("", "default", "probe"),
                networks: any_network(),
                authentication: Authentication::Unauthenticated,
            }],
            allowed_by: Some(ResourceRef::new("", "default", "probe")),
        },
        AuthzCase {
            name: "opaque connection (no route, no request) is decided on identity",
            request: Inbound {
                protocol: Protocol::Opaque,
                route: None,
                http: None,
                ..request(mtls(SLOW_COOKER), "10.0.0.1")
            },
            candidates: vec![bb_authz()],
            allowed_by: Some(policy("bb-authz")),
        },
    ]
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The guide's `bb` Service with the given labels.
pub fn remote_bb(extra_labels: &[(&str, &str)]) -> RemoteService {
    RemoteService {
        namespace: "mc-demo".into(),
        name: "bb".into(),
        labels: labels(extra_labels),
        annotations: Labels::new(),
        ports: vec![ServicePort {
            name: "http".into(),
            protocol: "TCP".into(),
            port: 8080,
            target_port: "8080".into(),
        }],
        headless: false,
    }
}

/// A Link with `link-gen`'s default selectors.
pub fn default_link(has_gateway: bool) -> Link {
    Link {
        name: "target".into(),
        target_cluster_name: "target".into(),
        selector: Some(LabelSelector::from_labels([(
            "mirror.linkerd.io/exported",
            "true",
        )])),
        remote_discovery_selector: Some(LabelSelector::from_labels([(
            "mirror.linkerd.io/exported",
            "remote-discovery",
        )])),
        has_gateway,
        federated_selector: Some(LabelSelector::from_labels([(
            "mirror.linkerd.io/federated",
            "member",
        )])),
    }
}

/// Every rule of Linkerd's export decision, one case at a time.
pub fn export_cases() -> Vec<ExportCase> {
    let exported = |v| [("mirror.linkerd.io/exported", v)];
    let case = |name, service, link, expected| ExportCase {
        name,
        service,
        link,
        expected,
        federated: false,
    };
    let member = [("mirror.linkerd.io/federated", "member")];
    let federated = |name, service, link, expected, federated| ExportCase {
        name,
        service,
        link,
        expected,
        federated,
    };
    vec![
        federated(
            "federated=member joins the federated service only",
            remote_bb(&member),
            default_link(false),
            ExportMode::NotExported,
            true,
        ),
        federated(
            "a service matching both selectors is mirrored and a member",
            remote_bb(&[
                ("mirror.linkerd.io/exported", "remote-discovery"),
                ("mirror.linkerd.io/federated", "member"),
            ]),
            default_link(false),
            ExportMode::RemoteDiscovery,
            true,
        ),
        federated(
            "a headless service never joins a federated service",
            RemoteService {
                headless: true,
                ..remote_bb(&member)
            },
            default_link(false),
            ExportMode::NotExported,
            false,
        ),
        federated(
            "a nil federated selector matches nothing",
            remote_bb(&member),
            Link {
                federated_selector: None,
                ..default_link(false)
            },
            ExportMode::NotExported,
            false,
        ),
        federated(
            "an empty federated selector matches nothing",
            remote_bb(&member),
            Link {
                federated_selector: Some(LabelSelector::default()),
                ..default_link(false)
            },
            ExportMode::NotExported,
            false,
        ),
        federated(
            "another value of the federated label is not a member",
            remote_bb(&[("mirror.linkerd.io/federated", "no")]),
            default_link(false),
            ExportMode::NotExported,
            false,
        ),
        federated(
            "a custom federated selector with expressions is honoured",
            remote_bb(&[("team", "payments")]),
            Link {
                federated_selector: Some(LabelSelector {
                    match_labels: Labels::new(),
                    match_expressions: vec![Requirement {
                        key: "team".into(),
                        operator: Operator::Exists,
                        values: Vec::new(),
                    }],
                }),
                ..default_link(false)
            },
            ExportMode::NotExported,
            true,
        ),
        case(
            "guide: exported=remote-discovery on a gatewayless link",
            remote_bb(&exported("remote-discovery")),
            default_link(false),
            ExportMode::RemoteDiscovery,
        ),
        case(
            "exported=remote-discovery on a link with a gateway stays pod to pod",
            remote_bb(&exported("remote-discovery")),
            default_link(true),
            ExportMode::RemoteDiscovery,
        ),
        case(
            "exported=true on a link with a gateway",
            remote_bb(&exported("true")),
            default_link(true),
            ExportMode::Gateway,
        ),
        case(
            "exported=true on a gatewayless link is not exported",
            remote_bb(&exported("true")),
            default_link(false),
            ExportMode::NotExported,
        ),
        case(
            "an unlabelled service is not exported",
            remote_bb(&[("app", "bb")]),
            default_link(true),
            ExportMode::NotExported,
        ),
        case(
            "another value of the label is not exported",
            remote_bb(&exported("false")),
            default_link(true),
            ExportMode::NotExported,
        ),
        case(
            "a nil gateway selector matches nothing",
            remote_bb(&exported("true")),
            Link {
                selector: None,
                ..default_link(true)
            },
            ExportMode::NotExported,
        ),
        case(
            "an empty gateway selector matches nothing",
            remote_bb(&[("app", "bb")]),
            Link {
                selector: Some(LabelSelector::default()),
                ..default_link(true)
            },
            ExportMode::NotExported,
        ),
        case(
            "an empty remote-discovery selector matches nothing",
            remote_bb(&[("app", "bb")]),
            Link {
                remote_discovery_selector: Some(LabelSelector::default()),
                ..default_link(false)
            },
            ExportMode::NotExported,
        ),
        case(
            "a nil remote-discovery selector matches nothing",
            remote_bb(&exported("remote-discovery")),
            Link {
                remote_discovery_selector: None,
                ..default_link(true)
            },
            ExportMode::NotExported,
        ),
        case(
            "remote discovery works when the gateway selector is unset",
            remote_bb(&exported("remote-discovery")),
            Link {
                selector: None,
                ..default_link(false)
            },
            ExportMode::RemoteDiscovery,
        ),
        case(
            "custom selectors with expressions are honoured",
            remote_bb(&[("team", "payments"), ("tier", "api")]),
            Link {
                selector: None,
                remote_discovery_selector: Some(LabelSelector {
                    match_labels: labels(&[("team", "payments")]),
                    match_expressions: vec![Requirement {
                        key: "tier".into(),
                        operator: Operator::In,
                        values: vec!["api".into(), "web".into()],
                    }],
                }),
                ..default_link(false)
            },
            ExportMode::RemoteDiscovery,
        ),
        case(
            "a failing expression keeps the service home",
            remote_bb(&[("team", "payments"), ("tier", "db")]),
            Link {
                remote_discovery_selector: Some(LabelSelector {
                    match_labels: labels(&[("team", "payments")]),
                    match_expressions: vec![Requirement {
                        key: "tier".into(),
                        operator: Operator::In,
                        values: vec!["api".into()],
                    }],
                }),
                ..default_link(false)
            },
            ExportMode::NotExported,
        ),
    ]
}
