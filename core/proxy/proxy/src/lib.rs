//! The strait proxy: the sidecar that carries a pod's traffic.
//!
//! It certifies its identity with the control plane, terminates mTLS on the
//! pod's inbound ports and enforces the inbound policy through the authz
//! plugin (`strait-proxy-inbound`), resolves and balances outbound traffic
//! through the Destination API and connects to each endpoint with mTLS
//! verifying the identity discovery gave (`strait-proxy-outbound`), follows
//! the authz plugin the policy service distributes, and serves Linkerd's
//! metrics on its admin port. [`start`] runs all of it from a
//! [`ProxyConfig`], which the binary reads from Linkerd's sidecar
//! environment variables.

mod config;
mod connect;
mod identity;
mod listeners;
mod orig_dst;
mod plugins;
mod sidecar;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use linkerd2_proxy_api::destination::destination_client::DestinationClient;
use linkerd2_proxy_api::inbound::inbound_server_policies_client::InboundServerPoliciesClient;
use prometheus_client::registry::Registry;
use strait_plugin_distribution::PluginDistributionClient;
use strait_plugin_host::{AuthzPlugin, HostConfig, PluginHost, PluginMetrics, PluginSource};
use strait_proxy_inbound::{Forward, Inbound, InboundConfig, PolicyWatcher, sidecar_ports};
use strait_proxy_metrics::{ProxyMetrics, Retention};
use strait_proxy_outbound::{
    Discovery, GatewayScope, Outbound, OutboundConfig, gateway_context_token,
};
use strait_tls::control::{self, ControlTls};
use strait_tls::{Credentials, TrustRoots};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

pub use config::{
    ConfigError, DEFAULT_PLUGIN_MAX_INSTANCES, DEFAULT_RETAIN_IDLE, DirectInbound, IdentityConfig,
    LOG, ProxyConfig, TokenConfig, VARIABLES, default_gateway_suffixes,
};
pub use connect::{MeshConnect, MeshIo};
pub use orig_dst::original_dst;
pub use plugins::follow_authz_plugin;
pub use sidecar::{CORES, init_logging, proxy_cores, run_sidecar, terminated, variables_help};

/// Why the proxy could not start; each names the setting or address at
/// fault.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The identity settings are unusable (anchors, name).
    #[error("identity: {0}")]
    Identity(String),
    /// A control-plane address is not a valid URI authority.
    #[error("{what} address {addr:?}: {reason}")]
    ControlPlaneAddr {
        /// Which service.
        what: &'static str,
        /// The address given.
        addr: String,
        /// What is wrong.
        reason: String,
    },
    /// A listener could not be bound.
    #[error("cannot listen on {addr} ({what}): {source}")]
    Bind {
        /// Which listener.
        what: &'static str,
        /// The address.
        addr: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
    /// The built-in authz plugin could not be loaded.
    #[error("authz plugin: {0}")]
    Plugin(String),
}

/// A proxy that is running: the addresses it bound, its readiness, and the
/// tasks that make it up (stopped when this is dropped).
pub struct RunningProxy {
    /// Where redirected inbound connections are accepted.
    pub inbound_addr: SocketAddr,
    /// The directly bound inbound ports, in configuration order.
    pub direct_addrs: Vec<SocketAddr>,
    /// Where outbound connections are accepted.
    pub outbound_addr: SocketAddr,
    /// Where `/metrics`, `/ready` and `/live` are served.
    pub admin_addr: SocketAddr,
    ready: watch::Receiver<bool>,
    credentials: CredentialsRx,
    authz: Arc<AuthzPlugin>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for RunningProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningProxy")
            .field("inbound_addr", &self.inbound_addr)
            .field("direct_addrs", &self.direct_addrs)
            .field("outbound_addr", &self.outbound_addr)
            .field("admin_addr", &self.admin_addr)
            .finish_non_exhaustive()
    }
}

impl RunningProxy {
    /// Waits until the proxy holds a certificate (what `/ready` reports),
    /// or `timeout` passes; returns whether it is ready.
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        let mut ready = self.ready.clone();
        tokio::time::timeout(timeout, ready.wait_for(|r| *r))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// The proxy's current credentials (none until certified).
    pub fn credentials(&self) -> CredentialsRx {
        self.credentials.clone()
    }

    /// The authz plugin slot, to see which version decides.
    pub fn authz_plugin(&self) -> &Arc<AuthzPlugin> {
        &self.authz
    }

    /// Stops every listener and background task.
    pub fn stop(self) {}
}

impl Drop for RunningProxy {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// A channel to a control-plane service: TLS verifying `name` against
/// `roots` (presenting the proxy's certificate once it has one when
/// `client` is given), or plaintext when no name is given, which only a
/// loopback address allows.
fn channel(
    what: &'static str,
    addr: &str,
    name: Option<&String>,
    roots: &TrustRoots,
    client: Option<CredentialsRx>,
) -> Result<Channel, StartError> {
    let tls = match name {
        None => ControlTls::Plaintext,
        Some(server) => ControlTls::Tls {
            server: server.clone(),
            roots: roots.clone(),
            client,
        },
    };
    control::channel(what, addr, tls).map_err(|e| StartError::ControlPlaneAddr {
        what,
        addr: addr.to_string(),
        reason: e.to_string(),
    })
}

async fn bind(what: &'static str, addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { what, addr, source })
}

/// Starts the proxy: identity, listeners, plugin following and the admin
/// server. Returns once every listener is bound; the proxy reports ready
/// when its first certificate arrives. Control-plane connections are made
/// lazily and retried, so a control plane that is not up yet only delays
/// readiness.
pub async fn start(config: ProxyConfig) -> Result<RunningProxy, StartError> {
    let roots = identity::roots(&config.identity)?;
    let identity_channel = channel(
        "identity",
        &config.identity.service_addr,
        config.identity.service_name.as_ref(),
        &roots,
        None,
    )?;
    let (registry, metrics, plugin_metrics) = metrics_registry(&config);
    let authz = built_in_authz(plugin_metrics, config.plugin_max_instances)?;

    let identity = identity::start(&config.identity, roots.clone(), identity_channel)?;
    let credentials = identity.credentials.clone();
    let destination_channel = channel(
        "destination",
        &config.destination_addr,
        config.destination_name.as_ref(),
        &roots,
        Some(credentials.clone()),
    )?;
    let policy_channel = channel(
        "policy",
        &config.policy_addr,
        config.policy_name.as_ref(),
        &roots,
        Some(credentials.clone()),
    )?;
    let (ready_task, ready) = readiness(credentials.clone());
    let mut tasks = vec![
        identity.task,
        ready_task,
        tokio::spawn(evict_idle_series(metrics.clone())),
    ];
    tasks.push(tokio::spawn(follow_authz_plugin(
        PluginDistributionClient::new(policy_channel.clone()),
        authz.clone(),
        config.authz_plugin_digests.clone().map(Arc::new),
    )));

    let Bound {
        inbound_listener,
        inbound_addr,
        outbound_listener,
        outbound_addr,
        direct,
    } = Bound::bind(&config).await?;
    let direct_addrs: Vec<SocketAddr> = direct.iter().map(|(_, addr)| *addr).collect();
    let (admin_addr, admin) =
        strait_admin::serve(config.admin_listen_addr, Arc::new(registry), ready.clone())
            .await
            .map_err(|source| StartError::Bind {
                what: "admin",
                addr: config.admin_listen_addr,
                source,
            })?;
    tasks.push(admin);
    if let Some(addr) = config.probe_listen_addr {
        let (_, probes) = strait_admin::serve_probes(addr, ready.clone())
            .await
            .map_err(|source| StartError::Bind {
                what: "probes",
                addr,
                source,
            })?;
        tasks.push(probes);
    }
    // What inbound traffic may never be forwarded to: every port the
    // proxy listens on, as bound and as a sidecar's are numbered.
    let mut own_ports = sidecar_ports();
    own_ports.extend([inbound_addr.port(), outbound_addr.port(), admin_addr.port()]);

    // A gateway says so, and is told only of what its cluster exports.
    let context = if config.gateway {
        gateway_context_token(&config.destination_context)
    } else {
        config.destination_context.clone()
    };
    let discovery = Discovery::new(DestinationClient::new(destination_channel), context);
    let outbound = Outbound::new(
        OutboundConfig {
            detect_timeout: config.detect_timeout,
            ..OutboundConfig::default()
        },
        discovery,
        MeshConnect::new(credentials.clone(), config.source_ip),
        metrics.clone(),
    );

    let accepting = listeners::Accepting {
        credentials: credentials.clone(),
        detect_timeout: config.detect_timeout,
    };
    if config.gateway {
        // Admitted by the policy of the gateway's own Server, then
        // forwarded to the Services of its cluster; nothing is forwarded on
        // loopback, so no port of its own is a loop.
        let scope = Arc::new(GatewayScope::new(&config.gateway_suffixes));
        let forwarder = outbound.clone();
        let forward = Forward::Local(Arc::new(move |request| {
            let (outbound, scope) = (forwarder.clone(), scope.clone());
            Box::pin(async move { outbound.gateway_request(request, &scope).await })
        }));
        let inbound = inbound(
            &config,
            forward,
            BTreeSet::new(),
            policy_channel,
            authz.clone(),
            &metrics,
        );
        tasks.push(tokio::spawn(listeners::gateway(
            inbound_listener,
            accepting.clone(),
            inbound,
        )));
    } else {
        let inbound = inbound(
            &config,
            app_forward(&config, &direct),
            own_ports,
            policy_channel,
            authz.clone(),
            &metrics,
        );
        tasks.push(tokio::spawn(listeners::inbound(
            inbound_listener,
            None,
            accepting.clone(),
            inbound.clone(),
        )));
        for (listener, addr) in direct {
            tasks.push(tokio::spawn(listeners::inbound(
                listener,
                Some(addr),
                accepting.clone(),
                inbound.clone(),
            )));
        }
    }
    tasks.push(tokio::spawn(listeners::outbound(
        outbound_listener,
        outbound,
        listeners::FromPod {
            source_ip: config.source_ip,
        },
        metrics.clone(),
    )));

    tracing::info!(
        %inbound_addr, %outbound_addr, %admin_addr,
        identity = %config.identity.local_name,
        gateway = config.gateway,
        "proxy started"
    );
    Ok(RunningProxy {
        inbound_addr,
        direct_addrs,
        outbound_addr,
        admin_addr,
        ready,
        credentials,
        authz,
        tasks,
    })
}

/// The registry the admin server exposes, with the proxy's and the plugin
/// host's metrics in it, every series carrying the workload's labels (as
/// Prometheus would add from the pod when scraping it).
fn metrics_registry(config: &ProxyConfig) -> (Registry, ProxyMetrics, PluginMetrics) {
    let mut registry = Registry::default();
    let labelled = registry.sub_registry_with_labels(
        config
            .metric_labels
            .iter()
            .map(|(k, v)| (Cow::Owned(k.clone()), Cow::Owned(v.clone()))),
    );
    let metrics = ProxyMetrics::with_retention(Retention {
        idle: config.metrics_retain_idle,
        ..Retention::default()
    });
    metrics.register(labelled);
    let plugin_metrics = PluginMetrics::new();
    plugin_metrics.register(labelled);
    (registry, metrics, plugin_metrics)
}

/// How often idle metric series are looked for, at most: creating series
/// sweeps too, but a proxy that stopped seeing new values must still drop
/// the old ones about when they expire.
const EVICT_INTERVAL: Duration = Duration::from_secs(60);

/// Removes idle metric series (see [`Retention`]) until aborted, checking
/// a few times per retention period.
async fn evict_idle_series(metrics: ProxyMetrics) {
    let every = (metrics.retention().idle / 4).clamp(Duration::from_secs(1), EVICT_INTERVAL);
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        metrics.evict_idle();
    }
}

/// The authz plugin slot, loaded with the built-in plugin so that the proxy
/// decides from the start; the policy service's plugin replaces it later.
fn built_in_authz(
    plugin_metrics: PluginMetrics,
    max_instances: u32,
) -> Result<Arc<AuthzPlugin>, StartError> {
    let config = HostConfig {
        max_instances,
        ..HostConfig::default()
    };
    let host =
        PluginHost::new(config, plugin_metrics).map_err(|e| StartError::Plugin(e.to_string()))?;
    let built_in = PluginSource::Bytes {
        name: "the built-in authz plugin",
        bytes: strait_default_plugins::AUTHZ_DEFAULT,
    }
    .read()
    .map_err(|e| StartError::Plugin(e.to_string()))?;
    let authz = AuthzPlugin::new(&host, "authz", &built_in)
        .map_err(|e| StartError::Plugin(e.to_string()))?;
    Ok(Arc::new(authz))
}

/// Readiness follows the credentials: ready while a certificate is held.
/// Returns the task that keeps it current and what `/ready` watches.
fn readiness(mut credentials: CredentialsRx) -> (JoinHandle<()>, watch::Receiver<bool>) {
    let (set_ready, ready) = watch::channel(false);
    let task = tokio::spawn(async move {
        loop {
            set_ready.send_replace(credentials.borrow_and_update().is_some());
            if credentials.changed().await.is_err() {
                return;
            }
        }
    });
    (task, ready)
}

/// The proxy's listeners, bound before anything is served so that a taken
/// address fails the start (and is named) instead of a task.
struct Bound {
    inbound_listener: TcpListener,
    inbound_addr: SocketAddr,
    outbound_listener: TcpListener,
    outbound_addr: SocketAddr,
    /// The directly bound inbound ports, in configuration order.
    direct: Vec<(TcpListener, SocketAddr)>,
}

impl Bound {
    async fn bind(config: &ProxyConfig) -> Result<Bound, StartError> {
        let inbound_listener = bind("inbound", config.inbound_listen_addr).await?;
        let inbound_addr = local_addr("inbound", &inbound_listener, config.inbound_listen_addr)?;
        let outbound_listener = bind("outbound", config.outbound_listen_addr).await?;
        let outbound_addr =
            local_addr("outbound", &outbound_listener, config.outbound_listen_addr)?;
        let mut direct = Vec::new();
        for entry in &config.inbound_direct {
            let listener = bind("inbound port", entry.listen).await?;
            let addr = local_addr("inbound port", &listener, entry.listen)?;
            direct.push((listener, addr));
        }
        Ok(Bound {
            inbound_listener,
            inbound_addr,
            outbound_listener,
            outbound_addr,
            direct,
        })
    }
}

/// The inbound side of a sidecar: it forwards to the application on
/// loopback, or, for ports bound directly, to where each one's app listens,
/// under the policy the policy service gives the workload.
/// Where a sidecar's admitted traffic goes: the application on loopback,
/// or the address each directly bound port names.
fn app_forward(config: &ProxyConfig, direct: &[(TcpListener, SocketAddr)]) -> Forward {
    if config.inbound_direct.is_empty() {
        Forward::Loopback
    } else {
        Forward::Map(
            config
                .inbound_direct
                .iter()
                .zip(direct)
                .map(|(entry, (_, bound))| (bound.port(), entry.app))
                .collect::<HashMap<_, _>>(),
        )
    }
}

fn inbound(
    config: &ProxyConfig,
    forward: Forward,
    own_ports: BTreeSet<u16>,
    policy_channel: Channel,
    authz: Arc<AuthzPlugin>,
    metrics: &ProxyMetrics,
) -> Inbound {
    Inbound::new(
        InboundConfig {
            detect_timeout: config.detect_timeout,
            proxy_ports: own_ports,
            trusted_gateways: Arc::new(config.trusted_gateways.clone()),
            ..InboundConfig::new(forward)
        },
        PolicyWatcher::new(
            InboundServerPoliciesClient::new(policy_channel),
            config.policy_workload.clone(),
        ),
        authz,
        metrics.clone(),
    )
}

fn local_addr(
    what: &'static str,
    listener: &TcpListener,
    asked: SocketAddr,
) -> Result<SocketAddr, StartError> {
    listener.local_addr().map_err(|source| StartError::Bind {
        what,
        addr: asked,
        source,
    })
}

/// The proxy's credentials as they change: none until certified.
pub type CredentialsRx = watch::Receiver<Option<Arc<Credentials>>>;
