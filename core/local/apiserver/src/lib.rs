//! The Kubernetes API of one `strait local` cluster, served over its
//! embedded store so that kubectl, kube-rs and every other Kubernetes client
//! work against a local mesh unchanged.
//!
//! What is served, in the API server's shapes:
//! - [`patch`]: JSON patch, merge patch and strategic merge patch, and the
//!   parsing of server-side apply bodies;
//! - [`table`]: the `meta.k8s.io/v1` Table kubectl asks `get` for, with
//!   kubectl's own columns;
//! - [`openapi`]: the OpenAPI v3 documents `kubectl apply`, `explain` and
//!   field validation read.

#![forbid(unsafe_code)]

pub mod patch;
