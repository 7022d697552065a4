//! strait's control-plane processes, assembled once for Kubernetes and for
//! the embedded clusters.
//!
//! `strait-control-plane` serves the gRPC services over one store; a
//! process needs more around them, and this crate is where it is put
//! together, over any [`ClusterStore`](strait_store::ClusterStore)
//! (`KubeStore` on Kubernetes, `MemoryStore` in `strait local`):
//!
//! - [`controller`]: each controller as its Deployment runs it (identity,
//!   destination, policy with its authz plugin offer), serving its
//!   services and its admin endpoint (`/metrics`, `/ready`, `/live`) until
//!   told to stop, then letting open streams finish;
//! - [`mirror`]: the service mirror of one Link, supervised, under leader
//!   election when replicas share it, following export plugins from the
//!   plugins ConfigMap, with its metrics registered;
//! - [`plugins`]: the built-in plugins, and the followers that hand the
//!   plugins ConfigMap's new plugins to the policy service's offer (authz)
//!   and to the service mirrors' export slot;
//! - [`tls`]: the certificates controllers serve with: identity's from its
//!   own issuer, destination's and policy's through identity;
//! - [`credentials`]: how a Link's credentials Secret becomes a store of
//!   the target cluster: a Kubernetes client from its kubeconfig, or
//!   whatever the caller reaches by it (an embedded cluster by name).
//!
//! `strait controller <component>` parses its flags, builds the store and
//! calls [`controller`] or [`mirror::service_mirror`]; `strait local`
//! builds each embedded cluster from the same parts, serving every service
//! on one address and adding what only it needs (restarts for drills,
//! reachability switches, metric scrapes). What stops a process is a
//! future the caller passes (a signal on Kubernetes, a test's trigger), so
//! nothing here installs signal handlers.

pub mod controller;
pub mod credentials;
mod error;
pub mod mirror;
pub mod plugins;
mod task;
pub mod tls;

pub use error::RuntimeError;
pub use strait_control_plane::{ControlPlane, RunningControlPlane, SHUTDOWN_GRACE};
