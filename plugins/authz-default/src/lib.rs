//! strait's default authorization plugin.
//!
//! It lifts the request and candidates into `strait-decisions` types and applies
//! Linkerd's rule (first candidate whose networks and authentication admit the
//! client wins; nothing admits → deny), so the Wasm default and the native
//! reference are the same code.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use strait_decisions::authz as native;
use strait_decisions::identity::IdentityMatch;
use strait_decisions::net::{Cidr, Network};

wit_bindgen::generate!({
    path: "../../wit/authz",
    world: "authorizer",
});

use strait::authz::types as wit;

struct DefaultAuthorizer;

impl Guest for DefaultAuthorizer {
    fn authorize(request: wit::Inbound, candidates: Vec<wit::Authorization>) -> wit::Decision {
        let request = inbound(request);
        let mut candidates: Vec<_> = candidates.into_iter().map(authorization).collect();
        match native::first_admitting(&request, &candidates) {
            Some(i) => wit::Decision::Allow(resource_ref(candidates.swap_remove(i).reference)),
            None => wit::Decision::Deny(native::deny_reason(&request, candidates.len())),
        }
    }
}

export!(DefaultAuthorizer);

fn ip(address: wit::IpAddress) -> IpAddr {
    match address {
        wit::IpAddress::Ipv4((a, b, c, d)) => IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
        wit::IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => {
            IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h))
        }
    }
}

/// An out-of-range prefix is the host's bug; refusing the whole network keeps
/// the decision closed rather than guessing.
fn cidr(c: wit::Cidr) -> Option<Cidr> {
    Cidr::new(ip(c.address), c.prefix_len).ok()
}

fn network(n: wit::Network) -> Option<Network> {
    Some(Network {
        cidr: cidr(n.cidr)?,
        except: n.except.into_iter().map(cidr).collect::<Option<Vec<_>>>()?,
    })
}

fn native_ref(r: wit::ResourceRef) -> native::ResourceRef {
    native::ResourceRef {
        group: r.group,
        kind: r.kind,
        name: r.name,
    }
}

fn resource_ref(r: native::ResourceRef) -> wit::ResourceRef {
    wit::ResourceRef {
        group: r.group,
        kind: r.kind,
        name: r.name,
    }
}

fn authorization(a: wit::Authorization) -> native::Authorization {
    native::Authorization {
        reference: native_ref(a.reference),
        networks: a.networks.into_iter().filter_map(network).collect(),
        authentication: match a.authentication {
            wit::Authentication::Unauthenticated => native::Authentication::Unauthenticated,
            wit::Authentication::TlsUnauthenticated => native::Authentication::TlsUnauthenticated,
            wit::Authentication::TlsAuthenticated(m) => {
                native::Authentication::TlsAuthenticated(IdentityMatch {
                    identities: m.identities,
                    suffixes: m.suffixes,
                })
            }
        },
    }
}

fn inbound(r: wit::Inbound) -> native::Inbound {
    native::Inbound {
        client_tls: match r.client_tls {
            wit::ClientTls::Plaintext(reason) => native::ClientTls::Plaintext(reason),
            wit::ClientTls::TlsAnonymous => native::ClientTls::TlsAnonymous,
            wit::ClientTls::Mtls(id) => native::ClientTls::Mtls(id),
        },
        client_ip: ip(r.client_ip),
        server: native_ref(r.server),
        port: r.port,
        protocol: match r.protocol {
            wit::Protocol::Unknown => native::Protocol::Unknown,
            wit::Protocol::Http1 => native::Protocol::Http1,
            wit::Protocol::Http2 => native::Protocol::Http2,
            wit::Protocol::Grpc => native::Protocol::Grpc,
            wit::Protocol::Opaque => native::Protocol::Opaque,
            wit::Protocol::Tls => native::Protocol::Tls,
        },
        route: r.route.map(native_ref),
        // The default rule does not look at the request itself.
        http: None,
    }
}
