use k8s_openapi::api::core::v1::Secret;
use strait_store::ClusterStore;

use super::*;
use crate::testing::{
    CA, CONTROL_PLANE, EXTENSION, TOKEN, cluster, east, link_gen_options as args, store_with,
};

/// The documents of a generated stream.
fn documents(yaml: &str) -> Vec<serde_json::Value> {
    use serde::Deserialize;
    serde_norway::Deserializer::from_str(yaml)
        .map(|d| serde_json::Value::deserialize(d).expect("YAML"))
        .collect()
}

const KUBECONFIG: &str = "\
apiVersion: v1
kind: Config
clusters:
- name: east
  cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmVhc3QtY2EKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=
    server: https://east.example:6443
contexts:
- name: east
  context:
    cluster: east
    user: linkerd-service-mirror-remote-access-default
current-context: east
users:
- name: linkerd-service-mirror-remote-access-default
  user:
    token: eyJ0b2tlbiI6ImVhc3QifQ
";

#[tokio::test]
async fn a_kubernetes_target_gives_its_token_ca_server_and_gateway() {
    let east = east().await;
    let yaml = generate(&east, &args(&["--cluster-name=target"]))
        .await
        .unwrap();
    let docs = documents(&yaml);
    assert_eq!(docs.len(), 4, "{yaml}");
    assert_eq!(
        docs[0],
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "linkerd-multicluster"}})
    );
    // Two copies of the same credentials, where Linkerd puts them: the
    // service mirror's beside the Link, the destination's (labelled with
    // the cluster and its domains) in the control plane's namespace.
    let without_data = |doc: &serde_json::Value| {
        let secret: Secret = serde_json::from_value(doc.clone()).unwrap();
        let kubeconfig =
            String::from_utf8(secret.data.clone().unwrap()["kubeconfig"].0.clone()).unwrap();
        let mut doc = doc.clone();
        doc.as_object_mut().unwrap().remove("data");
        (doc, kubeconfig)
    };
    let (mirror_secret, kubeconfig) = without_data(&docs[1]);
    assert_eq!(kubeconfig, KUBECONFIG);
    assert_eq!(
        mirror_secret,
        serde_json::json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": "cluster-credentials-target",
                "namespace": "linkerd-multicluster",
            },
            "type": "mirror.linkerd.io/remote-kubeconfig",
        })
    );
    let (destination_secret, copy) = without_data(&docs[2]);
    assert_eq!(copy, KUBECONFIG);
    assert_eq!(
        destination_secret,
        serde_json::json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": "cluster-credentials-target",
                "namespace": "linkerd",
                "labels": {"multicluster.linkerd.io/cluster-name": "target"},
                "annotations": {
                    "multicluster.linkerd.io/cluster-domain": "cluster.local",
                    "multicluster.linkerd.io/trust-domain": "root.example",
                },
            },
            "type": "mirror.linkerd.io/remote-kubeconfig",
        })
    );
    assert_eq!(
        docs[3],
        serde_json::json!({
            "apiVersion": "multicluster.linkerd.io/v1alpha3",
            "kind": "Link",
            "metadata": {"name": "target", "namespace": "linkerd-multicluster"},
            "spec": {
                "targetClusterName": "target",
                "targetClusterDomain": "cluster.local",
                "targetClusterLinkerdNamespace": "linkerd",
                "clusterCredentialsSecret": "cluster-credentials-target",
                "gatewayAddress": "203.0.113.7",
                "gatewayPort": "4143",
                "gatewayIdentity": "linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.root.example",
                "probeSpec": {"path": "/ready", "port": "4191", "period": "3s", "timeout": "30s", "failureThreshold": "3"},
                "selector": {"matchLabels": {"mirror.linkerd.io/exported": "true"}},
                "remoteDiscoverySelector": {"matchLabels": {"mirror.linkerd.io/exported": "remote-discovery"}},
                "federatedServiceSelector": {"matchLabels": {"mirror.linkerd.io/federated": "member"}},
            },
        })
    );
    // The credentials reach back the cluster they were made for.
    let (context, server) = crate::kubeconfig::current_server(&kubeconfig).unwrap();
    assert_eq!(
        (context.as_str(), server.as_str()),
        ("east", "https://east.example:6443")
    );
    assert!(kubeconfig.contains(TOKEN) && !kubeconfig.contains(CA));
}

#[tokio::test]
async fn flags_override_the_server_gateway_and_selectors() {
    let east = east().await;
    let yaml = generate(
        &east,
        &args(&[
            "--cluster-name=target",
            "--api-server-address=https://10.0.0.1:443",
            "--gateway-addresses=gw.example,198.51.100.2",
            "--gateway-port=10143",
            "--selector=export=yes",
            "--remote-discovery-selector=pod-to-pod",
            "--federated-service-selector=tier=api",
        ]),
    )
    .await
    .unwrap();
    let docs = documents(&yaml);
    let secret: Secret = serde_json::from_value(docs[1].clone()).unwrap();
    let kubeconfig = String::from_utf8(secret.data.unwrap()["kubeconfig"].0.clone()).unwrap();
    assert!(
        kubeconfig.contains("    server: https://10.0.0.1:443\n"),
        "{kubeconfig}"
    );
    let spec = &docs[3]["spec"];
    assert_eq!(spec["gatewayAddress"], "gw.example,198.51.100.2");
    assert_eq!(spec["gatewayPort"], "10143");
    assert_eq!(
        spec["selector"],
        serde_json::json!({"matchLabels": {"export": "yes"}})
    );
    assert_eq!(
        spec["remoteDiscoverySelector"],
        serde_json::json!({"matchExpressions": [{"key": "pod-to-pod", "operator": "Exists"}]})
    );
    assert_eq!(
        spec["federatedServiceSelector"],
        serde_json::json!({"matchLabels": {"tier": "api"}})
    );

    let gatewayless = generate(&east, &args(&["--cluster-name=target", "--gateway=false"]))
        .await
        .unwrap();
    let spec = &documents(&gatewayless)[3]["spec"];
    for field in [
        "gatewayAddress",
        "gatewayPort",
        "gatewayIdentity",
        "probeSpec",
    ] {
        assert!(spec.get(field).is_none(), "{field} in {spec}");
    }
}

#[tokio::test]
async fn missing_pieces_name_the_object_and_the_command_that_makes_it() {
    let pod_to_pod = args(&["--cluster-name=target", "--gateway=false"]);

    let bare = cluster(
        "east",
        store_with(""),
        "https://east.example:6443",
        Vec::new(),
    );
    let err = generate(&bare, &pod_to_pod).await.unwrap_err().to_string();
    assert_eq!(
        err,
        "cluster east: ConfigMap linkerd-config in linkerd not found; install the control plane with `strait install`"
    );

    let no_extension = cluster(
        "east",
        store_with(CONTROL_PLANE),
        "https://east.example:6443",
        Vec::new(),
    );
    let err = generate(&no_extension, &pod_to_pod)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "cluster east: Secret linkerd-service-mirror-remote-access-default-token in linkerd-multicluster not found; install the multicluster extension with `strait multicluster install`"
    );

    // The token Secret before Kubernetes has filled it in.
    let empty_token = EXTENSION.replace("  token: ZXlKMGIydGxiaUk2SW1WaGMzUWlmUQ==\n", "");
    let unfilled = cluster(
        "east",
        store_with(&format!("{CONTROL_PLANE}---{empty_token}")),
        "https://east.example:6443",
        Vec::new(),
    );
    let err = generate(&unfilled, &pod_to_pod)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("has no \"token\" yet"), "{err}");

    // No server in the kubeconfig and none given.
    let store = store_with(&format!("{CONTROL_PLANE}---{EXTENSION}"));
    let serverless = crate::cluster::Store::new(
        "east",
        store.clone(),
        None,
        crate::testing::MapReach::default(),
    );
    let err = generate(&serverless, &pod_to_pod)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("pass --api-server-address"), "{err}");

    // A gateway whose load balancer has no address yet.
    let no_lb = cluster(
        "east",
        store.clone(),
        "https://east.example:6443",
        Vec::new(),
    );
    let err = generate(&no_lb, &args(&["--cluster-name=target"]))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "Service linkerd-gateway in linkerd-multicluster has no load balancer address yet"
        ),
        "{err}"
    );
    // Without the gateway Service at all.
    store
        .delete::<k8s_openapi::api::core::v1::Service>("linkerd-multicluster", "linkerd-gateway")
        .await
        .unwrap();
    let err = generate(&no_lb, &args(&["--cluster-name=target"]))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("has no gateway (Service linkerd-gateway in namespace linkerd-multicluster)"),
        "{err}"
    );
    assert!(
        err.contains("`strait multicluster install`") && err.contains("--gateway=false"),
        "{err}"
    );

    let err = generate(&no_lb, &args(&["--cluster-name=", "--gateway=false"]))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(err, "--cluster-name must not be empty");
    let err = generate(&no_lb, &args(&["--cluster-name=t", "--selector=a in (b)"]))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("--selector: "), "{err}");
}

#[test]
fn the_default_selectors_are_the_ones_a_link_falls_back_to() {
    let parse = |text| selector::parse(text).unwrap();
    assert_eq!(
        parse(DEFAULT_SELECTOR),
        strait_api::labels::default_gateway_selector()
    );
    assert_eq!(
        parse(DEFAULT_REMOTE_DISCOVERY_SELECTOR),
        strait_api::labels::default_remote_discovery_selector()
    );
    assert_eq!(
        parse(DEFAULT_FEDERATED_SERVICE_SELECTOR),
        strait_api::labels::default_federated_service_selector()
    );
}
