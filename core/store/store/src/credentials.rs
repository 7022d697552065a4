//! A Link's credentials Secret, read by name.
//!
//! The service mirror and the destination service both reach linked
//! clusters through the Secret a Link names (`spec.clusterCredentialsSecret`):
//! the mirror its copy in the Link's namespace, the destination service its
//! own in the control plane's, as `multicluster link-gen` writes them. Both
//! read it here, by name: neither lists nor watches the Secrets of a
//! namespace, which hold other credentials too (the identity issuer's key).

use k8s_openapi::api::core::v1::Secret;
use strait_api::link::Link;

use crate::error::StoreError;
use crate::recorder::EventRecorder;
use crate::store::ClusterStore;

/// The reason of the Warning Event a Link gets when its credentials are
/// refused as written (a kubeconfig that would run a command or read a
/// file, no kubeconfig, one that does not parse).
pub const INVALID_CREDENTIALS: &str = "InvalidCredentials";

/// The credentials Secret of `link` (`spec.clusterCredentialsSecret`, in
/// the Link's namespace) in `local`, read by name: the service mirror's.
/// Every fault names the Link and the Secret, since the Link's owner fixes
/// it there.
pub async fn link_credentials<L: ClusterStore>(
    local: &L,
    link: &Link,
) -> Result<Secret, StoreError> {
    let namespace = link
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    link_credentials_in(local, link, &namespace).await
}

/// The credentials Secret `link` names, read by name in `namespace`: the
/// destination service's copy, in its own namespace.
pub async fn link_credentials_in<L: ClusterStore>(
    local: &L,
    link: &Link,
    namespace: &str,
) -> Result<Secret, StoreError> {
    let link_name = link.metadata.name.clone().unwrap_or_default();
    let link_namespace = link.metadata.namespace.as_deref().unwrap_or("default");
    let secret_name = link
        .spec
        .cluster_credentials_secret
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| StoreError::Invalid {
            what: format!("credentials of link {link_namespace}/{link_name}"),
            reason: "spec.clusterCredentialsSecret is not set".into(),
        })?;
    local
        .get(namespace, &secret_name)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: format!(
                "secrets {secret_name:?} in {namespace} (the credentials of link \
                 {link_namespace}/{link_name})"
            ),
        })
}

/// Reports `error`, met reaching `link`'s target, as a Warning Event
/// [`INVALID_CREDENTIALS`] on the Link when it is the credentials'
/// fault (`Invalid`: refused or unreadable as written), with the error's
/// own words, which name the field at fault. A target that cannot be
/// reached or a Secret that does not exist (yet) is not reported. Returns
/// whether an Event was newly written: once per message, however often
/// the caller retries.
pub async fn report_invalid_credentials<L: ClusterStore>(
    events: &mut EventRecorder,
    local: &L,
    link: &Link,
    error: &StoreError,
) -> bool {
    if !matches!(error, StoreError::Invalid { .. }) {
        return false;
    }
    events
        .warn(local, link, INVALID_CREDENTIALS, &error.to_string())
        .await
}
