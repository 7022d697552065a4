//! `strait multicluster unlink --cluster-name NAME`: the objects that link
//! this (source) cluster to target NAME, printed as YAML for
//! `strait delete -f -` (or `kubectl delete -f -`), as `linkerd multicluster
//! unlink` prints them: the Link, its credentials Secrets (the service
//! mirror's beside the Link and the destination's in the control plane's
//! namespace), the service mirror's own objects when present, and the
//! mirror Services and Endpoints.
//! Deleting a Link alone leaves its mirrors in place; this removes them too.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Endpoints, Secret, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use strait_api::labels::MIRROR_CLUSTER_NAME;
use strait_api::link::Link;
use strait_mesh::names::{
    CONTROL_PLANE_NAMESPACE, MULTICLUSTER_NAMESPACE, service_mirror, service_mirror_cluster_role,
    service_mirror_lease, service_mirror_role,
};
use strait_store::StoredObject;

use crate::cluster::{Cluster, Flavor};
use crate::error::ClusterError;
use crate::{YamlError, document};

/// Why there is nothing to unlink.
#[derive(Debug, thiserror::Error)]
pub enum UnlinkError {
    /// `--cluster-name` is empty.
    #[error("--cluster-name must not be empty")]
    EmptyClusterName,
    /// No Link has that name: a typo must not pass for a clean state.
    #[error("cluster {cluster} has no Link {name:?}; `strait get links -A` lists the Links")]
    NoLink {
        /// The source cluster.
        cluster: String,
        /// The Link asked for.
        name: String,
    },
    /// The cluster cannot be read.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// The documents cannot be written.
    #[error(transparent)]
    Yaml(#[from] YamlError),
}

/// An object reduced to what a delete needs: its kind and name, so
/// nothing of the Secret's credentials is printed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Reference {
    api_version: String,
    kind: String,
    metadata: ObjectMeta,
}

fn stub<K: StoredObject>(namespace: Option<&str>, name: &str) -> Reference {
    Reference {
        api_version: K::api_version(&()).into_owned(),
        kind: K::kind(&()).into_owned(),
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: namespace.map(str::to_string),
            ..ObjectMeta::default()
        },
    }
}

/// The documents to delete, as one YAML stream. A name no Link has is an
/// error, so a typo does not pass for a clean state.
pub async fn objects<C: Cluster>(cluster: &C, name: &str) -> Result<String, UnlinkError> {
    if name.is_empty() {
        return Err(UnlinkError::EmptyClusterName);
    }
    let links: Vec<Link> = cluster.list(None).await?;
    let links: Vec<&Link> = links
        .iter()
        .filter(|l| l.metadata.name.as_deref() == Some(name))
        .collect();
    if links.is_empty() {
        return Err(UnlinkError::NoLink {
            cluster: cluster.name().to_string(),
            name: name.to_string(),
        });
    }
    let mut out = Vec::new();
    let mut push = |yaml: Result<String, YamlError>| yaml.map(|y| out.push(y));
    for link in &links {
        let namespace = link.metadata.namespace.clone().unwrap_or_default();
        push(document(&stub::<Link>(Some(&namespace), name)))?;
        if let Some(secret) = link
            .spec
            .cluster_credentials_secret
            .as_deref()
            .filter(|s| !s.is_empty())
        {
            let mut places = vec![namespace.as_str(), CONTROL_PLANE_NAMESPACE];
            places.dedup();
            for place in places {
                if cluster.get::<Secret>(place, secret).await?.is_some() {
                    push(document(&stub::<Secret>(Some(place), secret)))?;
                }
            }
        }
        if cluster.flavor() == Flavor::Kubernetes {
            let lease = service_mirror_lease(name);
            if cluster.get::<Lease>(&namespace, &lease).await?.is_some() {
                push(document(&stub::<Lease>(Some(&namespace), &lease)))?;
            }
        }
    }
    if cluster.flavor() == Flavor::Kubernetes {
        let controller = service_mirror(name);
        let ns = MULTICLUSTER_NAMESPACE;
        if cluster.get::<Deployment>(ns, &controller).await?.is_some() {
            push(document(&stub::<Deployment>(Some(ns), &controller)))?;
        }
        if cluster
            .get::<ServiceAccount>(ns, &controller)
            .await?
            .is_some()
        {
            push(document(&stub::<ServiceAccount>(Some(ns), &controller)))?;
        }
        // Its Roles: for the Link beside it, for the plugins ConfigMap in
        // the control plane's namespace.
        let role = service_mirror_role(name);
        for ns in [MULTICLUSTER_NAMESPACE, CONTROL_PLANE_NAMESPACE] {
            if cluster.get::<Role>(ns, &role).await?.is_some() {
                push(document(&stub::<Role>(Some(ns), &role)))?;
            }
            if cluster.get::<RoleBinding>(ns, &role).await?.is_some() {
                push(document(&stub::<RoleBinding>(Some(ns), &role)))?;
            }
        }
        let cluster_role = service_mirror_cluster_role(name);
        if cluster
            .get::<ClusterRole>("", &cluster_role)
            .await?
            .is_some()
        {
            push(document(&stub::<ClusterRole>(None, &cluster_role)))?;
        }
        if cluster
            .get::<ClusterRoleBinding>("", &cluster_role)
            .await?
            .is_some()
        {
            push(document(&stub::<ClusterRoleBinding>(None, &cluster_role)))?;
        }
    }
    out.push(mirrors::<C, Service>(cluster, name).await?);
    out.push(mirrors::<C, Endpoints>(cluster, name).await?);
    Ok(out.concat())
}

/// The objects of kind `K` labelled as mirrors for target `name`.
async fn mirrors<C: Cluster, K: StoredObject>(
    cluster: &C,
    name: &str,
) -> Result<String, UnlinkError> {
    let mut all: Vec<K> = cluster.list(None).await?;
    all.retain(|o| {
        o.meta()
            .labels
            .as_ref()
            .and_then(|l| l.get(MIRROR_CLUSTER_NAME))
            .map(String::as_str)
            == Some(name)
    });
    let mut keys: Vec<(String, String)> = all
        .iter()
        .map(|o| {
            (
                o.meta().namespace.clone().unwrap_or_default(),
                o.meta().name.clone().unwrap_or_default(),
            )
        })
        .collect();
    keys.sort();
    let docs = keys
        .iter()
        .map(|(ns, n)| document(&stub::<K>(Some(ns), n)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(docs.concat())
}

#[cfg(test)]
mod tests;
