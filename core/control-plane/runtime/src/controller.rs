//! The control-plane controllers as their Deployments run them: one
//! service each on its address, the admin endpoint beside it, until the
//! process is told to stop.
//!
//! Each function builds its controller's services over the store it is
//! given, binds the admin endpoint first (so a taken port fails before
//! proxies see a half-started controller), then serves until `shutdown`
//! resolves (SIGTERM on Kubernetes) or the server fails. On shutdown open
//! streams get [`SHUTDOWN_GRACE`](crate::SHUTDOWN_GRACE) to end, which is
//! all proxies need to reconnect to another replica.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use prometheus_client::registry::Registry;
use strait_control_plane::ControlPlane;
use strait_destination::ClusterConfig;
use strait_identity::{Certifier, ServiceAccountRef, TokenRejected, TokenValidator};
use strait_plugin_config::PluginSinks;
use strait_plugin_distribution::PluginOffer;
use strait_plugin_host::{HostConfig, PluginHost, PluginMetrics, PluginSource};
use strait_policy::IndexConfig;
use strait_store::{ClusterStore, StoreError};
use strait_store_kube::TokenReviewer;

use crate::RuntimeError;
use crate::credentials::connect_secret;
use crate::plugins::{PluginsConfigMap, offer_authz_plugin, offer_authz_plugins};
use crate::task::Scoped;
use crate::tls::ControllerTls;

/// Where a controller serves: its gRPC services, and its admin endpoint
/// (`/metrics`, `/ready`, `/live`).
#[derive(Clone, Debug)]
pub struct Serving {
    /// Where proxies reach the services.
    pub addr: SocketAddr,
    /// Where kubelet probes and Prometheus scrapes reach the admin endpoint.
    pub admin_addr: SocketAddr,
    /// How the services speak: TLS everywhere but loopback.
    pub tls: ControllerTls,
}

/// Serves the admin endpoint on `addr` with the metrics of `registry`,
/// ready as soon as it serves (a controller has nothing to wait for). It
/// stops when the returned value is dropped.
pub(crate) async fn serve_admin(
    addr: SocketAddr,
    registry: Registry,
) -> Result<Scoped, RuntimeError> {
    let (_, task) = strait_admin::serve(addr, Arc::new(registry), strait_admin::always_ready())
        .await
        .map_err(|source| RuntimeError::Admin { addr, source })?;
    Ok(Scoped::new(task))
}

/// Serves `control_plane` and the admin endpoint (metrics of `registry`)
/// as `serving` says, until `shutdown` resolves or the server fails.
/// Binding either address fails before anything is served. `certifier` is
/// the identity controller's own, which issues its certificate.
async fn serve<F>(
    what: &'static str,
    control_plane: ControlPlane,
    serving: Serving,
    certifier: Option<&Arc<Certifier>>,
    registry: Registry,
    shutdown: F,
) -> Result<(), RuntimeError>
where
    F: Future<Output = ()>,
{
    let (transport, _certifying) = serving.tls.transport(what, certifier)?;
    let _admin = serve_admin(serving.admin_addr, registry).await?;
    let mut running = control_plane.serve_with(serving.addr, transport).await?;
    tokio::select! {
        result = running.wait() => Ok(result?),
        () = shutdown => {
            tracing::info!("shutting down");
            Ok(running.shutdown().await?)
        }
    }
}

/// The identity controller: Linkerd's `Identity.Certify`, certificates
/// from `certifier` for callers whose token `validator` accepts.
pub async fn identity<V, F>(
    certifier: Certifier,
    validator: V,
    serving: Serving,
    shutdown: F,
) -> Result<(), RuntimeError>
where
    V: TokenValidator,
    F: Future<Output = ()>,
{
    let certifier = Arc::new(certifier);
    let control_plane = ControlPlane::new().with_identity(certifier.clone(), validator);
    serve(
        "identity",
        control_plane,
        serving,
        Some(&certifier),
        Registry::default(),
        shutdown,
    )
    .await
}

/// Proxies' tokens checked by the API server's TokenReview: the identity
/// controller's validator on Kubernetes.
#[derive(Clone, Debug)]
pub struct ReviewedTokens(pub TokenReviewer);

impl TokenValidator for ReviewedTokens {
    fn validate(
        &self,
        token: &[u8],
    ) -> impl Future<Output = Result<ServiceAccountRef, TokenRejected>> + Send {
        let reviewer = self.0.clone();
        let token = token.to_vec();
        async move {
            reviewer
                .review(&token)
                .await
                .map(|account| ServiceAccountRef::new(account.namespace, account.name))
                .map_err(|e| TokenRejected(e.to_string()))
        }
    }
}

/// What the destination controller indexes: the Services of the local
/// cluster, and the clusters its Links name.
#[derive(Clone, Debug)]
pub struct Destination {
    /// The name this cluster's Services are indexed under.
    pub cluster: String,
    /// How this cluster spells names and identities.
    pub config: ClusterConfig,
    /// Where the Links are (the multicluster extension's namespace); the
    /// credentials Secret each names is read in `config`'s control-plane
    /// namespace, where `link-gen` writes the destination's copy.
    pub links_namespace: String,
}

/// The destination controller: Linkerd's `Destination` for the Services
/// of `store`, and of every cluster its Links name, each reached through
/// the Link's credentials Secret (read by name) with `reach`
/// ([`store_from_credentials`] on Kubernetes).
///
/// [`store_from_credentials`]: crate::credentials::store_from_credentials
pub async fn destination<S, R, C, F>(
    store: S,
    destination: Destination,
    reach: C,
    serving: Serving,
    shutdown: F,
) -> Result<(), RuntimeError>
where
    S: ClusterStore,
    R: ClusterStore,
    C: Fn(&Secret) -> Result<R, StoreError> + Send + Sync + 'static,
    F: Future<Output = ()>,
{
    let control_plane = ControlPlane::new().with_destination(
        store,
        &destination.cluster,
        destination.config,
        &destination.links_namespace,
        connect_secret(reach),
    );
    serve(
        "destination",
        control_plane,
        serving,
        None,
        Registry::default(),
        shutdown,
    )
    .await
}

/// The authz plugin the policy controller offers to proxies, checked
/// before anything else starts: the host it was checked on (which checks
/// later ones too, and whose metrics the admin endpoint serves) and the
/// offer the plugin distribution streams.
#[derive(Clone)]
pub struct AuthzOffer {
    host: PluginHost,
    offer: PluginOffer,
}

impl std::fmt::Debug for AuthzOffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthzOffer").finish_non_exhaustive()
    }
}

impl AuthzOffer {
    /// Loads `source` on a plugin host of its own, proves it loads and
    /// answers as a proxy would run it, and offers it. A plugin that fails
    /// is an error naming it.
    pub fn load(source: PluginSource<'_>) -> Result<Self, RuntimeError> {
        let host = PluginHost::new(HostConfig::default(), PluginMetrics::new())?;
        let offer = PluginOffer::new();
        offer_authz_plugin(&host, &offer, source)?;
        Ok(AuthzOffer { host, offer })
    }

    /// What proxies are offered now.
    pub fn offer(&self) -> &PluginOffer {
        &self.offer
    }
}

/// The policy controller: Linkerd's `InboundServerPolicies` over an index
/// of `store` built with `index`, and the `PluginDistribution` of
/// `authz`'s plugin, replaced by each good authz plugin of `plugins` (the
/// plugins ConfigMap). The plugin host's metrics are on the admin endpoint.
pub async fn policy<S, F>(
    store: S,
    index: IndexConfig,
    authz: AuthzOffer,
    plugins: &PluginsConfigMap,
    serving: Serving,
    shutdown: F,
) -> Result<(), RuntimeError>
where
    S: ClusterStore,
    F: Future<Output = ()>,
{
    let AuthzOffer { host, offer } = authz;
    let sinks = PluginSinks {
        authz: Some(offer_authz_plugins(&offer)),
        export: None,
    };
    let _follower = plugins.follow(store.clone(), &host, sinks).map(Scoped::new);
    let control_plane = ControlPlane::new().with_policy(store, index, &offer);
    let mut registry = Registry::default();
    host.metrics().register(&mut registry);
    serve("policy", control_plane, serving, None, registry, shutdown).await
}

#[cfg(test)]
mod tests;
