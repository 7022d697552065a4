//! The `strait` command's kubectl: `apply`, `get`, `label`, `delete` and
//! `create` against the cluster of any kubeconfig context, a cluster of a
//! running `strait local up` or a Kubernetes cluster alike, through kube's
//! client ([`client`]): kubectl's names for kinds ([`resources`],
//! [`names`]), its tables ([`table`], [`get`]), and the requests of
//! `apply` (server-side apply, [`apply`]), `delete` and `label` ([`sources`],
//! [`delete`], [`label`]), with typed errors naming the argument, file or
//! document at fault.

pub mod apply;
pub mod client;
pub mod delete;
pub mod get;
pub mod label;
pub mod names;
pub mod resources;
pub mod sources;
pub mod table;

pub use client::{Kind, Kubectl, KubectlError};
