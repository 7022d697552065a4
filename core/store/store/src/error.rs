//! Store errors, shaped like the API server's so controllers handle both
//! backends the same way.

/// A store operation failed. Each variant names the object concerned.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The object, or the namespace it belongs in, does not exist.
    #[error("{what} not found")]
    NotFound {
        /// e.g. `namespaces "mc-demo"` or `services "bb" in mc-demo`.
        what: String,
    },
    /// A create named an object that exists (the API server's 409
    /// `AlreadyExists`).
    #[error("{what} already exists")]
    AlreadyExists {
        /// The object, e.g. `services "bb" in mc-demo`.
        what: String,
    },
    /// The object is malformed: it cannot be read as its kind.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The object, e.g. `links "east" in linkerd`.
        what: String,
        /// What is wrong, naming the field where known.
        reason: String,
    },
    /// The object breaks its kind's schema (its CustomResourceDefinition's),
    /// as the API server's `422 Invalid`: the object as the API server names
    /// it, and every field at fault.
    #[error("{what} is invalid: {}", causes_text(causes))]
    Rejected {
        /// The object, e.g. `MeshTLSAuthentication.policy.linkerd.io "nobody"`.
        what: String,
        /// Each field at fault, e.g. `spec.identities: Invalid value: 0:
        /// spec.identities in body should have at least 1 items`.
        causes: Vec<String>,
    },
    /// A write conflicts with the object's current state (e.g. a stale
    /// resourceVersion, or a field another manager owns).
    #[error("conflict on {what}: {reason}")]
    Conflict {
        /// The object.
        what: String,
        /// Why.
        reason: String,
    },
    /// The store cannot be reached or failed; the caller should retry with backoff.
    #[error("store unavailable: {reason}")]
    Unavailable {
        /// The transport or server failure.
        reason: String,
    },
}

/// One cause as it is, several in brackets, as the API server lists them.
fn causes_text(causes: &[String]) -> String {
    match causes {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}
