use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::json;
use strait_store::{ClusterStore, MemoryStore};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use super::*;
use crate::link_gen::generate;
use crate::testing::{
    CONTROL_PLANE, TestCluster, cluster, east_and_store, link_gen_options, store_with,
};

/// A gateway's probe endpoint answering 200 to every request, on a loopback port.
async fn live_gateway() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    (port, task)
}

const EXPORTED: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: mc-demo}
---
apiVersion: v1
kind: Service
metadata: {name: bb, namespace: mc-demo, labels: {mirror.linkerd.io/exported: remote-discovery}}
spec: {ports: [{name: http, port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: mc-demo, labels: {mirror.linkerd.io/exported: "true"}}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: private, namespace: mc-demo}
spec: {ports: [{name: http, port: 80}]}
"#;

const MIRRORS: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: mc-demo}
---
apiVersion: v1
kind: Namespace
metadata: {name: linkerd-multicluster}
---
apiVersion: v1
kind: Service
metadata:
  name: bb-target
  namespace: mc-demo
  labels: {mirror.linkerd.io/mirrored-service: "true", mirror.linkerd.io/cluster-name: target, multicluster.linkerd.io/remote-discovery: target, multicluster.linkerd.io/remote-service: bb}
spec: {ports: [{name: http, port: 8080}]}
---
apiVersion: v1
kind: Service
metadata:
  name: web-target
  namespace: mc-demo
  labels: {mirror.linkerd.io/mirrored-service: "true", mirror.linkerd.io/cluster-name: target}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: web-target, namespace: mc-demo, labels: {mirror.linkerd.io/cluster-name: target}}
subsets: [{addresses: [{ip: 127.0.0.1}], ports: [{name: http, port: 4143}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: controller-target, namespace: linkerd-multicluster}
spec: {selector: {matchLabels: {app: c}}, template: {metadata: {labels: {app: c}}, spec: {containers: [{name: c, image: strait}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: controller-old, namespace: linkerd-multicluster}
spec: {selector: {matchLabels: {app: o}}, template: {metadata: {labels: {app: o}}, spec: {containers: [{name: o, image: strait}]}}}
"#;

/// west, linked to east (which exports bb pod-to-pod and web through the
/// gateway, probed at 127.0.0.1:`probe_port`), with both mirrors, a ready
/// controller for the Link and one left over from an old Link.
async fn linked(probe_port: u16) -> (TestCluster, MemoryStore, MemoryStore) {
    let (east, east_store) = east_and_store().await;
    let report = east_store.apply_yaml("test", EXPORTED, "test");
    assert!(report.errors.is_empty(), "{report}");
    let args = link_gen_options(&["--cluster-name=target", "--gateway-addresses=127.0.0.1"]);
    let yaml = generate(&east, &args).await.unwrap();
    let yaml = yaml.replace("port: '4191'", &format!("port: '{probe_port}'"));
    assert!(yaml.contains(&format!("port: '{probe_port}'")), "{yaml}");
    let west = store_with(&format!("{CONTROL_PLANE}---{MIRRORS}"));
    let report = west.apply_yaml("link-gen", &yaml, "test");
    assert!(report.errors.is_empty(), "{report}");
    west.patch_status::<Deployment>(
        "linkerd-multicluster",
        "controller-target",
        json!({"readyReplicas": 1}),
    )
    .await
    .unwrap();
    west.apply(&link_crd(), "test").await.unwrap();
    let source = cluster(
        "west",
        west.clone(),
        "https://west.example:6443",
        vec![east],
    );
    (source, west, east_store)
}

fn link_crd() -> CustomResourceDefinition {
    strait_api::custom_resource_definitions()
        .unwrap()
        .into_iter()
        .find(|crd| crd.spec.names.kind == "Link")
        .unwrap()
}

fn has(report: &Report, line: &str) -> bool {
    report.lines.iter().any(|l| l == line)
}

#[tokio::test]
async fn a_good_link_passes_every_check_and_a_leftover_controller_fails() {
    let (port, _gateway) = live_gateway().await;
    let (west, _, _) = linked(port).await;
    let report = super::report(&west, &mut |_| {}).await;
    for line in [
        "√ Link CRD exists",
        "√ Link target is valid",
        "√ Link target has a service mirror controller",
        "√ Link target credentials resolve",
        "√ Link target credentials resolve for the destination service",
        "√ Link target reaches cluster east",
        "√ Link target shares this cluster's trust anchors",
        "√ Link target mirrors exported Services (2 exported)",
        "‼ Link target service mirror reports its mirrors\n    no controller has reported mirrored Services in the Link's status",
        "√ Link target mirrors have endpoints (1 remote-discovery mirror resolves remote pods directly)",
        "× every service mirror controller has a Link\n    Deployments in linkerd-multicluster without a Link: controller-old; remove them with `strait multicluster unlink`, or link again with `strait multicluster link-gen`",
    ] {
        assert!(has(&report, line), "no {line:?} in {:#?}", report.lines);
    }
    assert!(
        report
            .lines
            .iter()
            .any(|l| l.starts_with("√ Link target gateway is alive (") && l.ends_with("ms)")),
        "{:#?}",
        report.lines
    );
    assert!(report.failed);
    assert_eq!(
        report.lines.iter().filter(|l| l.starts_with('×')).count(),
        1
    );
}

#[tokio::test]
async fn missing_controller_crd_gateway_mirror_and_anchors_each_fail() {
    let (port, gateway) = live_gateway().await;
    let (west_cluster, west, east) = linked(port).await;
    gateway.abort();
    let _ = gateway.await;
    west.delete::<Deployment>("linkerd-multicluster", "controller-target")
        .await
        .unwrap();
    west.delete::<Deployment>("linkerd-multicluster", "controller-old")
        .await
        .unwrap();
    west.delete::<CustomResourceDefinition>("", "links.multicluster.linkerd.io")
        .await
        .unwrap();
    west.delete::<k8s_openapi::api::core::v1::Endpoints>("mc-demo", "web-target")
        .await
        .unwrap();
    let mut anchors: ConfigMap = east
        .get("linkerd", "linkerd-identity-trust-roots")
        .await
        .unwrap()
        .unwrap();
    anchors.data = Some(BTreeMap::from([("ca-bundle.crt".into(), "other".into())]));
    anchors.metadata.managed_fields = None;
    east.apply(&anchors, "test").await.unwrap();

    let report = super::report(&west_cluster, &mut |_| {}).await;
    for line in [
        "× Link CRD exists\n    CustomResourceDefinition links.multicluster.linkerd.io not found; install the multicluster extension with `strait multicluster install`",
        "× Link target has a service mirror controller\n    no Deployment controller-target in linkerd-multicluster; install one with `strait multicluster install`",
        "× Link target shares this cluster's trust anchors\n    the clusters' trust anchors differ: pods cannot verify each other's identities",
        "× Link target mirrors have endpoints\n    gateway-mode mirrors without ready endpoints: mc-demo/web-target",
        "√ every service mirror controller has a Link",
    ] {
        assert!(has(&report, line), "no {line:?} in {:#?}", report.lines);
    }
    let dead = report
        .lines
        .iter()
        .find(|l| l.starts_with("× Link target gateway is alive\n"))
        .unwrap_or_else(|| panic!("{:#?}", report.lines));
    assert!(
        dead.contains(&format!("http://127.0.0.1:{port}/ready")),
        "{dead}"
    );

    // A mirror gone, and a Link whose credentials point nowhere.
    west.delete::<k8s_openapi::api::core::v1::Service>("mc-demo", "bb-target")
        .await
        .unwrap();
    let elsewhere = crate::kubeconfig::Credentials {
        cluster: "north".into(),
        server: "https://north.example:6443".into(),
        user: "u".into(),
        certificate_authority: None,
        token: None,
        local_cluster: None,
    };
    let mut secret: k8s_openapi::api::core::v1::Secret = west
        .get("linkerd-multicluster", "cluster-credentials-target")
        .await
        .unwrap()
        .unwrap();
    secret.metadata.name = Some("cluster-credentials-north".into());
    secret.metadata.resource_version = None;
    secret.metadata.uid = None;
    secret.data = Some(BTreeMap::from([(
        "kubeconfig".into(),
        k8s_openapi::ByteString(elsewhere.to_kubeconfig().unwrap().into_bytes()),
    )]));
    west.apply(&secret, "test").await.unwrap();
    let north = "apiVersion: multicluster.linkerd.io/v1alpha3\nkind: Link\nmetadata: {name: north, namespace: linkerd-multicluster}\n\
        spec: {targetClusterName: north, clusterCredentialsSecret: cluster-credentials-north, gatewayPort: 'x'}\n";
    assert!(west.apply_yaml("t", north, "test").errors.is_empty());
    let report = super::report(&west_cluster, &mut |_| {}).await;
    assert!(
        has(
            &report,
            "× Link target mirrors exported Services (2 exported)\n    missing mirror Services: mc-demo/bb-target"
        ),
        "{:#?}",
        report.lines
    );
    assert!(
        has(
            &report,
            "× Link north is valid\n    gatewayPort \"x\" is not a port number"
        ),
        "{:#?}",
        report.lines
    );
    let fixed = north.replace(", gatewayPort: 'x'", "");
    assert!(west.apply_yaml("t", &fixed, "test").errors.is_empty());
    let report = super::report(&west_cluster, &mut |_| {}).await;
    assert!(
        has(
            &report,
            "× Link north credentials resolve\n    secret \"cluster-credentials-north\" in linkerd-multicluster: cluster at https://north.example:6443 not found"
        ),
        "{:#?}",
        report.lines
    );
    assert!(
        has(
            &report,
            "‼ Link north selects Services to mirror\n    selector and remoteDiscoverySelector are both unset or empty: nothing will be mirrored"
        ),
        "{:#?}",
        report.lines
    );
}

#[tokio::test]
async fn a_targets_anchors_come_from_linkerd_config_when_the_roots_cannot_be_read() {
    let (port, _gateway) = live_gateway().await;
    let (west_cluster, _, east) = linked(port).await;
    let anchors = "√ Link target shares this cluster's trust anchors";
    east.delete::<ConfigMap>("linkerd", "linkerd-identity-trust-roots")
        .await
        .unwrap();
    let report = super::report(&west_cluster, &mut |_| {}).await;
    assert!(
        has(
            &report,
            "‼ Link target shares this cluster's trust anchors\n    the target's trust anchors cannot be read with the Link's credentials (ConfigMap linkerd-identity-trust-roots, or identityTrustAnchorsPEM in linkerd-config)"
        ),
        "{:#?}",
        report.lines
    );
    let mut config: ConfigMap = east
        .get("linkerd", "linkerd-config")
        .await
        .unwrap()
        .unwrap();
    config.metadata.managed_fields = None;
    let values = config.data.as_mut().unwrap().get_mut("values").unwrap();
    values.push_str(
        "identityTrustAnchorsPEM: |\n  -----BEGIN CERTIFICATE-----\n  shared\n  -----END CERTIFICATE-----\n",
    );
    east.apply(&config, "test").await.unwrap();
    let report = super::report(&west_cluster, &mut |_| {}).await;
    assert!(has(&report, anchors), "{:#?}", report.lines);
}

/// A Link where no controller follows it (where strait kept them before it
/// put them where Linkerd does), and a Link without the destination's copy
/// of its credentials: each fails, saying what to do.
#[tokio::test]
async fn a_link_out_of_place_or_without_the_destinations_credentials_fails() {
    let (port, _gateway) = live_gateway().await;
    let (west_cluster, west, _) = linked(port).await;
    west.delete::<k8s_openapi::api::core::v1::Secret>("linkerd", "cluster-credentials-target")
        .await
        .unwrap();
    let report = super::report(&west_cluster, &mut |_| {}).await;
    assert!(
        has(
            &report,
            "× Link target credentials resolve for the destination service\n    secrets \"cluster-credentials-target\" in linkerd not found: remote-discovery mirrors of this Link cannot resolve; apply the output of `strait multicluster link-gen` again"
        ),
        "{:#?}",
        report.lines
    );
    let old = "apiVersion: multicluster.linkerd.io/v1alpha3\nkind: Link\nmetadata: {name: old, namespace: linkerd}\n\
        spec: {targetClusterName: old, clusterCredentialsSecret: cluster-credentials-old}\n";
    assert!(west.apply_yaml("t", old, "test").errors.is_empty());
    let report = super::report(&west_cluster, &mut |_| {}).await;
    assert!(
        has(
            &report,
            "× Link old is in linkerd-multicluster\n    it is in linkerd, where no service mirror or destination service follows it; generate it again with `strait multicluster link-gen` and delete this one"
        ),
        "{:#?}",
        report.lines
    );
}
