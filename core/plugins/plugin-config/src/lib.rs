//! The plugins ConfigMap: how users hot-reload their plugins.
//!
//! Operators put their plugins in one ConfigMap (`strait-plugins` in the
//! control plane's namespace, `binaryData` keys `authz.wasm` and
//! `export.wasm`, an optional `strait.io/plugin-version` annotation). This
//! crate owns that layout ([`PLUGINS_CONFIG_MAP`], [`plugin_key`],
//! [`plugins_config_map`] to build one, [`read_plugin`] to take a plugin out
//! of one), so the plugin host stays free of Kubernetes types.
//! [`follow_plugin_config_map`] watches it; each time a key holds a plugin
//! it has not seen, it validates it as the mesh would (a component of the
//! kind's world, importing nothing beyond it, answering a smoke call) and
//! hands a good one to its [`PluginSink`]: the policy service's offer (so
//! every proxy swaps it in) or a service mirror's export slot. A bad plugin
//! changes nothing: the last good one keeps deciding.
//!
//! Every outcome is reported where `kubectl` shows it: an annotation per
//! key on the status ConfigMap beside it ([`PLUGINS_STATUS_CONFIG_MAP`],
//! `status.strait.io/authz.wasm: active 1.2.0 (sha256 46f463cb2a9b)`, or
//! `rejected: <why>; still active: ...`) and an Event (`PluginActivated`,
//! or a `Warning` `PluginRejected`) on the plugins ConfigMap. The follower
//! only reads the plugins ConfigMap, so it needs no right to write the
//! plugins: a service mirror, which handles a remote cluster's data, could
//! otherwise replace the mesh's authz plugin. Each key is reported by a
//! field manager of its own ([`field_manager`]), so the components
//! following different keys (the policy controller authz, the service
//! mirrors export) keep each other's annotations under server-side apply.

mod contract;
mod report;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use strait_mesh::plugins::{plugin_digest, short_digest};
use strait_plugin_host::{PluginBytes, PluginHost, PluginKind, VersionInfo};
use strait_store::{ClusterStore, Event, WatchParams};

use contract::holds_plugin;
pub use contract::{
    AUTHZ_PLUGIN_KEY, EXPORT_PLUGIN_KEY, PLUGIN_VERSION_ANNOTATION, PLUGINS_CONFIG_MAP,
    PLUGINS_STATUS_CONFIG_MAP, plugin_key, plugins_config_map, read_plugin,
};
pub use report::{
    FIELD_MANAGER, STATUS_ANNOTATION_PREFIX, field_manager, read_status, status_annotation,
};

/// How long to wait before watching again after the watch failed.
const REWATCH_DELAY: Duration = Duration::from_secs(1);

/// Where a validated plugin goes. Returns an error naming why the mesh
/// could not take it (e.g. too large to distribute); the plugin then counts
/// as rejected, with that error as the reason in its status.
pub type PluginSink =
    Arc<dyn Fn(&PluginBytes, &VersionInfo) -> Result<(), SinkError> + Send + Sync>;

/// Why a sink refused a plugin: the error of whatever took it (the
/// distribution offer, the export plugin slot), kept whole for the log.
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// The kinds this control-plane component takes from the ConfigMap; a key
/// of a kind without a sink is left to the component that has one.
#[derive(Clone, Default)]
pub struct PluginSinks {
    /// Where authz plugins go (the policy service).
    pub authz: Option<PluginSink>,
    /// Where export plugins go (the service mirror).
    pub export: Option<PluginSink>,
}

impl std::fmt::Debug for PluginSinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginSinks")
            .field("authz", &self.authz.is_some())
            .field("export", &self.export.is_some())
            .finish()
    }
}

impl PluginSinks {
    fn of(&self, kind: PluginKind) -> Option<&PluginSink> {
        match kind {
            PluginKind::Authz => self.authz.as_ref(),
            PluginKind::Export => self.export.as_ref(),
        }
    }
}

/// What became of one key's plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Validated and handed to the mesh.
    Active {
        /// Its version label.
        version: String,
        /// Hex SHA-256 of the key's bytes.
        digest: String,
    },
    /// Refused; the previous plugin (if any) still decides.
    Rejected {
        /// Why, naming the ConfigMap key.
        reason: String,
        /// Hex SHA-256 of the refused bytes.
        digest: String,
        /// The plugin still active, as `version (sha256 ...)`, if any.
        still_active: Option<String>,
    },
}

/// The ConfigMap's state as this controller last handled it.
#[derive(Default)]
struct Followed {
    /// Per kind: the digest of the bytes last handled and their outcome.
    handled: BTreeMap<&'static str, (String, Outcome)>,
    /// Per kind: the plugin active now, as `version (sha256 ...)`.
    active: BTreeMap<&'static str, String>,
}

/// Follows ConfigMap `namespace/name` until the store's watch ends for
/// good (never, in practice): every new plugin in it is validated with
/// `host`, handed to its sink when good, and reported on ConfigMap
/// `namespace/status_name` (created by the first report) and in an Event.
/// `namespace/name` is only read.
pub async fn follow_plugin_config_map<S: ClusterStore>(
    store: S,
    namespace: String,
    name: String,
    status_name: String,
    host: PluginHost,
    sinks: PluginSinks,
) {
    let mut followed = Followed::default();
    loop {
        let mut events = store.watch::<ConfigMap>(WatchParams {
            namespace: Some(namespace.clone()),
            ..WatchParams::default()
        });
        while let Some(event) = events.next().await {
            let config_map = match event {
                Ok(Event::Apply(cm)) => Some(cm),
                Ok(Event::Reset(all)) => all.into_iter().find(|cm| is_named(cm, &name)),
                Ok(Event::Delete(_)) => None,
                Err(error) => {
                    tracing::warn!(%namespace, %name, %error, "watching the plugins ConfigMap failed");
                    continue;
                }
            };
            let Some(config_map) = config_map.filter(|cm| is_named(cm, &name)) else {
                continue;
            };
            // Checking and loading a plugin compiles it: tens of
            // milliseconds to seconds, off the async workers so that the
            // rest of the controller (and, in one process, the proxies)
            // keeps running.
            let (host, sinks, mut handled) =
                (host.clone(), sinks.clone(), std::mem::take(&mut followed));
            let read = config_map.clone();
            let changed = match tokio::task::spawn_blocking(move || {
                let changed = handle(&read, &host, &sinks, &mut handled);
                (changed, handled)
            })
            .await
            {
                Ok((changed, handled)) => {
                    followed = handled;
                    changed
                }
                Err(error) => {
                    tracing::warn!(%namespace, %name, %error, "handling the plugins ConfigMap failed");
                    continue;
                }
            };
            if !changed.is_empty() {
                report::publish(
                    &store,
                    &config_map,
                    &status_name,
                    &followed_statuses(&followed),
                    &changed,
                )
                .await;
            }
        }
        tokio::time::sleep(REWATCH_DELAY).await;
    }
}

fn is_named(config_map: &ConfigMap, name: &str) -> bool {
    config_map.metadata.name.as_deref() == Some(name)
}

fn followed_statuses(followed: &Followed) -> BTreeMap<&'static str, Outcome> {
    followed
        .handled
        .iter()
        .map(|(key, (_, outcome))| (*key, outcome.clone()))
        .collect()
}

/// Handles every key of the ConfigMap this component has a sink for;
/// returns the keys whose outcome is new.
fn handle(
    config_map: &ConfigMap,
    host: &PluginHost,
    sinks: &PluginSinks,
    followed: &mut Followed,
) -> Vec<(&'static str, Outcome)> {
    let mut changed = Vec::new();
    for kind in [PluginKind::Authz, PluginKind::Export] {
        let key = plugin_key(kind);
        let Some(sink) = sinks.of(kind) else {
            continue;
        };
        if !holds_plugin(config_map, key) {
            continue;
        }
        let (digest, outcome) = match read_plugin(config_map, key) {
            Ok(plugin) => {
                let digest = plugin_digest(&plugin.bytes);
                let unchanged = followed
                    .handled
                    .get(key)
                    .is_some_and(|(seen, _)| *seen == digest_with_version(&digest, &plugin));
                if unchanged {
                    continue;
                }
                let outcome = activate(kind, &plugin, &digest, host, sink, followed, key);
                (digest_with_version(&digest, &plugin), outcome)
            }
            Err(error) => (
                String::new(),
                Outcome::Rejected {
                    reason: error.to_string(),
                    digest: String::new(),
                    still_active: followed.active.get(key).cloned(),
                },
            ),
        };
        if followed.handled.get(key).map(|(_, o)| o) != Some(&outcome) {
            changed.push((key, outcome.clone()));
        }
        followed.handled.insert(key, (digest, outcome));
    }
    changed
}

/// The same bytes under a new version label are a new plugin to report.
fn digest_with_version(digest: &str, plugin: &PluginBytes) -> String {
    match &plugin.version {
        Some(version) => format!("{digest}@{version}"),
        None => digest.to_string(),
    }
}

fn activate(
    kind: PluginKind,
    plugin: &PluginBytes,
    digest: &str,
    host: &PluginHost,
    sink: &PluginSink,
    followed: &mut Followed,
    key: &'static str,
) -> Outcome {
    let rejected = |reason: String, followed: &Followed| {
        tracing::warn!(%kind, origin = %plugin.origin, %reason, "plugin rejected; the last good one stays");
        Outcome::Rejected {
            reason,
            digest: digest.to_string(),
            still_active: followed.active.get(key).cloned(),
        }
    };
    let info = match host.check(kind, plugin) {
        Ok(info) => info,
        Err(error) => return rejected(error.to_string(), followed),
    };
    if let Err(reason) = sink(plugin, &info) {
        return rejected(reason.to_string(), followed);
    }
    tracing::info!(%kind, version = %info.label, origin = %plugin.origin, "plugin activated");
    followed.active.insert(
        key,
        format!("{} (sha256 {})", info.label, short_digest(digest)),
    );
    Outcome::Active {
        version: info.label,
        digest: digest.to_string(),
    }
}
