//! The proxy's configuration, read from the environment as a sidecar's is.
//!
//! The variables are Linkerd's (`LINKERD2_PROXY_*`), so a pod spec written
//! for Linkerd's proxy configures strait's the same way; the few settings
//! Linkerd has no variable for are `STRAIT_PROXY_*`. Their names are the
//! ones the injector writes ([`strait_mesh::env`]), and unset listeners
//! take the ports every other part of the mesh expects
//! ([`strait_mesh::ports`]).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use strait_decisions::identity::identity_name_problem;
use strait_mesh::env;
/// The log filter variable, read by the binary before the rest.
pub use strait_mesh::env::LOG;
use strait_mesh::names::DEFAULT_CLUSTER_DOMAIN;
use strait_mesh::ports::{ADMIN_ADDR, INBOUND_ADDR, OUTBOUND_ADDR};
pub use strait_proxy_metrics::DEFAULT_RETAIN_IDLE;

/// Where the proxy gets the token that proves its ServiceAccount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenConfig {
    /// A file re-read before each certification, as the projected
    /// ServiceAccount token rotates (`LINKERD2_PROXY_IDENTITY_TOKEN_FILE`).
    File(PathBuf),
    /// The token itself (`STRAIT_PROXY_IDENTITY_TOKEN`), as the embedded
    /// runtime hands it to each pod's proxy.
    Value(Vec<u8>),
}

/// How the proxy gets its identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityConfig {
    /// The identity to ask for: `<sa>.<ns>.serviceaccount.identity.<cp-ns>.<trust-domain>`.
    pub local_name: String,
    /// PEM of the mesh's trust anchors: the only roots the proxy trusts.
    pub trust_anchors_pem: String,
    /// The proof of the ServiceAccount.
    pub token: TokenConfig,
    /// `host:port` of the identity service.
    pub service_addr: String,
    /// The identity the identity service must prove over TLS; none only
    /// for a service on loopback, reached in plaintext.
    pub service_name: Option<String>,
}

/// One port the proxy listens on directly (the embedded runtime, where no
/// iptables redirect exists): connections to `listen` are the pod's
/// inbound traffic to that port, forwarded to the application at `app`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirectInbound {
    /// The pod's address and port, as clients dial it.
    pub listen: SocketAddr,
    /// Where the application listens for that port.
    pub app: SocketAddr,
}

/// Everything the proxy needs to start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyConfig {
    /// Where redirected inbound connections arrive (by default
    /// [`INBOUND_ADDR`], Linkerd's).
    pub inbound_listen_addr: SocketAddr,
    /// Ports bound directly instead of (or besides) the redirected listener.
    pub inbound_direct: Vec<DirectInbound>,
    /// Where redirected outbound connections arrive (by default
    /// [`OUTBOUND_ADDR`], Linkerd's).
    pub outbound_listen_addr: SocketAddr,
    /// Where `/metrics`, `/ready` and `/live` are served (by default
    /// [`ADMIN_ADDR`], Linkerd's).
    pub admin_listen_addr: SocketAddr,
    /// Where only `/ready` and `/live` are served (a gateway's probe port,
    /// facing its load balancer); none serves no such listener.
    pub probe_listen_addr: Option<SocketAddr>,
    /// Identity settings.
    pub identity: IdentityConfig,
    /// `host:port` of the destination service.
    pub destination_addr: String,
    /// The identity the destination service must prove over mTLS; none
    /// only for a service on loopback.
    pub destination_name: Option<String>,
    /// The context token sent with every `Get` (the pod's namespace, node
    /// and name), so short names resolve in the pod's namespace.
    pub destination_context: String,
    /// `host:port` of the policy service (also the plugin distribution).
    pub policy_addr: String,
    /// The identity the policy service must prove over mTLS; none only
    /// for a service on loopback.
    pub policy_name: Option<String>,
    /// The only authz plugins this proxy takes from the policy service,
    /// by SHA-256 digest (lowercase hex); none takes whatever it sends.
    pub authz_plugin_digests: Option<BTreeSet<String>>,
    /// The workload whose inbound policy applies: `{"ns":"..","pod":".."}`.
    pub policy_workload: String,
    /// Whether this proxy is a multicluster gateway: it accepts mTLS from
    /// remote proxies and forwards by authority to local Services.
    pub gateway: bool,
    /// The names a gateway forwards to: `<service>.<namespace>.<suffix>`
    /// for each suffix (`svc.cluster.local.`); nothing else.
    pub gateway_suffixes: Vec<String>,
    /// The gateways whose requests are authorized as the client each
    /// names in `l5d-client-id` (the client the gateway verified); empty
    /// for a gateway, which trusts no other gateway's word.
    pub trusted_gateways: BTreeSet<String>,
    /// Labels added to every metric the proxy exports (`namespace`, `pod`,
    /// `deployment`, ...), where no Prometheus scrape adds them.
    pub metric_labels: BTreeMap<String, String>,
    /// How long to wait for a client's first bytes before treating a
    /// connection as opaque.
    pub detect_timeout: Duration,
    /// The address outbound connections leave from: the pod's IP where
    /// pods share one host's loopback (the embedded runtime), so the
    /// server sees who is calling; the system's choice otherwise.
    pub source_ip: Option<IpAddr>,
    /// How long a metric series nothing records into any more is kept
    /// (by default [`DEFAULT_RETAIN_IDLE`], Linkerd's ten minutes).
    pub metrics_retain_idle: Duration,
    /// How many plugin instances may exist at once (by default
    /// [`DEFAULT_PLUGIN_MAX_INSTANCES`]); see [`env::PLUGIN_MAX_INSTANCES`].
    pub plugin_max_instances: u32,
}

/// The plugin host's own default pool of instances.
pub const DEFAULT_PLUGIN_MAX_INSTANCES: u32 = 256;

/// A variable that is missing or wrong, named.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {reason}")]
pub struct ConfigError {
    /// The environment variable.
    pub variable: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

/// The variables the proxy reads, for `--help` texts and documentation.
pub const VARIABLES: [(&str, &str); 27] = [
    (
        env::INBOUND_LISTEN_ADDR,
        "inbound listener for redirected connections (default 0.0.0.0:4143)",
    ),
    (
        env::INBOUND_DIRECT,
        "ports bound directly: LISTEN=APP,... e.g. 10.1.0.5:8080=127.0.0.1:18080",
    ),
    (
        env::OUTBOUND_LISTEN_ADDR,
        "outbound listener (default 127.0.0.1:4140)",
    ),
    (
        env::ADMIN_LISTEN_ADDR,
        "admin server: /metrics, /ready, /live (default 0.0.0.0:4191)",
    ),
    (
        env::PROBE_LISTEN_ADDR,
        "probe-only listener: /ready and /live, no metrics (a gateway's, facing its load balancer)",
    ),
    (
        env::IDENTITY_LOCAL_NAME,
        "the identity to request (required)",
    ),
    (
        env::IDENTITY_TRUST_ANCHORS,
        "PEM of the trust anchors (required)",
    ),
    (
        env::IDENTITY_TOKEN_FILE,
        "file holding the ServiceAccount token",
    ),
    (env::IDENTITY_TOKEN, "the token itself (instead of a file)"),
    (
        env::IDENTITY_SVC_ADDR,
        "identity service host:port (required)",
    ),
    (
        env::DESTINATION_SVC_ADDR,
        "destination service host:port (required)",
    ),
    (
        env::DESTINATION_CONTEXT,
        "context token for Get, e.g. {\"ns\":\"mc-demo\",\"pod\":\"bb-1\"}",
    ),
    (env::POLICY_SVC_ADDR, "policy service host:port (required)"),
    (
        env::IDENTITY_SVC_NAME,
        "identity the identity service proves over TLS (required off loopback)",
    ),
    (
        env::DESTINATION_SVC_NAME,
        "identity the destination service proves over mTLS (required off loopback)",
    ),
    (
        env::POLICY_SVC_NAME,
        "identity the policy service proves over mTLS (required off loopback)",
    ),
    (
        env::AUTHZ_PLUGIN_DIGESTS,
        "the only authz plugins to run: sha256:<hex>,... (default: any the policy service sends)",
    ),
    (
        env::POLICY_WORKLOAD,
        "workload for inbound policy: {\"ns\":\"..\",\"pod\":\"..\"} (required)",
    ),
    (env::GATEWAY, "true to run as a multicluster gateway"),
    (
        env::INBOUND_GATEWAY_SUFFIXES,
        "name suffixes a gateway forwards to, e.g. svc.cluster.local. (the default)",
    ),
    (
        env::INBOUND_TRUSTED_GATEWAYS,
        "gateway identities whose requests are authorized as the client they name (default: none)",
    ),
    (env::METRIC_LABELS, "labels on every metric: name=value,..."),
    (
        env::SOURCE_IP,
        "address outbound connections leave from (the pod IP)",
    ),
    (
        env::INBOUND_DETECT_TIMEOUT,
        "protocol detection timeout, e.g. 10s (default 10s)",
    ),
    (
        env::METRICS_RETAIN_IDLE,
        "how long idle metric series are kept, e.g. 10m (default 10m)",
    ),
    (
        env::PLUGIN_MAX_INSTANCES,
        "plugin instances at once, each reserving ~8 GiB of address space (default 256)",
    ),
    (
        LOG,
        "log filter, e.g. info or strait=debug (default warn,strait=info)",
    ),
];

impl ProxyConfig {
    /// Reads the configuration through `lookup` (the process environment
    /// in the binary, a map in tests). Every fault names its variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty());
        let required = |name: &'static str| {
            get(name).ok_or_else(|| ConfigError {
                variable: name,
                reason: "is required".into(),
            })
        };
        let addr = |name: &'static str, default: SocketAddr| -> Result<SocketAddr, ConfigError> {
            let Some(text) = get(name) else {
                return Ok(default);
            };
            text.trim().parse().map_err(|_| ConfigError {
                variable: name,
                reason: format!("{text:?} is not an IP address with a port"),
            })
        };
        let token = match (get(env::IDENTITY_TOKEN), get(env::IDENTITY_TOKEN_FILE)) {
            (Some(token), _) => TokenConfig::Value(token.into_bytes()),
            (None, Some(file)) => TokenConfig::File(PathBuf::from(file)),
            (None, None) => {
                return Err(ConfigError {
                    variable: env::IDENTITY_TOKEN_FILE,
                    reason: format!("is required (or {})", env::IDENTITY_TOKEN),
                });
            }
        };
        let trust_anchors_pem = required(env::IDENTITY_TRUST_ANCHORS)?;
        if !trust_anchors_pem.contains("-----BEGIN CERTIFICATE-----") {
            return Err(ConfigError {
                variable: env::IDENTITY_TRUST_ANCHORS,
                reason: "holds no PEM certificate".into(),
            });
        }
        let detect_timeout = match get(env::INBOUND_DETECT_TIMEOUT) {
            None => Duration::from_secs(10),
            Some(text) => strait_duration::go_duration(&text)
                .filter(|d| !d.is_zero())
                .ok_or_else(|| ConfigError {
                    variable: env::INBOUND_DETECT_TIMEOUT,
                    reason: format!("{text:?} is not a duration such as 10s"),
                })?,
        };
        let metrics_retain_idle = match get(env::METRICS_RETAIN_IDLE) {
            None => DEFAULT_RETAIN_IDLE,
            Some(text) => strait_duration::go_duration(&text).ok_or_else(|| ConfigError {
                variable: env::METRICS_RETAIN_IDLE,
                reason: format!("{text:?} is not a duration such as 10m"),
            })?,
        };
        let plugin_max_instances = match get(env::PLUGIN_MAX_INSTANCES) {
            None => DEFAULT_PLUGIN_MAX_INSTANCES,
            Some(text) => {
                text.trim()
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| ConfigError {
                        variable: env::PLUGIN_MAX_INSTANCES,
                        reason: format!("{text:?} is not a positive number"),
                    })?
            }
        };
        let gateway = match get(env::GATEWAY).as_deref().map(str::trim) {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ConfigError {
                    variable: env::GATEWAY,
                    reason: format!("{other:?} is neither true nor false"),
                });
            }
        };
        let trusted_gateways = trusted_gateways(get(env::INBOUND_TRUSTED_GATEWAYS).as_deref())?;
        if gateway && !trusted_gateways.is_empty() {
            return Err(ConfigError {
                variable: env::INBOUND_TRUSTED_GATEWAYS,
                reason: format!(
                    "is for a workload's proxy: a gateway ({}=true) authorizes its clients by their own certificates and trusts no gateway's word",
                    env::GATEWAY
                ),
            });
        }
        let source_ip = match get(env::SOURCE_IP) {
            None => None,
            Some(text) => Some(text.trim().parse().map_err(|_| ConfigError {
                variable: env::SOURCE_IP,
                reason: format!("{text:?} is not an IP address"),
            })?),
        };
        let policy_workload = required(env::POLICY_WORKLOAD)?;
        let identity_addr = required(env::IDENTITY_SVC_ADDR)?;
        let destination_addr = required(env::DESTINATION_SVC_ADDR)?;
        let policy_addr = required(env::POLICY_SVC_ADDR)?;
        let server_name = |variable: &'static str,
                           addr: &str|
         -> Result<Option<String>, ConfigError> {
            match get(variable) {
                Some(name) => Ok(Some(name.trim().to_string())),
                None if strait_tls::control::is_loopback_addr(addr) => Ok(None),
                None => Err(ConfigError {
                    variable,
                    reason: format!(
                        "is required: {addr} is not on loopback, and off loopback the control plane is reached only over TLS"
                    ),
                }),
            }
        };
        Ok(ProxyConfig {
            inbound_listen_addr: addr(env::INBOUND_LISTEN_ADDR, INBOUND_ADDR)?,
            inbound_direct: direct_inbound(get(env::INBOUND_DIRECT).as_deref())?,
            outbound_listen_addr: addr(env::OUTBOUND_LISTEN_ADDR, OUTBOUND_ADDR)?,
            admin_listen_addr: addr(env::ADMIN_LISTEN_ADDR, ADMIN_ADDR)?,
            probe_listen_addr: match get(env::PROBE_LISTEN_ADDR) {
                None => None,
                Some(_) => Some(addr(env::PROBE_LISTEN_ADDR, ADMIN_ADDR)?),
            },
            identity: IdentityConfig {
                local_name: required(env::IDENTITY_LOCAL_NAME)?,
                trust_anchors_pem,
                token,
                service_name: server_name(env::IDENTITY_SVC_NAME, &identity_addr)?,
                service_addr: identity_addr,
            },
            destination_name: server_name(env::DESTINATION_SVC_NAME, &destination_addr)?,
            destination_addr,
            destination_context: get(env::DESTINATION_CONTEXT)
                .unwrap_or_else(|| context_from_workload(&policy_workload)),
            policy_name: server_name(env::POLICY_SVC_NAME, &policy_addr)?,
            policy_addr,
            authz_plugin_digests: plugin_digests(get(env::AUTHZ_PLUGIN_DIGESTS).as_deref())?,
            policy_workload,
            gateway,
            gateway_suffixes: match get(env::INBOUND_GATEWAY_SUFFIXES) {
                Some(text) => text.split(',').map(|s| s.trim().to_string()).collect(),
                None => default_gateway_suffixes(),
            },
            trusted_gateways,
            metric_labels: metric_labels(get(env::METRIC_LABELS).as_deref())?,
            detect_timeout,
            source_ip,
            metrics_retain_idle,
            plugin_max_instances,
        })
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        ProxyConfig::from_lookup(|name| std::env::var(name).ok())
    }
}

/// What a gateway forwards to unless told: the Services of a cluster
/// with the default domain, as Linkerd configures its gateways.
pub fn default_gateway_suffixes() -> Vec<String> {
    vec![format!("svc.{DEFAULT_CLUSTER_DOMAIN}.")]
}

/// The destination context when only the workload is given: the same
/// namespace and pod.
fn context_from_workload(workload: &str) -> String {
    workload.to_string()
}

fn direct_inbound(text: Option<&str>) -> Result<Vec<DirectInbound>, ConfigError> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let invalid = |reason: String| ConfigError {
        variable: env::INBOUND_DIRECT,
        reason,
    };
    text.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (listen, app) = entry
                .split_once('=')
                .ok_or_else(|| invalid(format!("{entry:?} is not LISTEN=APP")))?;
            let parse = |part: &str| {
                part.trim().parse::<SocketAddr>().map_err(|_| {
                    invalid(format!(
                        "{part:?} in {entry:?} is not an IP address with a port"
                    ))
                })
            };
            Ok(DirectInbound {
                listen: parse(listen)?,
                app: parse(app)?,
            })
        })
        .collect()
}

/// `sha256:<64 hex digits>,...` (the prefix optional), each checked so
/// that a typo is named instead of pinning a digest no plugin matches;
/// kept as lowercase hex, as plugin digests are written everywhere else.
fn plugin_digests(text: Option<&str>) -> Result<Option<BTreeSet<String>>, ConfigError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let digests = text
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let hex = entry.strip_prefix("sha256:").unwrap_or(entry);
            if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
                Ok(hex.to_ascii_lowercase())
            } else {
                Err(ConfigError {
                    variable: env::AUTHZ_PLUGIN_DIGESTS,
                    reason: format!("{entry:?} is not sha256:<64 hex digits>"),
                })
            }
        })
        .collect::<Result<BTreeSet<_>, _>>()?;
    if digests.is_empty() {
        return Err(ConfigError {
            variable: env::AUTHZ_PLUGIN_DIGESTS,
            reason: "names no digest; unset it to run any plugin the policy service sends".into(),
        });
    }
    Ok(Some(digests))
}

/// `identity,...`, each a mesh identity (a DNS name): a typo would
/// otherwise trust no gateway and refuse every client behind one, with
/// nothing saying why.
fn trusted_gateways(text: Option<&str>) -> Result<BTreeSet<String>, ConfigError> {
    let Some(text) = text else {
        return Ok(BTreeSet::new());
    };
    text.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| match identity_name_problem(entry) {
            None => Ok(entry.to_string()),
            Some(problem) => Err(ConfigError {
                variable: env::INBOUND_TRUSTED_GATEWAYS,
                reason: format!("{entry:?} is not a mesh identity: {problem}"),
            }),
        })
        .collect()
}

fn metric_labels(text: Option<&str>) -> Result<BTreeMap<String, String>, ConfigError> {
    let Some(text) = text else {
        return Ok(BTreeMap::new());
    };
    text.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (name, value) = entry.split_once('=').ok_or_else(|| ConfigError {
                variable: env::METRIC_LABELS,
                reason: format!("{entry:?} is not name=value"),
            })?;
            let name = name.trim();
            let valid = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                return Err(ConfigError {
                    variable: env::METRIC_LABELS,
                    reason: format!("{name:?} is not a Prometheus label name"),
                });
            }
            Ok((name.to_string(), value.trim().to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests;
