//! Kubeconfigs that reach an API server of a local cluster: a cluster
//! (server and CA), a user (the bearer token) and a context, each named
//! after the cluster, with the extension that marks them as strait's, so a
//! later run may replace its own entries and never a user's.

use serde_json::{Value, json};

/// The extension a context entry strait wrote carries, so that a later run
/// may replace it in a merged kubeconfig while a user's own entry of the
/// same name is never touched.
pub const OWNER_EXTENSION: &str = "strait.io/local";

/// One cluster's API: where it listens and how it is trusted and reached.
#[derive(Clone, Debug)]
pub struct ClusterApi {
    /// The cluster's (and its context's) name.
    pub name: String,
    /// `https://127.0.0.1:PORT`.
    pub server: String,
    /// The run's CA certificate for this cluster, PEM.
    pub ca_pem: String,
    /// The bearer token.
    pub token: String,
}

/// The kubeconfig of `apis`: a cluster, a user and a context per cluster,
/// the first one current.
pub fn kubeconfig(apis: &[ClusterApi]) -> Value {
    let mut config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [],
        "users": [],
        "contexts": [],
        "current-context": apis.first().map(|a| a.name.clone()).unwrap_or_default(),
    });
    for api in apis {
        let (cluster, user, context) = entries(api);
        push(&mut config, "clusters", cluster);
        push(&mut config, "users", user);
        push(&mut config, "contexts", context);
    }
    config
}

/// The cluster, user and context entries of one API.
pub fn entries(api: &ClusterApi) -> (Value, Value, Value) {
    let owner = json!([{"name": OWNER_EXTENSION, "extension": {"cluster": api.name}}]);
    (
        json!({"name": api.name, "cluster": {
            "server": api.server,
            "certificate-authority-data": base64(api.ca_pem.as_bytes()),
            "extensions": owner,
        }}),
        json!({"name": api.name, "user": {"token": api.token}}),
        json!({"name": api.name, "context": {
            "cluster": api.name, "user": api.name, "extensions": owner,
        }}),
    )
}

fn push(config: &mut Value, list: &str, entry: Value) {
    if let Some(items) = config[list].as_array_mut() {
        items.push(entry);
    }
}

/// Base64, as kubeconfigs carry certificates (k8s-openapi's ByteString
/// is the one encoder the workspace uses for it).
fn base64(bytes: &[u8]) -> Value {
    serde_json::to_value(k8s_openapi::ByteString(bytes.to_vec())).unwrap_or(Value::Null)
}

/// The kubeconfig of one API alone, as YAML: what a client that reaches
/// only that cluster (a Link's credentials, a test) is given.
pub fn single(api: &ClusterApi) -> Result<String, serde_norway::Error> {
    serde_norway::to_string(&kubeconfig(std::slice::from_ref(api)))
}
