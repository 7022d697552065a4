//! The index's [`InboundPolicy`] in the shape Linkerd's proxy reads: the
//! `io.linkerd.proxy.inbound.Server` message.

use std::collections::HashMap;
use std::time::Duration;

use linkerd2_proxy_api::inbound::authn::permit_mesh_tls::{Clients, PermitClientIdentities};
use linkerd2_proxy_api::inbound::authn::{Permit, PermitMeshTls, PermitUnauthenticated};
use linkerd2_proxy_api::inbound::proxy_protocol::{self, Kind};
use linkerd2_proxy_api::inbound::{
    self as api, Authn, Authz, Identity, IdentitySuffix, ProxyProtocol,
};
use linkerd2_proxy_api::meta::{Metadata, Resource, metadata};
use linkerd2_proxy_api::net::{IpAddress, IpNetwork};
use strait_decisions::authz::{Authentication, Authorization, Protocol, ResourceRef};
use strait_decisions::net::{Cidr, Network};
use strait_policy::InboundPolicy;

pub(crate) mod route;

use route::{grpc_routes, http_routes};

/// How long the proxy waits for a client's first bytes before treating a
/// connection on an `unknown`-protocol port as opaque: Linkerd's default
/// `--default-detect-timeout`.
pub const DETECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Kind of built-in servers, routes and authorizations, which the proto
/// carries as `Metadata::Default` rather than as a resource.
const DEFAULT_KIND: &str = "default";

/// The proto `Server` for one port's policy. The server and every
/// authorization carry `group`/`kind`/`name` labels, which the proxy turns
/// into the `srv_*` and `authz_*` metric labels `viz authz` reads;
/// authorizations and routes also carry `Metadata`, which newer proxies
/// prefer.
pub fn to_server(policy: &InboundPolicy) -> api::Server {
    let kind = match policy.protocol {
        Protocol::Unknown => Kind::Detect(proxy_protocol::Detect {
            timeout: DETECT_TIMEOUT.try_into().ok(),
            http_routes: http_routes(&policy.routes),
            http_local_rate_limit: None,
        }),
        Protocol::Http1 => Kind::Http1(proxy_protocol::Http1 {
            routes: http_routes(&policy.routes),
            local_rate_limit: None,
        }),
        Protocol::Http2 => Kind::Http2(proxy_protocol::Http2 {
            routes: http_routes(&policy.routes),
            local_rate_limit: None,
        }),
        Protocol::Grpc => Kind::Grpc(proxy_protocol::Grpc {
            routes: grpc_routes(&policy.routes),
        }),
        Protocol::Opaque => Kind::Opaque(proxy_protocol::Opaque {}),
        Protocol::Tls => Kind::Tls(proxy_protocol::Tls {}),
    };
    api::Server {
        protocol: Some(ProxyProtocol { kind: Some(kind) }),
        server_ips: Vec::new(),
        authorizations: authorizations(&policy.authorizations),
        labels: labels(&policy.server),
    }
}

/// `group`, `kind` and `name`: the keys Linkerd's controller always sets,
/// so every policy has the same label keys as the proto asks.
fn labels(reference: &ResourceRef) -> HashMap<String, String> {
    HashMap::from([
        ("group".to_string(), reference.group.to_string()),
        ("kind".to_string(), reference.kind.to_string()),
        ("name".to_string(), reference.name.to_string()),
    ])
}

/// Built-in references become `Metadata::Default`; resources keep their
/// group, kind and name.
fn metadata(reference: &ResourceRef) -> Metadata {
    let kind = if reference.kind.as_ref() == DEFAULT_KIND {
        metadata::Kind::Default(reference.name.to_string())
    } else {
        metadata::Kind::Resource(Resource {
            group: reference.group.to_string(),
            kind: reference.kind.to_string(),
            name: reference.name.to_string(),
            ..Resource::default()
        })
    };
    Metadata { kind: Some(kind) }
}

fn authorizations(candidates: &[Authorization]) -> Vec<Authz> {
    candidates.iter().map(authz).collect()
}

fn authz(authorization: &Authorization) -> Authz {
    Authz {
        networks: authorization.networks.iter().map(network).collect(),
        authentication: Some(authn(&authorization.authentication)),
        labels: labels(&authorization.reference),
        metadata: Some(metadata(&authorization.reference)),
    }
}

fn authn(authentication: &Authentication) -> Authn {
    let permit = match authentication {
        Authentication::Unauthenticated => Permit::Unauthenticated(PermitUnauthenticated {}),
        Authentication::TlsUnauthenticated => Permit::MeshTls(PermitMeshTls {
            clients: Some(Clients::Unauthenticated(PermitUnauthenticated {})),
        }),
        Authentication::TlsAuthenticated(matching) => Permit::MeshTls(PermitMeshTls {
            clients: Some(Clients::Identities(PermitClientIdentities {
                identities: matching
                    .identities
                    .iter()
                    .map(|name| Identity { name: name.clone() })
                    .collect(),
                suffixes: matching.suffixes.iter().map(|s| suffix(s)).collect(),
            })),
        }),
    };
    Authn {
        permit: Some(permit),
    }
}

/// A suffix as DNS labels; the empty suffix (any identity) is the empty
/// list, as the proto defines it.
fn suffix(suffix: &str) -> IdentitySuffix {
    IdentitySuffix {
        parts: suffix
            .split('.')
            .filter(|part| !part.is_empty())
            .map(str::to_string)
            .collect(),
    }
}

fn network(network: &Network) -> api::Network {
    api::Network {
        net: Some(ip_network(&network.cidr)),
        except: network.except.iter().map(ip_network).collect(),
    }
}

fn ip_network(cidr: &Cidr) -> IpNetwork {
    IpNetwork {
        ip: Some(IpAddress::from(cidr.address())),
        prefix_len: u32::from(cidr.prefix_len()),
    }
}
