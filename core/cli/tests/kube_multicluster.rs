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
        let dir = std::env::temp_dir().join(format!("strait-cli-kube-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut config = String::from("apiVersion: v1\nkind: Config\ncurrent-context: none\nclusters:\n");
        for (name, server) in contexts {
            config.push_str(&format!("- name: {name}-cluster\n  cluster: {{server: '{server}'}}\n"));
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

/// `-----BEGIN CERTIFICATE-----\neast-ca\n-----END CERTIFICATE-----\n`, the target API server's CA.
const CA_BASE64: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmVhc3QtY2EKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=";
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
               "data": {"token": "c2VjcmV0LXRva2Vu", "ca.crt": CA_BASE64}}),
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
        .strait(&["--context", "east", "multicluster", "link-gen", "--cluster-name=target"])
        .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: east\n  cluster:\n    certificate-authority-data: {CA_BASE64}\n    server: {server}\n\
         contexts:\n- name: east\n  context:\n    cluster: east\n    user: linkerd-service-mirror-remote-access-default\n\
         current-context: east\nusers:\n- name: linkerd-service-mirror-remote-access-default\n  user:\n    token: secret-token\n"
    );
    let kubeconfig_base64 = match serde_json::to_value(k8s_openapi::ByteString(kubeconfig.into_bytes())).unwrap() {
        Value::String(s) => s,
        other => panic!("{other}"),
    };
    let expected = format!(
        "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: linkerd\n\
         ---\napiVersion: v1\nkind: Secret\ndata:\n  kubeconfig: {kubeconfig_base64}\n\
         metadata:\n\
         \x20 annotations:\n    multicluster.linkerd.io/cluster-domain: cluster.local\n    multicluster.linkerd.io/trust-domain: root.example\n\
         \x20 labels:\n    multicluster.linkerd.io/cluster-name: target\n\
         \x20 name: cluster-credentials-target\n  namespace: linkerd\n\
         type: mirror.linkerd.io/remote-kubeconfig\n\
         ---\napiVersion: multicluster.linkerd.io/v1alpha3\nkind: Link\nmetadata:\n  name: target\n  namespace: linkerd\n\
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
        assert!(requests.iter().any(|r| r == wanted), "no {wanted} in {requests:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_gen_without_the_extension_names_the_token_secret() {
    let api = FakeApi::default();
    control_plane(&api);
    let server = api.start().await;
    let home = Home::new("no-token", &[("east", &server)]);
    let output = home
        .strait(&["--context", "east", "multicluster", "link-gen", "--cluster-name=target", "--gateway=false"])
        .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert_eq!(
        text(&output.stderr),
        "error: cluster east: Secret linkerd-service-mirror-remote-access-default-token in linkerd-multicluster not found; install the multicluster extension with `strait multicluster install`\n"
    );
}
