//! `strait controller policy`: Linkerd's inbound policy API and strait's
//! authz plugin distribution, for Kubernetes.

use std::net::SocketAddr;
use std::path::PathBuf;

use bytes::Bytes;
use clap::Args;
use prometheus_client::registry::Registry;
use strait_control_plane::{ControlPlane, offer_authz_plugins};
use strait_decisions::net::{Cidr, Network};
use strait_plugin_config::{PluginSinks, follow_plugin_config_map};
use strait_plugin_host::{
    AuthzPlugin, HostConfig, PLUGINS_CONFIG_MAP, PluginHost, PluginMetrics, PluginSource,
};
use strait_policy::{DefaultPolicy, IndexConfig, LINKERD_CLUSTER_NETWORKS};
use strait_policy_server::{OfferedPlugin, PluginKind, PluginOffer};
use strait_store_kube::KubeStore;

use super::serving::{MeshNames, serve_until_signal};

/// Flags of `strait controller policy`.
#[derive(Args, Clone, Debug)]
pub struct PolicyArgs {
    /// Where proxies reach `InboundServerPolicies` and `PluginDistribution`.
    #[arg(long, default_value = "0.0.0.0:8090")]
    pub addr: SocketAddr,
    /// Where /metrics, /ready and /live are served.
    #[arg(long, default_value = "0.0.0.0:9990")]
    pub admin_addr: SocketAddr,
    /// What a port admits when no Server selects it and its pod has no
    /// `config.linkerd.io/default-inbound-policy` annotation.
    #[arg(long, default_value = "all-unauthenticated", value_parser = parse_default_policy)]
    pub default_policy: DefaultPolicy,
    /// The cluster's pod and node networks, for the `cluster-*` policies
    /// (comma-separated CIDRs).
    #[arg(long, value_delimiter = ',', default_values_t = LINKERD_CLUSTER_NETWORKS.map(String::from), value_parser = parse_cidr)]
    pub cluster_networks: Vec<String>,
    /// Networks kubelet probes come from; probe routes admit them.
    #[arg(long, value_delimiter = ',', default_values_t = ["0.0.0.0/0".to_string(), "::/0".to_string()], value_parser = parse_cidr)]
    pub probe_networks: Vec<String>,
    /// The authz plugin offered to proxies (a component, `.wasm` or
    /// `.wat`); the built-in one when not given.
    #[arg(long)]
    pub authz_plugin: Option<PathBuf>,
    /// The plugins ConfigMap in the controller namespace, followed for new
    /// authz plugins (hot reload; see `strait plugin push`); empty to
    /// follow none.
    #[arg(long, default_value = PLUGINS_CONFIG_MAP)]
    pub plugins_config_map: String,
    #[command(flatten)]
    pub names: MeshNames,
}

fn parse_default_policy(text: &str) -> Result<DefaultPolicy, String> {
    text.parse().map_err(|e| {
        let known: Vec<&str> = DefaultPolicy::ALL.iter().map(|p| p.as_str()).collect();
        format!("{e}; one of {}", known.join(", "))
    })
}

fn parse_cidr(text: &str) -> Result<String, String> {
    text.trim()
        .parse::<Cidr>()
        .map(|_| text.trim().to_string())
        .map_err(|e| format!("{text:?} is not a network in CIDR notation: {e}"))
}

fn networks(cidrs: &[String]) -> Vec<Network> {
    cidrs
        .iter()
        .filter_map(|c| c.parse::<Cidr>().ok())
        .map(|cidr| Network {
            cidr,
            except: Vec::new(),
        })
        .collect()
}

/// The policy index settings the flags describe.
pub fn index_config(args: &PolicyArgs) -> IndexConfig {
    IndexConfig {
        default_policy: args.default_policy,
        cluster_networks: networks(&args.cluster_networks),
        probe_networks: networks(&args.probe_networks),
        loopback_networks: IndexConfig::default().loopback_networks,
        control_plane_namespace: args.names.controller_namespace.clone(),
        trust_domain: args.names.identity_trust_domain.clone(),
    }
}

/// Loads the authz plugin the flags name, proves it loads and answers in
/// the plugin host (as a proxy would run it), and offers it. A plugin that
/// fails is an error naming it, before anything is served.
pub fn offer_authz_plugin(
    args: &PolicyArgs,
    host: &PluginHost,
    offer: &PluginOffer,
) -> Result<(), String> {
    let source = match &args.authz_plugin {
        Some(path) => PluginSource::File(path),
        None => PluginSource::Bytes {
            name: "the built-in authz plugin",
            bytes: strait_default_plugins::AUTHZ_DEFAULT,
        },
    };
    let plugin = source.read().map_err(|e| e.to_string())?;
    AuthzPlugin::new(host, "authz", &plugin).map_err(|e| e.to_string())?;
    let wasm = plugin.component_binary().map_err(|e| e.to_string())?;
    offer
        .offer(OfferedPlugin {
            kind: PluginKind::Authz,
            version: plugin.version.clone().unwrap_or_default(),
            origin: plugin.origin.clone(),
            wasm: Bytes::copy_from_slice(&wasm),
        })
        .map_err(|e| e.to_string())?;
    tracing::info!(origin = %plugin.origin, "offering the authz plugin to proxies");
    Ok(())
}

pub async fn run(args: PolicyArgs) -> Result<(), String> {
    let metrics = PluginMetrics::new();
    let host =
        PluginHost::new(HostConfig::default(), metrics.clone()).map_err(|e| e.to_string())?;
    let offer = PluginOffer::new();
    offer_authz_plugin(&args, &host, &offer)?;
    let store = KubeStore::infer()
        .await
        .map_err(|e| format!("cannot reach Kubernetes (in-cluster or kubeconfig): {e}"))?;
    if !args.plugins_config_map.is_empty() {
        tokio::spawn(follow_plugin_config_map(
            store.clone(),
            args.names.controller_namespace.clone(),
            args.plugins_config_map.clone(),
            host.clone(),
            PluginSinks {
                authz: Some(offer_authz_plugins(&offer)),
                export: None,
            },
        ));
    }
    let control_plane = ControlPlane::new().with_policy(store, index_config(&args), &offer);
    let mut registry = Registry::default();
    metrics.register(&mut registry);
    serve_until_signal(control_plane, args.addr, args.admin_addr, registry).await
}
