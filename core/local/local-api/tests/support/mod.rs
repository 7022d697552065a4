//! The cluster the API tests serve: an in-memory store, one canned scrape
//! and fixed identity settings.

use std::time::Duration;

use strait_local_api::{ClusterBackend, ClusterInfo, PodScrapes, Scrape};
use strait_store::MemoryStore;

/// One test cluster: its name and its store.
pub struct TestCluster {
    pub name: String,
    pub store: MemoryStore,
}

impl ClusterBackend for TestCluster {
    fn name(&self) -> &str {
        &self.name
    }
    fn store(&self) -> &MemoryStore {
        &self.store
    }
    fn scrapes(&self, window: Duration) -> Vec<PodScrapes> {
        vec![PodScrapes {
            namespace: "mc-demo".into(),
            pod: "bb-1".into(),
            deployment: Some("bb".into()),
            meshed: true,
            ready: true,
            first: Some(Scrape {
                at_unix_ms: 1000,
                text: format!("window {}\n", window.as_secs()),
            }),
            last: None,
        }]
    }
    fn info(&self) -> ClusterInfo {
        ClusterInfo {
            name: self.name.clone(),
            trust_anchors_pem: "PEM".into(),
            cluster_domain: "cluster.local".into(),
            trust_domain: "cluster.local".into(),
            control_plane_namespace: "linkerd".into(),
        }
    }
}
