//! The `strait` command's side of a cluster: which cluster `--context`
//! names ([`context`]: a cluster of a running `strait local up` first, a
//! kubeconfig context second, as kubectl resolves it), the multicluster
//! commands' [`Cluster`](strait_multicluster::Cluster) trait over a local
//! cluster's API ([`cluster::Local`]), beside its kube implementation, and
//! the kubectl clone's mechanics against a local cluster: kubectl's names
//! for kinds ([`resources`], [`names`]), its tables ([`table`], [`get`]),
//! and the requests of `apply`, `delete` and `label` ([`sources`],
//! [`delete`], [`label`]), with typed errors naming the argument, file or
//! document at fault.
//!
//! This lives in the local layer because it is the client of
//! `strait-local-api`; the ops crates see only the trait.

pub mod cluster;
pub mod context;
pub mod delete;
pub mod get;
pub mod label;
pub mod names;
pub mod resources;
pub mod sources;
pub mod table;

pub use cluster::{AnyCluster, Local, RealReach};
pub use context::{ContextError, Target, facts, resolve};
