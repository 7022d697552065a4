//! One API server over a fresh store, on loopback, with the kubeconfig that
//! reaches it: what every test here starts from.

use std::path::PathBuf;
use std::sync::Arc;

use strait_apiserver::kubeconfig::ClusterApi;
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
    let kubeconfig = strait_apiserver::kubeconfig::single(&ClusterApi {
        name: tag.into(),
        server: format!("https://{addr}"),
        ca_pem: ca,
        token: TOKEN.into(),
    })
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
