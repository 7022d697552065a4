//! The multicluster commands against Kubernetes contexts: the `strait`
//! binary run with a kubeconfig whose contexts point at scripted API
//! servers holding what a cluster with strait and its multicluster
//! extension installed holds.

#[path = "support/fake_api.rs"]
mod fake_api;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use fake_api::FakeApi;
use serde_json::{Value, json};

/// A scratch home with a kubeconfig naming `contexts` (name, server).
struct Home(PathBuf);

impl Home {
    fn new(tag: &str, contexts: &[(&str, &str)]) -> Home {
        let dir =
            std::env::temp_dir().join(format!("strait-cli-kube-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut config =
            String::from("apiVersion: v1\nkind: Config\ncurrent-context: none\nclusters:\n");
        for (name, server) in contexts {
            config.push_str(&format!(
                "- name: {name}-cluster\n  cluster: {{server: '{server}'}}\n"
            ));
        }
        config.push_str("contexts:\n");
        for (name, _) in contexts {
            config.push_str(&format!(
                "- name: {name}\n  context: {{cluster: {name}-cluster, user: admin}}\n"
            ));
        }
        config.push_str("users:\n- name: admin\n  user: {token: admin-token}\n");
        std::fs::write(dir.join("kubeconfig"), config).unwrap();
        Home(dir)
    }

    async fn strait(&self, args: &[&str]) -> Output {
        let dir: &Path = &self.0;
        let dir = dir.to_path_buf();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_strait"))
                .args(&args)
                .env("STRAIT_HOME", &dir)
                .env("HOME", &dir)
                .env("KUBECONFIG", dir.join("kubeconfig"))
                .env_remove("RUST_LOG")
                .stdin(Stdio::null())
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The target API server's CA (any certificate will do).
const CA: &str = include_str!("fixtures/anchor.pem");

/// Base64, as Secrets and kubeconfigs carry bytes.
fn base64(bytes: &[u8]) -> String {
    match serde_json::to_value(k8s_openapi::ByteString(bytes.to_vec())).unwrap() {
        Value::String(s) => s,
        other => panic!("{other}"),
    }
}
const ANCHORS: &str = "-----BEGIN CERTIFICATE-----\nshared\n-----END CERTIFICATE-----\n";

/// What `strait install` leaves in a cluster that link-gen and check read.
fn control_plane(api: &FakeApi) {
    api.add(
        "configmaps",
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "linkerd-config", "namespace": "linkerd"},
               "data": {"values": "clusterDomain: cluster.local\nidentityTrustDomain: root.example\n"}}),
    );
    api.add(
        "configmaps",
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "linkerd-identity-trust-roots", "namespace": "linkerd"},
               "data": {"ca-bundle.crt": ANCHORS}}),
    );
}

/// What `strait multicluster install` leaves in a target cluster.
fn extension(api: &FakeApi) {
    api.add(
        "secrets",
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "linkerd-service-mirror-remote-access-default-token", "namespace": "linkerd-multicluster"},
               "type": "kubernetes.io/service-account-token",
               "data": {"token": base64(b"secret-token"), "ca.crt": base64(CA.as_bytes())}}),
    );
    api.add(
        "services",
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "linkerd-gateway", "namespace": "linkerd-multicluster"},
               "spec": {"type": "LoadBalancer", "ports": [
                   {"name": "mc-gateway", "port": 4143, "targetPort": 4143},
                   {"name": "mc-probe", "port": 4191, "targetPort": 4191}]},
               "status": {"loadBalancer": {"ingress": [{"hostname": "gw.east.example"}]}}}),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_gen_writes_the_token_ca_server_and_gateway_of_a_kubernetes_context() {
    let api = FakeApi::default();
    control_plane(&api);
    extension(&api);
    let server = api.start().await;
    let home = Home::new("link-gen", &[("east", &server)]);
    let output = home
        .strait(&[
            "--context",
            "east",
            "multicluster",
            "link-gen",
            "--cluster-name=target",
        ])
        .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let ca = base64(CA.as_bytes());
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: east\n  cluster:\n    certificate-authority-data: {ca}\n    server: {server}\n\
         contexts:\n- name: east\n  context:\n    cluster: east\n    user: linkerd-service-mirror-remote-access-default\n\
         current-context: east\nusers:\n- name: linkerd-service-mirror-remote-access-default\n  user:\n    token: secret-token\n"
    );
    let kubeconfig_base64 = base64(kubeconfig.as_bytes());
    let expected = format!(
        "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: linkerd-multicluster\n\
         ---\napiVersion: v1\nkind: Secret\ndata:\n  kubeconfig: {kubeconfig_base64}\n\
         metadata:\n  name: cluster-credentials-target\n  namespace: linkerd-multicluster\n\
         type: mirror.linkerd.io/remote-kubeconfig\n\
         ---\napiVersion: v1\nkind: Secret\ndata:\n  kubeconfig: {kubeconfig_base64}\n\
         metadata:\n\
         \x20 annotations:\n    multicluster.linkerd.io/cluster-domain: cluster.local\n    multicluster.linkerd.io/trust-domain: root.example\n\
         \x20 labels:\n    multicluster.linkerd.io/cluster-name: target\n\
         \x20 name: cluster-credentials-target\n  namespace: linkerd\n\
         type: mirror.linkerd.io/remote-kubeconfig\n\
         ---\napiVersion: multicluster.linkerd.io/v1alpha3\nkind: Link\nmetadata:\n  name: target\n  namespace: linkerd-multicluster\n\
         spec:\n  targetClusterName: target\n  targetClusterDomain: cluster.local\n  targetClusterLinkerdNamespace: linkerd\n\
         \x20 clusterCredentialsSecret: cluster-credentials-target\n  gatewayAddress: gw.east.example\n  gatewayPort: '4143'\n\
         \x20 gatewayIdentity: linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.root.example\n\
         \x20 probeSpec:\n    path: /ready\n    port: '4191'\n    period: 3s\n    timeout: 30s\n    failureThreshold: '3'\n\
         \x20 selector:\n    matchLabels:\n      mirror.linkerd.io/exported: 'true'\n\
         \x20 remoteDiscoverySelector:\n    matchLabels:\n      mirror.linkerd.io/exported: remote-discovery\n\
         \x20 federatedServiceSelector:\n    matchLabels:\n      mirror.linkerd.io/federated: member\n"
    );
    assert_eq!(text(&output.stdout), expected);
    let requests = api.requests();
    for wanted in [
        "GET /api/v1/namespaces/linkerd/configmaps/linkerd-config",
        "GET /api/v1/namespaces/linkerd-multicluster/secrets/linkerd-service-mirror-remote-access-default-token",
        "GET /api/v1/namespaces/linkerd-multicluster/services/linkerd-gateway",
    ] {
        assert!(
            requests.iter().any(|r| r == wanted),
            "no {wanted} in {requests:#?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_gen_without_the_extension_names_the_token_secret() {
    let api = FakeApi::default();
    control_plane(&api);
    let server = api.start().await;
    let home = Home::new("no-token", &[("east", &server)]);
    let output = home
        .strait(&[
            "--context",
            "east",
            "multicluster",
            "link-gen",
            "--cluster-name=target",
            "--gateway=false",
        ])
        .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert_eq!(
        text(&output.stderr),
        "error: cluster east: Secret linkerd-service-mirror-remote-access-default-token in linkerd-multicluster not found; install the multicluster extension with `strait multicluster install`\n"
    );
}

/// The documents of a YAML stream, as JSON.
fn documents(yaml: &str) -> Vec<Value> {
    use serde::Deserialize;
    serde_norway::Deserializer::from_str(yaml)
        .map(|d| Value::deserialize(d).unwrap())
        .collect()
}

/// east exports bb pod-to-pod; west holds the Link link-gen made for east,
/// its CRD, its ready service mirror, bb's mirror, and a service mirror
/// left over from a Link that is gone.
async fn linked(tag: &str) -> (FakeApi, FakeApi, Home) {
    let east = FakeApi::default();
    control_plane(&east);
    extension(&east);
    east.add(
        "namespaces",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "mc-demo"}}),
    );
    east.add(
        "services",
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "bb", "namespace": "mc-demo", "labels": {"mirror.linkerd.io/exported": "remote-discovery"}},
               "spec": {"ports": [{"name": "http", "port": 8080}]}}),
    );
    let west = FakeApi::default();
    control_plane(&west);
    let east_url = east.start().await;
    let west_url = west.start().await;
    let home = Home::new(tag, &[("east", &east_url), ("west", &west_url)]);
    let output = home
        .strait(&[
            "--context",
            "east",
            "multicluster",
            "link-gen",
            "--cluster-name=target",
            "--gateway=false",
        ])
        .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    for document in documents(&text(&output.stdout)) {
        match document["kind"].as_str() {
            Some("Secret") => west.add("secrets", document),
            Some("Link") => west.add("links", document),
            _ => {}
        }
    }
    west.add(
        "customresourcedefinitions",
        json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
               "metadata": {"name": "links.multicluster.linkerd.io"},
               "spec": {"group": "multicluster.linkerd.io", "scope": "Namespaced",
                        "names": {"kind": "Link", "plural": "links"}, "versions": []}}),
    );
    for (name, ready) in [("controller-target", 1), ("controller-gone", 1)] {
        west.add(
            "deployments",
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": name, "namespace": "linkerd-multicluster"},
                   "spec": {"selector": {"matchLabels": {"app": name}},
                            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": []}}},
                   "status": {"readyReplicas": ready}}),
        );
    }
    west.add(
        "leases",
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
               "metadata": {"name": "service-mirror-write-target", "namespace": "linkerd-multicluster"}}),
    );
    west.add(
        "services",
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "bb-target", "namespace": "mc-demo", "labels": {
                   "mirror.linkerd.io/mirrored-service": "true",
                   "mirror.linkerd.io/cluster-name": "target",
                   "multicluster.linkerd.io/remote-discovery": "target",
                   "multicluster.linkerd.io/remote-service": "bb"}},
               "spec": {"ports": [{"name": "http", "port": 8080}]}}),
    );
    (east, west, home)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reaches_the_target_with_the_link_credentials_and_finds_a_leftover_controller() {
    let (east, _west, home) = linked("check").await;
    let output = home
        .strait(&["--context", "west", "multicluster", "check"])
        .await;
    let out = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{out}\n{}",
        text(&output.stderr)
    );
    assert_eq!(
        out,
        "linkerd-multicluster\n--------------------\n\
         √ Link CRD exists\n\
         √ Link target is valid\n\
         √ Link target has a service mirror controller\n\
         √ Link target credentials resolve\n\
         √ Link target credentials resolve for the destination service\n\
         √ Link target reaches cluster east\n\
         √ Link target shares this cluster's trust anchors\n\
         √ Link target mirrors exported Services (1 exported)\n\
         ‼ Link target service mirror reports its mirrors\n    no controller has reported mirrored Services in the Link's status\n\
         √ Link target mirrors have endpoints (1 remote-discovery mirror resolves remote pods directly)\n\
         × every service mirror controller has a Link\n    Deployments in linkerd-multicluster without a Link: controller-gone; remove them with `strait multicluster unlink`, or link again with `strait multicluster link-gen`\n\
         \nStatus check results are ×\n"
    );
    // east was read as the Link's credentials say: with the remote-access token.
    assert!(
        east.authorizations()
            .iter()
            .any(|a| a == "Bearer secret-token"),
        "{:?}",
        east.authorizations()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlink_and_gateways_on_a_kubernetes_context() {
    let (_east, _west, home) = linked("unlink").await;
    let output = home
        .strait(&[
            "--context",
            "west",
            "multicluster",
            "unlink",
            "--cluster-name=target",
        ])
        .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "---\napiVersion: multicluster.linkerd.io/v1alpha3\nkind: Link\nmetadata:\n  name: target\n  namespace: linkerd-multicluster\n\
         ---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: cluster-credentials-target\n  namespace: linkerd-multicluster\n\
         ---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: cluster-credentials-target\n  namespace: linkerd\n\
         ---\napiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: service-mirror-write-target\n  namespace: linkerd-multicluster\n\
         ---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: controller-target\n  namespace: linkerd-multicluster\n\
         ---\napiVersion: v1\nkind: Service\nmetadata:\n  name: bb-target\n  namespace: mc-demo\n"
    );
    let output = home
        .strait(&[
            "--context",
            "west",
            "multicluster",
            "unlink",
            "--cluster-name=nope",
        ])
        .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("cluster west has no Link \"nope\""),
        "{}",
        text(&output.stderr)
    );

    // A pod-to-pod Link has no gateway to show.
    let output = home
        .strait(&["--context", "west", "multicluster", "gateways"])
        .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "CLUSTER  ALIVE  NUM_SVC  LATENCY\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_health_comes_from_the_service_mirrors_metrics() {
    let (_east, west, home) = linked("mirror-metrics").await;
    west.add(
        "links",
        json!({"apiVersion": "multicluster.linkerd.io/v1alpha3", "kind": "Link",
               "metadata": {"name": "south", "namespace": "linkerd-multicluster"},
               "spec": {"targetClusterName": "south", "clusterCredentialsSecret": "cluster-credentials-south",
                        "gatewayAddress": "192.0.2.1", "gatewayPort": "4143",
                        "probeSpec": {"port": "4191", "path": "/ready", "period": "3s"}}}),
    );
    west.add(
        "deployments",
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "controller-south", "namespace": "linkerd-multicluster"},
               "spec": {"selector": {"matchLabels": {"mirror": "south"}},
                        "template": {"metadata": {"labels": {"mirror": "south"}}, "spec": {"containers": []}}},
               "status": {"readyReplicas": 2}}),
    );
    // Two replicas: the standby has no gateway series, the leader has.
    for (pod, metrics) in [
        (
            "controller-south-a",
            "service_mirror_leader{link=\"south\"} 0\n",
        ),
        (
            "controller-south-b",
            "gateway_alive{link=\"south\"} 1\ngateway_latency_sum{link=\"south\"} 14.0\ngateway_latency_count{link=\"south\"} 2\n",
        ),
    ] {
        west.add(
            "pods",
            json!({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": pod, "namespace": "linkerd-multicluster", "labels": {"mirror": "south"}},
                   "spec": {"containers": []},
                   "status": {"phase": "Running"}}),
        );
        west.add_raw(
            &format!("/api/v1/namespaces/linkerd-multicluster/pods/{pod}:9999/proxy/metrics"),
            metrics,
        );
    }
    west.add(
        "services",
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "web-south", "namespace": "mc-demo",
                            "labels": {"mirror.linkerd.io/cluster-name": "south"}},
               "spec": {"ports": [{"port": 80}]}}),
    );
    // 192.0.2.1 answers nothing: only the mirror's view can make it alive.
    let output = home
        .strait(&["--context", "west", "multicluster", "gateways"])
        .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "CLUSTER  ALIVE  NUM_SVC  LATENCY\nsouth    True   1        7ms\n"
    );
    let output = home
        .strait(&["--context", "west", "multicluster", "check"])
        .await;
    let out = text(&output.stdout);
    assert!(
        out.contains("√ Link south gateway is alive (its service mirror's probe, 7ms)\n"),
        "{out}"
    );
    assert!(
        west.requests()
            .iter()
            .any(|r| r == "GET /api/v1/namespaces/linkerd-multicluster/pods/controller-south-b:9999/proxy/metrics"),
        "{:#?}",
        west.requests()
    );
}
