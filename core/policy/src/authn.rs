//! Authorization resources turned into candidate authorizations, or into
//! the reason they are ignored.

use std::collections::BTreeMap;

use strait_api::policy::server_authorization::ServerAuthorizationSpec;
use strait_api::policy::{
    AuthorizationPolicySpec, GROUP, MeshTlsAuthenticationSpec, Network as ApiNetwork,
    NetworkAuthenticationSpec,
};
use strait_decisions::authz::{Authentication, Authorization, ResourceRef};
use strait_decisions::identity::IdentityMatch;
use strait_decisions::net::{Cidr, Network};
use strait_decisions::selector::Labels;

use crate::config::IndexConfig;
use crate::server::convert_selector;

/// A namespaced resource's key: namespace, then name.
pub(crate) type Key = (String, String);

/// The authorization resources of the cluster, as written.
#[derive(Clone, Debug, Default)]
pub(crate) struct Store {
    pub(crate) meshtls: BTreeMap<Key, MeshTlsAuthenticationSpec>,
    pub(crate) networks: BTreeMap<Key, NetworkAuthenticationSpec>,
    pub(crate) policies: BTreeMap<Key, AuthorizationPolicySpec>,
    pub(crate) server_authorizations: BTreeMap<Key, ServerAuthorizationSpec>,
}

/// A resource the index ignores and why, for status and debugging: an
/// ignored policy admits no one, which users need to be able to find out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ignored {
    /// The resource's kind, e.g. `AuthorizationPolicy`.
    pub kind: &'static str,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Whether a reference names `kind` in `group` (core group: unset or empty).
fn is_kind(group: Option<&str>, kind: &str, want_group: &str, want_kind: &str) -> bool {
    group.unwrap_or("") == want_group && kind.eq_ignore_ascii_case(want_kind)
}

/// Networks as written to parsed networks; one malformed entry makes the
/// whole list invalid, so a typo never widens or narrows it silently.
pub(crate) fn parse_networks(networks: &[ApiNetwork]) -> Result<Vec<Network>, String> {
    let parse = |s: &str| s.trim().parse::<Cidr>().map_err(|e| e.to_string());
    networks
        .iter()
        .map(|n| {
            Ok(Network {
                cidr: parse(&n.cidr)?,
                except: n
                    .except
                    .iter()
                    .flatten()
                    .map(|e| parse(e))
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

/// The identities a MeshTLSAuthentication admits; an empty one is invalid.
pub(crate) fn meshtls_identities(
    spec: &MeshTlsAuthenticationSpec,
    namespace: &str,
    config: &IndexConfig,
) -> Result<IdentityMatch, String> {
    let mut patterns: Vec<String> = spec.identities.clone().unwrap_or_default();
    for r in spec.identity_refs.iter().flatten() {
        let ns = r.namespace.as_deref().unwrap_or(namespace);
        let group = r.group.as_deref();
        if is_kind(group, &r.kind, "", "ServiceAccount") {
            patterns.push(match &r.name {
                Some(sa) => config.service_account_identity(ns, sa),
                None => format!("*.{}", config.namespace_identity_suffix(ns)),
            });
        } else if is_kind(group, &r.kind, "", "Namespace") {
            let name = r
                .name
                .as_deref()
                .ok_or("an identityRef to a Namespace needs a name")?;
            patterns.push(format!("*.{}", config.namespace_identity_suffix(name)));
        } else {
            return Err(format!("unsupported identityRef kind {:?}", r.kind));
        }
    }
    IdentityMatch::from_patterns(&patterns).map_err(|e| e.to_string())
}

/// Whether an AuthorizationPolicy targets the Server `server` of its own
/// namespace `namespace`, directly or through the Namespace.
pub(crate) fn policy_targets(
    spec: &AuthorizationPolicySpec,
    namespace: &str,
    server: &str,
) -> bool {
    let t = &spec.target_ref;
    let group = t.group.as_deref();
    (is_kind(group, &t.kind, GROUP, "Server") && t.name == server)
        || (is_kind(group, &t.kind, "", "Namespace") && t.name == namespace)
}

/// The authorization an AuthorizationPolicy grants. Every required
/// authentication must match, so at most one identity source and one
/// network source are allowed (as in Linkerd); a missing one makes the
/// policy ignored rather than weaker.
pub(crate) fn policy_authorization(
    store: &Store,
    (namespace, name): (&str, &str),
    spec: &AuthorizationPolicySpec,
    config: &IndexConfig,
) -> Result<Authorization, String> {
    let mut identities: Option<IdentityMatch> = None;
    let mut networks: Option<Vec<Network>> = None;
    for r in &spec.required_authentication_refs {
        let ns = r.namespace.as_deref().unwrap_or(namespace).to_string();
        let key = (ns.clone(), r.name.clone());
        let group = r.group.as_deref();
        let missing = || format!("{} {}/{} does not exist", r.kind, ns, r.name);
        if is_kind(group, &r.kind, GROUP, "MeshTLSAuthentication") {
            let authn = store.meshtls.get(&key).ok_or_else(missing)?;
            let ids = meshtls_identities(authn, &ns, config)
                .map_err(|e| format!("MeshTLSAuthentication {ns}/{}: {e}", r.name))?;
            set_once(&mut identities, ids, "identity")?;
        } else if is_kind(group, &r.kind, "", "ServiceAccount") {
            let id = config.service_account_identity(&ns, &r.name);
            let ids = IdentityMatch::from_patterns([id]).map_err(|e| e.to_string())?;
            set_once(&mut identities, ids, "identity")?;
        } else if is_kind(group, &r.kind, GROUP, "NetworkAuthentication") {
            let authn = store.networks.get(&key).ok_or_else(missing)?;
            let nets = parse_networks(&authn.networks)
                .map_err(|e| format!("NetworkAuthentication {ns}/{}: {e}", r.name))?;
            set_once(&mut networks, nets, "network")?;
        } else {
            return Err(format!("unsupported authentication kind {:?}", r.kind));
        }
    }
    if identities.is_none() && networks.is_none() {
        return Err("no requiredAuthenticationRefs".to_string());
    }
    Ok(Authorization {
        reference: ResourceRef::new(GROUP, "authorizationpolicy", name),
        networks: networks.unwrap_or_else(|| Network::all().to_vec()),
        authentication: identities.map_or(
            Authentication::Unauthenticated,
            Authentication::TlsAuthenticated,
        ),
    })
}

fn set_once<T>(slot: &mut Option<T>, value: T, what: &str) -> Result<(), String> {
    if slot.replace(value).is_some() {
        return Err(format!("more than one {what} authentication is required"));
    }
    Ok(())
}

/// Whether a ServerAuthorization applies to a Server, by name or labels.
pub(crate) fn server_authorization_selects(
    spec: &ServerAuthorizationSpec,
    server: &str,
    server_labels: &Labels,
) -> bool {
    match (&spec.server.name, &spec.server.selector) {
        (Some(name), _) => name == server,
        (None, Some(selector)) => {
            convert_selector(selector).is_some_and(|s| s.matches(server_labels))
        }
        (None, None) => false,
    }
}

/// The authorization a ServerAuthorization grants. Networks default to all
/// (as Linkerd's controller does); a client section admitting no one is
/// invalid.
pub(crate) fn server_authorization(
    (namespace, name): (&str, &str),
    spec: &ServerAuthorizationSpec,
    config: &IndexConfig,
) -> Result<Authorization, String> {
    let client = &spec.client;
    let networks = match &client.networks {
        Some(nets) => parse_networks(nets)?,
        None => Network::all().to_vec(),
    };
    let authentication = if client.unauthenticated == Some(true) {
        Authentication::Unauthenticated
    } else if let Some(mtls) = &client.mesh_tls {
        if mtls.unauthenticated_tls == Some(true) {
            Authentication::TlsUnauthenticated
        } else {
            let mut patterns = mtls.identities.clone().unwrap_or_default();
            patterns.extend(mtls.service_accounts.iter().flatten().map(|sa| {
                config.service_account_identity(
                    sa.namespace.as_deref().unwrap_or(namespace),
                    &sa.name,
                )
            }));
            Authentication::TlsAuthenticated(
                IdentityMatch::from_patterns(&patterns).map_err(|e| e.to_string())?,
            )
        }
    } else {
        return Err("client is neither unauthenticated nor meshTLS".to_string());
    };
    Ok(Authorization {
        reference: ResourceRef::new(GROUP, "serverauthorization", name),
        networks,
        authentication,
    })
}

/// The authorizations of a Server, AuthorizationPolicies then
/// ServerAuthorizations, each by name: a stable order, so that the same
/// resources always report the same winner.
pub(crate) fn server_authorizations(
    store: &Store,
    namespace: &str,
    server: &str,
    server_labels: &Labels,
    config: &IndexConfig,
) -> Vec<Authorization> {
    let in_ns = |(ns, _): &&Key| ns == namespace;
    let policies = store
        .policies
        .iter()
        .filter(|(k, _)| in_ns(k))
        .filter(|(_, spec)| policy_targets(spec, namespace, server))
        .filter_map(|((ns, name), spec)| {
            policy_authorization(store, (ns, name), spec, config).ok()
        });
    let sazs = store
        .server_authorizations
        .iter()
        .filter(|(k, _)| in_ns(k))
        .filter(|(_, spec)| server_authorization_selects(spec, server, server_labels))
        .filter_map(|((ns, name), spec)| server_authorization((ns, name), spec, config).ok());
    policies.chain(sazs).collect()
}

/// Every resource the index ignores, with the reason; computed on demand.
pub(crate) fn ignored(store: &Store, config: &IndexConfig) -> Vec<Ignored> {
    let entry = |kind, (ns, name): &Key, reason| Ignored {
        kind,
        namespace: ns.clone(),
        name: name.clone(),
        reason,
    };
    let mut out = Vec::new();
    for (key, spec) in &store.meshtls {
        if let Err(e) = meshtls_identities(spec, &key.0, config) {
            out.push(entry("MeshTLSAuthentication", key, e));
        }
    }
    for (key, spec) in &store.networks {
        if let Err(e) = parse_networks(&spec.networks) {
            out.push(entry("NetworkAuthentication", key, e));
        }
    }
    for (key, spec) in &store.policies {
        if let Err(e) = policy_authorization(store, (&key.0, &key.1), spec, config) {
            out.push(entry("AuthorizationPolicy", key, e));
        }
    }
    for (key, spec) in &store.server_authorizations {
        if let Err(e) = server_authorization((&key.0, &key.1), spec, config) {
            out.push(entry("ServerAuthorization", key, e));
        }
    }
    out
}

#[cfg(test)]
mod tests;
