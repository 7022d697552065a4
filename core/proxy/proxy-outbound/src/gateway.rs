//! What a multicluster gateway forwards to: Services of its own cluster,
//! by name, and nothing else.
//!
//! A gateway serves any proxy of a linked cluster, which names the
//! authority. Without a check it would relay to whatever is named: IP
//! literals, loopback (its own admin port), the cloud's metadata address,
//! names outside the cluster. Like Linkerd's gateway
//! (`LINKERD2_PROXY_INBOUND_GATEWAY_SUFFIXES`), it forwards only names of
//! the form `<service>.<namespace>.svc.<cluster domain>`, and a Pod's own
//! name under its Service (`<hostname>.<service>.<namespace>.svc...`, a
//! headless Service's member, as a per-pod mirror names it); the rest is
//! refused before any discovery or connection is made for it, so refused
//! names leave no state behind. Whether the Service is exported is the
//! destination's answer, for both forms alike.

use std::net::{IpAddr, Ipv4Addr};

/// Why a gateway refused an authority; the reason is sent back in the 403.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GatewayRefusal {
    /// An address, not a name.
    #[error("the gateway forwards to Services by name, not to the address {0}")]
    Address(String),
    /// A name that is not a Service of this cluster.
    #[error("the gateway forwards only to Services of its cluster (*.{suffixes}), not to {host}")]
    NotAService {
        /// The host asked for.
        host: String,
        /// The suffixes allowed, comma-separated.
        suffixes: String,
    },
}

/// The names a gateway forwards to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayScope {
    /// Lower-case suffixes without their trailing dot, e.g.
    /// `svc.cluster.local`.
    suffixes: Vec<String>,
}

impl GatewayScope {
    /// Forwarding to `<service>.<namespace>.<suffix>` (and
    /// `<hostname>.<service>.<namespace>.<suffix>`) for each suffix, as
    /// Linkerd's variable writes them (`svc.cluster.local.`).
    pub fn new<S: AsRef<str>>(suffixes: impl IntoIterator<Item = S>) -> Self {
        GatewayScope {
            suffixes: suffixes
                .into_iter()
                .map(|s| s.as_ref().trim().trim_matches('.').to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect(),
        }
    }

    /// Whether `authority` (`host:port`, as the outbound side names it)
    /// may be forwarded to.
    pub fn check(&self, authority: &str) -> Result<(), GatewayRefusal> {
        let host = host_of(authority);
        if host.starts_with('[') || host.parse::<IpAddr>().is_ok() || numeric_v4(host) {
            return Err(GatewayRefusal::Address(host.to_string()));
        }
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        let admitted = self.suffixes.iter().any(|suffix| {
            name.strip_suffix(suffix.as_str())
                .and_then(|rest| rest.strip_suffix('.'))
                .is_some_and(service_name)
        });
        if admitted {
            Ok(())
        } else {
            Err(GatewayRefusal::NotAService {
                host: host.to_string(),
                suffixes: self.suffixes.join(", *."),
            })
        }
    }
}

/// The host part of `host:port` (an IPv6 literal keeps its brackets).
fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority
            .find(']')
            .map_or(authority, |end| &authority[..=end]);
    }
    authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host)
}

/// Forms resolvers read as IPv4 though `Ipv4Addr` does not
/// (`127.1`, `2130706433`, `0x7f.1`): all digits and dots, or a hex part.
fn numeric_v4(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    !host.is_empty()
        && host.split('.').all(|part| {
            !part.is_empty()
                && (part.bytes().all(|b| b.is_ascii_digit())
                    || part
                        .strip_prefix("0x")
                        .is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit())))
        })
        && host.parse::<Ipv4Addr>().is_err()
}

/// `<service>.<namespace>`, or `<hostname>.<service>.<namespace>` for a
/// Pod's name: two or three DNS labels (RFC 1123).
fn service_name(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    (2..=3).contains(&labels.len()) && labels.iter().all(|label| dns_label(label))
}

fn dns_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

#[cfg(test)]
mod tests;
