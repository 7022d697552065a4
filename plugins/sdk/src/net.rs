//! Addresses and networks: the WIT `ip-address`, `cidr` and `network` as
//! standard types, and containment.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::authz::{Authorization, Cidr, Client, IpAddress, Network};

/// The address as a standard [`IpAddr`], for printing and comparisons.
pub fn ip(address: &IpAddress) -> IpAddr {
    match *address {
        IpAddress::Ipv4((a, b, c, d)) => IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
        IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => {
            IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h))
        }
    }
}

/// Whether `address` lies in `cidr`. Addresses of the other family never do,
/// and a prefix longer than the family allows contains nothing, so a bad range
/// fails closed.
pub fn cidr_contains(cidr: &Cidr, address: &IpAddress) -> bool {
    let prefix = u32::from(cidr.prefix_len);
    match (ip(&cidr.address), ip(address)) {
        (IpAddr::V4(net), IpAddr::V4(addr)) if prefix <= 32 => {
            let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            u32::from(net) & mask == u32::from(addr) & mask
        }
        (IpAddr::V6(net), IpAddr::V6(addr)) if prefix <= 128 => {
            let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
            u128::from(net) & mask == u128::from(addr) & mask
        }
        _ => false,
    }
}

/// Whether `address` lies in the network's range and in none of its
/// exceptions (NetworkAuthentication's `networks[]` semantics).
pub fn network_contains(network: &Network, address: &IpAddress) -> bool {
    cidr_contains(&network.cidr, address)
        && !network
            .except
            .iter()
            .any(|except| cidr_contains(except, address))
}

/// Whether any of `networks` contains `address`; an empty list admits none.
pub fn any_contains(networks: &[Network], address: &IpAddress) -> bool {
    networks
        .iter()
        .any(|network| network_contains(network, address))
}

/// Linkerd's rule for one candidate: the client's address is in one of its
/// networks and its authentication admits the client's transport.
pub fn admits(authorization: &Authorization, client: &Client) -> bool {
    any_contains(&authorization.networks, &client.ip)
        && crate::identity::authentication_admits(&authorization.authentication, &client.tls)
}

/// The index of the first candidate that admits `client` (Linkerd's order
/// decides), for plugins that add rules on top of the default behaviour.
pub fn first_admitting(candidates: &[Authorization], client: &Client) -> Option<usize> {
    candidates
        .iter()
        .position(|authorization| admits(authorization, client))
}

#[cfg(test)]
mod tests;
