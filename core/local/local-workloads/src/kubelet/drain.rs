//! A deleted Pod stops the way a Kubernetes Pod does: it is out of its
//! Services' endpoints at once (its object is gone), but keeps serving for
//! [`DRAIN`], the time its clients' proxies take to learn that and move
//! their requests to other Pods, before its sockets close. Stopping it at
//! once would fail the requests still routed to it; that is what a rollout
//! restart or a scale-down must never do. A Pod made again under its name
//! (a StatefulSet's) stops its draining predecessor at once instead, as a
//! StatefulSet's Pod is only made again once the old one is gone.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use parking_lot::Mutex;
use strait_api::key::Key;
use strait_sidecar::is_meshed;
use tokio::task::JoinHandle;

use super::containers::{bound_ports, containers_of};
use super::{Pods, Record};
use crate::PodTable;

/// How long a deleted Pod keeps serving.
pub(crate) const DRAIN: Duration = Duration::from_secs(2);

/// A Pod being drained: taken by whichever comes first, its timer or a
/// stop of every Pod.
type Slot = Arc<Mutex<Option<Record>>>;

/// The Pods being drained.
#[derive(Default)]
pub(crate) struct Draining {
    slots: Vec<Slot>,
}

fn take(slot: &Slot) -> Option<Record> {
    slot.lock().take()
}

/// Takes Pod `key` out of the table and stops it after [`DRAIN`]; false
/// when the kubelet does not run it.
pub(super) fn retire(table: &PodTable, key: &Key) -> bool {
    let mut pods = table.lock();
    let Some(record) = pods.records.remove(key) else {
        return false;
    };
    let slot: Slot = Arc::new(Mutex::new(Some(record)));
    pods.draining.slots.push(slot.clone());
    let table = table.clone();
    tokio::spawn(async move {
        tokio::time::sleep(DRAIN).await;
        let mut pods = table.lock();
        pods.draining.slots.retain(|s| !Arc::ptr_eq(s, &slot));
        if let Some(record) = take(&slot) {
            pods.finish(record);
        }
    });
    true
}

/// Stops the draining Pod `key` now, if there is one: a Pod made again
/// under the same name (a StatefulSet's) starts only once the old one is
/// gone, as on Kubernetes, so it can take the old one's address. Its
/// address and task handle are returned, to wait for its sockets.
pub(super) fn stop_named(
    pods: &mut Pods,
    key: &Key,
) -> Option<(Option<IpAddr>, Option<JoinHandle<()>>)> {
    let named = |slot: &Slot| {
        slot.lock()
            .as_ref()
            .is_some_and(|r| r.view.namespace == key.0 && r.view.name == key.1)
    };
    let position = pods.draining.slots.iter().position(named)?;
    let slot = pods.draining.slots.remove(position);
    let record = take(&slot)?;
    let ip = record.ip;
    Some((ip, pods.finish(record)))
}

/// How long a Pod made again under its name waits for its predecessor's
/// sockets to close, so it can bind the same address.
const PREDECESSOR_PATIENCE: Duration = Duration::from_secs(2);

/// Waits (up to [`PREDECESSOR_PATIENCE`]) until the ports `pod` binds are
/// free on `ip`, its predecessor's address: the predecessor's apps close
/// their listeners as their tasks wind down, just after it stops.
pub(super) async fn sockets_closed(ip: IpAddr, pod: &Pod) {
    let spec = pod.spec.clone().unwrap_or_default();
    let containers = containers_of(&spec);
    let ports = bound_ports(&containers.programs, containers.gateway || is_meshed(pod));
    let deadline = tokio::time::Instant::now() + PREDECESSOR_PATIENCE;
    while tokio::time::Instant::now() < deadline {
        let free = ports
            .iter()
            .all(|port| std::net::TcpListener::bind(SocketAddr::new(ip, *port)).is_ok());
        if free {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Stops every draining Pod now (the whole cluster stops); the handles
/// are returned to wait for their sockets.
pub(super) fn stop_now(pods: &mut Pods) -> Vec<JoinHandle<()>> {
    let slots = std::mem::take(&mut pods.draining.slots);
    slots
        .iter()
        .filter_map(take)
        .filter_map(|record| pods.finish(record))
        .collect()
}
