//! The policy server: serves the policy index to Linkerd's proxies over
//! `io.linkerd.proxy.inbound.InboundServerPolicies` (what a pod port
//! admits) and `io.linkerd.proxy.outbound.OutboundPolicies` (how a client
//! routes to a Service port: [`OutboundPolicyService`]).
//!
//! Two halves, joined by an `Arc<Mutex<Index>>` and a watch channel of
//! index generations: [`feed`] keeps the index in step with the cluster
//! store, and [`InboundPolicyService`] and [`OutboundPolicyService`] answer
//! proxies from any [`PolicySource`] and [`OutboundSource`], so the
//! services can be tested without a store and the feeder without a
//! network.
//!
//! The control plane serves `strait.plugin.v1.PluginDistribution` next to
//! this service; both sides of that protocol live in
//! `strait-plugin-distribution`, so the proxy takes its client without
//! pulling in the index and the store this crate is built on.

mod feed;
mod outbound;
mod proto;
mod service;
mod workload;

pub use feed::{REWATCH_BACKOFF, feed};
pub use outbound::{
    BALANCER_DEFAULT_RTT, BALANCER_RTT_DECAY, MAX_OUTBOUND_WATCHES, OutboundPolicyService,
    OutboundSource, QUEUE_CAPACITY, QUEUE_FAILFAST, WatchStream, to_outbound_policy,
};
pub use proto::{DETECT_TIMEOUT, to_server};
pub use service::{InboundPolicyService, IndexSource, PolicySource, WatchPortStream};
pub use workload::{InvalidWorkload, Workload};
