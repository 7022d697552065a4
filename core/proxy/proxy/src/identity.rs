//! The proxy's own identity: certified at start, renewed in the background.

use std::sync::Arc;

use linkerd2_proxy_api::identity::identity_client::IdentityClient;
use strait_tls::{Credentials, LocalIdentity, TokenSource, TrustRoots, certify_loop};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

use crate::StartError;
use crate::config::{IdentityConfig, TokenConfig};

/// The current credentials (none until the first certificate), and the
/// task that keeps them fresh.
pub(crate) struct IdentityTask {
    pub(crate) credentials: watch::Receiver<Option<Arc<Credentials>>>,
    pub(crate) task: JoinHandle<()>,
}

/// The trust anchors, checked: bad ones fail the start, before anything
/// listens or connects.
pub(crate) fn roots(config: &IdentityConfig) -> Result<TrustRoots, StartError> {
    TrustRoots::from_pem(
        strait_mesh::env::IDENTITY_TRUST_ANCHORS,
        config.trust_anchors_pem.as_bytes(),
    )
    .map_err(|e| StartError::Identity(e.to_string()))
}

/// Generates the key and starts certifying against the identity service
/// over `channel`. An identity name that is no DNS name fails here,
/// before anything listens.
pub(crate) fn start(
    config: &IdentityConfig,
    roots: TrustRoots,
    channel: Channel,
) -> Result<IdentityTask, StartError> {
    let local =
        LocalIdentity::new(&config.local_name).map_err(|e| StartError::Identity(e.to_string()))?;
    let token = match &config.token {
        TokenConfig::File(path) => TokenSource::File(path.clone()),
        TokenConfig::Value(bytes) => TokenSource::Fixed(bytes.clone()),
    };
    let (publish, credentials) = watch::channel(None);
    let task = tokio::spawn(certify_loop(
        IdentityClient::new(channel),
        local,
        token,
        roots,
        publish,
    ));
    Ok(IdentityTask { credentials, task })
}
