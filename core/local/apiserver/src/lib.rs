//! The Kubernetes API of one `strait local` cluster, served over its
//! embedded store so that kubectl, kube-rs and every other Kubernetes client
//! work against a local mesh unchanged.
//!
//! - [`server`]: HTTPS with the run's CA ([`tls`]), a bearer token checked on
//!   every request, every connection dropped while the cluster's
//!   reachability switch is cut;
//! - [`handler`]: routing; [`discovery`] (`/api`, `/apis`, resource lists
//!   of the built-in kinds and every CRD in the store, [`resources`]);
//!   OpenAPI v3 ([`openapi`]) as `kubectl apply`, `explain` and field
//!   validation read it;
//! - [`objects`]: get, list, create, update, delete, JSON/merge/strategic
//!   merge patches ([`patch`]), server-side apply, the `status` and `scale`
//!   subresources, and [`watch`]es from a resourceVersion with bookmarks
//!   and `410 Gone`; label and field [`selector`]s;
//! - [`table`]: the `meta.k8s.io/v1` Table kubectl asks `get` for, with
//!   kubectl's own columns;
//! - [`logs`]: `pods/log` from the host that runs the pods ([`pods`]);
//! - [`protobuf`]: the protobuf bodies kubectl's typed clients send;
//! - [`kubeconfig`]: the kubeconfig entries that reach a served API;
//! - [`status`]: failures as `Status` objects with the API server's reasons.

#![forbid(unsafe_code)]

pub mod discovery;
pub mod handler;
pub mod kubeconfig;
pub mod logs;
pub mod objects;
pub mod openapi;
mod openapi_routes;
pub mod patch;
pub mod pods;
pub mod protobuf;
pub mod resources;
pub mod selector;
pub mod server;
pub mod status;
pub mod table;
pub mod tls;
pub mod watch;

pub use pods::{ClusterHost, LogQuery, LogStream};
pub use server::{ApiConfig, ServeError, serve};
pub use status::ApiError;
pub use tls::ServingTls;
