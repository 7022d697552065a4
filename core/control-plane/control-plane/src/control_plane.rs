//! Which services a process runs, and the feeders their indexes need.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use parking_lot::Mutex;
use strait_destination::ClusterConfig;
use strait_destination_server::{
    CREDENTIALS_REREAD, DestinationService, SharedClusters, feed_cluster, follow_remote_clusters,
};
use strait_identity::{Certifier, IdentityService, TokenValidator};
use strait_plugin_distribution::{PluginDistributionService, PluginOffer};
use strait_policy::{Index, IndexConfig};
use strait_policy_server::{InboundPolicyService, IndexSource, OutboundPolicyService, feed};
use strait_store::{ClusterStore, StoreError};
use tokio::sync::watch;
use tonic::service::RoutesBuilder;

use crate::serve::{RunningControlPlane, ServeError, serve};
use crate::tls::ServerTransport;

/// A background task a service depends on (a store watch feeding its
/// index), spawned when the control plane starts serving.
pub(crate) type Feeder = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The services one process serves on one address, gathered before any of
/// them runs.
///
/// Building is synchronous and spawns nothing, so a misconfiguration found
/// while building leaves no half-started tasks behind; [`ControlPlane::serve`]
/// binds the address first and only then starts the feeders and the server.
pub struct ControlPlane {
    routes: RoutesBuilder,
    feeders: Vec<(&'static str, Feeder)>,
    services: Vec<&'static str>,
}

impl Default for ControlPlane {
    fn default() -> Self {
        ControlPlane::new()
    }
}

impl std::fmt::Debug for ControlPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlPlane")
            .field("services", &self.services)
            .finish_non_exhaustive()
    }
}

impl ControlPlane {
    /// No services yet.
    pub fn new() -> Self {
        ControlPlane {
            routes: RoutesBuilder::default(),
            feeders: Vec::new(),
            services: Vec::new(),
        }
    }

    /// Adds Linkerd's `Identity.Certify`: certificates from `certifier` for
    /// callers whose token `validator` accepts (a TokenReview on
    /// Kubernetes, the per-pod tokens of the embedded runtime).
    pub fn with_identity<V: TokenValidator>(
        mut self,
        certifier: Arc<Certifier>,
        validator: V,
    ) -> Self {
        self.routes
            .add_service(IdentityService::new(certifier, validator).into_server());
        self.services.push("identity");
        self
    }

    /// Adds Linkerd's `InboundServerPolicies` and `OutboundPolicies`,
    /// answering from one index of `store`'s Pods, Services, Servers,
    /// authorization resources and HTTPRoutes built with `config`, kept
    /// current by a feeder; and strait's
    /// `PluginDistribution`, which streams whatever authz plugin `plugins`
    /// currently offers to the proxies that enforce those policies.
    ///
    /// The caller keeps `plugins` to offer new versions (after validating
    /// them); dropping every clone of it ends the plugin streams.
    pub fn with_policy<S: ClusterStore>(
        mut self,
        store: S,
        config: IndexConfig,
        plugins: &PluginOffer,
    ) -> Self {
        let index = Arc::new(Mutex::new(Index::new(config)));
        let (changes, watching) = watch::channel(0);
        let source = IndexSource::new(index.clone(), watching);
        self.routes
            .add_service(InboundPolicyService::new(source.clone()).into_server());
        self.routes
            .add_service(OutboundPolicyService::new(source).into_server());
        self.routes
            .add_service(PluginDistributionService::new(plugins).into_server());
        self.feeders
            .push(("policy index", Box::pin(feed(store, index, changes))));
        self.services.push("policy");
        self
    }

    /// Adds Linkerd's `Destination` (`Get`, `GetProfile`) for the Services
    /// of `local`, the cluster called `cluster` in the index and spelled as
    /// `config` says. Clusters linked by the Links in `links_namespace` are
    /// reached through each Link's credentials Secret, read by name in
    /// `config`'s control-plane namespace, with
    /// `connect` (a kubeconfig client on Kubernetes, a lookup by name in the
    /// embedded runtime) and followed too, so remote-discovery mirrors
    /// resolve to remote pods.
    pub fn with_destination<L, R, C, Fut>(
        mut self,
        local: L,
        cluster: &str,
        config: ClusterConfig,
        links_namespace: &str,
        connect: C,
    ) -> Self
    where
        L: ClusterStore,
        R: ClusterStore,
        C: Fn(Secret) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, StoreError>> + Send + 'static,
    {
        let index = SharedClusters::new();
        index.insert_cluster(cluster, config.clone());
        self.routes
            .add_service(DestinationService::new(index.clone(), cluster).into_server());
        self.feeders.push((
            "destination index",
            Box::pin(feed_cluster(
                local.clone(),
                cluster.to_string(),
                index.clone(),
            )),
        ));
        self.feeders.push((
            "linked clusters",
            Box::pin(follow_remote_clusters(
                local,
                links_namespace.to_string(),
                config,
                connect,
                index,
                CREDENTIALS_REREAD,
            )),
        ));
        self.services.push("destination");
        self
    }

    /// The names of the services added so far, for logs and checks.
    pub fn services(&self) -> &[&'static str] {
        &self.services
    }

    /// Binds `addr` and serves every service added in plaintext, with
    /// their feeders running, until [`RunningControlPlane::shutdown`] or
    /// until the value is dropped. A taken address, an address that is not
    /// loopback or an empty control plane is an error here, before
    /// anything starts.
    pub async fn serve(self, addr: SocketAddr) -> Result<RunningControlPlane, ServeError> {
        self.serve_with(addr, ServerTransport::Plaintext).await
    }

    /// Like [`serve`](Self::serve), speaking as `transport` says: TLS with
    /// the certificate it holds, on any address.
    pub async fn serve_with(
        self,
        addr: SocketAddr,
        transport: ServerTransport,
    ) -> Result<RunningControlPlane, ServeError> {
        if self.services.is_empty() {
            return Err(ServeError::NoServices);
        }
        if matches!(transport, ServerTransport::Plaintext) && !addr.ip().is_loopback() {
            return Err(ServeError::PlaintextOffLoopback { addr });
        }
        let listener = std::net::TcpListener::bind(addr)
            .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
            .map_err(|source| ServeError::Bind { addr, source })?;
        self.serve_listener(listener, transport).await
    }

    /// Like [`serve_with`](Self::serve_with), on a listener the caller
    /// bound (non-blocking): one bound in another network namespace serves
    /// that namespace, as a control plane on a pod's own loopback.
    pub async fn serve_listener(
        self,
        listener: std::net::TcpListener,
        transport: ServerTransport,
    ) -> Result<RunningControlPlane, ServeError> {
        if self.services.is_empty() {
            return Err(ServeError::NoServices);
        }
        serve(
            listener,
            self.routes,
            self.feeders,
            self.services,
            transport,
        )
        .await
    }
}
