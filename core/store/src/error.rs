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
    /// The object is malformed: it cannot be read as its kind.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The object, e.g. `links "east" in linkerd`.
        what: String,
        /// What is wrong, naming the field where known.
        reason: String,
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
