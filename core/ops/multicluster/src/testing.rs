//! Clusters for the multicluster commands' tests: embedded stores holding
//! what a Kubernetes cluster with strait and its multicluster extension
//! installed holds, linked to each other by kubeconfig server address.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Service;
use serde_json::json;
use strait_store::{ClusterStore, MemoryStore, StoreError};

use crate::cluster::{Reach, Store};
use crate::error::ClusterError;
use crate::kubeconfig::current_server;
use crate::link_gen::LinkGenOptions;

/// A Kubernetes-like cluster in an embedded store.
pub type TestCluster = Store<MemoryStore, MapReach>;

/// Reaches the clusters it was given by their API server address.
#[derive(Clone, Debug, Default)]
pub struct MapReach {
    targets: Arc<BTreeMap<String, TestCluster>>,
}

impl Reach for MapReach {
    type Target = TestCluster;
    fn reach(&self, kubeconfig: &str) -> Result<TestCluster, ClusterError> {
        let (_, server) = current_server(kubeconfig)?;
        self.targets.get(&server).cloned().ok_or_else(|| {
            ClusterError::Store(StoreError::NotFound {
                what: format!("cluster at {server}"),
            })
        })
    }
}

/// The token of the remote-access account.
pub const TOKEN: &str = "eyJ0b2tlbiI6ImVhc3QifQ";

/// The API server's CA.
pub const CA: &str = "-----BEGIN CERTIFICATE-----\neast-ca\n-----END CERTIFICATE-----\n";

/// The control plane's namespace and settings, as `strait install` writes them.
pub const CONTROL_PLANE: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: linkerd}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: linkerd-config, namespace: linkerd}
data:
  values: |
    clusterDomain: cluster.local
    identityTrustDomain: root.example
    controllerImage: ignored
---
apiVersion: v1
kind: ConfigMap
metadata: {name: linkerd-identity-trust-roots, namespace: linkerd}
data:
  ca-bundle.crt: |
    -----BEGIN CERTIFICATE-----
    shared
    -----END CERTIFICATE-----
"#;

/// The multicluster extension: its namespace, the remote-access token and the gateway.
pub const EXTENSION: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: linkerd-multicluster}
---
apiVersion: v1
kind: Secret
metadata: {name: linkerd-service-mirror-remote-access-default-token, namespace: linkerd-multicluster}
type: kubernetes.io/service-account-token
data:
  token: ZXlKMGIydGxiaUk2SW1WaGMzUWlmUQ==
  ca.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmVhc3QtY2EKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=
---
apiVersion: v1
kind: Service
metadata: {name: linkerd-gateway, namespace: linkerd-multicluster}
spec:
  type: LoadBalancer
  selector: {app: linkerd-gateway}
  ports:
  - {name: mc-gateway, port: 4143, targetPort: 4143}
  - {name: mc-probe, port: 4191, targetPort: 4191}
"#;

/// An embedded store holding `yaml`.
pub fn store_with(yaml: &str) -> MemoryStore {
    let store = MemoryStore::new();
    let report = store.apply_yaml("test", yaml, "test");
    assert!(report.errors.is_empty(), "{report}");
    store
}

/// A cluster named `name`, at `server`, whose Links reach `targets`.
pub fn cluster(
    name: &str,
    store: MemoryStore,
    server: &str,
    targets: Vec<TestCluster>,
) -> TestCluster {
    let targets = targets
        .into_iter()
        .map(|t| (server_of(&t), t))
        .collect::<BTreeMap<_, _>>();
    Store::new(
        name,
        store,
        Some(server.to_string()),
        MapReach {
            targets: Arc::new(targets),
        },
    )
}

fn server_of(cluster: &TestCluster) -> String {
    format!(
        "https://{}.example:6443",
        crate::cluster::Cluster::name(cluster)
    )
}

/// The target cluster `east`, installed with its extension and gateway
/// (load balancer address 203.0.113.7), at `https://east.example:6443`.
pub async fn east() -> TestCluster {
    east_and_store().await.0
}

/// [`east`], and its store, to change it under the cluster.
pub async fn east_and_store() -> (TestCluster, MemoryStore) {
    let store = store_with(&format!("{CONTROL_PLANE}---{EXTENSION}"));
    store
        .patch_status::<Service>(
            "linkerd-multicluster",
            "linkerd-gateway",
            json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}}),
        )
        .await
        .expect("the gateway Service exists");
    let east = cluster(
        "east",
        store.clone(),
        "https://east.example:6443",
        Vec::new(),
    );
    (east, store)
}

/// `link-gen`'s options from its flags as a user types them
/// (`--cluster-name=target`, `--gateway=false`), on Linkerd's defaults.
pub fn link_gen_options(flags: &[&str]) -> LinkGenOptions {
    let mut options = LinkGenOptions::new("");
    for flag in flags {
        let (name, value) = flag
            .strip_prefix("--")
            .and_then(|f| f.split_once('='))
            .unwrap_or_else(|| panic!("{flag:?} is not --name=value"));
        let value = value.to_string();
        match name {
            "cluster-name" => options.cluster_name = value,
            "gateway" => options.gateway = value.parse().expect("true or false"),
            "gateway-addresses" => options.gateway_addresses = Some(value),
            "gateway-port" => options.gateway_port = Some(value.parse().expect("a port")),
            "selector" => options.selector = value,
            "remote-discovery-selector" => options.remote_discovery_selector = value,
            "federated-service-selector" => options.federated_service_selector = value,
            "api-server-address" => options.api_server_address = Some(value),
            other => panic!("link-gen has no flag --{other}"),
        }
    }
    options
}
