//! Settings that apply to the whole index: the install-wide default policy,
//! the cluster's networks and how mesh identities are spelled.

use std::fmt;
use std::str::FromStr;

use strait_decisions::net::{Cidr, Network};
use strait_mesh::names::{CONTROL_PLANE_NAMESPACE, DEFAULT_CLUSTER_DOMAIN, DEFAULT_TRUST_DOMAIN};

use strait_api::ports::PortSet;

/// What a port admits when no Server selects it (and what a v1beta3 Server's
/// `accessPolicy` adds when no authorization admits a client), with
/// Linkerd's names, which appear as `default:<name>` in metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DefaultPolicy {
    /// Every client, from anywhere.
    #[default]
    AllUnauthenticated,
    /// Meshed clients with any identity, from anywhere.
    AllAuthenticated,
    /// Every client from the cluster's networks.
    ClusterUnauthenticated,
    /// Meshed clients from the cluster's networks.
    ClusterAuthenticated,
    /// No one (loopback and probes excepted).
    Deny,
    /// Every client, reported as `default/audit` so that a future `deny`
    /// can be tried out without refusing anyone.
    Audit,
}

impl DefaultPolicy {
    /// Every policy, for tests and for listing valid values in errors.
    pub const ALL: [DefaultPolicy; 6] = [
        DefaultPolicy::AllUnauthenticated,
        DefaultPolicy::AllAuthenticated,
        DefaultPolicy::ClusterUnauthenticated,
        DefaultPolicy::ClusterAuthenticated,
        DefaultPolicy::Deny,
        DefaultPolicy::Audit,
    ];

    /// Linkerd's name: the annotation value and the metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            DefaultPolicy::AllUnauthenticated => "all-unauthenticated",
            DefaultPolicy::AllAuthenticated => "all-authenticated",
            DefaultPolicy::ClusterUnauthenticated => "cluster-unauthenticated",
            DefaultPolicy::ClusterAuthenticated => "cluster-authenticated",
            DefaultPolicy::Deny => "deny",
            DefaultPolicy::Audit => "audit",
        }
    }
}

impl fmt::Display for DefaultPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A default policy name Linkerd does not know; carries the text so the
/// caller can say which annotation or flag is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownDefaultPolicy(pub String);

impl fmt::Display for UnknownDefaultPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown default inbound policy {:?}", self.0)
    }
}

impl std::error::Error for UnknownDefaultPolicy {}

impl FromStr for DefaultPolicy {
    type Err = UnknownDefaultPolicy;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DefaultPolicy::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownDefaultPolicy(s.to_string()))
    }
}

/// Install-wide settings, the ones Linkerd's policy controller takes as
/// flags, so one index can serve any cluster's layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexConfig {
    /// The default policy of pods without the
    /// `config.linkerd.io/default-inbound-policy` annotation.
    pub default_policy: DefaultPolicy,
    /// The cluster's pod and node networks, for the `cluster-*` policies.
    pub cluster_networks: Vec<Network>,
    /// Networks kubelet probes come from; probe routes admit these.
    pub probe_networks: Vec<Network>,
    /// Where a pod's own containers connect from: clients from these
    /// networks are admitted on every port whatever the policy, as
    /// `default:localhost`. Linkerd's `127.0.0.1/32` and `::1/128` where a
    /// pod's loopback belongs to the pod alone (Kubernetes). Empty where
    /// pods share one machine's loopback (`strait local`): there every
    /// process of the machine connects from `127.0.0.1`, and admitting it
    /// would let any of them past every policy.
    pub loopback_networks: Vec<Network>,
    /// Namespace of the control plane, part of every mesh identity.
    pub control_plane_namespace: String,
    /// Trust domain, the last part of every mesh identity.
    pub trust_domain: String,
    /// The cluster's DNS domain: outbound policies name each Service's
    /// endpoints as `<svc>.<ns>.svc.<cluster_domain>:<port>` for the
    /// destination service, and authorities are read against it.
    pub cluster_domain: String,
    /// Ports opaque on every Service without a
    /// `config.linkerd.io/opaque-ports` annotation (or with one that cannot
    /// be read), as Linkerd's controller takes them from its install.
    pub default_opaque_ports: PortSet,
}

impl Default for IndexConfig {
    /// Linkerd's install defaults: `all-unauthenticated`, its
    /// `clusterNetworks` value, probes from anywhere, the pod's loopback
    /// (`127.0.0.1` and `::1`) always admitted, `linkerd` and
    /// `cluster.local`; the cluster domain `cluster.local` and Linkerd's
    /// default opaque ports.
    fn default() -> Self {
        IndexConfig {
            default_policy: DefaultPolicy::AllUnauthenticated,
            cluster_networks: LINKERD_CLUSTER_NETWORKS
                .iter()
                .filter_map(|s| s.parse::<Cidr>().ok())
                .map(|cidr| Network {
                    cidr,
                    except: Vec::new(),
                })
                .collect(),
            probe_networks: Network::all().into(),
            loopback_networks: LINKERD_LOOPBACK_NETWORKS
                .iter()
                .filter_map(|s| s.parse::<Cidr>().ok())
                .map(|cidr| Network {
                    cidr,
                    except: Vec::new(),
                })
                .collect(),
            control_plane_namespace: CONTROL_PLANE_NAMESPACE.to_string(),
            trust_domain: DEFAULT_TRUST_DOMAIN.to_string(),
            cluster_domain: DEFAULT_CLUSTER_DOMAIN.to_string(),
            default_opaque_ports: PortSet::linkerd_default_opaque(),
        }
    }
}

/// Linkerd's default `clusterNetworks`: the private and carrier-grade NAT
/// ranges, plus IPv6 unique-local addresses.
pub const LINKERD_CLUSTER_NETWORKS: [&str; 5] = [
    "10.0.0.0/8",
    "100.64.0.0/10",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fd00::/8",
];

/// The addresses a pod's own containers connect from, as Linkerd admits
/// them: only `127.0.0.1` and `::1`, since the rest of 127.0.0.0/8 is not
/// the pod's own loopback where pods get loopback addresses of their own.
pub const LINKERD_LOOPBACK_NETWORKS: [&str; 2] = ["127.0.0.1/32", "::1/128"];

impl IndexConfig {
    /// The mesh identity of pods running as a ServiceAccount, as the
    /// identity service issues it.
    pub fn service_account_identity(&self, namespace: &str, service_account: &str) -> String {
        format!(
            "{service_account}.{}",
            self.namespace_identity_suffix(namespace)
        )
    }

    /// What every identity of a namespace ends with, for `identityRefs`
    /// that name a whole namespace.
    pub fn namespace_identity_suffix(&self, namespace: &str) -> String {
        format!(
            "{namespace}.serviceaccount.identity.{}.{}",
            self.control_plane_namespace, self.trust_domain
        )
    }
}
