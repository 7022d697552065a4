//! The inbound policy server: serves the policy index to Linkerd's proxies
//! over `io.linkerd.proxy.inbound.InboundServerPolicies`.
//!
//! Two halves, joined by an `Arc<Mutex<Index>>` and a watch channel of
//! index generations: [`feed`] keeps the index in step with the cluster
//! store, and [`InboundPolicyService`] answers proxies from any
//! [`PolicySource`], so the service can be tested without a store and the
//! feeder without a network.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod feed;
mod plugins;
mod proto;
mod service;
mod workload;

pub use feed::{REWATCH_BACKOFF, feed};
pub use plugins::{
    CorruptUpdate, MAX_PLUGIN_MESSAGE_BYTES, OfferError, OfferedPlugin, PluginDistributionClient,
    PluginDistributionServer, PluginDistributionService, PluginKind, PluginOffer, PluginUpdate,
    PluginUpdateStream, SERVICE_NAME as PLUGIN_SERVICE_NAME, UnknownKind, VerifiedUpdates,
    WatchPluginRequest, plugin_digest, verify_update,
};
pub use proto::{DETECT_TIMEOUT, to_server};
pub use service::{InboundPolicyService, IndexSource, PolicySource, WatchPortStream};
pub use workload::{InvalidWorkload, Workload};
