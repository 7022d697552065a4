use std::cell::Cell;

use k8s_openapi::api::core::v1::Namespace;
use strait_plugin_config::{AUTHZ_PLUGIN_KEY, PLUGIN_VERSION_ANNOTATION};
use strait_store::MemoryStore;

use super::*;

const NAMESPACE: &str = "linkerd";

async fn store() -> MemoryStore {
    let store = MemoryStore::new();
    let namespace: Namespace = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}
    }))
    .unwrap();
    store.apply(&namespace, "test").await.unwrap();
    store
}

fn file(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

async fn stored_authz(store: &MemoryStore) -> Option<Vec<u8>> {
    let config_map: ConfigMap = store.get(NAMESPACE, PLUGINS_CONFIG_MAP).await.unwrap()?;
    Some(config_map.binary_data?.get(AUTHZ_PLUGIN_KEY)?.0.clone())
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("strait-push-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn a_plugin_the_mesh_takes_is_written_under_its_key_with_its_version() {
    let dir = scratch("good");
    let store = store().await;
    let path = file(&dir, "authz.wasm", strait_default_plugins::AUTHZ_DEFAULT);
    let pushed = push(
        PluginKind::Authz,
        &path,
        Some("v7"),
        NAMESPACE,
        async || Ok(store.clone()),
    )
    .await
    .unwrap();
    assert_eq!(pushed.key, AUTHZ_PLUGIN_KEY);
    assert_eq!(pushed.bytes, strait_default_plugins::AUTHZ_DEFAULT.len());
    assert!(!pushed.digest.is_empty());
    assert_eq!(
        stored_authz(&store).await.as_deref(),
        Some(strait_default_plugins::AUTHZ_DEFAULT)
    );
    let config_map: ConfigMap = store
        .get(NAMESPACE, PLUGINS_CONFIG_MAP)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        config_map.metadata.annotations.unwrap()[PLUGIN_VERSION_ANNOTATION],
        "v7"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_plugin_the_mesh_refuses_is_not_written_and_the_cluster_not_reached() {
    let dir = scratch("bad");
    let store = store().await;
    let good = file(&dir, "authz.wasm", strait_default_plugins::AUTHZ_DEFAULT);
    push(
        PluginKind::Authz,
        &good,
        Some("v1"),
        NAMESPACE,
        async || Ok(store.clone()),
    )
    .await
    .unwrap();
    for (name, bytes, reason) in [
        (
            "garbage.wasm",
            &b"\x13\x37 not a plugin"[..],
            "is not a Wasm component",
        ),
        (
            "export-as-authz.wasm",
            strait_default_plugins::EXPORT_DEFAULT,
            "is not an authz plugin",
        ),
    ] {
        let path = file(&dir, name, bytes);
        let connected = Cell::new(false);
        let error = push(
            PluginKind::Authz,
            &path,
            Some("v2"),
            NAMESPACE,
            async || {
                connected.set(true);
                Ok(store.clone())
            },
        )
        .await
        .unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, PushError::Refused(_)), "{text}");
        assert!(
            text.contains(reason) && text.ends_with("; nothing was pushed"),
            "{text}"
        );
        assert!(!connected.get(), "{name}: the cluster was reached");
        assert_eq!(
            stored_authz(&store).await.as_deref(),
            Some(strait_default_plugins::AUTHZ_DEFAULT),
            "{name}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_cluster_that_cannot_be_reached_is_named_in_the_error() {
    let dir = scratch("unreachable");
    let path = file(&dir, "authz.wasm", strait_default_plugins::AUTHZ_DEFAULT);
    let error = push::<MemoryStore>(PluginKind::Authz, &path, None, NAMESPACE, async || {
        Err("context \"nowhere\" not found".to_string())
    })
    .await
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "writing configmap linkerd/strait-plugins: context \"nowhere\" not found"
    );
    let _ = std::fs::remove_dir_all(dir);
}
