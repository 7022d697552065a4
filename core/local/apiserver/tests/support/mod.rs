//! One API server over a fresh store, on loopback, with the kubeconfig that
//! reaches it: what every test here starts from.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;
use strait_apiserver::{ApiConfig, ServingTls, serve};
use strait_store::{MemoryStore, Reachability};
use tokio::task::JoinHandle;

pub const TOKEN: &str = "test-token-0123456789";

/// A running API server.
pub struct Api {
    pub store: MemoryStore,
    pub reachability: Reachability,
    pub kubeconfig: String,
    pub kubeconfig_path: PathBuf,

    task: JoinHandle<()>,
}

impl Drop for Api {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.kubeconfig_path);
    }
}

/// Starts an API server over a store that knows strait's CRDs.
pub async fn start(tag: &str) -> Api {
    let store = MemoryStore::new();
    for definition in strait_api::custom_resource_definitions().unwrap() {
        store.register_definition(&definition).unwrap();
    }
    let tls = ServingTls::generate(tag).unwrap();
    let ca = tls.ca_pem().to_string();
    let reachability = Reachability::new();
    let config = ApiConfig {
        cluster: tag.into(),
        store: store.clone(),
        token: TOKEN.into(),
        tls: Arc::new(tls),
        reachability: reachability.clone(),
        host: None,
    };
    let (addr, task) = serve(([127, 0, 0, 1], 0).into(), config).await.unwrap();
    let server = format!("https://{addr}");
    let ca_data = serde_json::to_value(k8s_openapi::ByteString(ca.into_bytes())).unwrap();
    let kubeconfig = serde_norway::to_string(&json!({
        "apiVersion": "v1", "kind": "Config", "current-context": tag,
        "clusters": [{"name": tag, "cluster": {"server": server, "certificate-authority-data": ca_data}}],
        "users": [{"name": tag, "user": {"token": TOKEN}}],
        "contexts": [{"name": tag, "context": {"cluster": tag, "user": tag}}],
    }))
    .unwrap();
    let kubeconfig_path = std::env::temp_dir().join(format!(
        "strait-apiserver-{tag}-{}.yaml",
        std::process::id()
    ));
    std::fs::write(&kubeconfig_path, &kubeconfig).unwrap();
    Api {
        store,
        reachability,
        kubeconfig,
        kubeconfig_path,

        task,
    }
}
