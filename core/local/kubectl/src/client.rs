//! The kubectl-like commands' connection to a cluster: kube's client for
//! the context `--context` names (local or Kubernetes alike), the kinds
//! its API serves (discovery), and the reads, writes and deletes of single
//! objects that `get`, `delete` and `create` make.

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::core::ApiResource;
use kube::discovery::{Discovery, Scope};
use serde_json::Value;
use strait_multicluster::kubeconfig::{KubeconfigError, UserKubeconfig};
use strait_store::StoreError;
use strait_store_kube::KubeStore;

use crate::names::ObjectId;
use crate::resources::{Resource, resolve_resource};

/// A command could not reach the cluster, or asked for something it does
/// not serve.
#[derive(Debug, thiserror::Error)]
pub enum KubectlError {
    /// `--context` names no context (the error names the files searched).
    #[error(transparent)]
    Context(#[from] KubeconfigError),
    /// The context's client could not be made.
    #[error(transparent)]
    Client(#[from] StoreError),
    /// The API server's list of kinds could not be read.
    #[error("context {context:?}: reading the kinds the API server serves: {source}")]
    Discovery {
        /// The context.
        context: String,
        /// Why.
        source: kube::Error,
    },
    /// A resource name the server does not serve.
    #[error("the server doesn't have a resource type {0:?}")]
    UnknownResource(String),
    /// A manifest's kind the server does not serve.
    #[error("no matches for kind {kind:?} in version {api_version:?}")]
    UnknownKind {
        /// The manifest's `apiVersion`.
        api_version: String,
        /// The manifest's `kind`.
        kind: String,
    },
    /// The server refused or failed a request.
    #[error("{}", describe_error(.0))]
    Api(#[from] kube::Error),
}

/// A kind the API server serves, and whether its objects live in
/// namespaces.
#[derive(Clone, Debug)]
pub struct Kind {
    /// Its group, version, kind and plural.
    pub resource: ApiResource,
    /// Whether its objects live in namespaces.
    pub namespaced: bool,
}

impl Kind {
    /// The kind as `get`'s tables name it.
    pub fn as_resource(&self) -> Resource {
        Resource {
            kind: self.resource.kind.clone(),
            group: (!self.resource.group.is_empty()).then(|| self.resource.group.clone()),
            namespaced: self.namespaced,
        }
    }

    /// An object of this kind, named as kubectl names it in reports.
    pub fn object(&self, namespace: Option<&str>, name: &str) -> ObjectId {
        ObjectId {
            group: self.resource.group.clone(),
            kind: self.resource.kind.clone(),
            namespace: namespace.filter(|_| self.namespaced).map(str::to_string),
            name: name.to_string(),
        }
    }
}

/// One context's cluster, as the kubectl-like commands use it.
pub struct Kubectl {
    context: String,
    client: kube::Client,
    discovery: Discovery,
}

impl std::fmt::Debug for Kubectl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kubectl")
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl Kubectl {
    /// The cluster of `context` (else the current context) in the user's
    /// kubeconfig files, with the kinds its API serves.
    pub async fn connect(context: Option<&str>) -> Result<Self, KubectlError> {
        Self::for_kubeconfig(&UserKubeconfig::load(), context).await
    }

    /// The cluster of `context` (else the current context) of `kubeconfig`.
    pub async fn for_kubeconfig(
        kubeconfig: &UserKubeconfig,
        context: Option<&str>,
    ) -> Result<Self, KubectlError> {
        let context = kubeconfig.resolve(context)?;
        let store = KubeStore::for_kubeconfig_context(kubeconfig.kubeconfig().clone(), &context)?;
        let client = store.client().clone();
        let discovery = Discovery::new(client.clone())
            .run()
            .await
            .map_err(|source| KubectlError::Discovery {
                context: context.clone(),
                source,
            })?;
        Ok(Kubectl {
            context,
            client,
            discovery,
        })
    }

    /// The client, for typed requests.
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    /// The namespace of objects that name none: the context's, else
    /// `default`, as kubectl chooses it.
    pub fn default_namespace(&self) -> &str {
        self.client.default_namespace()
    }

    /// The kind a resource name (`svc`, `deployments.apps`, `links`, ...)
    /// stands for.
    pub fn kind_named(&self, name: &str) -> Result<Kind, KubectlError> {
        let wanted = resolve_resource(name);
        if let Some(kind) = self.kind_of(&wanted.kind, wanted.group.as_deref()) {
            return Ok(kind);
        }
        // A plural the table of known names lacks (a custom kind's).
        let lower = name.to_ascii_lowercase();
        let (word, group) = match lower.split_once('.') {
            Some((word, group)) => (word, Some(group)),
            None => (lower.as_str(), None),
        };
        self.kinds()
            .find(|k| k.resource.plural == word && group.is_none_or(|g| k.resource.group == g))
            .ok_or_else(|| KubectlError::UnknownResource(name.to_string()))
    }

    /// The kind `kind` (any case) of `group`, or of any group when `None`;
    /// the core group first when several serve it.
    pub fn kind_of(&self, kind: &str, group: Option<&str>) -> Option<Kind> {
        let mut found: Vec<Kind> = self
            .kinds()
            .filter(|k| k.resource.kind.eq_ignore_ascii_case(kind))
            .filter(|k| group.is_none_or(|g| k.resource.group == g))
            .collect();
        found.sort_by_key(|k| !k.resource.group.is_empty());
        found.into_iter().next()
    }

    /// The kind a manifest's `apiVersion` and `kind` name.
    pub fn kind_of_manifest(&self, api_version: &str, kind: &str) -> Result<Kind, KubectlError> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        self.discovery
            .groups()
            .filter(|g| g.name() == group)
            .flat_map(|g| g.versioned_resources(version))
            .find(|(r, _)| r.kind == kind)
            .map(|(resource, caps)| Kind {
                resource,
                namespaced: caps.scope == Scope::Namespaced,
            })
            .ok_or_else(|| KubectlError::UnknownKind {
                api_version: api_version.to_string(),
                kind: kind.to_string(),
            })
    }

    /// Every kind served, each once, at its group's most stable version
    /// that serves it (not every version serves every kind).
    fn kinds(&self) -> impl Iterator<Item = Kind> + '_ {
        self.discovery
            .groups()
            .flat_map(|g| g.resources_by_stability())
            .map(|(resource, caps)| Kind {
                resource,
                namespaced: caps.scope == Scope::Namespaced,
            })
    }

    /// The API of `kind` in `namespace`, or across namespaces (and for
    /// cluster-scoped kinds) when `None`.
    pub fn api(&self, kind: &Kind, namespace: Option<&str>) -> Api<DynamicObject> {
        match namespace.filter(|_| kind.namespaced) {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &kind.resource),
            None => Api::all_with(self.client.clone(), &kind.resource),
        }
    }

    /// The objects of `kind`, ordered by namespace and name, each with its
    /// `apiVersion` and `kind` (which list items leave out).
    pub async fn list(
        &self,
        kind: &Kind,
        namespace: Option<&str>,
    ) -> Result<Vec<Value>, KubectlError> {
        let list = self
            .api(kind, namespace)
            .list(&ListParams::default())
            .await?;
        let mut objects: Vec<Value> = list
            .items
            .into_iter()
            .map(|item| typed(kind, item))
            .collect();
        objects.sort_by_key(|o| {
            let field = |key: &str| o["metadata"][key].as_str().unwrap_or("").to_string();
            (field("namespace"), field("name"))
        });
        Ok(objects)
    }

    /// One object, or the server's NotFound.
    pub async fn get(
        &self,
        kind: &Kind,
        namespace: &str,
        name: &str,
    ) -> Result<Value, KubectlError> {
        let object = self.api(kind, Some(namespace)).get(name).await?;
        Ok(typed(kind, object))
    }

    /// Deletes one object; the server's NotFound when it does not exist.
    pub async fn delete(
        &self,
        kind: &Kind,
        namespace: &str,
        name: &str,
    ) -> Result<ObjectId, KubectlError> {
        self.api(kind, Some(namespace))
            .delete(name, &DeleteParams::default())
            .await?;
        Ok(kind.object(Some(namespace), name))
    }

    /// Creates `object`; the server's AlreadyExists when it exists.
    pub async fn create(
        &self,
        kind: &Kind,
        namespace: Option<&str>,
        object: Value,
    ) -> Result<Value, KubectlError> {
        let object: DynamicObject = serde_json::from_value(object)
            .map_err(|e| KubectlError::Api(kube::Error::SerdeError(e)))?;
        let created = self
            .api(kind, namespace)
            .create(&PostParams::default(), &object)
            .await?;
        Ok(typed(kind, created))
    }
}

/// An object as JSON, with its kind's `apiVersion` and `kind`.
fn typed(kind: &Kind, object: DynamicObject) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
    if let Some(fields) = value.as_object_mut() {
        fields.insert(
            "apiVersion".into(),
            kind.resource.api_version.clone().into(),
        );
        fields.insert("kind".into(), kind.resource.kind.clone().into());
    }
    value
}

/// A failed request as kubectl prints it: `Error from server (Reason):
/// message` when the server answered, the client's message otherwise.
pub fn describe_error(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => {
            let reason = if status.reason.is_empty() {
                http::StatusCode::from_u16(status.code)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("Error")
            } else {
                status.reason.as_str()
            };
            format!("Error from server ({reason}): {}", status.message)
        }
        other => format!("error: {other}"),
    }
}

/// The server's status code and message, when it answered with an error.
pub fn api_status(err: &KubectlError) -> Option<(u16, &str)> {
    match err {
        KubectlError::Api(kube::Error::Api(status)) => Some((status.code, &status.message)),
        _ => None,
    }
}

/// A command's error as kubectl prints it: the server's words, or
/// `error: ...`.
pub fn report(err: &KubectlError) -> String {
    match err {
        KubectlError::Api(err) => describe_error(err),
        other => format!("error: {other}"),
    }
}
