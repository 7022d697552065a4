//! The `io.linkerd.proxy.inbound.InboundServerPolicies` gRPC service.

use std::pin::Pin;
use std::sync::Arc;

use futures::stream;
use futures::{Stream, StreamExt};
use linkerd2_proxy_api::inbound::inbound_server_policies_server::{
    InboundServerPolicies, InboundServerPoliciesServer,
};
use linkerd2_proxy_api::inbound::{PortSpec, Server};
use parking_lot::Mutex;
use strait_policy::{Index, PortPolicy};
use strait_tls::control::ControlPeer;
use tokio::sync::watch;
use tonic::{Request, Response, Status};

use crate::proto::to_server;
use crate::workload::Workload;

/// Where the service reads policies, so it can be served from the live
/// index or from a fixed set in tests, without the feeder.
pub trait PolicySource: Clone + Send + Sync + 'static {
    /// The current policy of a pod port; none for an unknown pod or port.
    fn port_policy(&self, namespace: &str, pod: &str, port: u16) -> Option<PortPolicy>;

    /// The identity a pod runs as; none for an unknown pod.
    fn workload_identity(&self, namespace: &str, pod: &str) -> Option<String>;

    /// A channel that changes whenever any policy may have changed; its
    /// value is only a wake-up, the per-port generation says what changed.
    fn subscribe(&self) -> watch::Receiver<u64>;
}

/// The live index as a [`PolicySource`]: the index the feeder writes and
/// the channel it publishes generations on.
#[derive(Clone, Debug)]
pub struct IndexSource {
    pub(crate) index: Arc<Mutex<Index>>,
    pub(crate) changes: watch::Receiver<u64>,
}

impl IndexSource {
    /// Reads `index`, waking watchers when `changes` moves (the receiving
    /// end of the channel given to [`crate::feed`]).
    pub fn new(index: Arc<Mutex<Index>>, changes: watch::Receiver<u64>) -> Self {
        IndexSource { index, changes }
    }
}

impl PolicySource for IndexSource {
    /// Tracks the port if no container declares it: a proxy may be asked
    /// about any port of its pod, and must get the pod's default for it.
    fn port_policy(&self, namespace: &str, pod: &str, port: u16) -> Option<PortPolicy> {
        self.index.lock().track_port(namespace, pod, port)
    }

    fn workload_identity(&self, namespace: &str, pod: &str) -> Option<String> {
        self.index.lock().workload_identity(namespace, pod)
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }
}

/// Serves `GetPort` and `WatchPort` from a [`PolicySource`].
#[derive(Clone, Debug)]
pub struct InboundPolicyService<P> {
    source: P,
}

impl<P: PolicySource> InboundPolicyService<P> {
    /// A service answering from `source`.
    pub fn new(source: P) -> Self {
        InboundPolicyService { source }
    }

    /// The tonic service, to add to a server.
    pub fn into_server(self) -> InboundServerPoliciesServer<Self> {
        InboundServerPoliciesServer::new(self)
    }
}

/// The pod port a request asks about.
#[derive(Clone, Debug)]
struct RequestedPort {
    workload: Workload,
    port: u16,
}

impl RequestedPort {
    /// Reads the request, refusing it with InvalidArgument naming the field
    /// that is wrong, so a misconfigured proxy says why in its logs.
    fn from_spec(spec: &PortSpec) -> Result<RequestedPort, Status> {
        let workload = Workload::parse(&spec.workload)
            .map_err(|e| Status::invalid_argument(format!("workload: {e}")))?;
        let port = u16::try_from(spec.port)
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| {
                Status::invalid_argument(format!("port: {} is not a TCP port", spec.port))
            })?;
        Ok(RequestedPort { workload, port })
    }

    fn not_found(&self) -> Status {
        Status::not_found(format!(
            "no policy for pod {} in namespace {}, port {}",
            self.workload.pod, self.workload.namespace, self.port
        ))
    }

    /// Whether the caller may ask about this workload. Over TLS (every
    /// connection off loopback) only the workload's own identity may: a
    /// policy tells which clients a pod admits and how, so no other pod
    /// learns it, and a caller without a certificate learns nothing. A
    /// plaintext request (no [`ControlPeer`]) can only come from loopback.
    fn authorize<T, P: PolicySource>(
        &self,
        request: &Request<T>,
        source: &P,
    ) -> Result<(), Status> {
        let Some(peer) = request.extensions().get::<ControlPeer>() else {
            return Ok(());
        };
        let Some(caller) = &peer.identity else {
            return Err(Status::unauthenticated(
                "a client certificate from the mesh's identity service is required",
            ));
        };
        let owner = source.workload_identity(&self.workload.namespace, &self.workload.pod);
        match owner {
            Some(owner) if owner == *caller => Ok(()),
            Some(_) => {
                tracing::warn!(
                    %caller,
                    namespace = %self.workload.namespace,
                    pod = %self.workload.pod,
                    "refusing a policy request for a workload the caller does not run as"
                );
                Err(Status::permission_denied(format!(
                    "{caller} may not ask for the policies of pod {} in namespace {}",
                    self.workload.pod, self.workload.namespace
                )))
            }
            None => Err(self.not_found()),
        }
    }

    fn lookup<P: PolicySource>(&self, source: &P) -> Option<PortPolicy> {
        source.port_policy(&self.workload.namespace, &self.workload.pod, self.port)
    }
}

/// The stream `WatchPort` answers with.
pub type WatchPortStream = Pin<Box<dyn Stream<Item = Result<Server, Status>> + Send + 'static>>;

/// What a `WatchPort` stream remembers between messages.
struct Watcher<P> {
    source: P,
    target: RequestedPort,
    changes: watch::Receiver<u64>,
    /// Generation of the policy last sent.
    sent: u64,
    /// Set once the stream has said its last word.
    done: bool,
}

impl<P: PolicySource> Watcher<P> {
    /// The next message: wait for the index to move, send the policy if
    /// this port's generation moved with it. A port that disappears ends
    /// the stream with NotFound so the proxy asks again; a feeder that
    /// stops ends it cleanly.
    async fn next(&mut self) -> Option<Result<Server, Status>> {
        if self.done {
            return None;
        }
        loop {
            if self.changes.changed().await.is_err() {
                return None;
            }
            match self.target.lookup(&self.source) {
                Some(current) if current.generation != self.sent => {
                    self.sent = current.generation;
                    return Some(Ok(to_server(&current.policy)));
                }
                Some(_) => {}
                None => {
                    self.done = true;
                    return Some(Err(self.target.not_found()));
                }
            }
        }
    }
}

#[tonic::async_trait]
impl<P: PolicySource> InboundServerPolicies for InboundPolicyService<P> {
    async fn get_port(&self, request: Request<PortSpec>) -> Result<Response<Server>, Status> {
        let target = RequestedPort::from_spec(request.get_ref())?;
        target.authorize(&request, &self.source)?;
        let policy = target
            .lookup(&self.source)
            .ok_or_else(|| target.not_found())?;
        Ok(Response::new(to_server(&policy.policy)))
    }

    type WatchPortStream = WatchPortStream;

    /// Sends the current policy, then each change to it. The stream is
    /// driven by the response body, so it stops as soon as the client goes
    /// away; nothing is left running.
    async fn watch_port(
        &self,
        request: Request<PortSpec>,
    ) -> Result<Response<WatchPortStream>, Status> {
        let target = RequestedPort::from_spec(request.get_ref())?;
        target.authorize(&request, &self.source)?;
        // Marking the channel seen before reading the policy: a change
        // after this read still wakes the watcher.
        let mut changes = self.source.subscribe();
        changes.mark_unchanged();
        let current = target
            .lookup(&self.source)
            .ok_or_else(|| target.not_found())?;
        let first = to_server(&current.policy);
        let watcher = Watcher {
            source: self.source.clone(),
            target,
            changes,
            sent: current.generation,
            done: false,
        };
        let updates = stream::unfold(watcher, |mut watcher| async move {
            let message = watcher.next().await?;
            Some((message, watcher))
        });
        let stream = stream::once(async move { Ok(first) }).chain(updates);
        Ok(Response::new(Box::pin(stream)))
    }
}
