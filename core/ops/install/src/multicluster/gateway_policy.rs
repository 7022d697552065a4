//! The gateway's own Server and authorization, as Linkerd's multicluster
//! extension installs them: the gateway's port admits meshed clients (any
//! identity) from any network, and nothing else. Operators narrow it by
//! editing the two authentications: the identities of the linked clusters'
//! workloads, the networks the linked clusters connect from.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use strait_api::policy::{
    AuthorizationPolicy, AuthorizationPolicySpec, LocalTargetRef, MeshTlsAuthentication,
    MeshTlsAuthenticationSpec, NamespacedTargetRef, Network, NetworkAuthentication,
    NetworkAuthenticationSpec, Server, ServerSpec,
};
use strait_mesh::names::{GATEWAY, GATEWAY_PORT_NAME, MULTICLUSTER_NAMESPACE};

use crate::meta::metadata;
use crate::object::Object;

/// The group of Linkerd's policy resources.
const POLICY_GROUP: &str = "policy.linkerd.io";
/// The MeshTLSAuthentication admitting any meshed client.
pub const ANY_MESHED: &str = "any-meshed";
/// The NetworkAuthentication naming where linked clusters connect from.
pub const SOURCE_CLUSTER: &str = "source-cluster";

/// The Server of the gateway's port, its AuthorizationPolicy, and the two
/// authentications the policy requires, all in the multicluster namespace
/// and labelled `labels`.
pub(crate) fn objects(labels: &BTreeMap<String, String>) -> Vec<Object> {
    let meta = |name: &str| metadata(name, Some(MULTICLUSTER_NAMESPACE), labels);
    let server = Server::new(
        GATEWAY,
        ServerSpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(BTreeMap::from([("app".to_string(), GATEWAY.to_string())])),
                ..LabelSelector::default()
            }),
            external_workload_selector: None,
            port: IntOrString::String(GATEWAY_PORT_NAME.to_string()),
            proxy_protocol: None,
            access_policy: Some("deny".to_string()),
        },
    );
    let authentication = |kind: &str, name: &str| NamespacedTargetRef {
        group: Some(POLICY_GROUP.to_string()),
        kind: kind.to_string(),
        name: name.to_string(),
        namespace: None,
    };
    let policy = AuthorizationPolicy::new(
        GATEWAY,
        AuthorizationPolicySpec {
            target_ref: LocalTargetRef {
                group: Some(POLICY_GROUP.to_string()),
                kind: "Server".to_string(),
                name: GATEWAY.to_string(),
            },
            required_authentication_refs: vec![
                authentication("MeshTLSAuthentication", ANY_MESHED),
                authentication("NetworkAuthentication", SOURCE_CLUSTER),
            ],
        },
    );
    let meshed = MeshTlsAuthentication::new(
        ANY_MESHED,
        MeshTlsAuthenticationSpec {
            identities: Some(vec!["*".to_string()]),
            identity_refs: None,
        },
    );
    let network = |cidr: &str| Network {
        cidr: cidr.to_string(),
        except: None,
    };
    let networks = NetworkAuthentication::new(
        SOURCE_CLUSTER,
        NetworkAuthenticationSpec {
            networks: vec![network("0.0.0.0/0"), network("::/0")],
        },
    );
    vec![
        Server {
            metadata: meta(GATEWAY),
            ..server
        }
        .into(),
        AuthorizationPolicy {
            metadata: meta(GATEWAY),
            ..policy
        }
        .into(),
        MeshTlsAuthentication {
            metadata: meta(ANY_MESHED),
            ..meshed
        }
        .into(),
        NetworkAuthentication {
            metadata: meta(SOURCE_CLUSTER),
            ..networks
        }
        .into(),
    ]
}
