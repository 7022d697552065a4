//! [`KubeStore`]: the store operations as requests to a Kubernetes API server.

use futures::stream::BoxStream;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::config::{Config, Kubeconfig};
use kube::core::{ApiResource, DynamicObject};
use kube::runtime::utils::Backoff;
use kube::runtime::watcher::DefaultBackoff;
use serde_json::{Value, json};
use strait_store::{ClusterStore, Event, StoreError, WatchParams};

use crate::error::{decode, from_kube};
use crate::kind::{kind_of, object_ref};
use crate::watch;
use strait_store::StoredObject;

/// Makes the pause policy applied after a failed watch attempt.
pub(crate) type BackoffFactory = fn() -> Box<dyn Backoff>;

/// A Kubernetes cluster as a [`ClusterStore`], so the controllers written and
/// tested against the embedded store run unchanged against real clusters.
/// Cloning shares the client (and its connections).
#[derive(Clone)]
pub struct KubeStore {
    client: kube::Client,
    watch_backoff: BackoffFactory,
}

impl std::fmt::Debug for KubeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeStore")
            .field("default_namespace", &self.client.default_namespace())
            .finish_non_exhaustive()
    }
}

fn default_backoff() -> Box<dyn Backoff> {
    Box::new(DefaultBackoff::default())
}

impl KubeStore {
    /// The cluster `client` talks to; for callers that build the client
    /// themselves (custom TLS, proxies, or a mocked API server in tests).
    pub fn new(client: kube::Client) -> Self {
        KubeStore {
            client,
            watch_backoff: default_backoff,
        }
    }

    /// The cluster a kubeconfig points at, using its current context. A Link
    /// reaches its target cluster this way: the `kubeconfig` key of the
    /// Link's credentials Secret holds such a document.
    ///
    /// Errors are `Invalid` and say what is wrong with the kubeconfig (not
    /// YAML, no current context, a context naming a missing cluster, a
    /// cluster without a server, unreadable certificates). Credentials
    /// must be inline: a kubeconfig that would run a command (`exec`,
    /// `auth-provider`) or read a file (`tokenFile`, `client-key`, ...) is
    /// refused, naming the field by its path ([`ExternalCredential`](crate::ExternalCredential):
    /// `users[0].user.exec`). The client starts
    /// a background task, so this must run inside a tokio runtime; outside
    /// one it fails instead of panicking.
    pub fn from_kubeconfig_yaml(yaml: &str) -> Result<Self, StoreError> {
        let invalid = |reason: String| StoreError::Invalid {
            what: "kubeconfig".into(),
            reason,
        };
        if yaml.trim().is_empty() {
            return Err(invalid("the document is empty".into()));
        }
        let kubeconfig = Kubeconfig::from_yaml(yaml).map_err(|e| invalid(e.to_string()))?;
        crate::inline::check_inline(&kubeconfig).map_err(|e| invalid(e.to_string()))?;
        let config = Config::try_from(kubeconfig).map_err(|e| invalid(e.to_string()))?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(StoreError::Unavailable {
                reason: "a Kubernetes client needs a tokio runtime to run in".into(),
            });
        }
        let client = kube::Client::try_from(config).map_err(|e| invalid(e.to_string()))?;
        Ok(Self::new(client))
    }

    /// The cluster this process runs in, or else the one the local
    /// kubeconfig (`$KUBECONFIG` or `~/.kube/config`) selects, as kubectl
    /// finds it; for strait's own controllers and the CLI.
    pub async fn infer() -> Result<Self, StoreError> {
        let client = kube::Client::try_default()
            .await
            .map_err(|e| StoreError::Unavailable {
                reason: format!("no Kubernetes cluster configured: {e}"),
            })?;
        Ok(Self::new(client))
    }

    /// The cluster of context `context` of `kubeconfig` (the user's files
    /// merged as kubectl merges them, as `kubectl --context` reaches it). The client starts a background
    /// task, so this must run inside a tokio runtime; outside one it fails
    /// instead of panicking.
    pub fn for_kubeconfig_context(
        mut kubeconfig: Kubeconfig,
        context: &str,
    ) -> Result<Self, StoreError> {
        let invalid = |reason: String| StoreError::Invalid {
            what: format!("kubeconfig context {context:?}"),
            reason,
        };
        // The context asked for, as kube's client loads the current one.
        kubeconfig.current_context = Some(context.to_string());
        let config = Config::try_from(kubeconfig).map_err(|e| invalid(e.to_string()))?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(StoreError::Unavailable {
                reason: "a Kubernetes client needs a tokio runtime to run in".into(),
            });
        }
        let client = kube::Client::try_from(config).map_err(|e| invalid(e.to_string()))?;
        Ok(Self::new(client))
    }

    /// The client, for requests the store interface does not cover.
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    /// Replaces the pause after a failed watch attempt, so tests of error
    /// handling need not wait out the production backoff.
    #[cfg(test)]
    pub(crate) fn with_watch_backoff(mut self, backoff: BackoffFactory) -> Self {
        self.watch_backoff = backoff;
        self
    }

    /// Requests for kind `K` in `namespace` (ignored for cluster-scoped
    /// kinds). Untyped, so any stored type can be addressed whatever its
    /// scope type, and so responses are decoded by [`decode`], which names
    /// the object when it is malformed.
    fn api<K: StoredObject>(&self, namespace: Option<&str>) -> Api<DynamicObject> {
        let resource = ApiResource::erase::<K>(&());
        match namespace {
            Some(ns) if kind_of::<K>().namespaced => {
                Api::namespaced_with(self.client.clone(), ns, &resource)
            }
            _ => Api::all_with(self.client.clone(), &resource),
        }
    }
}

/// Fields the API server owns, left out of an apply (managedFields would be
/// rejected). `resourceVersion` is not among them: when the caller sets it,
/// it is sent as the precondition the store interface promises, and a
/// stale one comes back as 409, a `Conflict`.
const SERVER_FIELDS: [&str; 4] = ["uid", "creationTimestamp", "generation", "managedFields"];

impl ClusterStore for KubeStore {
    fn watch<K: StoredObject>(
        &self,
        params: WatchParams,
    ) -> BoxStream<'static, Result<Event<K>, StoreError>> {
        let api = self.api::<K>(params.namespace.as_deref());
        watch::watch::<K>(api, params, (self.watch_backoff)())
    }

    async fn get<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<K>, StoreError> {
        let what = object_ref::<K>(namespace, name);
        let found = self
            .api::<K>(Some(namespace))
            .get_opt(name)
            .await
            .map_err(|e| from_kube(e, "reading", &what))?;
        found.map(|object| decode(object, &what)).transpose()
    }

    async fn apply<K: StoredObject>(
        &self,
        object: &K,
        field_manager: &str,
    ) -> Result<K, StoreError> {
        let meta = object.meta();
        let namespace = meta
            .namespace
            .clone()
            .filter(|ns| !ns.is_empty())
            .unwrap_or_else(|| self.client.default_namespace().to_string());
        let name = meta.name.clone().unwrap_or_default();
        let what = object_ref::<K>(&namespace, &name);
        if name.is_empty() {
            return Err(StoreError::Invalid {
                what: format!("{} object", what.kind.kind),
                reason: "metadata.name is required".into(),
            });
        }
        let mut body = serde_json::to_value(object).map_err(|e| StoreError::Invalid {
            what: what.to_string(),
            reason: e.to_string(),
        })?;
        if let Some(map) = body.as_object_mut() {
            // Status is written through the status subresource only.
            map.remove("status");
            if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
                for field in SERVER_FIELDS {
                    meta.remove(field);
                }
                if what.kind.namespaced {
                    meta.insert("namespace".into(), Value::String(namespace.clone()));
                } else {
                    meta.remove("namespace");
                }
            }
        }
        let params = PatchParams::apply(field_manager).force();
        let stored = self
            .api::<K>(Some(&namespace))
            .patch(&name, &params, &Patch::Apply(&body))
            .await
            .map_err(|e| from_kube(e, "applying", &what))?;
        decode(stored, &what)
    }

    async fn patch_status<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
        status: Value,
    ) -> Result<K, StoreError> {
        let what = object_ref::<K>(namespace, name);
        let patch = Patch::Merge(json!({ "status": status }));
        let stored = self
            .api::<K>(Some(namespace))
            .patch_status(name, &PatchParams::default(), &patch)
            .await
            .map_err(|e| from_kube(e, "updating the status of", &what))?;
        decode(stored, &what)
    }

    async fn delete<K: StoredObject>(&self, namespace: &str, name: &str) -> Result<(), StoreError> {
        let what = object_ref::<K>(namespace, name);
        self.api::<K>(Some(namespace))
            .delete(name, &DeleteParams::default())
            .await
            .map_err(|e| from_kube(e, "deleting", &what))?;
        Ok(())
    }
}
