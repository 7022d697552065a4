//! Linkerd's authorization rule: arbitrary candidate authorizations (networks
//! with exceptions, each kind of authentication, identity patterns), client
//! TLS and client addresses (IPv4, IPv6 and IPv4-mapped IPv6).
//!
//! Oracles: an independent bitwise implementation of CIDR containment and of
//! the first-admitting rule; `authorize` agrees with `first_admitting`; an
//! authorization with `0.0.0.0/0` and `unauthenticated` admits every IPv4
//! client (also when seen as IPv4-mapped IPv6); a CIDR parses back from its
//! display; text that is not a CIDR or identity pattern is refused, never a panic.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use strait_decisions::authz::{
    Authentication, Authorization, ClientTls, Decision, HttpRequest, Inbound, Protocol,
    ResourceRef, authorize, first_admitting, first_admitting_client,
};
use strait_decisions::identity::IdentityMatch;
use strait_decisions::net::{Cidr, Network};

#[derive(Arbitrary, Debug)]
struct Input {
    candidates: Vec<Candidate>,
    tls: Tls,
    client: Address,
    cidr_text: String,
    identity_patterns: Vec<String>,
}

#[derive(Arbitrary, Debug)]
struct Candidate {
    name: u8,
    networks: Vec<(RawCidr, Vec<RawCidr>)>,
    authentication: Authn,
}

#[derive(Arbitrary, Debug)]
enum Authn {
    Unauthenticated,
    TlsUnauthenticated,
    TlsAuthenticated(Vec<Identity>),
}

#[derive(Arbitrary, Debug)]
enum Tls {
    Plain(String),
    Anonymous,
    Mutual(Identity),
}

/// An identity or pattern, mostly from mesh-like names so that they match.
#[derive(Arbitrary, Debug)]
enum Identity {
    Small(u8),
    Any(String),
}

impl Identity {
    fn text(&self) -> String {
        match self {
            Identity::Small(n) => [
                "*",
                "*.ns.serviceaccount.identity.linkerd.cluster.local",
                "sa.ns.serviceaccount.identity.linkerd.cluster.local",
                "other.ns.serviceaccount.identity.linkerd.cluster.local",
                "*.cluster.local",
                "evilcluster.local",
                "",
            ][usize::from(*n) % 7]
                .to_string(),
            Identity::Any(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct RawCidr {
    address: Address,
    prefix_len: u8,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Address {
    V4([u8; 4]),
    V6([u8; 16]),
    Mapped([u8; 4]),
}

impl Address {
    fn ip(self) -> IpAddr {
        match self {
            Address::V4(b) => IpAddr::V4(Ipv4Addr::from(b)),
            Address::V6(b) => IpAddr::V6(Ipv6Addr::from(b)),
            Address::Mapped(b) => IpAddr::V6(Ipv4Addr::from(b).to_ipv6_mapped()),
        }
    }
}

/// Containment by masks, written independently of `Cidr::contains`.
fn reference_contains(cidr: &Cidr, ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    };
    let prefix = u32::from(cidr.prefix_len());
    match (cidr.address(), ip) {
        (IpAddr::V4(net), IpAddr::V4(ip)) => {
            let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            u32::from(net) & mask == u32::from(ip) & mask
        }
        (IpAddr::V6(net), IpAddr::V6(ip)) => {
            let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
            u128::from(net) & mask == u128::from(ip) & mask
        }
        _ => false,
    }
}

fn reference_identity(m: &IdentityMatch, id: &str) -> bool {
    m.identities.iter().any(|i| i == id)
        || m.suffixes.iter().any(|s| {
            if s.is_empty() {
                !id.is_empty()
            } else {
                id.strip_suffix(s.as_str())
                    .is_some_and(|head| head.ends_with('.'))
            }
        })
}

fn reference_admits(a: &Authorization, tls: &ClientTls, ip: IpAddr) -> bool {
    let in_network = a.networks.iter().any(|n| {
        reference_contains(&n.cidr, ip) && !n.except.iter().any(|e| reference_contains(e, ip))
    });
    let authenticated = match (&a.authentication, tls) {
        (Authentication::Unauthenticated, _) => true,
        (Authentication::TlsUnauthenticated, ClientTls::Plaintext(_)) => false,
        (Authentication::TlsUnauthenticated, _) => true,
        (Authentication::TlsAuthenticated(m), ClientTls::Mtls(id)) => reference_identity(m, id),
        (Authentication::TlsAuthenticated(_), _) => false,
    };
    in_network && authenticated
}

fn cidr(raw: &RawCidr) -> Option<Cidr> {
    let built = Cidr::new(raw.address.ip(), raw.prefix_len);
    let max = if raw.address.ip().is_ipv4() { 32 } else { 128 };
    assert_eq!(built.is_ok(), raw.prefix_len <= max);
    built.ok()
}

fuzz_target!(|input: Input| {
    // Text parsing never panics; whatever parses displays and parses back.
    if let Ok(parsed) = input.cidr_text.parse::<Cidr>() {
        assert_eq!(parsed.to_string().parse::<Cidr>(), Ok(parsed));
    }
    if let Ok(m) = IdentityMatch::from_patterns(&input.identity_patterns) {
        assert!(!m.identities.is_empty() || !m.suffixes.is_empty());
    }

    let mut candidates = Vec::new();
    for (i, c) in input.candidates.iter().enumerate() {
        let networks = c
            .networks
            .iter()
            .filter_map(|(range, except)| {
                Some(Network {
                    cidr: cidr(range)?,
                    except: except.iter().filter_map(cidr).collect(),
                })
            })
            .collect();
        let authentication = match &c.authentication {
            Authn::Unauthenticated => Authentication::Unauthenticated,
            Authn::TlsUnauthenticated => Authentication::TlsUnauthenticated,
            Authn::TlsAuthenticated(ids) => {
                match IdentityMatch::from_patterns(ids.iter().map(Identity::text)) {
                    Ok(m) => Authentication::TlsAuthenticated(m),
                    Err(err) => {
                        assert!(!err.to_string().is_empty());
                        continue;
                    }
                }
            }
        };
        candidates.push(Authorization {
            reference: ResourceRef::new(
                "policy.linkerd.io",
                "authorizationpolicy",
                format!("a{i}-{}", c.name),
            ),
            networks,
            authentication,
        });
    }

    let tls = match &input.tls {
        Tls::Plain(reason) => ClientTls::Plaintext(reason.clone()),
        Tls::Anonymous => ClientTls::TlsAnonymous,
        Tls::Mutual(id) => ClientTls::Mtls(id.text()),
    };
    let ip = input.client.ip();
    let request = Inbound {
        client_tls: tls.clone(),
        client_ip: ip,
        server: ResourceRef::new("policy.linkerd.io", "server", "web"),
        port: 8080,
        protocol: Protocol::Http1,
        route: None,
        http: Some(HttpRequest::default()),
    };

    let expected = candidates
        .iter()
        .position(|a| reference_admits(a, &tls, ip));
    assert_eq!(first_admitting_client(&tls, ip, &candidates), expected);
    assert_eq!(first_admitting(&request, &candidates), expected);
    match (authorize(&request, &candidates), expected) {
        (Decision::Allow(reference), Some(i)) => assert_eq!(reference, candidates[i].reference),
        (Decision::Deny(reason), None) => assert!(!reason.is_empty()),
        (decision, expected) => panic!("authorize gave {decision:?}, expected winner {expected:?}"),
    }
    for n in candidates.iter().flat_map(|a| &a.networks) {
        for c in std::iter::once(&n.cidr).chain(&n.except) {
            assert_eq!(c.contains(ip), reference_contains(c, ip), "{c} and {ip}");
            assert_eq!(c.to_string().parse::<Cidr>(), Ok(*c));
        }
    }

    // The cheap oracle: all of IPv4, unauthenticated, admits every IPv4 client.
    let everyone = Authorization {
        reference: ResourceRef::new("policy.linkerd.io", "authorizationpolicy", "everyone"),
        networks: vec![Network {
            cidr: Cidr::ALL_V4,
            except: Vec::new(),
        }],
        authentication: Authentication::Unauthenticated,
    };
    if let Address::V4(_) | Address::Mapped(_) = input.client {
        assert!(everyone.admits(&request));
        let mut with_everyone = candidates.clone();
        with_everyone.push(everyone.clone());
        assert!(authorize(&request, &with_everyone).is_allow());
    }
    // An empty network list admits no one, whatever the authentication.
    let nobody = Authorization {
        networks: Vec::new(),
        ..everyone
    };
    assert!(!nobody.admits(&request));
});
