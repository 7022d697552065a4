//! What injection adds to a pod: the proxy container, the init container
//! that redirects the pod's traffic to it, and the volumes they use, built
//! as typed Kubernetes objects.
//!
//! The proxy reads Linkerd's variables (see the proxy's configuration), so
//! the container's environment is Linkerd's: a pod spec injected here and
//! one injected by Linkerd configure a proxy the same way.

use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, EnvVarSource, ExecAction,
    HTTPGetAction, Lifecycle, LifecycleHandler, ObjectFieldSelector, Probe, ProjectedVolumeSource,
    SeccompProfile, SecurityContext, ServiceAccountTokenProjection, Volume, VolumeMount,
    VolumeProjection,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use strait_api::image::{PROXY_BIN, PROXY_UID, STRAIT_BIN};

/// The proxy container's name: what Linkerd, the destination and policy
/// indexes and `strait local` recognise a meshed pod by.
pub const PROXY_CONTAINER: &str = "linkerd-proxy";
/// The init container's name, as Linkerd's.
pub const INIT_CONTAINER: &str = "linkerd-init";
/// The control plane's namespace.
pub const CONTROL_PLANE_NS: &str = "linkerd";

/// The proxy's inbound port, where redirected inbound connections arrive.
pub const INBOUND_PORT: u16 = 4143;
/// The proxy's outbound port, where the pod's own connections arrive.
pub const OUTBOUND_PORT: u16 = 4140;
/// The proxy's admin port: probes and metrics.
pub const ADMIN_PORT: u16 = 4191;
/// The proxy's control port, which like the admin port is not redirected.
pub const CONTROL_PORT: u16 = 4190;
/// Linkerd's default of ports reached without the proxy in both
/// directions (Galera's replication ports), kept so manifests behave as
/// under Linkerd.
pub const SKIP_PORTS: &str = "4567,4568";

const TOKEN_VOLUME: &str = "linkerd-identity-token";
const TOKEN_DIR: &str = "/var/run/secrets/tokens";
const TOKEN_AUDIENCE: &str = "identity.l5d.io";
const XTABLES_VOLUME: &str = "linkerd-proxy-init-xtables-lock";

/// The choices that vary between installations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InjectOptions {
    /// The mesh's trust anchors (PEM), written into the proxy's
    /// environment as Linkerd's injector writes them: a workload's
    /// namespace holds no copy of the control plane's trust-roots
    /// ConfigMap, and a pod can reference ConfigMaps of its own namespace
    /// only.
    pub trust_anchors_pem: String,
    /// The image both containers run.
    pub image: String,
    /// The identity trust domain (Linkerd's `identityTrustDomain`).
    pub trust_domain: String,
    /// The cluster's DNS domain (Linkerd's `clusterDomain`).
    pub cluster_domain: String,
}

impl InjectOptions {
    /// Options for a mesh with these trust anchors (PEM), with this build's
    /// image and Linkerd's default domains.
    pub fn new(trust_anchors_pem: impl Into<String>) -> Self {
        InjectOptions {
            trust_anchors_pem: trust_anchors_pem.into(),
            image: strait_api::image::default_image(),
            trust_domain: "cluster.local".into(),
            cluster_domain: "cluster.local".into(),
        }
    }
}

/// The version named by `linkerd.io/proxy-version`, as `strait local`
/// names it.
pub fn proxy_version() -> String {
    format!("strait-{}", env!("CARGO_PKG_VERSION"))
}

/// The value of `linkerd.io/created-by`.
pub fn created_by() -> String {
    format!("strait/cli {}", env!("CARGO_PKG_VERSION"))
}

fn value(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..EnvVar::default()
    }
}

fn field(name: &str, path: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: path.into(),
                ..ObjectFieldSelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

fn http_probe(path: &str, initial_delay: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::Int(i32::from(ADMIN_PORT)),
            ..HTTPGetAction::default()
        }),
        initial_delay_seconds: Some(initial_delay),
        ..Probe::default()
    }
}

/// Linkerd's annotation for whether the application waits for the proxy
/// (`enabled`, the default, or `disabled`).
pub const PROXY_AWAIT: &str = "config.linkerd.io/proxy-await";

/// How long the proxy's start hook waits for it to be ready.
pub const PROXY_AWAIT_TIMEOUT: &str = "2m";

/// The proxy container's start hook, as Linkerd's `linkerd-await`: the
/// kubelet starts a pod's containers in order and the next one only once
/// this hook returns, so the application (after the proxy) starts once the
/// proxy answers `/ready`, and its first connections, redirected to the
/// proxy by iptables, are not refused.
pub fn await_ready() -> Lifecycle {
    Lifecycle {
        post_start: Some(LifecycleHandler {
            exec: Some(ExecAction {
                command: Some(vec![
                    STRAIT_BIN.into(),
                    "proxy-await".into(),
                    format!("--timeout={PROXY_AWAIT_TIMEOUT}"),
                ]),
            }),
            ..LifecycleHandler::default()
        }),
        ..Lifecycle::default()
    }
}

/// The proxy sidecar.
pub fn proxy_container(options: &InjectOptions) -> Container {
    let service = |name: &str, port: u16| {
        format!(
            "{name}.{CONTROL_PLANE_NS}.svc.{}.:{port}",
            options.cluster_domain
        )
    };
    let env = vec![
        field("_pod_name", "metadata.name"),
        field("_pod_ns", "metadata.namespace"),
        field("_pod_nodeName", "spec.nodeName"),
        field("_pod_sa", "spec.serviceAccountName"),
        value("_l5d_ns", CONTROL_PLANE_NS),
        value("_l5d_trustdomain", options.trust_domain.clone()),
        value(
            "LINKERD2_PROXY_INBOUND_LISTEN_ADDR",
            format!("0.0.0.0:{INBOUND_PORT}"),
        ),
        value(
            "LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR",
            format!("127.0.0.1:{OUTBOUND_PORT}"),
        ),
        value(
            "LINKERD2_PROXY_ADMIN_LISTEN_ADDR",
            format!("0.0.0.0:{ADMIN_PORT}"),
        ),
        value(
            "LINKERD2_PROXY_DESTINATION_SVC_ADDR",
            service("linkerd-dst", 8086),
        ),
        value(
            "LINKERD2_PROXY_POLICY_SVC_ADDR",
            service("linkerd-policy", 8090),
        ),
        value(
            "LINKERD2_PROXY_POLICY_WORKLOAD",
            r#"{"ns":"$(_pod_ns)","pod":"$(_pod_name)"}"#,
        ),
        value(
            "LINKERD2_PROXY_DESTINATION_CONTEXT",
            r#"{"ns":"$(_pod_ns)","nodeName":"$(_pod_nodeName)","pod":"$(_pod_name)"}"#,
        ),
        value(
            "LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS",
            options.trust_anchors_pem.clone(),
        ),
        value(
            "LINKERD2_PROXY_IDENTITY_TOKEN_FILE",
            format!("{TOKEN_DIR}/{TOKEN_VOLUME}"),
        ),
        value(
            "LINKERD2_PROXY_IDENTITY_SVC_ADDR",
            service("linkerd-identity", 8080),
        ),
        value(
            "LINKERD2_PROXY_IDENTITY_LOCAL_NAME",
            "$(_pod_sa).$(_pod_ns).serviceaccount.identity.$(_l5d_ns).$(_l5d_trustdomain)",
        ),
    ];
    Container {
        name: PROXY_CONTAINER.into(),
        image: Some(options.image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: Some(vec![PROXY_BIN.into()]),
        env: Some(env),
        ports: Some(vec![
            ContainerPort {
                name: Some("linkerd-proxy".into()),
                container_port: i32::from(INBOUND_PORT),
                ..ContainerPort::default()
            },
            ContainerPort {
                name: Some("linkerd-admin".into()),
                container_port: i32::from(ADMIN_PORT),
                ..ContainerPort::default()
            },
        ]),
        readiness_probe: Some(http_probe("/ready", 2)),
        liveness_probe: Some(http_probe("/live", 10)),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            run_as_user: Some(PROXY_UID),
            seccomp_profile: Some(runtime_default()),
            ..SecurityContext::default()
        }),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        volume_mounts: Some(vec![VolumeMount {
            name: TOKEN_VOLUME.into(),
            mount_path: TOKEN_DIR.into(),
            read_only: Some(true),
            ..VolumeMount::default()
        }]),
        ..Container::default()
    }
}

fn runtime_default() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".into(),
        ..SeccompProfile::default()
    }
}

/// The init container: `strait proxy-init` with Linkerd's default ports.
pub fn init_container(options: &InjectOptions) -> Container {
    let args = [
        "proxy-init".to_string(),
        "--incoming-proxy-port".into(),
        INBOUND_PORT.to_string(),
        "--outgoing-proxy-port".into(),
        OUTBOUND_PORT.to_string(),
        "--proxy-uid".into(),
        PROXY_UID.to_string(),
        "--inbound-ports-to-ignore".into(),
        format!("{CONTROL_PORT},{ADMIN_PORT},{SKIP_PORTS}"),
        "--outbound-ports-to-ignore".into(),
        SKIP_PORTS.into(),
    ];
    Container {
        name: INIT_CONTAINER.into(),
        image: Some(options.image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: Some(vec![STRAIT_BIN.into()]),
        args: Some(args.into()),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            capabilities: Some(Capabilities {
                add: Some(vec!["NET_ADMIN".into(), "NET_RAW".into()]),
                ..Capabilities::default()
            }),
            privileged: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(false),
            run_as_user: Some(0),
            seccomp_profile: Some(runtime_default()),
            ..SecurityContext::default()
        }),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        // iptables takes its lock under /run, which a read-only root
        // filesystem would refuse.
        volume_mounts: Some(vec![VolumeMount {
            name: XTABLES_VOLUME.into(),
            mount_path: "/run".into(),
            ..VolumeMount::default()
        }]),
        ..Container::default()
    }
}

/// The volumes the two containers mount: the projected ServiceAccount
/// token the proxy proves its identity with, and the init container's
/// scratch space.
pub fn volumes() -> Vec<Volume> {
    vec![
        Volume {
            name: TOKEN_VOLUME.into(),
            projected: Some(ProjectedVolumeSource {
                sources: Some(vec![VolumeProjection {
                    service_account_token: Some(ServiceAccountTokenProjection {
                        audience: Some(TOKEN_AUDIENCE.into()),
                        expiration_seconds: Some(86400),
                        path: TOKEN_VOLUME.into(),
                        ..ServiceAccountTokenProjection::default()
                    }),
                    ..VolumeProjection::default()
                }]),
                ..ProjectedVolumeSource::default()
            }),
            ..Volume::default()
        },
        Volume {
            name: XTABLES_VOLUME.into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        },
    ]
}
