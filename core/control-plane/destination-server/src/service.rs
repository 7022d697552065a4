//! The `io.linkerd.proxy.destination.Destination` gRPC service.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, StreamExt, stream};
use linkerd2_proxy_api::destination::destination_server::{Destination, DestinationServer};
use linkerd2_proxy_api::destination::{DestinationProfile, GetDestination, Update};
use strait_destination::{
    ClusterConfig, Endpoint, EndpointSet, ResolutionKey, ResolveError, Target,
};
use tokio::sync::watch;
use tonic::{Request, Response, Status};

use crate::context::{default_namespace, is_gateway};
use crate::proto;
use crate::shared::SharedClusters;
use crate::watcher::{self, AddressWatcher, EndpointWatcher};

/// Where the service reads destinations, so it can be served from the live
/// index or from a fixed set in tests, without the feeders.
pub trait DestinationSource: Clone + Send + Sync + 'static {
    /// What `authority` names in `cluster` (see
    /// [`strait_destination::ClusterIndex::resolve`]); `None` while the
    /// cluster is not in the index.
    fn resolve(
        &self,
        cluster: &str,
        authority: &str,
        default_namespace: Option<&str>,
    ) -> Option<Result<Target, ResolveError>>;

    /// How `cluster` spells its names; `None` while it is not in the index.
    fn cluster_config(&self, cluster: &str) -> Option<ClusterConfig>;

    /// Whether a Service port is opaque (see
    /// [`strait_destination::ClusterIndex::opaque_port`]).
    fn opaque_port(&self, cluster: &str, namespace: &str, service: &str, port: u16) -> bool;

    /// The endpoints of a Service port (through the linked cluster for a
    /// remote-discovery mirror); `None` when the Service does not exist.
    fn endpoints(&self, key: &ResolutionKey) -> Option<Arc<EndpointSet>>;

    /// The endpoint of an address that is no ClusterIP in `cluster`: the
    /// meshed pod that owns it, with its identity, or the address alone
    /// (see [`strait_destination::ClusterIndex::address_endpoint`]).
    fn address_endpoint(&self, cluster: &str, address: SocketAddr) -> Endpoint;

    /// A channel that changes whenever any endpoints may have changed; its
    /// value is only a wake-up.
    fn subscribe(&self) -> watch::Receiver<u64>;
}

impl DestinationSource for SharedClusters {
    fn resolve(
        &self,
        cluster: &str,
        authority: &str,
        default_namespace: Option<&str>,
    ) -> Option<Result<Target, ResolveError>> {
        self.read(|c| c.resolve(cluster, authority, default_namespace))
    }

    fn cluster_config(&self, cluster: &str) -> Option<ClusterConfig> {
        self.read(|c| c.cluster(cluster).map(|index| index.config().clone()))
    }

    fn endpoints(&self, key: &ResolutionKey) -> Option<Arc<EndpointSet>> {
        self.read(|c| c.endpoints(key))
    }

    fn opaque_port(&self, cluster: &str, namespace: &str, service: &str, port: u16) -> bool {
        self.read(|c| c.opaque_port(cluster, namespace, service, port))
    }

    fn address_endpoint(&self, cluster: &str, address: SocketAddr) -> Endpoint {
        self.read(|c| c.address_endpoint(cluster, address))
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        SharedClusters::subscribe(self)
    }
}

/// The stream `Get` answers with.
pub type GetStream = Pin<Box<dyn Stream<Item = Result<Update, Status>> + Send + 'static>>;

/// The stream `GetProfile` answers with.
pub type GetProfileStream =
    Pin<Box<dyn Stream<Item = Result<DestinationProfile, Status>> + Send + 'static>>;

/// Serves `Get` and `GetProfile` for the Services of one cluster (the one
/// the asking proxies run in) from a [`DestinationSource`].
#[derive(Clone, Debug)]
pub struct DestinationService<S> {
    source: S,
    cluster: String,
}

impl<S: DestinationSource> DestinationService<S> {
    /// A service answering for the Services of `cluster` (the local
    /// cluster's name in the index) from `source`.
    pub fn new(source: S, cluster: impl Into<String>) -> Self {
        DestinationService {
            source,
            cluster: cluster.into(),
        }
    }

    /// The tonic service, to add to a server.
    pub fn into_server(self) -> DestinationServer<Self> {
        DestinationServer::new(self)
    }

    /// Follows `address` for one stream, from its current endpoint.
    fn address_watcher(
        &self,
        address: SocketAddr,
        changes: watch::Receiver<u64>,
    ) -> AddressWatcher<S> {
        AddressWatcher {
            sent: self.source.address_endpoint(&self.cluster, address),
            source: self.source.clone(),
            cluster: self.cluster.clone(),
            address,
            changes,
        }
    }

    /// Whether Service `namespace/name` exists and is exported through this
    /// cluster's gateway.
    fn gateway_exported(&self, namespace: &str, name: &str) -> bool {
        // Any port tells: the export is the Service's.
        let key = ResolutionKey::new(&self.cluster, namespace, name, 0);
        self.source
            .endpoints(&key)
            .is_some_and(|set| set.gateway_exported)
    }

    /// Reads the request's authority, refusing a malformed one with
    /// InvalidArgument naming it, so the proxy's log says which lookup
    /// failed.
    ///
    /// A gateway names Services only: an address (a ClusterIP included)
    /// is refused with PERMISSION_DENIED, and so is a Pod's name under a
    /// Service not exported through it, whatever is wrong with the name,
    /// so its clients learn nothing of Services not exported.
    fn target(&self, request: &GetDestination, gateway: bool) -> Result<Target, Status> {
        if gateway && let Ok(address) = request.path.parse::<SocketAddr>() {
            return Err(watcher::address_refused(address));
        }
        let namespace = default_namespace(&request.context_token);
        match self
            .source
            .resolve(&self.cluster, &request.path, namespace.as_deref())
        {
            Some(Ok(Target::Address(address))) if gateway => Err(watcher::address_refused(address)),
            Some(Ok(target)) => Ok(target),
            Some(Err(
                ResolveError::NotHeadless {
                    namespace, service, ..
                }
                | ResolveError::UnknownHostname {
                    namespace, service, ..
                },
            )) if gateway && !self.gateway_exported(&namespace, &service) => {
                Err(watcher::not_exported(&namespace, &service))
            }
            Some(Err(error)) => Err(Status::invalid_argument(format!(
                "invalid authority: {error}"
            ))),
            None => Err(Status::unavailable(format!(
                "cluster {:?} is not indexed yet",
                self.cluster
            ))),
        }
    }
}

#[tonic::async_trait]
impl<S: DestinationSource> Destination for DestinationService<S> {
    type GetStream = GetStream;

    /// Sends the current endpoints, then the changes to them until the
    /// client goes away. The stream is driven by the response body: nothing
    /// is spawned, so nothing outlives the client.
    async fn get(&self, request: Request<GetDestination>) -> Result<Response<GetStream>, Status> {
        let request = request.into_inner();
        // Subscribing before reading: a change after this read still wakes
        // the stream.
        let mut changes = self.source.subscribe();
        changes.mark_unchanged();
        let gateway = is_gateway(&request.context_token);
        let target = self.target(&request, gateway)?;
        tracing::debug!(authority = %request.path, ?target, gateway, "Get");
        let stream: GetStream = match target {
            Target::Service {
                namespace,
                name,
                port,
                hostname,
            } => {
                let key = ResolutionKey::new(&self.cluster, &namespace, &name, port)
                    .with_hostname(hostname);
                let labels = proto::set_labels(&namespace, &name);
                let current = self.source.endpoints(&key);
                if gateway && !current.as_deref().is_some_and(|set| set.gateway_exported) {
                    return Err(watcher::not_exported(&namespace, &name));
                }
                let first = watcher::initial(current.as_deref(), &labels);
                let watcher = EndpointWatcher {
                    source: self.source.clone(),
                    key,
                    labels,
                    changes,
                    sent: current,
                    pending: VecDeque::new(),
                    gateway,
                };
                // After a refusal the stream ends: the state becomes `None`.
                let updates = stream::unfold(Some(watcher), |watcher| async move {
                    let mut watcher = watcher?;
                    match watcher.next().await? {
                        Ok(update) => Some((Ok(update), Some(watcher))),
                        Err(refused) => Some((Err(refused), None)),
                    }
                });
                Box::pin(stream::once(async move { Ok(first) }).chain(updates))
            }
            Target::Address(address) => {
                let watcher = self.address_watcher(address, changes);
                let first = proto::add([&watcher.sent], Default::default());
                let updates = stream::unfold(watcher, |mut watcher| async move {
                    let endpoint = watcher.next().await?;
                    Some((Ok(proto::add([&endpoint], Default::default())), watcher))
                });
                Box::pin(stream::once(async move { Ok(first) }).chain(updates))
            }
        };
        Ok(Response::new(stream))
    }

    type GetProfileStream = GetProfileStream;

    /// Sends the default profile (no ServiceProfiles are served), then
    /// keeps the stream open until the client goes away, as Linkerd does.
    /// The profile of an address carries its endpoint, sent again whenever
    /// the pod behind the address changes.
    async fn get_profile(
        &self,
        request: Request<GetDestination>,
    ) -> Result<Response<GetProfileStream>, Status> {
        let request = request.into_inner();
        let mut changes = self.source.subscribe();
        changes.mark_unchanged();
        let gateway = is_gateway(&request.context_token);
        let target = self.target(&request, gateway)?;
        let stream: GetProfileStream = match target {
            Target::Service {
                namespace,
                name,
                port,
                hostname,
            } => {
                if gateway {
                    let key = ResolutionKey::new(&self.cluster, &namespace, &name, port)
                        .with_hostname(hostname.clone());
                    if !self
                        .source
                        .endpoints(&key)
                        .is_some_and(|set| set.gateway_exported)
                    {
                        return Err(watcher::not_exported(&namespace, &name));
                    }
                }
                let domain = self
                    .source
                    .cluster_config(&self.cluster)
                    .map(|c| c.cluster_domain)
                    .unwrap_or_else(|| ClusterConfig::default().cluster_domain);
                let pod = hostname.map(|h| format!("{h}.")).unwrap_or_default();
                let opaque = self
                    .source
                    .opaque_port(&self.cluster, &namespace, &name, port);
                let profile = proto::default_profile(
                    format!("{pod}{name}.{namespace}.svc.{domain}"),
                    opaque,
                    None,
                );
                let hold =
                    stream::once(watcher::until_closed(changes)).filter_map(|()| async { None });
                Box::pin(stream::once(async move { Ok(profile) }).chain(hold))
            }
            Target::Address(address) => {
                let watcher = self.address_watcher(address, changes);
                let profile = |endpoint: &Endpoint| {
                    proto::default_profile(
                        String::new(),
                        endpoint.opaque,
                        Some(proto::to_weighted_addr(endpoint)),
                    )
                };
                let first = profile(&watcher.sent);
                let updates = stream::unfold(watcher, move |mut watcher| async move {
                    let endpoint = watcher.next().await?;
                    Some((Ok(profile(&endpoint)), watcher))
                });
                Box::pin(stream::once(async move { Ok(first) }).chain(updates))
            }
        };
        Ok(Response::new(stream))
    }
}
