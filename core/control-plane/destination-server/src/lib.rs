//! The destination server: serves the destination index to Linkerd's
//! proxies over `io.linkerd.proxy.destination.Destination`.
//!
//! Three parts, joined by [`SharedClusters`] (the index behind a lock and a
//! watch channel of its generations):
//!
//! - [`feed_cluster`] keeps one cluster's part of the index in step with
//!   that cluster's store (Services, Endpoints, EndpointSlices, Pods);
//! - [`follow_remote_clusters`] learns the linked clusters from the Links
//!   of the local cluster, reads each Link's credentials Secret by name and
//!   runs a feeder for each cluster, so remote-discovery mirrors resolve to
//!   the remote pods;
//! - [`DestinationService`] answers `Get` and `GetProfile` from any
//!   [`DestinationSource`], so it can be tested without a store and the
//!   feeders without a network.

mod context;
mod feed;
mod proto;
mod remote;
mod service;
mod shared;
mod watcher;

pub use context::{default_namespace, is_gateway};
pub use feed::{REWATCH_BACKOFF, feed_cluster};
pub use proto::{
    DEFAULT_WEIGHT, RETRY_BUDGET_MIN_PER_SECOND, RETRY_BUDGET_RATIO, RETRY_BUDGET_TTL,
    default_profile, to_weighted_addr,
};
pub use remote::{
    CREDENTIALS_REREAD, DELETED_LINK_GRACE, EVENT_COMPONENT, RECONNECT_BACKOFF_MAX,
    RECONNECT_BACKOFF_MIN, connect_embedded, follow_remote_clusters, remote_config,
};
pub use service::{DestinationService, DestinationSource, GetProfileStream, GetStream};
pub use shared::SharedClusters;
