//! The names and paths the installer, the injector, the controllers, the
//! proxies and the command line agree on: namespaces, ConfigMaps and
//! Secrets, the control plane's components, the gateway, containers and
//! mounted files.
//!
//! They are Linkerd's wherever Linkerd has one, so a proxy injected by
//! Linkerd's injector, or `linkerd check`, finds the same objects.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::ports;

/// Every address of a pod: where the components listen, so that their
/// Service, the kubelet's probes and Prometheus all reach them.
const POD_ADDRESSES: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

/// The control plane's namespace; part of every workload identity.
pub const CONTROL_PLANE_NAMESPACE: &str = "linkerd";
/// The multicluster extension's namespace: gateway and service mirrors.
pub const MULTICLUSTER_NAMESPACE: &str = "linkerd-multicluster";
/// Where Links live, with the credentials Secret their service mirror
/// reads and its Lease: the multicluster extension's namespace, as
/// `linkerd multicluster link-gen` writes them. The destination service
/// reads its own copy of each credentials Secret (same name) in
/// [`CONTROL_PLANE_NAMESPACE`], as Linkerd's does.
pub const LINK_NAMESPACE: &str = MULTICLUSTER_NAMESPACE;

/// ConfigMap of cluster facts (`values`: YAML with `clusterDomain` and
/// `identityTrustDomain`), read by tools that describe the cluster.
pub const LINKERD_CONFIG: &str = "linkerd-config";
/// The key of [`LINKERD_CONFIG`] holding its YAML.
pub const LINKERD_CONFIG_VALUES_KEY: &str = "values";
/// ConfigMap of the trust anchors every proxy of the mesh trusts.
pub const TRUST_ROOTS: &str = "linkerd-identity-trust-roots";
/// The key of [`TRUST_ROOTS`] holding the PEM bundle.
pub const TRUST_ROOTS_KEY: &str = "ca-bundle.crt";
/// Secret of the cluster's issuer (type `kubernetes.io/tls`).
pub const ISSUER_SECRET: &str = "linkerd-identity-issuer";
/// The issuer Secret's certificate key.
pub const ISSUER_CERT_KEY: &str = "tls.crt";
/// The issuer Secret's private key key.
pub const ISSUER_KEY_KEY: &str = "tls.key";
/// The issuer Secret's copy of the trust anchors.
pub const ISSUER_CA_KEY: &str = "ca.crt";
/// The plugins ConfigMap the policy controller and the service mirrors
/// follow for new authz and export plugins.
pub const PLUGINS_CONFIG_MAP: &str = "strait-plugins";
/// The ConfigMap beside [`PLUGINS_CONFIG_MAP`] where its followers report
/// each plugin's status. A ConfigMap of its own so the followers need no
/// write access to the plugins: a service mirror handles a remote
/// cluster's data, and one that is subverted must not be able to replace
/// the mesh's authz plugin.
pub const PLUGINS_STATUS_CONFIG_MAP: &str = "strait-plugins-status";

/// Where identity's trust anchors are mounted: Linkerd's path, so the
/// same ConfigMap works unchanged.
pub const TRUST_ROOTS_DIR: &str = "/var/run/linkerd/identity/trust-roots";
/// Where identity reads its trust anchors (inside [`TRUST_ROOTS_DIR`]).
pub const TRUST_ANCHORS_FILE: &str = "/var/run/linkerd/identity/trust-roots/ca-bundle.crt";
/// Where identity's issuer Secret is mounted: Linkerd's path.
pub const ISSUER_DIR: &str = "/var/run/linkerd/identity/issuer";
/// The issuer certificate's file name inside [`ISSUER_DIR`].
pub const ISSUER_CERTIFICATE_FILE_NAME: &str = "crt.pem";
/// The issuer key's file name inside [`ISSUER_DIR`].
pub const ISSUER_KEY_FILE_NAME: &str = "key.pem";
/// Where identity reads its issuer certificate.
pub const ISSUER_CERTIFICATE_FILE: &str = "/var/run/linkerd/identity/issuer/crt.pem";
/// Where identity reads its issuer key.
pub const ISSUER_KEY_FILE: &str = "/var/run/linkerd/identity/issuer/key.pem";

/// Linkerd's cluster DNS domain unless told otherwise (`clusterDomain`).
pub const DEFAULT_CLUSTER_DOMAIN: &str = "cluster.local";
/// Linkerd's identity trust domain unless told otherwise
/// (`identityTrustDomain`), the last part of every workload identity.
pub const DEFAULT_TRUST_DOMAIN: &str = "cluster.local";

/// Where every admin server (the proxy's, the controllers') answers 200
/// once it can serve: the kubelet's readiness probe and `proxy-await` ask it.
pub const READY_PATH: &str = "/ready";
/// Where every admin server answers 200 while the process runs: the
/// kubelet's liveness probe.
pub const LIVE_PATH: &str = "/live";

/// The proxy container's name: what Linkerd, the destination index,
/// `viz` and `strait local` recognise a meshed pod by (see
/// `strait_sidecar::is_meshed`).
pub const PROXY_CONTAINER: &str = "linkerd-proxy";
/// The init container that redirects a pod's traffic to its proxy.
pub const INIT_CONTAINER: &str = "linkerd-init";

/// The audience proxies' ServiceAccount tokens are bound to, which
/// identity checks in its TokenReview.
pub const IDENTITY_TOKEN_AUDIENCE: &str = "identity.l5d.io";
/// The projected ServiceAccount token volume of a proxy's pod.
pub const IDENTITY_TOKEN_VOLUME: &str = "linkerd-identity-token";
/// Where a proxy's projected ServiceAccount token is mounted.
pub const IDENTITY_TOKEN_DIR: &str = "/var/run/secrets/tokens";
/// The projected token's file name inside [`IDENTITY_TOKEN_DIR`].
pub const IDENTITY_TOKEN_FILE_NAME: &str = "linkerd-identity-token";
/// Where a proxy reads its projected token.
pub const IDENTITY_TOKEN_FILE: &str = "/var/run/secrets/tokens/linkerd-identity-token";

/// The identity component: Deployment, ServiceAccount and Service name,
/// gRPC port and admin port.
pub const IDENTITY: Component = Component {
    component: "identity",
    workload: "linkerd-identity",
    service: "linkerd-identity",
    port: 8080,
    admin_port: 9990,
};
/// The destination component.
pub const DESTINATION: Component = Component {
    component: "destination",
    workload: "linkerd-destination",
    service: "linkerd-dst",
    port: 8086,
    admin_port: 9996,
};
/// The policy component.
pub const POLICY: Component = Component {
    component: "policy",
    workload: "linkerd-policy",
    service: "linkerd-policy",
    port: 8090,
    admin_port: 9990,
};

/// The mesh identity of a ServiceAccount, as the identity service issues
/// it: `<sa>.<ns>.serviceaccount.identity.<control-plane-ns>.<trust-domain>`.
pub fn identity_name(
    service_account: &str,
    namespace: &str,
    control_plane_namespace: &str,
    trust_domain: &str,
) -> String {
    format!(
        "{service_account}.{namespace}.serviceaccount.identity.{control_plane_namespace}.{trust_domain}"
    )
}

/// One control-plane component, as its Deployment, ServiceAccount and
/// Service are named and as proxies reach it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Component {
    /// The `strait controller` subcommand, and the value of the
    /// `linkerd.io/control-plane-component` label.
    pub component: &'static str,
    /// Deployment and ServiceAccount name.
    pub workload: &'static str,
    /// Service name proxies dial.
    pub service: &'static str,
    /// The gRPC port proxies dial.
    pub port: u16,
    /// Where `/metrics`, `/ready` and `/live` are served.
    pub admin_port: u16,
}

impl Component {
    /// `host:port` of the Service, as proxies are configured with it:
    /// fully qualified with a trailing dot, so no search domain is tried.
    pub fn address(&self, cluster_domain: &str) -> String {
        format!(
            "{}.{CONTROL_PLANE_NAMESPACE}.svc.{cluster_domain}.:{}",
            self.service, self.port
        )
    }

    /// The identity the component's server proves to proxies (what they
    /// are given as `LINKERD2_PROXY_*_SVC_NAME`): its ServiceAccount's, in
    /// the control plane's namespace.
    pub fn identity(&self, control_plane_namespace: &str, trust_domain: &str) -> String {
        identity_name(
            self.workload,
            control_plane_namespace,
            control_plane_namespace,
            trust_domain,
        )
    }

    /// Where the component's gRPC server listens.
    pub const fn listen_addr(&self) -> SocketAddr {
        SocketAddr::new(POD_ADDRESSES, self.port)
    }

    /// Where the component's admin server listens.
    pub const fn admin_listen_addr(&self) -> SocketAddr {
        SocketAddr::new(POD_ADDRESSES, self.admin_port)
    }
}

/// The gateway's Deployment, ServiceAccount and Service.
pub const GATEWAY: &str = "linkerd-gateway";
/// The gateway's mesh identity (its ServiceAccount's, in
/// [`MULTICLUSTER_NAMESPACE`]): the one peer whose word on a request's
/// original client a sidecar takes, as the injector configures it.
pub fn gateway_identity(control_plane_namespace: &str, trust_domain: &str) -> String {
    identity_name(
        GATEWAY,
        MULTICLUSTER_NAMESPACE,
        control_plane_namespace,
        trust_domain,
    )
}
/// The gateway Service's port proxies of linked clusters dial.
pub const GATEWAY_PORT_NAME: &str = "mc-gateway";
/// The gateway port number: the proxy's inbound port.
pub const GATEWAY_PORT: u16 = ports::INBOUND_PORT;
/// The gateway Service's probe port name, read by `link-gen`.
pub const GATEWAY_PROBE_PORT_NAME: &str = "mc-probe";
/// The gateway Service's probe port, which linked clusters dial:
/// Linkerd's number (the admin port's), kept so links made for Linkerd
/// probe the same port.
pub const GATEWAY_PROBE_PORT: u16 = ports::ADMIN_PORT;
/// Where the gateway container answers those probes: a listener that
/// serves only `/ready` and `/live`, so the load balancer never reaches
/// the admin port and its metrics.
pub const GATEWAY_PROBE_CONTAINER_PORT: u16 = 4181;
/// The path linked clusters probe the gateway on.
pub const GATEWAY_PROBE_PATH: &str = READY_PATH;
/// The ServiceAccount a linked source cluster acts as in this cluster.
pub const REMOTE_ACCESS_ACCOUNT: &str = "linkerd-service-mirror-remote-access-default";
/// The token Secret of [`REMOTE_ACCESS_ACCOUNT`], which `link-gen` reads.
pub const REMOTE_ACCESS_TOKEN: &str = "linkerd-service-mirror-remote-access-default-token";
/// The admin port of a service mirror.
pub const SERVICE_MIRROR_ADMIN_PORT: u16 = 9999;
/// Where a service mirror's admin server listens.
pub const SERVICE_MIRROR_ADMIN_ADDR: SocketAddr =
    SocketAddr::new(POD_ADDRESSES, SERVICE_MIRROR_ADMIN_PORT);

/// The Deployment and ServiceAccount of the service mirror of Link `link`.
pub fn service_mirror(link: &str) -> String {
    format!("controller-{link}")
}

/// The ClusterRole (and its binding) of the service mirror of Link `link`:
/// the mirror Services and Endpoints it writes in any namespace.
pub fn service_mirror_cluster_role(link: &str) -> String {
    format!("linkerd-service-mirror-access-local-resources-{link}")
}

/// The Roles (and their bindings) of the service mirror of Link `link`:
/// one beside the Link ([`LINK_NAMESPACE`]) for the Link, its credentials
/// and its Lease, one in [`CONTROL_PLANE_NAMESPACE`] for the plugins
/// ConfigMap.
pub fn service_mirror_role(link: &str) -> String {
    format!("linkerd-service-mirror-{link}")
}

/// The Lease the service mirror of Link `link` holds while it writes.
pub fn service_mirror_lease(link: &str) -> String {
    format!("service-mirror-write-{link}")
}

/// The credentials Secret `link-gen` writes for Link `link`.
pub fn link_credentials(link: &str) -> String {
    format!("cluster-credentials-{link}")
}

/// The user controllers run as: Linkerd's controller user, so pod
/// security rules written for Linkerd fit.
pub const CONTROLLER_UID: i64 = 2103;

#[cfg(test)]
mod tests;
