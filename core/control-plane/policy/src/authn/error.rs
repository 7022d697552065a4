//! Why an authorization resource is ignored. Each error names the field at
//! fault by its path in the resource (`spec.identityRefs[1].kind`), since
//! the message is what users read in the resource's Event and the policy
//! controller's log, and an ignored resource admits no one.

use strait_decisions::identity::IdentityPatternError;
use strait_decisions::net::CidrError;

/// A `networks` entry that is not an address range.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{list}[{index}].{}: {source}", entry_field(*.except))]
pub(crate) struct NetworkError {
    /// The list's path, e.g. `spec.networks` or `spec.client.networks`.
    pub(crate) list: &'static str,
    /// The entry's position in the list.
    pub(crate) index: usize,
    /// The position in the entry's `except` list, when the exception is at
    /// fault rather than the entry's `cidr`.
    pub(crate) except: Option<usize>,
    /// What is wrong with the range.
    #[source]
    pub(crate) source: CidrError,
}

fn entry_field(except: Option<usize>) -> String {
    match except {
        Some(i) => format!("except[{i}]"),
        None => "cidr".to_string(),
    }
}

/// Why a list of mesh identities is unusable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum IdentitiesError {
    /// One identity, written or derived from a reference, is malformed.
    #[error("{field}: {source}")]
    Pattern {
        /// Where it comes from, e.g. `spec.identities[2]`.
        field: String,
        /// What is wrong with it.
        #[source]
        source: IdentityPatternError,
    },
    /// No identity at all: Linkerd refuses this rather than admit no one
    /// silently.
    #[error("{fields} name no identity, so it would admit no one")]
    Empty {
        /// The lists that are empty, e.g. `spec.identities and spec.identityRefs`.
        fields: &'static str,
        /// The check that refused the empty list.
        #[source]
        source: IdentityPatternError,
    },
}

/// Why a MeshTLSAuthentication is ignored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MeshTlsError {
    /// A reference to a Namespace without a name.
    #[error("spec.identityRefs[{index}]: a reference to a Namespace needs a name")]
    NamespaceWithoutName {
        /// The reference's position.
        index: usize,
    },
    /// A reference to a kind that carries no identity.
    #[error(
        "spec.identityRefs[{index}].kind {kind:?} is not supported \
         (only ServiceAccount or Namespace)"
    )]
    UnsupportedKind {
        /// The reference's position.
        index: usize,
        /// The kind as written.
        kind: String,
    },
    /// The identities it admits are malformed or none.
    #[error(transparent)]
    Identities(#[from] IdentitiesError),
}

/// Why an AuthorizationPolicy is ignored. Every variant but
/// [`PolicyError::NoRefs`] names the `requiredAuthenticationRefs` entry at
/// fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PolicyError {
    /// The policy requires nothing, which Linkerd does not accept.
    #[error("spec.requiredAuthenticationRefs is empty")]
    NoRefs,
    /// A referenced authentication does not exist (yet).
    #[error("spec.requiredAuthenticationRefs[{index}]: {kind} {namespace}/{name} does not exist")]
    Missing {
        /// The reference's position.
        index: usize,
        /// The kind as written.
        kind: String,
        /// The authentication's namespace.
        namespace: String,
        /// The authentication's name.
        name: String,
    },
    /// A referenced MeshTLSAuthentication is itself ignored.
    #[error(
        "spec.requiredAuthenticationRefs[{index}]: MeshTLSAuthentication {namespace}/{name}: {source}"
    )]
    MeshTls {
        /// The reference's position.
        index: usize,
        /// The authentication's namespace.
        namespace: String,
        /// The authentication's name.
        name: String,
        /// Why it is ignored (boxed: it is rare, and keeps every
        /// `Result` of the policy small).
        #[source]
        source: Box<MeshTlsError>,
    },
    /// A referenced NetworkAuthentication is itself ignored.
    #[error(
        "spec.requiredAuthenticationRefs[{index}]: NetworkAuthentication {namespace}/{name}: {source}"
    )]
    Network {
        /// The reference's position.
        index: usize,
        /// The authentication's namespace.
        namespace: String,
        /// The authentication's name.
        name: String,
        /// Why it is ignored (boxed, as above).
        #[source]
        source: Box<NetworkError>,
    },
    /// A referenced ServiceAccount gives no valid identity.
    #[error(
        "spec.requiredAuthenticationRefs[{index}]: ServiceAccount {namespace}/{name}: {source}"
    )]
    ServiceAccount {
        /// The reference's position.
        index: usize,
        /// The ServiceAccount's namespace.
        namespace: String,
        /// The ServiceAccount's name.
        name: String,
        /// What is wrong with the identity it gives.
        #[source]
        source: IdentityPatternError,
    },
    /// A reference to a kind that is no authentication.
    #[error(
        "spec.requiredAuthenticationRefs[{index}].kind {kind:?} is not supported \
         (only MeshTLSAuthentication, NetworkAuthentication or ServiceAccount)"
    )]
    UnsupportedKind {
        /// The reference's position.
        index: usize,
        /// The kind as written.
        kind: String,
    },
    /// A second identity (or network) source: every one must match, so
    /// Linkerd allows one of each.
    #[error(
        "spec.requiredAuthenticationRefs[{index}]: more than one {what} authentication is required"
    )]
    Duplicate {
        /// The position of the second one.
        index: usize,
        /// `identity` or `network`.
        what: &'static str,
    },
}

/// Why a ServerAuthorization is ignored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ServerAuthorizationError {
    /// A `spec.client.networks` entry is not an address range.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// Its meshTLS identities are malformed or none.
    #[error(transparent)]
    Identities(#[from] IdentitiesError),
    /// The client section admits no one.
    #[error("spec.client is neither unauthenticated nor meshTLS")]
    NoClient,
}
