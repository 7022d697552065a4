//! The `io.linkerd.proxy.outbound.OutboundPolicies` gRPC service: how a
//! client proxy routes the connections it opens, by original destination
//! (a Service's cluster IP and port) or by authority.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, StreamExt, stream};
use linkerd2_proxy_api::outbound::outbound_policies_server::{
    OutboundPolicies, OutboundPoliciesServer,
};
use linkerd2_proxy_api::outbound::{self as api, TrafficSpec, traffic_spec};
use strait_policy::{OutboundError, OutboundPolicy, OutboundTarget};
use strait_tls::control::ControlPeer;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tonic::{Request, Response, Status};

use crate::service::IndexSource;
use crate::workload::Workload;

mod proto;

pub use proto::{
    BALANCER_DEFAULT_RTT, BALANCER_RTT_DECAY, QUEUE_CAPACITY, QUEUE_FAILFAST, to_outbound_policy,
};

/// How many `Watch` streams one server keeps open at once. Each holds a
/// policy and a wake-up subscription, so a client opening streams without
/// end would otherwise grow the server without bound; past this the
/// server answers ResourceExhausted and the proxy retries. A proxy opens
/// one per destination it talks to, so this leaves room for thousands of
/// proxies.
pub const MAX_OUTBOUND_WATCHES: usize = 100_000;

/// Where the service reads outbound policies, so it can be served from the
/// live index or from a fixed set in tests.
pub trait OutboundSource: Clone + Send + Sync + 'static {
    /// The policy of `target` for a client in `source_namespace`, with the
    /// outbound generation it was computed at (read under the same lock,
    /// so a change after it moves the generation).
    fn outbound_policy(
        &self,
        target: OutboundTarget<'_>,
        source_namespace: &str,
    ) -> (u64, Result<OutboundPolicy, OutboundError>);

    /// The generation of the latest change to outbound inputs.
    fn outbound_generation(&self) -> u64;

    /// What every mesh identity of `namespace` ends with.
    fn namespace_identity_suffix(&self, namespace: &str) -> String;

    /// A channel that changes whenever any policy may have changed.
    fn subscribe(&self) -> watch::Receiver<u64>;
}

impl OutboundSource for IndexSource {
    fn outbound_policy(
        &self,
        target: OutboundTarget<'_>,
        source_namespace: &str,
    ) -> (u64, Result<OutboundPolicy, OutboundError>) {
        let index = self.index.lock();
        (
            index.outbound_generation(),
            index.outbound_policy(target, source_namespace),
        )
    }

    fn outbound_generation(&self) -> u64 {
        self.index.lock().outbound_generation()
    }

    fn namespace_identity_suffix(&self, namespace: &str) -> String {
        self.index
            .lock()
            .config()
            .namespace_identity_suffix(namespace)
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }
}

/// Serves `Get` and `Watch` from an [`OutboundSource`].
#[derive(Clone, Debug)]
pub struct OutboundPolicyService<P> {
    source: P,
    watches: Arc<Semaphore>,
}

impl<P: OutboundSource> OutboundPolicyService<P> {
    /// A service answering from `source`, with at most
    /// [`MAX_OUTBOUND_WATCHES`] streams open.
    pub fn new(source: P) -> Self {
        Self::with_max_watches(source, MAX_OUTBOUND_WATCHES)
    }

    /// A service answering from `source`, with at most `max` streams open.
    pub fn with_max_watches(source: P, max: usize) -> Self {
        OutboundPolicyService {
            source,
            watches: Arc::new(Semaphore::new(max.min(Semaphore::MAX_PERMITS))),
        }
    }

    /// The tonic service, to add to a server.
    pub fn into_server(self) -> OutboundPoliciesServer<Self> {
        OutboundPoliciesServer::new(self)
    }
}

/// The target a request asks about, read from its `TrafficSpec`.
#[derive(Clone, Debug)]
enum Target {
    Addr(SocketAddr),
    Authority(String),
}

/// A request, read: who asks and about what.
#[derive(Clone, Debug)]
struct Requested {
    source: Workload,
    target: Target,
}

impl Requested {
    /// Reads the request, refusing it with InvalidArgument naming the
    /// field that is wrong.
    fn from_spec(spec: &TrafficSpec) -> Result<Requested, Status> {
        let source = Workload::parse(&spec.source_workload)
            .map_err(|e| Status::invalid_argument(format!("source_workload: {e}")))?;
        let target = match &spec.target {
            None => return Err(Status::invalid_argument("target: missing")),
            Some(traffic_spec::Target::Authority(authority)) => {
                Target::Authority(authority.clone())
            }
            Some(traffic_spec::Target::Addr(addr)) => {
                let ip = addr
                    .ip
                    .ok_or_else(|| Status::invalid_argument("target.addr.ip: missing"))?;
                let ip = std::net::IpAddr::try_from(ip)
                    .map_err(|e| Status::invalid_argument(format!("target.addr.ip: {e}")))?;
                let port = u16::try_from(addr.port).map_err(|_| {
                    Status::invalid_argument(format!(
                        "target.addr.port: {} is not a TCP port",
                        addr.port
                    ))
                })?;
                Target::Addr(SocketAddr::new(ip, port))
            }
        };
        Ok(Requested { source, target })
    }

    fn lookup<P: OutboundSource>(
        &self,
        source: &P,
    ) -> (u64, Result<OutboundPolicy, OutboundError>) {
        let target = match &self.target {
            Target::Addr(addr) => OutboundTarget::Addr(*addr),
            Target::Authority(authority) => OutboundTarget::Authority(authority),
        };
        source.outbound_policy(target, &self.source.namespace)
    }

    /// Over TLS the caller must run in the namespace it names: routes of
    /// a namespace's own (consumer routes) are that namespace's business.
    /// A plaintext request (no [`ControlPeer`]) can only come from
    /// loopback.
    fn authorize<T, P: OutboundSource>(
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
        let suffix = source.namespace_identity_suffix(&self.source.namespace);
        if caller.ends_with(&format!(".{suffix}")) {
            Ok(())
        } else {
            Err(Status::permission_denied(format!(
                "{caller} does not run in namespace {}",
                self.source.namespace
            )))
        }
    }
}

/// The status an index error answers with: NotFound for targets that are
/// not Service ports (the proxy then forwards to the original
/// destination), InvalidArgument for malformed ones.
fn status(error: &OutboundError) -> Status {
    if error.is_not_found() {
        Status::not_found(error.to_string())
    } else {
        Status::invalid_argument(error.to_string())
    }
}

/// The stream `Watch` answers with.
pub type WatchStream =
    Pin<Box<dyn Stream<Item = Result<api::OutboundPolicy, Status>> + Send + 'static>>;

/// What a `Watch` stream remembers between messages.
struct Watcher<P> {
    source: P,
    requested: Requested,
    changes: watch::Receiver<u64>,
    /// The outbound generation of the last computation.
    seen: u64,
    /// The policy last sent, to send only real changes.
    sent: OutboundPolicy,
    /// Set once the stream has said its last word.
    done: bool,
    /// Held for as long as the stream lives.
    _permit: OwnedSemaphorePermit,
}

impl<P: OutboundSource> Watcher<P> {
    /// The next message: wait for the index to move, recompute if an
    /// outbound input moved, send the policy if it differs. A Service or
    /// port that disappears ends the stream with NotFound so the proxy
    /// asks again; a feeder that stops ends it cleanly.
    async fn next(&mut self) -> Option<Result<api::OutboundPolicy, Status>> {
        if self.done {
            return None;
        }
        loop {
            if self.changes.changed().await.is_err() {
                return None;
            }
            if self.source.outbound_generation() == self.seen {
                continue;
            }
            let (generation, current) = self.requested.lookup(&self.source);
            self.seen = generation;
            match current {
                Ok(policy) if policy != self.sent => {
                    let message = to_outbound_policy(&policy);
                    self.sent = policy;
                    return Some(Ok(message));
                }
                Ok(_) => {}
                Err(error) => {
                    self.done = true;
                    return Some(Err(status(&error)));
                }
            }
        }
    }
}

#[tonic::async_trait]
impl<P: OutboundSource> OutboundPolicies for OutboundPolicyService<P> {
    async fn get(
        &self,
        request: Request<TrafficSpec>,
    ) -> Result<Response<api::OutboundPolicy>, Status> {
        let requested = Requested::from_spec(request.get_ref())?;
        requested.authorize(&request, &self.source)?;
        let (_, policy) = requested.lookup(&self.source);
        let policy = policy.map_err(|e| status(&e))?;
        Ok(Response::new(to_outbound_policy(&policy)))
    }

    type WatchStream = WatchStream;

    /// Sends the current policy, then each change to it. The stream is
    /// driven by the response body, so it stops as soon as the client goes
    /// away, giving its slot back.
    async fn watch(&self, request: Request<TrafficSpec>) -> Result<Response<WatchStream>, Status> {
        let requested = Requested::from_spec(request.get_ref())?;
        requested.authorize(&request, &self.source)?;
        let permit = self.watches.clone().try_acquire_owned().map_err(|_| {
            Status::resource_exhausted("too many outbound policy watches are open; retry later")
        })?;
        // Marking the channel seen before reading the policy: a change
        // after this read still wakes the watcher.
        let mut changes = self.source.subscribe();
        changes.mark_unchanged();
        let (seen, current) = requested.lookup(&self.source);
        let current = current.map_err(|e| status(&e))?;
        let first = to_outbound_policy(&current);
        let watcher = Watcher {
            source: self.source.clone(),
            requested,
            changes,
            seen,
            sent: current,
            done: false,
            _permit: permit,
        };
        let updates = stream::unfold(watcher, |mut watcher| async move {
            let message = watcher.next().await?;
            Some((message, watcher))
        });
        let stream = stream::once(async move { Ok(first) }).chain(updates);
        Ok(Response::new(Box::pin(stream)))
    }
}
