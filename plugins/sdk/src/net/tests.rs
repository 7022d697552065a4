use super::*;
use crate::authz::{Authentication, ClientTls, ResourceRef};

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddress {
    IpAddress::Ipv4((a, b, c, d))
}

fn cidr(address: IpAddress, prefix_len: u8) -> Cidr {
    Cidr {
        address,
        prefix_len,
    }
}

#[test]
fn converts_to_std_addresses() {
    assert_eq!(ip(&v4(10, 1, 2, 3)).to_string(), "10.1.2.3");
    assert_eq!(
        ip(&IpAddress::Ipv6((0xfd00, 0, 0, 0, 0, 0, 0, 1))).to_string(),
        "fd00::1"
    );
}

#[test]
fn cidr_containment() {
    let ten = cidr(v4(10, 0, 0, 0), 8);
    assert!(cidr_contains(&ten, &v4(10, 255, 1, 2)));
    assert!(!cidr_contains(&ten, &v4(11, 0, 0, 1)));
    assert!(cidr_contains(&cidr(v4(0, 0, 0, 0), 0), &v4(192, 168, 1, 1)));
    assert!(cidr_contains(&cidr(v4(10, 0, 0, 7), 32), &v4(10, 0, 0, 7)));
    assert!(!cidr_contains(&cidr(v4(10, 0, 0, 7), 32), &v4(10, 0, 0, 8)));
    // Bad prefixes and the other family contain nothing.
    assert!(!cidr_contains(&cidr(v4(10, 0, 0, 0), 33), &v4(10, 0, 0, 0)));
    let v6 = IpAddress::Ipv6((0xfd00, 0, 0, 0, 0, 0, 0, 1));
    assert!(!cidr_contains(&ten, &v6));
    assert!(cidr_contains(
        &cidr(IpAddress::Ipv6((0xfd00, 0, 0, 0, 0, 0, 0, 0)), 8),
        &v6
    ));
    assert!(cidr_contains(
        &cidr(IpAddress::Ipv6((0, 0, 0, 0, 0, 0, 0, 0)), 0),
        &v6
    ));
    assert!(!cidr_contains(
        &cidr(IpAddress::Ipv6((0xfe00, 0, 0, 0, 0, 0, 0, 0)), 8),
        &v6
    ));
}

#[test]
fn network_exceptions_are_carved_out() {
    let network = Network {
        cidr: cidr(v4(10, 0, 0, 0), 8),
        except: vec![cidr(v4(10, 1, 0, 0), 16)],
    };
    assert!(network_contains(&network, &v4(10, 2, 0, 1)));
    assert!(!network_contains(&network, &v4(10, 1, 0, 1)));
    assert!(any_contains(
        std::slice::from_ref(&network),
        &v4(10, 2, 0, 1)
    ));
    assert!(!any_contains(&[], &v4(10, 2, 0, 1)));
}

#[test]
fn first_admitting_follows_linkerd_order() {
    let everyone = Network {
        cidr: cidr(v4(0, 0, 0, 0), 0),
        except: vec![],
    };
    let mk = |name: &str, authentication| Authorization {
        reference: ResourceRef {
            group: String::new(),
            kind: "test".into(),
            name: name.into(),
        },
        networks: vec![everyone.clone()],
        authentication,
    };
    let candidates = [
        mk("tls", Authentication::TlsUnauthenticated),
        mk("any", Authentication::Unauthenticated),
    ];
    let plain = Client {
        tls: ClientTls::Plaintext("no_tls_from_remote".into()),
        ip: v4(10, 0, 0, 1),
    };
    let anon = Client {
        tls: ClientTls::TlsAnonymous,
        ip: v4(10, 0, 0, 1),
    };
    assert_eq!(first_admitting(&candidates, &plain), Some(1));
    assert_eq!(first_admitting(&candidates, &anon), Some(0));
    assert_eq!(first_admitting(&candidates[..1], &plain), None);
}
