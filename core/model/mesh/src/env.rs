//! The environment variables that configure the proxy: what the injector,
//! the gateway's installer and `strait local` write, and what the proxy
//! reads.
//!
//! The `LINKERD2_PROXY_*` variables are Linkerd's, so a pod spec written for
//! Linkerd's proxy configures strait's the same way; `STRAIT_PROXY_*` are
//! the few settings Linkerd has no variable for. The `_pod_*` and `_l5d_*`
//! variables are not read by the proxy: the injector writes them for the
//! others to refer to as `$(NAME)`, as Linkerd's injector does.

/// The name suffixes a multicluster gateway forwards to, comma-separated
/// (`svc.cluster.local.`), as Linkerd's gateways are given them.
pub const INBOUND_GATEWAY_SUFFIXES: &str = "LINKERD2_PROXY_INBOUND_GATEWAY_SUFFIXES";
/// Address the inbound listener binds, e.g. `0.0.0.0:4143`.
pub const INBOUND_LISTEN_ADDR: &str = "LINKERD2_PROXY_INBOUND_LISTEN_ADDR";
/// Address the outbound listener binds, e.g. `127.0.0.1:4140`.
pub const OUTBOUND_LISTEN_ADDR: &str = "LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR";
/// Address the admin server (`/metrics`, `/ready`, `/live`) binds.
pub const ADMIN_LISTEN_ADDR: &str = "LINKERD2_PROXY_ADMIN_LISTEN_ADDR";
/// The identity the proxy asks a certificate for:
/// `<sa>.<ns>.serviceaccount.identity.<control-plane-ns>.<trust-domain>`.
pub const IDENTITY_LOCAL_NAME: &str = "LINKERD2_PROXY_IDENTITY_LOCAL_NAME";
/// PEM of the mesh's trust anchors: the only roots the proxy trusts.
pub const IDENTITY_TRUST_ANCHORS: &str = "LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS";
/// Path of the ServiceAccount token the proxy proves its identity with,
/// re-read before each certification as the kubelet rotates it.
pub const IDENTITY_TOKEN_FILE: &str = "LINKERD2_PROXY_IDENTITY_TOKEN_FILE";
/// `host:port` of the identity service.
pub const IDENTITY_SVC_ADDR: &str = "LINKERD2_PROXY_IDENTITY_SVC_ADDR";
/// `host:port` of the destination service.
pub const DESTINATION_SVC_ADDR: &str = "LINKERD2_PROXY_DESTINATION_SVC_ADDR";
/// The identity the identity service must prove over TLS.
pub const IDENTITY_SVC_NAME: &str = "LINKERD2_PROXY_IDENTITY_SVC_NAME";
/// The identity the destination service must prove over mTLS.
pub const DESTINATION_SVC_NAME: &str = "LINKERD2_PROXY_DESTINATION_SVC_NAME";
/// The identity the policy service must prove over mTLS.
pub const POLICY_SVC_NAME: &str = "LINKERD2_PROXY_POLICY_SVC_NAME";
/// Where the proxy answers only `/ready` and `/live` (a gateway's probe
/// port, which faces its load balancer); unset serves no such listener.
pub const PROBE_LISTEN_ADDR: &str = "STRAIT_PROXY_PROBE_LISTEN_ADDR";
/// Digests (`sha256:<hex>`, comma-separated) of the only authz plugins
/// the proxy runs; unset runs whatever the policy service sends.
pub const AUTHZ_PLUGIN_DIGESTS: &str = "STRAIT_PROXY_AUTHZ_PLUGIN_DIGESTS";
/// The context token sent with every destination lookup (JSON with the
/// pod's namespace, node and name), so short names resolve in the pod's
/// namespace.
pub const DESTINATION_CONTEXT: &str = "LINKERD2_PROXY_DESTINATION_CONTEXT";
/// `host:port` of the policy service, which also distributes the authz
/// plugin.
pub const POLICY_SVC_ADDR: &str = "LINKERD2_PROXY_POLICY_SVC_ADDR";
/// The workload whose inbound policy applies: `{"ns":"..","pod":".."}`.
pub const POLICY_WORKLOAD: &str = "LINKERD2_PROXY_POLICY_WORKLOAD";
/// How long the proxy waits for a client's first bytes before treating the
/// connection as opaque, as a Go duration (`10s`).
pub const INBOUND_DETECT_TIMEOUT: &str = "LINKERD2_PROXY_INBOUND_DETECT_TIMEOUT";
/// How long the proxy keeps a metric series nothing records into any
/// more, as a Go duration (`10m`, Linkerd's default).
pub const METRICS_RETAIN_IDLE: &str = "LINKERD2_PROXY_METRICS_RETAIN_IDLE";
/// The log filter (`info`, `strait=debug`).
pub const LOG: &str = "LINKERD2_PROXY_LOG";
/// How many worker threads the proxy runs.
pub const CORES: &str = "LINKERD2_PROXY_CORES";

/// Ports the proxy binds directly instead of receiving them through
/// iptables, as `LISTEN=APP,...` (where pods share one host's loopback).
pub const INBOUND_DIRECT: &str = "STRAIT_PROXY_INBOUND_DIRECT";
/// The ServiceAccount token itself, instead of [`IDENTITY_TOKEN_FILE`] (the
/// embedded runtime hands each proxy its token).
pub const IDENTITY_TOKEN: &str = "STRAIT_PROXY_IDENTITY_TOKEN";
/// `true` to run as a multicluster gateway: mTLS from meshed clients only,
/// forwarded by authority to local Services.
pub const GATEWAY: &str = "STRAIT_PROXY_GATEWAY";
/// The mesh identities (comma-separated) of the multicluster gateways
/// whose requests name their original client in `l5d-client-id`: from a
/// peer proven (mTLS) to hold one of them, the inbound side authorizes
/// the client the gateway verified, not the gateway. Unset trusts no
/// gateway, and every request is its connection's peer's.
pub const INBOUND_TRUSTED_GATEWAYS: &str = "STRAIT_PROXY_INBOUND_TRUSTED_GATEWAYS";
/// Labels added to every metric the proxy exports, as `name=value,...`,
/// where no Prometheus scrape adds them.
pub const METRIC_LABELS: &str = "STRAIT_PROXY_METRIC_LABELS";
/// The address outbound connections leave from (the pod's IP where pods
/// share one host's loopback, so servers see who calls).
pub const SOURCE_IP: &str = "STRAIT_PROXY_SOURCE_IP";
/// How many plugin instances may exist at once. Their slots are reserved
/// up front, about 8 GiB of address space per instance; where address
/// space is capped (`ulimit -v`, or a binary instrumentation tool, whose
/// limit is a few tens of GiB) a smaller pool lets the proxy start.
pub const PLUGIN_MAX_INSTANCES: &str = "STRAIT_PROXY_PLUGIN_MAX_INSTANCES";

/// The pod's name (Downward API `metadata.name`).
pub const POD_NAME: &str = "_pod_name";
/// The pod's namespace (Downward API `metadata.namespace`).
pub const POD_NAMESPACE: &str = "_pod_ns";
/// The node the pod runs on (Downward API `spec.nodeName`).
pub const POD_NODE_NAME: &str = "_pod_nodeName";
/// The pod's ServiceAccount (Downward API `spec.serviceAccountName`).
pub const POD_SERVICE_ACCOUNT: &str = "_pod_sa";
/// The control plane's namespace, part of the identity name.
pub const CONTROL_PLANE_NAMESPACE: &str = "_l5d_ns";
/// The mesh's trust domain, the identity name's last part.
pub const TRUST_DOMAIN: &str = "_l5d_trustdomain";

/// How another variable's value refers to variable `name`: `$(name)`,
/// expanded by the kubelet when that variable is defined before it.
pub fn reference(name: &str) -> String {
    format!("$({name})")
}
