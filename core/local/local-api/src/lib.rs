//! The API between a running `strait local up` and the `strait` command.
//!
//! `strait local up` runs several clusters in one process; the command line
//! reaches them as `kubectl --context` reaches Kubernetes. This crate is the
//! whole of that contract, so both sides build against one definition:
//!
//! - [`serve`]: the HTTP/1.1 + JSON server the orchestration embeds on a
//!   loopback port, one [`ClusterBackend`] per cluster, answering only
//!   requests that carry the run's token;
//! - [`LocalClient`]: what the command line calls, one method per endpoint;
//! - [`Registry`]: the file (`$STRAIT_HOME/local-contexts.json`) in which a
//!   running `local up` records its clusters, so that `--context east` finds
//!   the right port;
//! - [`ApiToken`]: the secret of one run, which every request carries and
//!   which only the user who started the run can read;
//! - [`wire`]: the request and response bodies both sides exchange.

mod backend;
mod client;
mod registry;
mod server;
mod token;
pub mod wire;

pub use backend::{ClusterBackend, ClusterInfo, PodScrapes, Scrape};
pub use client::{ClientError, LocalClient};
pub use registry::{LOCAL_SCHEME, LocalContext, Registry, RegistryError};
pub use server::{ServeError, serve};
pub use token::{ApiToken, TokenError};
