//! `strait plugin push` as a user runs it against local clusters: the
//! plugin is validated, then written under its key of the plugins
//! ConfigMap, the other key kept; a bad plugin writes nothing.

#[allow(dead_code)]
#[path = "support/local_cluster.rs"]
mod support;

use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::json;
use strait_default_plugins::fixtures;
use strait_store::ClusterStore;
use support::{Env, failed, ok, stderr};

async fn plugins(env: &Env) -> ConfigMap {
    env.east
        .get::<ConfigMap>("linkerd", "strait-plugins")
        .await
        .unwrap()
        .expect("the plugins ConfigMap exists")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_writes_each_kind_under_its_key_and_refuses_a_bad_plugin() {
    let env = Env::start("plugin-push").await;
    env.east
        .apply_json(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "linkerd"}}),
            "test",
        )
        .unwrap();

    let out = ok(&env
        .strait(
            &[
                "--context",
                "east",
                "plugin",
                "push",
                "--kind",
                "authz",
                fixtures::AUTHZ_DEFAULT,
                "--plugin-version",
                "1.0",
            ],
            None,
        )
        .await);
    assert!(
        out.starts_with("configmap/strait-plugins authz.wasm pushed"),
        "{out}"
    );
    assert!(
        out.contains("configmap/strait-plugins-status annotation status.strait.io/authz.wasm"),
        "where to read the outcome: {out}"
    );
    let stored = plugins(&env).await;
    assert_eq!(
        stored.binary_data.as_ref().unwrap()["authz.wasm"].0,
        std::fs::read(fixtures::AUTHZ_DEFAULT).unwrap()
    );
    assert_eq!(
        stored.metadata.annotations.as_ref().unwrap()["strait.io/plugin-version"],
        "1.0"
    );

    ok(&env
        .strait(
            &[
                "--context",
                "east",
                "plugin",
                "push",
                "--kind",
                "export",
                fixtures::EXPORT_DEFAULT,
            ],
            None,
        )
        .await);
    let stored = plugins(&env).await;
    let data = stored.binary_data.unwrap();
    assert!(data.contains_key("authz.wasm"), "the authz plugin was kept");
    assert!(data.contains_key("export.wasm"));

    // The export plugin under the authz kind: refused before anything is written.
    let out = failed(
        &env.strait(
            &[
                "--context",
                "east",
                "plugin",
                "push",
                "--kind",
                "authz",
                fixtures::EXPORT_DEFAULT,
            ],
            None,
        )
        .await,
    );
    assert!(out.contains("world"), "{out}");
    assert!(out.contains("nothing was pushed"), "{out}");
    let unchanged = plugins(&env).await.binary_data.unwrap();
    assert_eq!(
        unchanged["authz.wasm"].0,
        std::fs::read(fixtures::AUTHZ_DEFAULT).unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_kubernetes_context_is_named() {
    let env = Env::start("plugin-push-k8s").await;
    let output = env
        .strait(
            &[
                "--context",
                "k8s",
                "plugin",
                "push",
                "--kind",
                "authz",
                fixtures::AUTHZ_DEFAULT,
            ],
            None,
        )
        .await;
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains("k8s"), "{err}");
    assert!(err.contains("strait-plugins"), "{err}");
}
