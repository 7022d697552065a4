//! From a Link's credentials Secret to a store of the cluster it reaches.
//!
//! The service mirror and the destination service both reach linked
//! clusters through the credentials Secrets that `multicluster link-gen`
//! writes (type `mirror.linkerd.io/remote-kubeconfig`, key `kubeconfig`).
//! Finding a Link's Secret is the same everywhere, by name
//! ([`link_credentials`]); what the Secret turns into is the caller's
//! `reach`: a Kubernetes client from its kubeconfig
//! ([`store_from_credentials`]), or an embedded cluster named by it.

use std::future::Future;
use std::pin::Pin;

use k8s_openapi::api::core::v1::Secret;
use strait_api::labels::KUBECONFIG_KEY;
use strait_api::link::Link;
use strait_store::{ClusterStore, StoreError};
use strait_store_kube::KubeStore;

pub use strait_store::link_credentials;

/// Reaching a linked cluster: a store of it, or why not.
pub type Connecting<R> = Pin<Box<dyn Future<Output = Result<R, StoreError>> + Send>>;

/// How a service mirror reaches its Link's target: the Link's credentials
/// Secret read from `local`, turned into a store by `reach`.
pub fn connect_link<L, R, F>(
    local: L,
    reach: F,
) -> impl Fn(Link) -> Connecting<R> + Clone + Send + Sync + 'static
where
    L: ClusterStore,
    R: ClusterStore,
    F: Fn(&Secret) -> Result<R, StoreError> + Clone + Send + Sync + 'static,
{
    move |link: Link| {
        let (local, reach) = (local.clone(), reach.clone());
        Box::pin(async move { reach(&link_credentials(&local, &link).await?) })
    }
}

/// How the destination service reaches the clusters its Links name: each
/// Link's credentials Secret, read by name, turned into a store by
/// `reach`.
pub fn connect_secret<R, F>(
    reach: F,
) -> impl Fn(Secret) -> std::future::Ready<Result<R, StoreError>> + Send + Sync + 'static
where
    R: ClusterStore,
    F: Fn(&Secret) -> Result<R, StoreError> + Send + Sync + 'static,
{
    move |secret: Secret| std::future::ready(reach(&secret))
}

/// A client of the cluster a credentials Secret's kubeconfig points at:
/// how linked clusters are reached on Kubernetes. Every fault names the
/// Secret.
pub fn store_from_credentials(secret: &Secret) -> Result<KubeStore, StoreError> {
    let secret_name = format!(
        "{}/{}",
        secret.metadata.namespace.as_deref().unwrap_or_default(),
        secret.metadata.name.as_deref().unwrap_or_default()
    );
    let invalid = |reason: String| StoreError::Invalid {
        what: format!("credentials secret {secret_name}"),
        reason,
    };
    let kubeconfig = secret
        .data
        .as_ref()
        .and_then(|d| d.get(KUBECONFIG_KEY))
        .ok_or_else(|| {
            invalid(format!(
                "secret {secret_name} has no `{KUBECONFIG_KEY}` key"
            ))
        })?;
    let text = std::str::from_utf8(&kubeconfig.0).map_err(|_| {
        invalid(format!(
            "secret {secret_name}: `{KUBECONFIG_KEY}` is not UTF-8 text"
        ))
    })?;
    KubeStore::from_kubeconfig_yaml(text).map_err(|error| match error {
        StoreError::Invalid { reason, .. } => StoreError::Invalid {
            what: format!("kubeconfig of credentials secret {secret_name}"),
            reason,
        },
        other => other,
    })
}

#[cfg(test)]
mod tests;
