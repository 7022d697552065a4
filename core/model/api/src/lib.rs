//! The Kubernetes resources strait reads and writes.
//!
//! strait accepts Linkerd's resources as they are, so that a cluster can move
//! between the two meshes without rewriting manifests: every type here uses
//! Linkerd's API group, version, kind and camelCase field names, and every
//! optional field stays absent when it was absent, so a resource read and
//! written back is unchanged.
//!
//! The crate holds types only (no Kubernetes client), so the controllers, the
//! command line and the plugins' hosts can share them without pulling in a
//! network stack.

pub mod crd;
pub mod gateway;
pub mod image;
pub mod key;
pub mod labels;
pub mod link;
pub mod pod;
pub mod policy;
pub mod ports;
pub mod service;

#[cfg(test)]
mod testing;

pub use crd::custom_resource_definitions;
/// The selector type of every `*Selector` field, re-exported so users build
/// selectors with the same k8s-openapi version these types were built with.
pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
/// The type of a Server's `port`, re-exported for the same reason.
pub use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
/// Resources carry Go durations (a Link's probe period and timeout), so
/// their parser is offered with their types.
pub use strait_duration::go_duration;
