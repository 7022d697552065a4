//! Authorization resources turned into candidate authorizations, or into
//! the reason they are ignored.

use std::collections::BTreeMap;

use strait_api::key::Key;
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
use crate::route::RouteKey;
use crate::server::convert_selector;
use crate::target::{PolicyTarget, policy_target};

mod error;

use error::{IdentitiesError, MeshTlsError, NetworkError, PolicyError, ServerAuthorizationError};

/// The `apiVersion` of AuthorizationPolicy, MeshTLSAuthentication and
/// NetworkAuthentication.
pub(crate) const AUTHENTICATION_VERSION: &str = "policy.linkerd.io/v1alpha1";
/// The `apiVersion` of ServerAuthorization.
const SERVER_AUTHORIZATION_VERSION: &str = "policy.linkerd.io/v1beta1";

/// Where a NetworkAuthentication lists its networks, as errors name it.
const NETWORK_AUTHENTICATION_NETWORKS: &str = "spec.networks";

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
    /// Its `apiVersion`, so that an Event can refer to it:
    /// `policy.linkerd.io/v1alpha1`, `gateway.networking.k8s.io/v1`, ...
    pub api_version: &'static str,
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
/// `list` is the list's path in its resource, which errors name.
pub(crate) fn parse_networks(
    networks: &[ApiNetwork],
    list: &'static str,
) -> Result<Vec<Network>, NetworkError> {
    let parse = |s: &str, index, except| {
        s.trim().parse::<Cidr>().map_err(|source| NetworkError {
            list,
            index,
            except,
            source,
        })
    };
    networks
        .iter()
        .enumerate()
        .map(|(index, n)| {
            Ok(Network {
                cidr: parse(&n.cidr, index, None)?,
                except: n
                    .except
                    .iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, e)| parse(e, index, Some(i)))
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

/// The identities `patterns` admit, each pattern paired with the field it
/// comes from so that a malformed one is named; none at all is invalid
/// (`fields` names the lists that are empty).
fn identity_match(
    patterns: &[(String, String)],
    fields: &'static str,
) -> Result<IdentityMatch, IdentitiesError> {
    IdentityMatch::from_patterns(patterns.iter().map(|(_, p)| p)).map_err(|source| {
        match patterns.iter().find(|(_, p)| *p == source.pattern) {
            Some((field, _)) => IdentitiesError::Pattern {
                field: field.clone(),
                source,
            },
            None => IdentitiesError::Empty { fields, source },
        }
    })
}

/// The identities a MeshTLSAuthentication admits; an empty one is invalid.
pub(crate) fn meshtls_identities(
    spec: &MeshTlsAuthenticationSpec,
    namespace: &str,
    config: &IndexConfig,
) -> Result<IdentityMatch, MeshTlsError> {
    let mut patterns: Vec<(String, String)> = spec
        .identities
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, id)| (format!("spec.identities[{i}]"), id.clone()))
        .collect();
    for (index, r) in spec.identity_refs.iter().flatten().enumerate() {
        let ns = r.namespace.as_deref().unwrap_or(namespace);
        let group = r.group.as_deref();
        let pattern = if is_kind(group, &r.kind, "", "ServiceAccount") {
            match &r.name {
                Some(sa) => config.service_account_identity(ns, sa),
                None => format!("*.{}", config.namespace_identity_suffix(ns)),
            }
        } else if is_kind(group, &r.kind, "", "Namespace") {
            let name = r
                .name
                .as_deref()
                .ok_or(MeshTlsError::NamespaceWithoutName { index })?;
            format!("*.{}", config.namespace_identity_suffix(name))
        } else {
            return Err(MeshTlsError::UnsupportedKind {
                index,
                kind: r.kind.clone(),
            });
        };
        patterns.push((format!("spec.identityRefs[{index}]"), pattern));
    }
    Ok(identity_match(
        &patterns,
        "spec.identities and spec.identityRefs",
    )?)
}

/// Whether an AuthorizationPolicy targets the Server `server` of its own
/// namespace `namespace`, directly or through the Namespace.
pub(crate) fn policy_targets(
    spec: &AuthorizationPolicySpec,
    namespace: &str,
    server: &str,
) -> bool {
    match policy_target(spec) {
        PolicyTarget::Server(name) => name == server,
        PolicyTarget::Namespace(name) => name == namespace,
        PolicyTarget::HttpRoute { .. } | PolicyTarget::Unsupported { .. } => false,
    }
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
) -> Result<Authorization, PolicyError> {
    let mut identities: Option<IdentityMatch> = None;
    let mut networks: Option<Vec<Network>> = None;
    for (index, r) in spec.required_authentication_refs.iter().enumerate() {
        let ns = r.namespace.as_deref().unwrap_or(namespace).to_string();
        let key = (ns.clone(), r.name.clone());
        let group = r.group.as_deref();
        let missing = || PolicyError::Missing {
            index,
            kind: r.kind.clone(),
            namespace: ns.clone(),
            name: r.name.clone(),
        };
        if is_kind(group, &r.kind, GROUP, "MeshTLSAuthentication") {
            let authn = store.meshtls.get(&key).ok_or_else(missing)?;
            let ids =
                meshtls_identities(authn, &ns, config).map_err(|source| PolicyError::MeshTls {
                    index,
                    namespace: ns.clone(),
                    name: r.name.clone(),
                    source: Box::new(source),
                })?;
            set_once(&mut identities, ids, index, "identity")?;
        } else if is_kind(group, &r.kind, "", "ServiceAccount") {
            let id = config.service_account_identity(&ns, &r.name);
            let ids = IdentityMatch::from_patterns([id]).map_err(|source| {
                PolicyError::ServiceAccount {
                    index,
                    namespace: ns.clone(),
                    name: r.name.clone(),
                    source,
                }
            })?;
            set_once(&mut identities, ids, index, "identity")?;
        } else if is_kind(group, &r.kind, GROUP, "NetworkAuthentication") {
            let authn = store.networks.get(&key).ok_or_else(missing)?;
            let nets = parse_networks(&authn.networks, NETWORK_AUTHENTICATION_NETWORKS).map_err(
                |source| PolicyError::Network {
                    index,
                    namespace: ns.clone(),
                    name: r.name.clone(),
                    source: Box::new(source),
                },
            )?;
            set_once(&mut networks, nets, index, "network")?;
        } else {
            return Err(PolicyError::UnsupportedKind {
                index,
                kind: r.kind.clone(),
            });
        }
    }
    if identities.is_none() && networks.is_none() {
        return Err(PolicyError::NoRefs);
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

/// Fills `slot` with the source of the `index`th reference, refusing a
/// second source of the same kind (`what`).
fn set_once<T>(
    slot: &mut Option<T>,
    value: T,
    index: usize,
    what: &'static str,
) -> Result<(), PolicyError> {
    if slot.replace(value).is_some() {
        return Err(PolicyError::Duplicate { index, what });
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
) -> Result<Authorization, ServerAuthorizationError> {
    let client = &spec.client;
    let networks = match &client.networks {
        Some(nets) => parse_networks(nets, "spec.client.networks")?,
        None => Network::all().to_vec(),
    };
    let authentication =
        if client.unauthenticated == Some(true) {
            Authentication::Unauthenticated
        } else if let Some(mtls) = &client.mesh_tls {
            if mtls.unauthenticated_tls == Some(true) {
                Authentication::TlsUnauthenticated
            } else {
                let identities =
                    mtls.identities.iter().flatten().enumerate().map(|(i, id)| {
                        (format!("spec.client.meshTLS.identities[{i}]"), id.clone())
                    });
                let service_accounts =
                    mtls.service_accounts
                        .iter()
                        .flatten()
                        .enumerate()
                        .map(|(i, sa)| {
                            let ns = sa.namespace.as_deref().unwrap_or(namespace);
                            (
                                format!("spec.client.meshTLS.serviceAccounts[{i}]"),
                                config.service_account_identity(ns, &sa.name),
                            )
                        });
                let patterns: Vec<(String, String)> = identities.chain(service_accounts).collect();
                Authentication::TlsAuthenticated(identity_match(
                    &patterns,
                    "spec.client.meshTLS.identities and spec.client.meshTLS.serviceAccounts",
                )?)
            }
        } else {
            return Err(ServerAuthorizationError::NoClient);
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

/// The authorizations of an HTTPRoute: the AuthorizationPolicies of its
/// namespace that target it (group and name), by name, as the Server's are.
pub(crate) fn route_authorizations(
    store: &Store,
    route: &RouteKey,
    config: &IndexConfig,
) -> Vec<Authorization> {
    store
        .policies
        .iter()
        .filter(|((ns, _), _)| *ns == route.namespace)
        .filter(|(_, spec)| {
            policy_target(spec)
                == PolicyTarget::HttpRoute {
                    group: route.group,
                    name: &route.name,
                }
        })
        .filter_map(|((ns, name), spec)| policy_authorization(store, (ns, name), spec, config).ok())
        .collect()
}

/// Every resource the index ignores, with the reason; computed on demand.
/// The reason is rendered here: it is the text of the resource's Event and
/// of the log line.
pub(crate) fn ignored(store: &Store, config: &IndexConfig) -> Vec<Ignored> {
    let entry = |kind, (ns, name): &Key, reason| Ignored {
        kind,
        api_version: if kind == "ServerAuthorization" {
            SERVER_AUTHORIZATION_VERSION
        } else {
            AUTHENTICATION_VERSION
        },
        namespace: ns.clone(),
        name: name.clone(),
        reason,
    };
    let mut out = Vec::new();
    for (key, spec) in &store.meshtls {
        if let Err(e) = meshtls_identities(spec, &key.0, config) {
            out.push(entry("MeshTLSAuthentication", key, e.to_string()));
        }
    }
    for (key, spec) in &store.networks {
        if let Err(e) = parse_networks(&spec.networks, NETWORK_AUTHENTICATION_NETWORKS) {
            out.push(entry("NetworkAuthentication", key, e.to_string()));
        }
    }
    for (key, spec) in &store.policies {
        if let Err(e) = policy_authorization(store, (&key.0, &key.1), spec, config) {
            out.push(entry("AuthorizationPolicy", key, e.to_string()));
        }
    }
    for (key, spec) in &store.server_authorizations {
        if let Err(e) = server_authorization((&key.0, &key.1), spec, config) {
            out.push(entry("ServerAuthorization", key, e.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests;
