//! Keeps the proxy's authz plugin in step with the one the policy service
//! offers, so a new plugin version reaches every proxy without a restart.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use strait_backoff::Backoff;
use strait_plugin_distribution::{PluginDistributionClient, PluginKind};
use strait_plugin_host::{AuthzPlugin, PluginBytes};
use tonic::body::Body;
use tonic::client::GrpcService;
use tonic::codegen::StdError;

/// The first wait after the plugin stream fails; doubled up to
/// [`MAX_BACKOFF`] while it keeps failing.
const INITIAL_BACKOFF: Duration = Duration::from_millis(500);
/// The longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Follows the policy service's authz plugin and loads each new version
/// into `plugin`. A version that does not load (wrong world, traps, too
/// big) is rejected by the plugin host and logged; the running version
/// keeps deciding, so a bad push never opens or closes the door. Requests
/// in flight finish on the version they started with.
///
/// With `pinned`, only plugins whose digest it lists are loaded: a policy
/// service that is not the mesh's (or a plugins ConfigMap written by
/// someone who should not) cannot make the proxy run code of its choosing.
///
/// Tells the service which digest runs already, so an unchanged plugin is
/// not sent again on every reconnect. Never returns; abort its task to
/// stop following.
pub async fn follow_authz_plugin<T>(
    client: PluginDistributionClient<T>,
    plugin: Arc<AuthzPlugin>,
    pinned: Option<Arc<BTreeSet<String>>>,
) where
    T: GrpcService<Body> + Clone,
    T::Error: Into<StdError>,
    T::ResponseBody: tonic::codegen::Body<Data = bytes::Bytes> + Send + 'static,
    <T::ResponseBody as tonic::codegen::Body>::Error: Into<StdError> + Send,
{
    let mut backoff = Backoff::new(INITIAL_BACKOFF, MAX_BACKOFF);
    loop {
        let current = plugin.active().digest.clone();
        let mut client = client.clone();
        match client
            .watch_verified(PluginKind::Authz, Some(&current))
            .await
        {
            Ok(mut updates) => loop {
                match updates.message().await {
                    Ok(Some(update)) => {
                        backoff.reset();
                        if pinned.as_ref().is_some_and(|p| !p.contains(&update.digest)) {
                            tracing::warn!(
                                version = %update.version,
                                origin = %update.origin,
                                digest = %update.digest,
                                "authz plugin refused: its digest is not pinned; the running version stays"
                            );
                            continue;
                        }
                        let bytes = PluginBytes {
                            origin: update.origin.clone(),
                            bytes: update.wasm.to_vec(),
                            version: Some(update.version.clone()).filter(|v| !v.is_empty()),
                        };
                        // Compiling a component takes tens of
                        // milliseconds to seconds: off the async workers,
                        // so no request waits behind it.
                        let loading = plugin.clone();
                        let loaded = tokio::task::spawn_blocking(move || loading.load(&bytes))
                            .await
                            .map_err(|e| e.to_string());
                        match loaded.and_then(|loaded| loaded.map_err(|e| e.to_string())) {
                            Ok(info) => tracing::info!(
                                version = %info.label,
                                origin = %info.origin,
                                "authz plugin swapped"
                            ),
                            Err(error) => tracing::warn!(
                                version = %update.version,
                                origin = %update.origin,
                                %error,
                                "authz plugin rejected; the running version stays"
                            ),
                        }
                    }
                    Ok(None) => {
                        tracing::debug!("authz plugin stream ended; watching again");
                        break;
                    }
                    Err(status) => {
                        tracing::warn!(%status, "authz plugin stream failed; watching again");
                        break;
                    }
                }
            },
            Err(status) => {
                tracing::warn!(%status, "cannot watch the authz plugin; retrying");
            }
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}
