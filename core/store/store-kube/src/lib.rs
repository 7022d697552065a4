//! The Kubernetes backend of strait's cluster store.
//!
//! [`KubeStore`] implements [`strait_store::ClusterStore`] with kube's
//! client: watches are kube-runtime watchers (relisting after a gap, with
//! backoff after failures) turned into the store's apply / delete / reset
//! events; writes are server-side apply, status patches and deletes; the API
//! server's errors become the store's. Controllers cannot tell it from the
//! embedded store, which is how they are tested. This is the only crate of
//! the store that depends on kube's client, so the others build without TLS
//! or HTTP stacks.
//!
//! [`TokenReviewer`] asks the same API server which service account a
//! proxy's token belongs to, for the identity service.

mod error;
mod inline;
mod kind;
mod selector;
mod store;
mod token_review;
mod watch;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use inline::ExternalCredential;
pub use store::KubeStore;
pub use token_review::{
    LINKERD_IDENTITY_AUDIENCE, LabelError, ReviewedAccount, TokenReviewError, TokenReviewer,
};

#[cfg(test)]
mod tests;
