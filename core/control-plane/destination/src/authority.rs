//! Reading the authorities proxies ask about: the forms Linkerd accepts,
//! a Pod's own name under its Service
//! (`<hostname>.<svc>.<ns>.svc.<cluster domain>`) included.

use std::net::{IpAddr, SocketAddr};

/// The port a proxy means when its authority has none, as in Linkerd: an
/// authority without a port comes from a plain `http://name/` URL.
const DEFAULT_PORT: u16 = 80;

/// What an authority names, once read.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// A port of a Service (which may not exist yet: a `Get` stream for it
    /// waits for it rather than failing, as in Linkerd).
    Service {
        /// The Service's namespace.
        namespace: String,
        /// The Service's name.
        name: String,
        /// The Service port (not the target port).
        port: u16,
        /// For a Pod's name under a headless Service, the hostname of the
        /// one endpoint meant (a StatefulSet's `web-0`), as Linkerd's
        /// destination filters a Service's endpoints by it.
        hostname: Option<String>,
    },
    /// An IP address that is no Service's ClusterIP: the client connects to
    /// it as it is.
    Address(SocketAddr),
}

/// Why an authority names nothing the index can resolve; every variant
/// carries the authority so that a proxy's log says which lookup failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The port is not a number from 1 to 65535.
    #[error("{authority:?}: the port is not a number from 1 to 65535")]
    InvalidPort {
        /// The authority as asked.
        authority: String,
    },
    /// The name ends in a domain that is not this cluster's, so no Service
    /// of this cluster can be meant.
    #[error("{authority:?}: {domain:?} is not this cluster's domain")]
    UnknownDomain {
        /// The authority as asked.
        authority: String,
        /// The domain found where the cluster domain was expected.
        domain: String,
    },
    /// `<svc>:<port>` was asked with no namespace to complete it.
    #[error("{authority:?}: a name without a namespace needs a default namespace")]
    NoDefaultNamespace {
        /// The authority as asked.
        authority: String,
    },
    /// A Pod's name under a Service that is not headless: only a headless
    /// Service's endpoints have names of their own.
    #[error(
        "{authority:?}: Service {namespace}/{service} is not headless, so its Pods have no names under it"
    )]
    NotHeadless {
        /// The authority as asked.
        authority: String,
        /// The Service's namespace.
        namespace: String,
        /// The Service's name.
        service: String,
    },
    /// A Pod's name under a headless Service none of whose endpoints has
    /// that hostname, as cluster DNS would not resolve it.
    #[error(
        "{authority:?}: no endpoint of Service {namespace}/{service} has the hostname {hostname:?}"
    )]
    UnknownHostname {
        /// The authority as asked.
        authority: String,
        /// The Service's namespace.
        namespace: String,
        /// The Service's name.
        service: String,
        /// The hostname asked for.
        hostname: String,
    },
    /// The name is not a Service name in any form Linkerd accepts.
    #[error("{authority:?}: {reason}")]
    Malformed {
        /// The authority as asked.
        authority: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Reads `authority` as an IP address with a port, or as a Service name
/// (`<svc>.<ns>.svc.<cluster_domain>`, `<svc>.<ns>.svc`, `<svc>.<ns>`, or
/// `<svc>` completed with `default_namespace`) with a port, or as a Pod's
/// name under its Service, fully qualified as Linkerd requires it
/// (`<hostname>.<svc>.<ns>.svc.<cluster_domain>`). The result names the
/// Service even when it does not exist.
pub(crate) fn parse(
    authority: &str,
    cluster_domain: &str,
    default_namespace: Option<&str>,
) -> Result<Target, ResolveError> {
    if let Ok(addr) = authority.parse::<SocketAddr>() {
        return Ok(Target::Address(addr));
    }
    let bracketed = authority
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(authority);
    if let Ok(ip) = bracketed.parse::<IpAddr>() {
        return Ok(Target::Address(SocketAddr::new(ip, DEFAULT_PORT)));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, parse_port(authority, port)?),
        None => (authority, DEFAULT_PORT),
    };
    let malformed = |reason| ResolveError::Malformed {
        authority: authority.to_string(),
        reason,
    };
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    if host.is_empty() {
        return Err(malformed("the name is empty"));
    }
    let labels: Vec<&str> = host.split('.').collect();
    if !labels.iter().all(|l| is_dns_label(l)) {
        return Err(malformed(
            "every part of the name must be 1 to 63 letters, digits or inner dashes",
        ));
    }
    let expected_domain = cluster_domain.trim_end_matches('.').to_ascii_lowercase();
    let mut hostname = None;
    let (name, namespace) = match labels.as_slice() {
        [name] => match default_namespace {
            Some(ns) => (*name, ns.to_string()),
            None => {
                return Err(ResolveError::NoDefaultNamespace {
                    authority: authority.to_string(),
                });
            }
        },
        [name, namespace] | [name, namespace, "svc"] => (*name, namespace.to_string()),
        [name, namespace, "svc", domain @ ..] => {
            let domain = domain.join(".");
            if domain != expected_domain {
                return Err(ResolveError::UnknownDomain {
                    authority: authority.to_string(),
                    domain,
                });
            }
            (*name, namespace.to_string())
        }
        [_, _, _, "svc"] => {
            return Err(malformed(
                "a Pod's name must be fully qualified (<pod>.<svc>.<ns>.svc.<cluster domain>)",
            ));
        }
        [host, name, namespace, "svc", domain @ ..] => {
            let domain = domain.join(".");
            if domain != expected_domain {
                return Err(ResolveError::UnknownDomain {
                    authority: authority.to_string(),
                    domain,
                });
            }
            hostname = Some(host.to_string());
            (*name, namespace.to_string())
        }
        [_, _, rest @ ..] => {
            return Err(ResolveError::UnknownDomain {
                authority: authority.to_string(),
                domain: rest.join("."),
            });
        }
        [] => return Err(malformed("the name is empty")),
    };
    Ok(Target::Service {
        namespace,
        name: name.to_string(),
        port,
        hostname,
    })
}

fn parse_port(authority: &str, port: &str) -> Result<u16, ResolveError> {
    match port.parse::<u16>() {
        Ok(port) if port != 0 => Ok(port),
        _ => Err(ResolveError::InvalidPort {
            authority: authority.to_string(),
        }),
    }
}

/// An RFC 1123 label, as Kubernetes requires of Service and namespace
/// names.
fn is_dns_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests;
