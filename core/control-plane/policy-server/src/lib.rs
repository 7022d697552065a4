//! The inbound policy server: serves the policy index to Linkerd's proxies
//! over `io.linkerd.proxy.inbound.InboundServerPolicies`.
//!
//! Two halves, joined by an `Arc<Mutex<Index>>` and a watch channel of
//! index generations: [`feed`] keeps the index in step with the cluster
//! store, and [`InboundPolicyService`] answers proxies from any
//! [`PolicySource`], so the service can be tested without a store and the
//! feeder without a network.
//!
//! The control plane serves `strait.plugin.v1.PluginDistribution` next to
//! this service; both sides of that protocol live in
//! `strait-plugin-distribution`, so the proxy takes its client without
//! pulling in the index and the store this crate is built on.

mod feed;
mod proto;
mod service;
mod workload;

pub use feed::{REWATCH_BACKOFF, feed};
pub use proto::{DETECT_TIMEOUT, to_server};
pub use service::{InboundPolicyService, IndexSource, PolicySource, WatchPortStream};
pub use workload::{InvalidWorkload, Workload};
