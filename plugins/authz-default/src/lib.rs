//! strait's default authorization plugin.
//!
//! It converts each candidate set into `strait-decisions` types once, then for
//! every request reads only the client's address and TLS identity and applies
//! Linkerd's rule (the first candidate whose networks and authentication admit
//! the client wins; nothing admits → deny), so the Wasm default and the native
//! reference are the same code.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use strait_decisions::authz as native;
use strait_decisions::identity::IdentityMatch;
use strait_decisions::net::{Cidr, Network};

wit_bindgen::generate!({
    path: "../../wit/authz",
    world: "authz-plugin",
});

use exports::strait::authz::authorizer::{CandidatesBorrow, Guest, GuestCandidates};
use strait::authz::types as wit;

struct DefaultAuthorizer;

/// The candidates converted once, when the host hands a set to this instance.
struct Prepared {
    native: Vec<native::Authorization>,
}

impl GuestCandidates for Prepared {
    fn new(authorizations: Vec<wit::Authorization>) -> Self {
        Prepared {
            native: authorizations.into_iter().map(authorization).collect(),
        }
    }
}

impl Guest for DefaultAuthorizer {
    type Candidates = Prepared;

    fn authorize(
        client: wit::Client,
        _request: &wit::Inbound,
        candidates: CandidatesBorrow<'_>,
    ) -> wit::Decision {
        let candidates = &candidates.get::<Prepared>().native;
        let tls = client_tls(client.tls);
        match native::first_admitting_client(&tls, ip(client.ip), candidates) {
            Some(i) => match u32::try_from(i) {
                Ok(index) => wit::Decision::Allow(index),
                Err(_) => wit::Decision::Deny("too many candidates".into()),
            },
            None => wit::Decision::Deny(native::deny_reason(candidates.len())),
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
        group: r.group.into(),
        kind: r.kind.into(),
        name: r.name.into(),
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

fn client_tls(tls: wit::ClientTls) -> native::ClientTls {
    match tls {
        wit::ClientTls::Plaintext(reason) => native::ClientTls::Plaintext(reason),
        wit::ClientTls::TlsAnonymous => native::ClientTls::TlsAnonymous,
        wit::ClientTls::Mtls(id) => native::ClientTls::Mtls(id),
    }
}
