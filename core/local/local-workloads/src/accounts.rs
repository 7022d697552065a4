//! The `default` ServiceAccount of every namespace, which Kubernetes
//! creates and Pods without a `serviceAccountName` run as.

use std::collections::BTreeSet;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_store::{ClusterStore, Event, MemoryStore, WatchParams};

use crate::FIELD_MANAGER;

/// Creates `default` in each namespace that lacks it, as namespaces come.
pub(crate) async fn run(store: MemoryStore) {
    let mut namespaces = store.watch::<Namespace>(WatchParams::all());
    let mut done: BTreeSet<String> = BTreeSet::new();
    while let Some(event) = namespaces.next().await {
        let names: Vec<String> = match event {
            Ok(Event::Apply(ns)) => ns.metadata.name.into_iter().collect(),
            Ok(Event::Reset(all)) => {
                done.clear();
                all.into_iter().filter_map(|ns| ns.metadata.name).collect()
            }
            Ok(Event::Delete(ns)) => {
                if let Some(name) = ns.metadata.name {
                    done.remove(&name);
                }
                continue;
            }
            Err(_) => continue,
        };
        for name in names {
            if done.contains(&name) {
                continue;
            }
            match ensure_default(&store, &name).await {
                Ok(()) => {
                    done.insert(name);
                }
                Err(err) => {
                    tracing::warn!(namespace = %name, "cannot create the default ServiceAccount: {err}");
                }
            }
        }
    }
}

async fn ensure_default(
    store: &MemoryStore,
    namespace: &str,
) -> Result<(), strait_store::StoreError> {
    if store
        .get::<ServiceAccount>(namespace, "default")
        .await?
        .is_some()
    {
        return Ok(());
    }
    let account = ServiceAccount {
        metadata: ObjectMeta {
            name: Some("default".into()),
            namespace: Some(namespace.to_string()),
            ..ObjectMeta::default()
        },
        ..ServiceAccount::default()
    };
    store.apply(&account, FIELD_MANAGER).await.map(|_| ())
}
