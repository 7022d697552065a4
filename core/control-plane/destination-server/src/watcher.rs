//! What a `Get` stream remembers between messages, and the updates that take
//! a proxy from one endpoint set to the next.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;

use linkerd2_proxy_api::destination::Update;
use strait_api::labels;
use strait_destination::{Endpoint, EndpointSet, ResolutionKey};
use tokio::sync::watch;
use tonic::Status;

use crate::proto;
use crate::service::DestinationSource;

/// The first message of a stream: the whole set, or why there is none
/// (`exists: false` when the Service is not there, so the proxy can tell a
/// typo from a scaled-down Service).
pub(crate) fn initial(current: Option<&EndpointSet>, labels: &HashMap<String, String>) -> Update {
    match current {
        None => proto::no_endpoints(false),
        Some(set) if set.is_empty() => proto::no_endpoints(true),
        Some(set) => proto::add(set.endpoints.values(), labels.clone()),
    }
}

/// The updates that take a proxy that was sent `old` to `new`: removals
/// first, then additions and changed endpoints (an `Add` replaces the
/// endpoint at the same address), or `NoEndpoints` when nothing is left.
pub(crate) fn diff(
    old: Option<&EndpointSet>,
    new: Option<&EndpointSet>,
    labels: &HashMap<String, String>,
) -> Vec<Update> {
    let was_empty = old.is_none_or(EndpointSet::is_empty);
    match new {
        None if old.is_none() => Vec::new(),
        None => vec![proto::no_endpoints(false)],
        Some(new) if new.is_empty() => {
            if old.is_some_and(EndpointSet::is_empty) {
                Vec::new()
            } else {
                vec![proto::no_endpoints(true)]
            }
        }
        Some(new) if was_empty => vec![proto::add(new.endpoints.values(), labels.clone())],
        Some(new) => {
            let old = old.map(|o| &o.endpoints);
            let removed: Vec<_> = old
                .into_iter()
                .flat_map(|o| o.keys())
                .filter(|addr| new.get(addr).is_none())
                .copied()
                .collect();
            let added: Vec<_> = new
                .endpoints
                .values()
                .filter(|e| old.and_then(|o| o.get(&e.address)) != Some(*e))
                .collect();
            let mut updates = Vec::new();
            if !removed.is_empty() {
                updates.push(proto::remove(removed));
            }
            if !added.is_empty() {
                updates.push(proto::add(added, labels.clone()));
            }
            updates
        }
    }
}

/// Follows one Service port for one stream.
pub(crate) struct EndpointWatcher<S> {
    pub(crate) source: S,
    pub(crate) key: ResolutionKey,
    /// The labels of every `Add`: the Service asked for.
    pub(crate) labels: HashMap<String, String>,
    pub(crate) changes: watch::Receiver<u64>,
    /// What the proxy was last brought to. The index shares one `Arc` per
    /// resolution until the set changes (when the resolution takes a new
    /// generation), so an unchanged pointer means an unchanged generation.
    pub(crate) sent: Option<Arc<EndpointSet>>,
    /// Updates computed but not yet sent.
    pub(crate) pending: VecDeque<Update>,
    /// Whether a gateway asks: the stream ends with `PERMISSION_DENIED`
    /// once the Service is no longer exported through the gateway.
    pub(crate) gateway: bool,
}

impl<S: DestinationSource> EndpointWatcher<S> {
    /// The next update: wait for the index to move, and send what changed
    /// for this Service port. `None` once the feeders are gone; for a
    /// gateway, the refusal once the Service is withdrawn from export.
    pub(crate) async fn next(&mut self) -> Option<Result<Update, Status>> {
        loop {
            if let Some(update) = self.pending.pop_front() {
                return Some(Ok(update));
            }
            if self.changes.changed().await.is_err() {
                return None;
            }
            let current = self.source.endpoints(&self.key);
            if self.gateway && !current.as_deref().is_some_and(|set| set.gateway_exported) {
                return Some(Err(not_exported(&self.key.namespace, &self.key.service)));
            }
            let unchanged = match (&self.sent, &current) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
                (None, None) => true,
                _ => false,
            };
            if unchanged {
                continue;
            }
            self.pending
                .extend(diff(self.sent.as_deref(), current.as_deref(), &self.labels));
            self.sent = current;
        }
    }
}

/// The refusal a gateway gets for a Service its cluster does not export
/// through it (or that does not exist: a gateway's clients learn nothing
/// about Services that are not exported).
pub(crate) fn not_exported(namespace: &str, service: &str) -> Status {
    Status::permission_denied(format!(
        "service {namespace}/{service} is not exported through this cluster's gateway \
         (it needs the label {}={})",
        labels::EXPORTED,
        labels::EXPORTED_GATEWAY
    ))
}

/// The refusal a gateway gets for an address: it forwards to exported
/// Services by name only.
pub(crate) fn address_refused(address: SocketAddr) -> Status {
    Status::permission_denied(format!(
        "a gateway forwards to exported Services by name, not to the address {address}"
    ))
}

/// Follows the endpoint of one address (an IP that is no ClusterIP) for one
/// stream: the pod that owns it may appear, change or go at any time.
pub(crate) struct AddressWatcher<S> {
    pub(crate) source: S,
    pub(crate) cluster: String,
    pub(crate) address: SocketAddr,
    pub(crate) changes: watch::Receiver<u64>,
    /// What the proxy was last told.
    pub(crate) sent: Endpoint,
}

impl<S: DestinationSource> AddressWatcher<S> {
    /// The endpoint once it differs from the one sent: wait for the index
    /// to move and look the address up again. `None` once the feeders are
    /// gone.
    pub(crate) async fn next(&mut self) -> Option<Endpoint> {
        loop {
            if self.changes.changed().await.is_err() {
                return None;
            }
            let current = self.source.address_endpoint(&self.cluster, self.address);
            if current != self.sent {
                self.sent = current.clone();
                return Some(current);
            }
        }
    }
}

/// Waits until the feeders are gone, so a stream that has said everything
/// stays open as Linkerd's do, and ends when the client leaves (the caller
/// drops it) or the server stops.
pub(crate) async fn until_closed(mut changes: watch::Receiver<u64>) {
    while changes.changed().await.is_ok() {}
}

#[cfg(test)]
mod tests;
