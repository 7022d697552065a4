//! What injection adds to a pod: the proxy container (the mesh's one, see
//! [`strait_sidecar::ProxyContainer`]) with its start hook, the init container
//! that redirects the pod's traffic to it, and the volumes they use, built
//! as typed Kubernetes objects.

use k8s_openapi::api::core::v1::{
    Capabilities, Container, EmptyDirVolumeSource, ExecAction, Lifecycle, LifecycleHandler,
    SeccompProfile, SecurityContext, Volume, VolumeMount,
};
use strait_api::image::{PROXY_UID, STRAIT_BIN};
use strait_mesh::names::{DEFAULT_CLUSTER_DOMAIN, DEFAULT_TRUST_DOMAIN, INIT_CONTAINER};
use strait_mesh::ports::{ADMIN_PORT, CONTROL_PORT, INBOUND_PORT, OUTBOUND_PORT};
use strait_sidecar::{ControlPlaneAddrs, ProxyContainer, TrustAnchors, identity_token_volume};

/// Linkerd's default of ports reached without the proxy in both
/// directions (Galera's replication ports), kept so manifests behave as
/// under Linkerd.
pub const SKIP_PORTS: &str = "4567,4568";

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
            trust_domain: DEFAULT_TRUST_DOMAIN.into(),
            cluster_domain: DEFAULT_CLUSTER_DOMAIN.into(),
        }
    }

    /// The proxy these options inject: a workload's sidecar carrying the
    /// trust anchors themselves and reaching the control plane's Services.
    pub fn proxy(&self) -> ProxyContainer {
        ProxyContainer {
            image: self.image.clone(),
            trust_domain: self.trust_domain.clone(),
            trust_anchors: TrustAnchors::Pem(self.trust_anchors_pem.clone()),
            control_plane: ControlPlaneAddrs::services(&self.cluster_domain),
            gateway: false,
        }
    }
}

/// The value of `linkerd.io/created-by`.
pub fn created_by() -> String {
    format!("strait/cli {}", env!("CARGO_PKG_VERSION"))
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
            // Only what iptables needs; every other capability dropped.
            capabilities: Some(Capabilities {
                add: Some(vec!["NET_ADMIN".into(), "NET_RAW".into()]),
                drop: Some(vec!["ALL".into()]),
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
        identity_token_volume(),
        Volume {
            name: XTABLES_VOLUME.into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        },
    ]
}
