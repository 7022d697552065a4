//! The cluster store: how strait's controllers read and write cluster state.
//!
//! Controllers see a store only through [`ClusterStore`]: a watch of one kind
//! as a stream of [`Event`]s (apply, delete, reset), and writes by server-side
//! apply, delete and status patch. The embedded [`MemoryStore`] implements it
//! with the API server's behaviour that strait relies on (resourceVersions,
//! label-selected watches, namespaces that must exist, ClusterIP allocation)
//! and persists to a directory of YAML files; the Kubernetes backend lives in
//! its own crate so nothing here depends on kube's client.
//!
//! [`follow`] keeps an in-memory index in step with one kind of a store:
//! the one watch loop the control plane's servers feed their indexes with.
//! [`link_credentials`] reads a Link's credentials Secret by name, and an
//! [`EventRecorder`] writes Warning Events once per distinct message, both
//! through the same interface.

mod credentials;
mod error;
mod event;
pub mod follow;
pub mod memory;
mod object;
mod reachability;
mod recorder;
mod store;

pub use credentials::{
    INVALID_CREDENTIALS, link_credentials, link_credentials_in, report_invalid_credentials,
};

pub use error::StoreError;
pub use event::Event;
pub use memory::MemoryStore;
/// RFC 7386 JSON merge patch, the one the embedded store applies to status
/// writes, shared so the local API server's merge patches behave the same.
pub use memory::merge::merge_patch;
pub use object::{ObjectRef, ScopeInfo, StoredKind};
pub use reachability::{Reachability, Reachable};
pub use recorder::{EventRecorder, MAX_REPORTED, warning};
pub use store::{ClusterStore, StoredObject, WatchParams};
