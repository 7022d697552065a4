use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn contains_by_prefix() {
    let net: Cidr = "10.1.0.0/16".parse().unwrap();
    assert!(net.contains(ip("10.1.255.3")));
    assert!(!net.contains(ip("10.2.0.1")));
    let host: Cidr = "192.168.1.7".parse().unwrap();
    assert_eq!(host.prefix_len(), 32);
    assert!(host.contains(ip("192.168.1.7")));
    assert!(!host.contains(ip("192.168.1.8")));
}

#[test]
fn zero_prefix_matches_its_family_only() {
    assert!(Cidr::ALL_V4.contains(ip("203.0.113.9")));
    assert!(!Cidr::ALL_V4.contains(ip("2001:db8::1")));
    assert!(Cidr::ALL_V6.contains(ip("2001:db8::1")));
}

#[test]
fn ipv4_mapped_clients_match_ipv4_ranges() {
    let net: Cidr = "127.0.0.0/8".parse().unwrap();
    assert!(net.contains(ip("::ffff:127.0.0.1")));
}

#[test]
fn ipv6_prefixes() {
    let net: Cidr = "2001:db8::/32".parse().unwrap();
    assert!(net.contains(ip("2001:db8:ffff::1")));
    assert!(!net.contains(ip("2001:db9::1")));
}

#[test]
fn except_carves_out_ranges() {
    let network = Network {
        cidr: "10.0.0.0/8".parse().unwrap(),
        except: vec!["10.0.5.0/24".parse().unwrap()],
    };
    assert!(network.contains(ip("10.0.4.1")));
    assert!(!network.contains(ip("10.0.5.1")));
    assert!(!network.contains(ip("11.0.0.1")));
}

#[test]
fn bad_cidrs_name_the_input_and_the_fault() {
    let err = "10.0.0.0/33".parse::<Cidr>().unwrap_err();
    assert_eq!(err.input, "10.0.0.0/33");
    assert!(err.to_string().contains("prefix length"), "{err}");
    let err = "ten/8".parse::<Cidr>().unwrap_err();
    assert!(err.to_string().contains("not an IP address"), "{err}");
    let err = "10.0.0.0/x".parse::<Cidr>().unwrap_err();
    assert!(err.to_string().contains("not a number"), "{err}");
    assert!("::/129".parse::<Cidr>().is_err());
    assert!("::/128".parse::<Cidr>().is_ok());
}
