//! `multicluster link-gen` and `multicluster check`, run as a user runs
//! them: the generated documents applied into a second local cluster, and
//! the checks over good and broken Links.

#[allow(dead_code)]
#[path = "support/local_cluster.rs"]
mod support;

use k8s_openapi::api::core::v1::Pod;
use serde_json::{Value, json};
use strait_store::ClusterStore;
use support::{BB, Env, failed, ok, stdout};

/// east exports bb; west gets the Link from link-gen and (standing in for
/// the service mirror) the mirror bb-target.
async fn linked(env: &Env) {
    let file = env.file("bb.yaml", BB);
    ok(&env
        .strait(&["--context", "east", "apply", "-f", &file], None)
        .await);
    ok(&env
        .strait(
            &[
                "--context",
                "east",
                "-n",
                "mc-demo",
                "label",
                "svc/bb",
                "mirror.linkerd.io/exported=remote-discovery",
            ],
            None,
        )
        .await);
    let generated = env
        .strait(
            &[
                "--context",
                "east",
                "multicluster",
                "link-gen",
                "--cluster-name=target",
                "--gateway=false",
            ],
            None,
        )
        .await;
    let yaml = ok(&generated);
    let applied = ok(&env
        .strait(&["--context", "west", "apply", "-f", "-"], Some(&yaml))
        .await);
    assert_eq!(
        applied,
        "namespace/linkerd-multicluster unchanged\n\
         secret/cluster-credentials-target created\n\
         secret/cluster-credentials-target created\n\
         link.multicluster.linkerd.io/target created\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_gen_output_applies_into_the_source_cluster() {
    let env = Env::start("link-gen").await;
    linked(&env).await;
    let find = |kind: &str, name: &str| {
        env.west
            .objects()
            .into_iter()
            .find(|(k, o)| k.kind == kind && o["metadata"]["name"] == name)
            .map(|(_, o)| (*o).clone())
            .unwrap_or_else(|| panic!("no {kind} {name} in west"))
    };
    // The service mirror's copy beside the Link, the destination's in the
    // control plane's namespace, as Linkerd puts them.
    let secrets: Vec<Value> = env
        .west
        .objects()
        .into_iter()
        .filter(|(k, o)| {
            k.kind == "Secret" && o["metadata"]["name"] == "cluster-credentials-target"
        })
        .map(|(_, o)| (*o).clone())
        .collect();
    let mut namespaces: Vec<&str> = secrets
        .iter()
        .filter_map(|s| s["metadata"]["namespace"].as_str())
        .collect();
    namespaces.sort();
    assert_eq!(namespaces, ["linkerd", "linkerd-multicluster"]);
    let secret = secrets
        .iter()
        .find(|s| s["metadata"]["namespace"] == "linkerd")
        .cloned()
        .expect("the destination's copy");
    assert_eq!(secret["type"], "mirror.linkerd.io/remote-kubeconfig");
    assert_eq!(
        secret["metadata"]["labels"]["multicluster.linkerd.io/cluster-name"],
        "target"
    );
    assert_eq!(
        secret["metadata"]["annotations"]["multicluster.linkerd.io/trust-domain"],
        "cluster.local"
    );
    assert_eq!(
        secret["metadata"]["annotations"]["multicluster.linkerd.io/cluster-domain"],
        "cluster.local"
    );
    let secret: k8s_openapi::api::core::v1::Secret = serde_json::from_value(secret).unwrap();
    let kubeconfig = String::from_utf8(secret.data.unwrap()["kubeconfig"].0.clone()).unwrap();
    // East's own API, CA and token, marked as a local cluster so that
    // later runs of `strait local up` refresh them.
    assert!(
        kubeconfig.contains("server: https://127.0.0.1:"),
        "{kubeconfig}"
    );
    assert!(
        kubeconfig.contains("certificate-authority-data:"),
        "{kubeconfig}"
    );
    assert!(kubeconfig.contains("token:"), "{kubeconfig}");
    assert_eq!(
        strait_local::local_target(&kubeconfig).as_deref(),
        Some("east")
    );

    let link = find("Link", "target");
    assert_eq!(link["apiVersion"], "multicluster.linkerd.io/v1alpha3");
    assert_eq!(link["metadata"]["namespace"], "linkerd-multicluster");
    let spec = &link["spec"];
    assert_eq!(spec["targetClusterName"], "target");
    assert_eq!(spec["targetClusterDomain"], "cluster.local");
    assert_eq!(spec["targetClusterLinkerdNamespace"], "linkerd");
    assert_eq!(
        spec["clusterCredentialsSecret"],
        "cluster-credentials-target"
    );
    assert_eq!(
        spec["remoteDiscoverySelector"],
        json!({"matchLabels": {"mirror.linkerd.io/exported": "remote-discovery"}})
    );
    assert_eq!(
        spec["selector"],
        json!({"matchLabels": {"mirror.linkerd.io/exported": "true"}})
    );
    assert_eq!(
        spec["federatedServiceSelector"],
        json!({"matchLabels": {"mirror.linkerd.io/federated": "member"}})
    );
    for gateway_field in [
        "gatewayAddress",
        "gatewayPort",
        "gatewayIdentity",
        "probeSpec",
    ] {
        assert!(
            spec.get(gateway_field).is_none(),
            "{gateway_field} in a gatewayless Link"
        );
    }
    // Applying it again changes nothing.
    let yaml = ok(&env
        .strait(
            &[
                "--context",
                "east",
                "multicluster",
                "link-gen",
                "--cluster-name=target",
                "--gateway=false",
            ],
            None,
        )
        .await);
    let again = ok(&env
        .strait(&["--context", "west", "apply", "-f", "-"], Some(&yaml))
        .await);
    assert!(again.lines().all(|l| l.ends_with(" unchanged")), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_links_need_a_gateway_and_use_its_pod_ip() {
    let env = Env::start("gateway").await;
    let err = failed(
        &env.strait(
            &[
                "--context",
                "east",
                "multicluster",
                "link-gen",
                "--cluster-name=target",
            ],
            None,
        )
        .await,
    );
    assert!(
        err.contains("has no gateway (Service linkerd-gateway in namespace linkerd-multicluster)"),
        "{err}"
    );
    assert!(err.contains("--gateway=false"), "{err}");

    let gateway = "apiVersion: v1\nkind: Namespace\nmetadata: {name: linkerd-multicluster}\n---\n\
        apiVersion: v1\nkind: Service\nmetadata: {name: linkerd-gateway, namespace: linkerd-multicluster}\n\
        spec:\n  selector: {app: linkerd-gateway}\n  ports:\n  - {name: mc-gateway, port: 4143}\n  - {name: mc-probe, port: 4191}\n---\n\
        apiVersion: v1\nkind: Pod\nmetadata: {name: linkerd-gateway-1, namespace: linkerd-multicluster, labels: {app: linkerd-gateway}}\n\
        spec:\n  containers: [{name: proxy, image: strait}]\n";
    ok(&env
        .strait(&["--context", "east", "apply", "-f", "-"], Some(gateway))
        .await);
    env.east
        .patch_status::<Pod>(
            "linkerd-multicluster",
            "linkerd-gateway-1",
            json!({"podIP": "127.0.10.7"}),
        )
        .await
        .unwrap();
    let yaml = ok(&env
        .strait(
            &[
                "--context",
                "east",
                "multicluster",
                "link-gen",
                "--cluster-name",
                "target",
            ],
            None,
        )
        .await);
    ok(&env
        .strait(&["--context", "west", "apply", "-f", "-"], Some(&yaml))
        .await);
    let link: Value = env
        .west
        .objects()
        .into_iter()
        .find(|(k, _)| k.kind == "Link")
        .map(|(_, o)| (*o).clone())
        .unwrap();
    let spec = &link["spec"];
    assert_eq!(spec["gatewayAddress"], "127.0.10.7");
    assert_eq!(spec["gatewayPort"], "4143");
    assert_eq!(
        spec["gatewayIdentity"],
        "linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local"
    );
    assert_eq!(spec["probeSpec"]["port"], "4191");
    assert_eq!(spec["probeSpec"]["path"], "/ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_passes_on_a_good_link_and_names_a_missing_secret() {
    let env = Env::start("check").await;
    linked(&env).await;
    // The mirror the service mirror would write, in remote-discovery mode.
    let mirror = "apiVersion: v1\nkind: Namespace\nmetadata: {name: mc-demo}\n---\n\
        apiVersion: v1\nkind: Service\nmetadata:\n  name: bb-target\n  namespace: mc-demo\n  labels:\n\
        \x20   mirror.linkerd.io/mirrored-service: \"true\"\n    mirror.linkerd.io/cluster-name: target\n\
        \x20   multicluster.linkerd.io/remote-discovery: target\n    multicluster.linkerd.io/remote-service: bb\n\
        spec:\n  ports: [{name: http, port: 8080}]\n";
    ok(&env
        .strait(&["--context", "west", "apply", "-f", "-"], Some(mirror))
        .await);
    let output = env
        .strait(&["--context", "west", "multicluster", "check"], None)
        .await;
    let out = ok(&output);
    for line in [
        "√ Link CRD exists",
        "√ Link target is valid",
        "√ Link target credentials resolve",
        "√ Link target credentials resolve for the destination service",
        "√ Link target reaches cluster east",
        "√ Link target shares this cluster's trust anchors",
        "√ Link target mirrors exported Services (1 exported)",
        "√ Link target mirrors have endpoints (1 remote-discovery mirror resolves remote pods directly)",
        "Status check results are √",
    ] {
        assert!(out.contains(line), "no {line:?} in:\n{out}");
    }
    assert!(!out.contains('×'), "{out}");

    // Without its mirror, the Link fails and says which.
    ok(&env
        .strait(
            &[
                "--context",
                "west",
                "-n",
                "mc-demo",
                "delete",
                "svc/bb-target",
            ],
            None,
        )
        .await);
    let out = stdout(
        &env.strait(&["--context", "west", "multicluster", "check"], None)
            .await,
    );
    assert!(out.contains("× Link target mirrors exported Services (1 exported)\n    missing mirror Services: mc-demo/bb-target"), "{out}");

    // A Link whose Secret is missing fails, naming the Secret.
    let bad = "apiVersion: multicluster.linkerd.io/v1alpha3\nkind: Link\nmetadata: {name: bad, namespace: linkerd-multicluster}\n\
        spec:\n  targetClusterName: bad\n  clusterCredentialsSecret: cluster-credentials-bad\n";
    ok(&env
        .strait(&["--context", "west", "apply", "-f", "-"], Some(bad))
        .await);
    let output = env
        .strait(&["--context", "west", "multicluster", "check"], None)
        .await;
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert!(
        out.contains("× Link bad credentials resolve\n    secrets \"cluster-credentials-bad\" in linkerd-multicluster not found"),
        "{out}"
    );
    assert!(
        out.contains("‼ Link bad selects Services to mirror\n    selector and remoteDiscoverySelector are both unset or empty"),
        "{out}"
    );
    assert!(!out.contains("‼ Link target selects"), "{out}");
    assert!(out.ends_with("Status check results are ×\n"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inject_takes_the_trust_anchors_of_the_cluster_it_is_given() {
    let env = Env::start("inject").await;
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: mc-demo\nspec:\n  containers:\n  - name: app\n    image: app:1\n";
    let injected = ok(&env
        .strait(&["--context", "east", "inject", "-"], Some(pod))
        .await);
    let pod: Pod = serde_norway::from_str(injected.trim_end_matches("---\n")).unwrap();
    let proxy = pod
        .spec
        .unwrap()
        .containers
        .into_iter()
        .find(|c| c.name == "linkerd-proxy")
        .expect("a proxy");
    let anchors = proxy
        .env
        .unwrap_or_default()
        .into_iter()
        .find(|v| v.name == "LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS")
        .and_then(|v| v.value);
    // The test clusters' anchors (see support/local_cluster.rs).
    assert_eq!(
        anchors.as_deref(),
        Some("-----BEGIN CERTIFICATE-----\nshared\n-----END CERTIFICATE-----\n")
    );
}
