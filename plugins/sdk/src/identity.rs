//! Client identities: the mTLS identity of a client, its parts, and
//! MeshTLSAuthentication-style matching.

use crate::authz::{Authentication, Client, ClientTls, IdentityMatch};

/// A mesh identity split into its parts:
/// `<service-account>.<namespace>.serviceaccount.identity.<control-plane-namespace>.<trust-domain>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeshIdentity<'a> {
    /// The workload's ServiceAccount.
    pub service_account: &'a str,
    /// The workload's namespace.
    pub namespace: &'a str,
    /// The namespace of the control plane that issued the certificate (`linkerd`).
    pub control_plane_namespace: &'a str,
    /// The trust domain, e.g. `cluster.local`.
    pub trust_domain: &'a str,
}

/// The verified identity of a client that connected with mutual TLS; `None`
/// for plaintext and anonymous TLS clients.
pub fn mtls_identity(client: &Client) -> Option<&str> {
    match &client.tls {
        ClientTls::Mtls(identity) => Some(identity),
        ClientTls::Plaintext(_) | ClientTls::TlsAnonymous => None,
    }
}

/// Splits a mesh identity into its parts; `None` when it does not have the
/// mesh's shape (an empty part, or no `.serviceaccount.identity.`).
pub fn parse(identity: &str) -> Option<MeshIdentity<'_>> {
    let (account_and_namespace, rest) = identity.split_once(".serviceaccount.identity.")?;
    let (service_account, namespace) = account_and_namespace.split_once('.')?;
    let (control_plane_namespace, trust_domain) = rest.split_once('.')?;
    let parts = [
        service_account,
        namespace,
        control_plane_namespace,
        trust_domain,
    ];
    if parts.iter().any(|part| part.is_empty()) || namespace.contains('.') {
        return None;
    }
    Some(MeshIdentity {
        service_account,
        namespace,
        control_plane_namespace,
        trust_domain,
    })
}

/// The client's mesh identity, when it connected with mutual TLS and its
/// identity has the mesh's shape.
pub fn client_identity(client: &Client) -> Option<MeshIdentity<'_>> {
    mtls_identity(client).and_then(parse)
}

/// MeshTLSAuthentication matching: `identity` equals one of `identities`, or
/// ends with `.` + one of `suffixes`; the empty suffix matches any identity.
pub fn matches(rule: &IdentityMatch, identity: &str) -> bool {
    rule.identities.iter().any(|id| id == identity)
        || rule
            .suffixes
            .iter()
            .any(|suffix| suffix_matches(suffix, identity))
}

/// Whether `identity` ends with `.<suffix>`; the empty suffix matches all.
pub fn suffix_matches(suffix: &str, identity: &str) -> bool {
    suffix.is_empty()
        || identity
            .strip_suffix(suffix)
            .is_some_and(|head| head.ends_with('.'))
}

/// Whether an authorization's authentication admits a client's transport.
pub fn authentication_admits(authentication: &Authentication, tls: &ClientTls) -> bool {
    match authentication {
        Authentication::Unauthenticated => true,
        Authentication::TlsUnauthenticated => !matches!(tls, ClientTls::Plaintext(_)),
        Authentication::TlsAuthenticated(rule) => match tls {
            ClientTls::Mtls(identity) => matches(rule, identity),
            ClientTls::Plaintext(_) | ClientTls::TlsAnonymous => false,
        },
    }
}

#[cfg(test)]
mod tests;
