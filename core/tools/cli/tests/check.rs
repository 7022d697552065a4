//! `strait check`, run as a user runs it against clusters served over the
//! Kubernetes API: as a local context (the anchors from the cluster's
//! info) and as a Kubernetes context (the same server without the local
//! extension: `linkerd-config`, the trust roots, the control plane's
//! Deployments and the issuer Secret read as on a real cluster).

#[allow(dead_code)]
#[path = "support/local_cluster.rs"]
mod support;

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use serde_json::{Value, json};
use strait_identity::SigningCa;
use strait_store::{ClusterStore, MemoryStore};
use support::{Env, stdout};

const DAY: Duration = Duration::from_secs(86_400);

/// `$STRAIT_HOME/kubeconfig` with every context renamed `k8s-NAME` and no
/// `strait.io/local` extension: the same API servers, seen as Kubernetes.
fn as_kubernetes(env: &Env) -> String {
    let text = std::fs::read_to_string(env.home.join("kubeconfig")).unwrap();
    let mut config: Value = serde_norway::from_str(&text).unwrap();
    for cluster in config["clusters"].as_array_mut().unwrap() {
        cluster["cluster"]
            .as_object_mut()
            .unwrap()
            .remove("extensions");
    }
    for context in config["contexts"].as_array_mut().unwrap() {
        let name = context["name"].as_str().unwrap().to_string();
        context["name"] = json!(format!("k8s-{name}"));
    }
    config["current-context"] = json!("k8s-east");
    serde_norway::to_string(&config).unwrap()
}

fn apply(store: &MemoryStore, object: Value) {
    store.apply_json(object, "test").unwrap();
}

/// A control plane as `strait install` leaves it: its config, the trust
/// roots, ready Deployments and the issuer Secret (`issuer` signed by
/// `root`), and two meshed pods, one started with other anchors.
async fn installed(store: &MemoryStore, root: &SigningCa, issuer: &SigningCa, other: &SigningCa) {
    let anchors = root.as_trust_anchor().to_pem();
    apply(
        store,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "linkerd-config", "namespace": "linkerd"},
               "data": {"values": "clusterDomain: cluster.local\nidentityTrustDomain: cluster.local\n"}}),
    );
    apply(
        store,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "linkerd-identity-trust-roots", "namespace": "linkerd"},
               "data": {"ca-bundle.crt": anchors}}),
    );
    for name in ["linkerd-identity", "linkerd-destination", "linkerd-policy"] {
        apply(
            store,
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": name, "namespace": "linkerd"},
                   "spec": {"selector": {"matchLabels": {"app": name}},
                            "template": {"metadata": {"labels": {"app": name}},
                                         "spec": {"containers": [{"name": "c", "image": "strait"}]}}}}),
        );
        ready_replicas(store, name, 1).await;
    }
    let b64 = |text: &str| k8s_openapi::ByteString(text.as_bytes().to_vec());
    let secret = k8s_openapi::api::core::v1::Secret {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some("linkerd-identity-issuer".into()),
            namespace: Some("linkerd".into()),
            ..Default::default()
        },
        type_: Some("kubernetes.io/tls".into()),
        data: Some(
            [
                ("tls.crt".to_string(), b64(&issuer.certificate_pem())),
                ("tls.key".to_string(), b64(issuer.key_pem())),
            ]
            .into(),
        ),
        ..Default::default()
    };
    apply(store, serde_json::to_value(secret).unwrap());
    apply(
        store,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "mc-demo"}}),
    );
    for (pod, pem) in [
        ("bb-1", anchors.clone()),
        ("bb-2", other.as_trust_anchor().to_pem()),
    ] {
        apply(
            store,
            json!({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": pod, "namespace": "mc-demo"},
                   "spec": {"containers": [
                       {"name": "bb", "image": "buoyantio/bb:v0.0.5"},
                       {"name": "linkerd-proxy", "image": "cr.l5d.io/linkerd/proxy",
                        "env": [{"name": "LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS", "value": pem}]}]}}),
        );
        store
            .patch_status::<Pod>(
                "mc-demo",
                pod,
                json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}),
            )
            .await
            .unwrap();
    }
}

/// Deployment `name` of the control plane with `ready` ready replicas.
async fn ready_replicas(store: &MemoryStore, name: &str, ready: i32) {
    store
        .patch_status::<Deployment>("linkerd", name, json!({"readyReplicas": ready}))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kubernetes_context_is_checked_from_its_objects() {
    let env = Env::start("check-k8s").await;
    let root = SigningCa::generate_root("root.linkerd.cluster.local", 365 * DAY).unwrap();
    // An issuer that expires within 60 days: worth a warning, not a failure.
    let issuer = root
        .generate_intermediate("identity.linkerd.cluster.local", 30 * DAY)
        .unwrap();
    let other = SigningCa::generate_root("root.elsewhere", 365 * DAY).unwrap();
    installed(&env.east, &root, &issuer, &other).await;
    std::fs::write(&env.user_kubeconfig, as_kubernetes(&env)).unwrap();

    let output = env.strait(&["--context", "k8s-east", "check"], None).await;
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    for line in [
        "√ can query the Kubernetes API",
        "√ 'linkerd-config' config map exists",
        "√ control plane pods are ready",
        "√ trust anchors are within their validity period",
        "√ issuer cert is issued by the trust anchor",
        "‼ issuer cert is valid for at least 60 days\n    it expires on ",
        "√ the built-in plugins are active (no plugin pushed)",
        "Status check results are √",
    ] {
        assert!(out.contains(line), "no {line:?} in\n{out}");
    }

    // The data plane: the pod started with other anchors is named.
    let output = env
        .strait(
            &["--context", "k8s-east", "-n", "mc-demo", "check", "--proxy"],
            None,
        )
        .await;
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(out.contains("√ data plane namespace exists"), "{out}");
    assert!(out.contains("√ data plane proxies are ready"), "{out}");
    assert!(
        out.contains("× data plane proxies certificate match CA\n    1 pod(s) trust other anchors than the cluster's (restart them to pick up the current ones): mc-demo/bb-2"),
        "{out}"
    );

    // An issuer another root signed, a control plane not ready, a push
    // that left a key without a plugin: each fails, saying why.
    let stranger = other
        .generate_intermediate("identity.linkerd.cluster.local", 365 * DAY)
        .unwrap();
    installed(&env.east, &root, &stranger, &other).await;
    ready_replicas(&env.east, "linkerd-policy", 0).await;
    apply(
        &env.east,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "strait-plugins-status", "namespace": "linkerd",
                            "annotations": {"status.strait.io/authz.wasm":
                                "rejected: not a Wasm component; no plugin of this key is active"}}}),
    );
    let output = env.strait(&["--context", "k8s-east", "check"], None).await;
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    for line in [
        "× control plane pods are ready\n    Deployment linkerd-policy has no ready replica",
        "× issuer cert is issued by the trust anchor\n    ",
        "does not chain to the trust anchor",
        "× plugin authz.wasm is active\n    rejected: not a Wasm component; no plugin of this key is active",
    ] {
        assert!(out.contains(line), "no {line:?} in\n{out}");
    }

    // Before installing, an installed cluster fails the pre-checks.
    let output = env
        .strait(&["--context", "k8s-east", "check", "--pre"], None)
        .await;
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.contains("× control plane namespace does not already exist\n    namespace linkerd exists: a control plane (strait's or Linkerd's) is installed already"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_context_with_unreadable_anchors_fails_and_says_so() {
    let env = Env::start("check-local").await;
    // The test clusters' info names anchors that are no certificate.
    let output = env.strait(&["--context", "east", "check"], None).await;
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.contains("√ control plane pods are ready (strait local runs the control plane in its own process)"),
        "{out}"
    );
    assert!(
        out.contains("× trust anchors are valid certificates\n    "),
        "{out}"
    );
    assert!(!out.contains("issuer cert"), "{out}");
    // No cluster by that name: an error, not a report.
    let output = env.strait(&["--context", "nowhere", "check"], None).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).is_empty());
}
