//! The proxy's configuration, read from the environment as a sidecar's is.
//!
//! The variables are Linkerd's (`LINKERD2_PROXY_*`), so a pod spec written
//! for Linkerd's proxy configures strait's the same way; the few settings
//! Linkerd has no variable for are `STRAIT_PROXY_*`.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

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
    /// Where redirected inbound connections arrive (Linkerd: 0.0.0.0:4143).
    pub inbound_listen_addr: SocketAddr,
    /// Ports bound directly instead of (or besides) the redirected listener.
    pub inbound_direct: Vec<DirectInbound>,
    /// Where redirected outbound connections arrive (Linkerd: 127.0.0.1:4140).
    pub outbound_listen_addr: SocketAddr,
    /// Where `/metrics`, `/ready` and `/live` are served (Linkerd: 0.0.0.0:4191).
    pub admin_listen_addr: SocketAddr,
    /// Identity settings.
    pub identity: IdentityConfig,
    /// `host:port` of the destination service.
    pub destination_addr: String,
    /// The context token sent with every `Get` (the pod's namespace, node
    /// and name), so short names resolve in the pod's namespace.
    pub destination_context: String,
    /// `host:port` of the policy service (also the plugin distribution).
    pub policy_addr: String,
    /// The workload whose inbound policy applies: `{"ns":"..","pod":".."}`.
    pub policy_workload: String,
    /// Whether this proxy is a multicluster gateway: it accepts mTLS from
    /// remote proxies and forwards by authority to local Services.
    pub gateway: bool,
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
}

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
pub const VARIABLES: [(&str, &str); 18] = [
    (
        INBOUND_LISTEN_ADDR,
        "inbound listener for redirected connections (default 0.0.0.0:4143)",
    ),
    (
        STRAIT_INBOUND_DIRECT,
        "ports bound directly: LISTEN=APP,... e.g. 10.1.0.5:8080=127.0.0.1:18080",
    ),
    (
        OUTBOUND_LISTEN_ADDR,
        "outbound listener (default 127.0.0.1:4140)",
    ),
    (
        ADMIN_LISTEN_ADDR,
        "admin server: /metrics, /ready, /live (default 0.0.0.0:4191)",
    ),
    (IDENTITY_LOCAL_NAME, "the identity to request (required)"),
    (
        IDENTITY_TRUST_ANCHORS,
        "PEM of the trust anchors (required)",
    ),
    (IDENTITY_TOKEN_FILE, "file holding the ServiceAccount token"),
    (
        STRAIT_IDENTITY_TOKEN,
        "the token itself (instead of a file)",
    ),
    (IDENTITY_SVC_ADDR, "identity service host:port (required)"),
    (
        DESTINATION_SVC_ADDR,
        "destination service host:port (required)",
    ),
    (
        DESTINATION_CONTEXT,
        "context token for Get, e.g. {\"ns\":\"mc-demo\",\"pod\":\"bb-1\"}",
    ),
    (POLICY_SVC_ADDR, "policy service host:port (required)"),
    (
        POLICY_WORKLOAD,
        "workload for inbound policy: {\"ns\":\"..\",\"pod\":\"..\"} (required)",
    ),
    (STRAIT_GATEWAY, "true to run as a multicluster gateway"),
    (
        STRAIT_METRIC_LABELS,
        "labels on every metric: name=value,...",
    ),
    (
        STRAIT_SOURCE_IP,
        "address outbound connections leave from (the pod IP)",
    ),
    (
        DETECT_TIMEOUT,
        "protocol detection timeout, e.g. 10s (default 10s)",
    ),
    (
        LOG,
        "log filter, e.g. info or strait=debug (default warn,strait=info)",
    ),
];

const INBOUND_LISTEN_ADDR: &str = "LINKERD2_PROXY_INBOUND_LISTEN_ADDR";
const OUTBOUND_LISTEN_ADDR: &str = "LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR";
const ADMIN_LISTEN_ADDR: &str = "LINKERD2_PROXY_ADMIN_LISTEN_ADDR";
const IDENTITY_LOCAL_NAME: &str = "LINKERD2_PROXY_IDENTITY_LOCAL_NAME";
const IDENTITY_TRUST_ANCHORS: &str = "LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS";
const IDENTITY_TOKEN_FILE: &str = "LINKERD2_PROXY_IDENTITY_TOKEN_FILE";
const IDENTITY_SVC_ADDR: &str = "LINKERD2_PROXY_IDENTITY_SVC_ADDR";
const DESTINATION_SVC_ADDR: &str = "LINKERD2_PROXY_DESTINATION_SVC_ADDR";
const DESTINATION_CONTEXT: &str = "LINKERD2_PROXY_DESTINATION_CONTEXT";
const POLICY_SVC_ADDR: &str = "LINKERD2_PROXY_POLICY_SVC_ADDR";
const POLICY_WORKLOAD: &str = "LINKERD2_PROXY_POLICY_WORKLOAD";
const DETECT_TIMEOUT: &str = "LINKERD2_PROXY_INBOUND_DETECT_TIMEOUT";
/// The log filter variable, read by the binary before the rest.
pub const LOG: &str = "LINKERD2_PROXY_LOG";
const STRAIT_INBOUND_DIRECT: &str = "STRAIT_PROXY_INBOUND_DIRECT";
const STRAIT_IDENTITY_TOKEN: &str = "STRAIT_PROXY_IDENTITY_TOKEN";
const STRAIT_GATEWAY: &str = "STRAIT_PROXY_GATEWAY";
const STRAIT_METRIC_LABELS: &str = "STRAIT_PROXY_METRIC_LABELS";
const STRAIT_SOURCE_IP: &str = "STRAIT_PROXY_SOURCE_IP";

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
        let addr = |name: &'static str, default: &str| -> Result<SocketAddr, ConfigError> {
            let text = get(name).unwrap_or_else(|| default.to_string());
            text.trim().parse().map_err(|_| ConfigError {
                variable: name,
                reason: format!("{text:?} is not an IP address with a port"),
            })
        };
        let token = match (get(STRAIT_IDENTITY_TOKEN), get(IDENTITY_TOKEN_FILE)) {
            (Some(token), _) => TokenConfig::Value(token.into_bytes()),
            (None, Some(file)) => TokenConfig::File(PathBuf::from(file)),
            (None, None) => {
                return Err(ConfigError {
                    variable: IDENTITY_TOKEN_FILE,
                    reason: format!("is required (or {STRAIT_IDENTITY_TOKEN})"),
                });
            }
        };
        let trust_anchors_pem = required(IDENTITY_TRUST_ANCHORS)?;
        if !trust_anchors_pem.contains("-----BEGIN CERTIFICATE-----") {
            return Err(ConfigError {
                variable: IDENTITY_TRUST_ANCHORS,
                reason: "holds no PEM certificate".into(),
            });
        }
        let detect_timeout = match get(DETECT_TIMEOUT) {
            None => Duration::from_secs(10),
            Some(text) => strait_api::go_duration(&text)
                .filter(|d| !d.is_zero())
                .ok_or_else(|| ConfigError {
                    variable: DETECT_TIMEOUT,
                    reason: format!("{text:?} is not a duration such as 10s"),
                })?,
        };
        let gateway = match get(STRAIT_GATEWAY).as_deref().map(str::trim) {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ConfigError {
                    variable: STRAIT_GATEWAY,
                    reason: format!("{other:?} is neither true nor false"),
                });
            }
        };
        let source_ip = match get(STRAIT_SOURCE_IP) {
            None => None,
            Some(text) => Some(text.trim().parse().map_err(|_| ConfigError {
                variable: STRAIT_SOURCE_IP,
                reason: format!("{text:?} is not an IP address"),
            })?),
        };
        let policy_workload = required(POLICY_WORKLOAD)?;
        Ok(ProxyConfig {
            inbound_listen_addr: addr(INBOUND_LISTEN_ADDR, "0.0.0.0:4143")?,
            inbound_direct: direct_inbound(get(STRAIT_INBOUND_DIRECT).as_deref())?,
            outbound_listen_addr: addr(OUTBOUND_LISTEN_ADDR, "127.0.0.1:4140")?,
            admin_listen_addr: addr(ADMIN_LISTEN_ADDR, "0.0.0.0:4191")?,
            identity: IdentityConfig {
                local_name: required(IDENTITY_LOCAL_NAME)?,
                trust_anchors_pem,
                token,
                service_addr: required(IDENTITY_SVC_ADDR)?,
            },
            destination_addr: required(DESTINATION_SVC_ADDR)?,
            destination_context: get(DESTINATION_CONTEXT)
                .unwrap_or_else(|| context_from_workload(&policy_workload)),
            policy_addr: required(POLICY_SVC_ADDR)?,
            policy_workload,
            gateway,
            metric_labels: metric_labels(get(STRAIT_METRIC_LABELS).as_deref())?,
            detect_timeout,
            source_ip,
        })
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        ProxyConfig::from_lookup(|name| std::env::var(name).ok())
    }
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
        variable: STRAIT_INBOUND_DIRECT,
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

fn metric_labels(text: Option<&str>) -> Result<BTreeMap<String, String>, ConfigError> {
    let Some(text) = text else {
        return Ok(BTreeMap::new());
    };
    text.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (name, value) = entry.split_once('=').ok_or_else(|| ConfigError {
                variable: STRAIT_METRIC_LABELS,
                reason: format!("{entry:?} is not name=value"),
            })?;
            let name = name.trim();
            let valid = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                return Err(ConfigError {
                    variable: STRAIT_METRIC_LABELS,
                    reason: format!("{name:?} is not a Prometheus label name"),
                });
            }
            Ok((name.to_string(), value.trim().to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests;
