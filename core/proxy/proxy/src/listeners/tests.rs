use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::FromPod;

const POD: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 1, 0, 5));
const OTHER_POD: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 1, 0, 6));

fn dst() -> Option<SocketAddr> {
    Some(SocketAddr::from(([10, 96, 0, 10], 8080)))
}

#[test]
fn a_sidecar_serves_redirected_and_loopback_connections_only() {
    let sidecar = FromPod { source_ip: None };
    assert!(sidecar.admits(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)), dst()));
    assert!(sidecar.admits(IpAddr::V4(Ipv4Addr::LOCALHOST), None));
    assert!(sidecar.admits(IpAddr::V6(Ipv6Addr::LOCALHOST), None));
    assert!(!sidecar.admits(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)), None));
}

#[test]
fn a_proxy_with_an_address_serves_that_address_only() {
    let local = FromPod {
        source_ip: Some(POD),
    };
    assert!(local.admits(POD, None));
    assert!(!local.admits(OTHER_POD, None));
    // Loopback is every pod's in `strait local`: it proves nothing.
    assert!(!local.admits(IpAddr::V4(Ipv4Addr::LOCALHOST), None));
    assert!(local.admits(OTHER_POD, dst()));
}
