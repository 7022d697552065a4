use serde_json::json;

use super::*;
use crate::labels;
use crate::testing::{documents, refusal, round_trip};

/// A Link as `linkerd multicluster link-gen --cluster-name=target
/// --gateway=false` prints it: no gateway fields, no probe, the default
/// selectors.
const GATEWAYLESS_LINK: &str = r#"
apiVersion: multicluster.linkerd.io/v1alpha3
kind: Link
metadata:
  name: target
  namespace: linkerd-multicluster
  annotations:
    linkerd.io/created-by: linkerd/cli edge-25.4.1
spec:
  targetClusterName: target
  targetClusterDomain: cluster.local
  targetClusterLinkerdNamespace: linkerd
  clusterCredentialsSecret: cluster-credentials-target
  selector:
    matchLabels:
      mirror.linkerd.io/exported: "true"
  remoteDiscoverySelector:
    matchLabels:
      mirror.linkerd.io/exported: remote-discovery
  federatedServiceSelector:
    matchLabels:
      mirror.linkerd.io/federated: member
"#;

/// A gateway-mode Link with every spec field set, and the status a
/// controller writes once `bb` is mirrored.
const GATEWAY_LINK: &str = r#"
apiVersion: multicluster.linkerd.io/v1alpha3
kind: Link
metadata:
  name: east
  namespace: linkerd-multicluster
spec:
  targetClusterName: east
  targetClusterDomain: cluster.local
  targetClusterLinkerdNamespace: linkerd
  clusterCredentialsSecret: cluster-credentials-east
  gatewayAddress: 172.18.0.5,172.18.0.6
  gatewayPort: "4143"
  gatewayIdentity: linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local
  probeSpec:
    path: /ready
    port: "4191"
    period: 3s
    timeout: 30s
    failureThreshold: "3"
  selector:
    matchExpressions:
    - key: mirror.linkerd.io/exported
      operator: In
      values: ["true", "yes"]
  remoteDiscoverySelector:
    matchLabels:
      mirror.linkerd.io/exported: remote-discovery
  federatedServiceSelector:
    matchLabels:
      mirror.linkerd.io/federated: member
  excludedLabels:
  - team.example.com/*
  - app.kubernetes.io/version
  excludedAnnotations:
  - kubectl.kubernetes.io/last-applied-configuration
status:
  mirrorServices:
  - controllerName: linkerd.io/service-mirror
    remoteRef:
      kind: Service
      name: bb
      namespace: mc-demo
    conditions:
    - type: Mirrored
      status: "True"
      reason: Mirrored
      message: ""
      lastTransitionTime: "2025-05-06T07:08:09Z"
      localRef:
        name: bb-east
        namespace: mc-demo
  - controllerName: linkerd.io/service-mirror
    remoteRef:
      kind: Service
      name: web
      namespace: shop
    conditions:
    - type: Mirrored
      status: "False"
      reason: MissingNamespace
      message: namespace shop does not exist
      lastTransitionTime: "2025-05-06T07:08:10Z"
"#;

fn only_document(yaml: &str) -> serde_json::Value {
    let mut all = documents(yaml);
    assert_eq!(all.len(), 1);
    all.remove(0)
}

#[test]
fn a_gatewayless_link_gen_link_round_trips() {
    let link: Link = round_trip(&only_document(GATEWAYLESS_LINK));
    let spec = &link.spec;
    assert_eq!(spec.target_cluster_name.as_deref(), Some("target"));
    assert_eq!(
        spec.cluster_credentials_secret.as_deref(),
        Some("cluster-credentials-target")
    );
    assert_eq!(spec.gateway_address, None);
    assert_eq!(spec.gateway_port, None);
    assert_eq!(spec.probe_spec, None);
    assert_eq!(spec.selector, Some(labels::default_gateway_selector()));
    assert_eq!(
        spec.remote_discovery_selector,
        Some(labels::default_remote_discovery_selector())
    );
    assert_eq!(
        spec.federated_service_selector,
        Some(labels::default_federated_service_selector())
    );
    assert_eq!(link.status, None);
}

#[test]
fn a_gateway_link_with_status_round_trips() {
    let link: Link = round_trip(&only_document(GATEWAY_LINK));
    assert_eq!(link.spec.gateway_port.as_deref(), Some("4143"));
    let probe = link.spec.probe_spec.unwrap_or_default();
    assert_eq!(probe.failure_threshold.as_deref(), Some("3"));
    assert_eq!(probe.port.as_deref(), Some("4191"));
    assert_eq!(
        link.spec.excluded_labels,
        Some(vec![
            "team.example.com/*".to_owned(),
            "app.kubernetes.io/version".to_owned()
        ])
    );

    let mirrors = link
        .status
        .and_then(|status| status.mirror_services)
        .unwrap_or_default();
    assert_eq!(mirrors.len(), 2);
    assert_eq!(mirrors[0].remote_ref.name, "bb");
    let mirrored = &mirrors[0].conditions.as_deref().unwrap_or_default()[0];
    assert_eq!(mirrored.type_, MIRRORED_CONDITION);
    assert_eq!(mirrored.status, ConditionStatus::True);
    assert_eq!(
        mirrored.local_ref.as_ref().map(|r| r.name.as_str()),
        Some("bb-east")
    );
    let missing = &mirrors[1].conditions.as_deref().unwrap_or_default()[0];
    assert_eq!(missing.status, ConditionStatus::False);
    assert_eq!(missing.reason, reason::MISSING_NAMESPACE);
    assert_eq!(missing.local_ref, None);
}

#[test]
fn an_empty_spec_stays_empty() {
    // Nothing may be filled in on the way back: a write of defaults would
    // change the user's Link and restart its watch.
    let link: Link = round_trip(&json!({
        "apiVersion": "multicluster.linkerd.io/v1alpha3",
        "kind": "Link",
        "metadata": {"name": "empty"},
        "spec": {}
    }));
    assert_eq!(link.spec, LinkSpec::default());
}

#[test]
fn a_numeric_gateway_port_is_refused_at_that_field() {
    // Linkerd's CRD declares gatewayPort a string; the API server refuses a
    // number, and a strait tool reading the manifest must too.
    let yaml = GATEWAY_LINK.replace(r#"gatewayPort: "4143""#, "gatewayPort: 4143");
    let err = refusal::<Link>(&yaml);
    assert!(
        err.starts_with("spec.gatewayPort: invalid type: integer `4143`"),
        "{err}"
    );
}

#[test]
fn a_numeric_probe_port_is_refused_at_that_field() {
    let yaml = GATEWAY_LINK.replace(r#"port: "4191""#, "port: 4191");
    let err = refusal::<Link>(&yaml);
    assert!(
        err.starts_with("spec.probeSpec.port: invalid type: integer"),
        "{err}"
    );
}

#[test]
fn a_condition_status_outside_true_false_unknown_is_refused() {
    let yaml = GATEWAY_LINK.replace(r#"status: "True""#, "status: Yes");
    let err = refusal::<Link>(&yaml);
    assert!(
        err.starts_with("status.mirrorServices[0].conditions[0].status: unknown variant `Yes`"),
        "{err}"
    );
}

#[test]
fn a_mirror_entry_needs_its_remote_service() {
    let yaml = GATEWAY_LINK.replace(
        "    remoteRef:\n      kind: Service\n      name: bb\n      namespace: mc-demo\n",
        "",
    );
    let err = refusal::<Link>(&yaml);
    assert!(
        err.starts_with("status.mirrorServices[0]: missing field `remoteRef`"),
        "{err}"
    );
}
