use k8s_openapi::api::coordination::v1::Lease;
use serde_json::json;
use strait_store::ClusterStore;

use super::*;
use crate::testing::{CONTROL_PLANE, cluster, store_with};

const LINKED: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: mc-demo}
---
apiVersion: v1
kind: Namespace
metadata: {name: linkerd-multicluster}
---
apiVersion: multicluster.linkerd.io/v1alpha3
kind: Link
metadata: {name: target, namespace: linkerd-multicluster}
spec: {targetClusterName: target, clusterCredentialsSecret: cluster-credentials-target}
---
apiVersion: multicluster.linkerd.io/v1alpha3
kind: Link
metadata: {name: other, namespace: linkerd-multicluster}
spec: {targetClusterName: other, clusterCredentialsSecret: cluster-credentials-other}
---
apiVersion: v1
kind: Secret
metadata: {name: cluster-credentials-target, namespace: linkerd-multicluster}
type: mirror.linkerd.io/remote-kubeconfig
---
apiVersion: v1
kind: Secret
metadata: {name: cluster-credentials-target, namespace: linkerd}
type: mirror.linkerd.io/remote-kubeconfig
---
apiVersion: v1
kind: Service
metadata: {name: web-target, namespace: mc-demo, labels: {mirror.linkerd.io/cluster-name: target}}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: bb-target, namespace: mc-demo, labels: {mirror.linkerd.io/cluster-name: target}}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: bb-other, namespace: mc-demo, labels: {mirror.linkerd.io/cluster-name: other}}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: bb, namespace: mc-demo}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: web-target, namespace: mc-demo, labels: {mirror.linkerd.io/cluster-name: target}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: controller-target, namespace: linkerd-multicluster}
spec: {selector: {matchLabels: {app: c}}, template: {metadata: {labels: {app: c}}, spec: {containers: [{name: c, image: strait}]}}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: controller-target, namespace: linkerd-multicluster}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: linkerd-service-mirror-access-local-resources-target}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: linkerd-service-mirror-target, namespace: linkerd-multicluster}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: linkerd-service-mirror-target, namespace: linkerd}
"#;

const EXPECTED: &str = "\
---
apiVersion: multicluster.linkerd.io/v1alpha3
kind: Link
metadata:
  name: target
  namespace: linkerd-multicluster
---
apiVersion: v1
kind: Secret
metadata:
  name: cluster-credentials-target
  namespace: linkerd-multicluster
---
apiVersion: v1
kind: Secret
metadata:
  name: cluster-credentials-target
  namespace: linkerd
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: service-mirror-write-target
  namespace: linkerd-multicluster
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: controller-target
  namespace: linkerd-multicluster
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: controller-target
  namespace: linkerd-multicluster
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: linkerd-service-mirror-target
  namespace: linkerd-multicluster
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: linkerd-service-mirror-target
  namespace: linkerd
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: linkerd-service-mirror-access-local-resources-target
---
apiVersion: v1
kind: Service
metadata:
  name: bb-target
  namespace: mc-demo
---
apiVersion: v1
kind: Service
metadata:
  name: web-target
  namespace: mc-demo
---
apiVersion: v1
kind: Endpoints
metadata:
  name: web-target
  namespace: mc-demo
";

#[tokio::test]
async fn unlink_names_the_link_its_secret_controller_and_mirrors_only() {
    let store = store_with(&format!("{CONTROL_PLANE}---{LINKED}"));
    let lease: Lease = serde_json::from_value(json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "service-mirror-write-target", "namespace": "linkerd-multicluster"},
    }))
    .unwrap();
    store.apply(&lease, "test").await.unwrap();
    let west = cluster("west", store, "https://west.example:6443", Vec::new());
    assert_eq!(objects(&west, "target").await.unwrap(), EXPECTED);

    // `other` has no Secret, controller or Endpoints: only what exists is named.
    assert_eq!(
        objects(&west, "other").await.unwrap(),
        "---\napiVersion: multicluster.linkerd.io/v1alpha3\nkind: Link\nmetadata:\n  name: other\n  namespace: linkerd-multicluster\n\
         ---\napiVersion: v1\nkind: Service\nmetadata:\n  name: bb-other\n  namespace: mc-demo\n"
    );
}

#[tokio::test]
async fn a_name_without_a_link_is_an_error() {
    let west = cluster(
        "west",
        store_with(&format!("{CONTROL_PLANE}---{LINKED}")),
        "https://west.example:6443",
        Vec::new(),
    );
    assert_eq!(
        objects(&west, "nowhere").await.unwrap_err().to_string(),
        "cluster west has no Link \"nowhere\"; `strait get links -A` lists the Links"
    );
    assert_eq!(
        objects(&west, "").await.unwrap_err().to_string(),
        "--cluster-name must not be empty"
    );
}
