//! `strait controller policy`: Linkerd's inbound and outbound policy APIs
//! and strait's authz plugin distribution, for Kubernetes.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use strait_decisions::net::{Cidr, Network};
use strait_mesh::names::{DEFAULT_CLUSTER_DOMAIN, POLICY};
use strait_plugin_config::PLUGINS_CONFIG_MAP;
use strait_plugin_host::PluginSource;
use strait_policy::{
    DefaultPolicy, IndexConfig, LINKERD_CLUSTER_NETWORKS, LINKERD_DEFAULT_OPAQUE_PORTS, PortSet,
};
use strait_runtime::controller::{self, AuthzOffer, Serving};
use strait_runtime::plugins::{PluginsConfigMap, builtin_authz};

use super::serving::{CertifiedTls, MeshNames, check_plaintext};

/// Flags of `strait controller policy`.
#[derive(Args, Clone, Debug)]
pub struct PolicyArgs {
    /// Where proxies reach `InboundServerPolicies`, `OutboundPolicies` and
    /// `PluginDistribution`.
    #[arg(long, default_value_t = POLICY.listen_addr())]
    pub addr: SocketAddr,
    /// Where /metrics, /ready and /live are served.
    #[arg(long, default_value_t = POLICY.admin_listen_addr())]
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
    /// The cluster's DNS domain: outbound policies name Services as
    /// `<svc>.<ns>.svc.<domain>` for the destination service.
    #[arg(long, default_value = DEFAULT_CLUSTER_DOMAIN)]
    pub cluster_domain: String,
    /// Ports opaque on Services without a `config.linkerd.io/opaque-ports`
    /// annotation (comma-separated ports and ranges).
    #[arg(long, default_value = LINKERD_DEFAULT_OPAQUE_PORTS, value_parser = parse_ports)]
    pub default_opaque_ports: PortSet,
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
    #[command(flatten)]
    pub tls: CertifiedTls,
}

fn parse_default_policy(text: &str) -> Result<DefaultPolicy, String> {
    text.parse().map_err(|e| {
        let known: Vec<&str> = DefaultPolicy::ALL.iter().map(|p| p.as_str()).collect();
        format!("{e}; one of {}", known.join(", "))
    })
}

fn parse_ports(text: &str) -> Result<PortSet, String> {
    text.parse().map_err(|e| format!("{e}"))
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
        cluster_domain: args.cluster_domain.clone(),
        default_opaque_ports: args.default_opaque_ports.clone(),
    }
}

/// The authz plugin the flags name: the file given, else the built-in one.
pub fn authz_source(args: &PolicyArgs) -> PluginSource<'_> {
    match &args.authz_plugin {
        Some(path) => PluginSource::File(path),
        None => builtin_authz(),
    }
}

pub async fn run(args: PolicyArgs) -> Result<(), String> {
    check_plaintext(args.tls.plaintext, args.addr)?;
    // Checked before Kubernetes is reached: a plugin that fails is named
    // before anything is served.
    let authz = AuthzOffer::load(authz_source(&args)).map_err(|e| e.to_string())?;
    let store = super::kube_store().await?;
    let plugins = PluginsConfigMap::new(
        args.names.controller_namespace.clone(),
        args.plugins_config_map.clone(),
    );
    let serving = Serving {
        addr: args.addr,
        admin_addr: args.admin_addr,
        tls: args.tls.controller_tls(&POLICY, &args.names),
    };
    controller::policy(
        store,
        index_config(&args),
        authz,
        &plugins,
        serving,
        crate::signal::terminated(),
    )
    .await
    .map_err(|e| e.to_string())
}
