//! Reading the authority a proxy asks about as a Service name and port.

use super::{OutboundError, ServiceRef};

/// The port of an authority without one: HTTP's, as Linkerd assumes.
const DEFAULT_PORT: u16 = 80;

/// The name the destination service resolves a Service port by:
/// `<name>.<namespace>.svc.<cluster domain>:<port>`.
pub fn service_authority(service: &ServiceRef, port: u16, cluster_domain: &str) -> String {
    format!(
        "{}.{}.svc.{cluster_domain}:{port}",
        service.name, service.namespace
    )
}

/// The Service and port `authority` names. Malformed text is an error of
/// its own; a well-formed name that is not `<name>.<namespace>.svc.<domain>`
/// is [`OutboundError::NotAServiceName`]: not a Service of this cluster.
pub(super) fn parse(authority: &str, domain: &str) -> Result<(ServiceRef, u16), OutboundError> {
    let malformed = |reason| OutboundError::MalformedAuthority {
        authority: authority.to_string(),
        reason,
    };
    let not_a_service = || OutboundError::NotAServiceName {
        authority: authority.to_string(),
        domain: domain.to_string(),
    };
    if authority.is_empty() {
        return Err(malformed("it is empty"));
    }
    if authority.contains(['/', '@', '?', '#']) || authority.chars().any(char::is_whitespace) {
        return Err(malformed("it holds more than a host and a port"));
    }
    if authority.starts_with('[') {
        // An IPv6 literal: well formed, but no Service's name.
        return Err(not_a_service());
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => {
            let port = port
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or(malformed("its port is not a TCP port (1-65535)"))?;
            (host, port)
        }
        None => (authority, DEFAULT_PORT),
    };
    if host.is_empty() {
        return Err(malformed("it has no host"));
    }
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let suffix = format!(".svc.{}", domain.trim_end_matches('.').to_ascii_lowercase());
    let service = host.strip_suffix(&suffix).ok_or_else(not_a_service)?;
    match service.split('.').collect::<Vec<_>>()[..] {
        [name, namespace] if !name.is_empty() && !namespace.is_empty() => Ok((
            ServiceRef {
                namespace: namespace.to_string(),
                name: name.to_string(),
            },
            port,
        )),
        _ => Err(not_a_service()),
    }
}
