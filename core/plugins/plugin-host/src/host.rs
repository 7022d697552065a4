//! The engine, linker and compiled-component cache shared by every plugin.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

use parking_lot::Mutex;
use strait_mesh::plugins::{plugin_digest, short_digest};
use wasmtime::Engine;
use wasmtime::component::{Component, Linker, types::ComponentItem};

use crate::bindings::{self, INERT_WASI};
use crate::config::HostConfig;
use crate::engine::engine_config;
use crate::error::PluginError;
use crate::metrics::PluginMetrics;
use crate::source::PluginBytes;
use crate::state::StoreState;
use crate::version::{CallLimits, Kind, PluginKind, PluginVersion, VersionInfo};

/// Runs plugins. Create one per process and share it (cloning is cheap):
/// the engine, linker, epoch ticker and compiled cache are built once.
#[derive(Clone)]
pub struct PluginHost {
    inner: Arc<HostInner>,
}

struct HostInner {
    engine: Engine,
    linker: Linker<StoreState>,
    config: HostConfig,
    metrics: PluginMetrics,
    compiled: Mutex<Vec<(String, Component)>>,
    calls_in_flight: Arc<AtomicUsize>,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for HostInner {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl PluginHost {
    /// Builds the engine and linker and starts the epoch ticker that enforces
    /// call deadlines.
    pub fn new(config: HostConfig, metrics: PluginMetrics) -> Result<Self, PluginError> {
        let runtime = |reason: String| PluginError::Runtime {
            origin: "the plugin host".into(),
            reason,
        };
        let engine = Engine::new(&engine_config(
            config.max_instances,
            config.memory_limit_bytes,
        ))
        .map_err(|e| runtime(format!("{e:#}")))?;
        let mut linker = Linker::new(&engine);
        bindings::link(&mut linker).map_err(|e| runtime(format!("{e:#}")))?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        let calls_in_flight = Arc::new(AtomicUsize::new(0));
        let ticks = Ticks {
            busy: config.epoch_tick,
            idle: config.idle_epoch_tick.max(config.epoch_tick),
        };
        spawn_ticker(&engine, ticks, calls_in_flight.clone(), ticker_stop.clone())
            .map_err(|e| runtime(format!("cannot start the epoch ticker: {e}")))?;
        Ok(PluginHost {
            inner: Arc::new(HostInner {
                engine,
                linker,
                config,
                metrics,
                compiled: Mutex::new(Vec::new()),
                calls_in_flight,
                ticker_stop,
            }),
        })
    }

    /// The limits plugins run under.
    pub fn config(&self) -> &HostConfig {
        &self.inner.config
    }

    /// The metrics every plugin call is recorded in.
    pub fn metrics(&self) -> &PluginMetrics {
        &self.inner.metrics
    }

    /// Validates a plugin as a slot would before activating it: the bytes are a
    /// component, it implements `kind`'s world, imports nothing it is not given,
    /// and answers a smoke call. Returns what identifies the version.
    pub fn check(
        &self,
        kind: PluginKind,
        plugin: &PluginBytes,
    ) -> Result<VersionInfo, PluginError> {
        let info = match kind {
            PluginKind::Authz => {
                let version = self.prepare::<crate::authz::AuthzKind>(kind.as_str(), plugin)?;
                crate::authz::smoke(&version, &plugin.origin)?;
                version.info.as_ref().clone()
            }
            PluginKind::Export => {
                let version = self.prepare::<crate::export::ExportKind>(kind.as_str(), plugin)?;
                crate::export::smoke(&version, &plugin.origin)?;
                version.info.as_ref().clone()
            }
        };
        Ok(info)
    }

    /// Compiles (or finds compiled), checks the world and pre-instantiates.
    pub(crate) fn prepare<K: Kind>(
        &self,
        plugin: &str,
        bytes: &PluginBytes,
    ) -> Result<PluginVersion<K>, PluginError> {
        let origin = &bytes.origin;
        let binary = bytes.component_binary()?;
        let digest = plugin_digest(&binary);
        let component = self.compile(origin, &digest, &binary)?;
        check_world(&self.inner.engine, &component, K::KIND, origin)?;
        let pre = self.inner.linker.instantiate_pre(&component).map_err(|e| {
            PluginError::ForbiddenImport {
                origin: origin.clone(),
                import: "?".into(),
                reason: format!(
                    "which cannot be linked: {}",
                    crate::error::one_line(&format!("{e:#}"))
                ),
            }
        })?;
        let typed = K::pre(pre).map_err(|e| PluginError::WrongWorld {
            origin: origin.clone(),
            kind: K::KIND,
            reason: format!(
                "its `{}` export does not match world {}: {}",
                K::KIND.entry_point(),
                K::KIND.world(),
                crate::error::one_line(&format!("{e:#}"))
            ),
        })?;
        let label = bytes
            .version
            .clone()
            .unwrap_or_else(|| short_digest(&digest).to_string());
        let config = &self.inner.config;
        let timeout = match K::KIND {
            PluginKind::Authz => config.authz_call_timeout,
            PluginKind::Export => config.export_call_timeout,
        };
        let limits = CallLimits {
            cpu_budget: timeout,
            memory_limit: config.memory_limit_bytes,
            max_idle: config.idle_instances_per_version,
        };
        let meters = self.inner.metrics.meters(plugin, &label);
        let info = VersionInfo {
            plugin: plugin.to_string(),
            kind: K::KIND,
            digest,
            label,
            origin: origin.clone(),
        };
        Ok(PluginVersion::new(
            info,
            self.inner.engine.clone(),
            typed,
            meters,
            limits,
            self.inner.calls_in_flight.clone(),
        ))
    }

    fn compile(&self, origin: &str, digest: &str, binary: &[u8]) -> Result<Component, PluginError> {
        {
            let mut cache = self.inner.compiled.lock();
            if let Some(i) = cache.iter().position(|(d, _)| d == digest) {
                let entry = cache.remove(i);
                let component = entry.1.clone();
                cache.push(entry);
                return Ok(component);
            }
        }
        // Compiling takes milliseconds: never under the cache lock.
        let component = match crate::precompiled::load(&self.inner.engine, digest) {
            Some(component) => component,
            None => {
                Component::new(&self.inner.engine, binary).map_err(|e| PluginError::Compile {
                    origin: origin.to_string(),
                    reason: crate::error::one_line(&format!("{e:#}")),
                })?
            }
        };
        let mut cache = self.inner.compiled.lock();
        if !cache.iter().any(|(d, _)| d == digest) {
            cache.push((digest.to_string(), component.clone()));
            let capacity = self.inner.config.compiled_cache_entries.max(1);
            let excess = cache.len().saturating_sub(capacity);
            cache.drain(..excess);
        }
        Ok(component)
    }
}

/// The ticker's periods: while a call runs, and while none does.
#[derive(Clone, Copy)]
struct Ticks {
    busy: std::time::Duration,
    idle: std::time::Duration,
}

/// Advances the engine's epoch, which makes a running call check its CPU
/// budget: every `busy` tick while calls run, every `idle` tick otherwise
/// (see [`HostConfig::idle_epoch_tick`]).
fn spawn_ticker(
    engine: &Engine,
    ticks: Ticks,
    calls_in_flight: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<()> {
    let engine = engine.clone();
    thread::Builder::new()
        .name("plugin-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let busy = calls_in_flight.load(Ordering::Relaxed) > 0;
                thread::sleep(if busy { ticks.busy } else { ticks.idle });
                engine.increment_epoch();
            }
        })
        .map(drop)
}

/// Checks the component's exports and imports against `kind`'s world before
/// linking, so a wrong or overreaching plugin gets a precise reason.
fn check_world(
    engine: &Engine,
    component: &Component,
    kind: PluginKind,
    origin: &str,
) -> Result<(), PluginError> {
    let ty = component.component_type();
    let unversioned = |name: &str| name.split('@').next().unwrap_or(name).to_string();
    let exports: Vec<(String, bool)> = ty
        .exports(engine)
        .map(|(name, item)| {
            (
                unversioned(name),
                matches!(item.ty, ComponentItem::ComponentInstance(_)),
            )
        })
        .collect();
    if !exports
        .iter()
        .any(|(name, is_instance)| *is_instance && name == kind.entry_point())
    {
        let other = [PluginKind::Authz, PluginKind::Export]
            .into_iter()
            .find(|k| *k != kind && exports.iter().any(|(name, _)| name == k.entry_point()));
        let reason = match other {
            Some(other) => format!(
                "it implements world {} (it exports `{}`); {kind} plugins implement world {} and export `{}`",
                other.world(),
                other.entry_point(),
                kind.world(),
                kind.entry_point()
            ),
            None => {
                let names: Vec<&str> = exports.iter().map(|(n, _)| n.as_str()).collect();
                format!(
                    "it does not export the interface `{}` of world {} (it exports: {})",
                    kind.entry_point(),
                    kind.world(),
                    if names.is_empty() {
                        "nothing".to_string()
                    } else {
                        names.join(", ")
                    }
                )
            }
        };
        return Err(PluginError::WrongWorld {
            origin: origin.to_string(),
            kind,
            reason,
        });
    }
    for (name, _) in ty.imports(engine) {
        if name.starts_with(kind.package()) {
            continue;
        }
        let unversioned = name.split('@').next().unwrap_or(name);
        if INERT_WASI.contains(&unversioned) {
            continue;
        }
        return Err(PluginError::ForbiddenImport {
            origin: origin.to_string(),
            import: name.to_string(),
            reason: forbidden_reason(name, kind),
        });
    }
    Ok(())
}

fn forbidden_reason(import: &str, kind: PluginKind) -> String {
    let capability = [
        ("wasi:filesystem/", "a filesystem"),
        ("wasi:sockets/", "network access"),
        ("wasi:http/", "network access"),
        ("wasi:clocks/", "a clock"),
        ("wasi:random/", "a random source"),
    ]
    .into_iter()
    .find(|(prefix, _)| import.starts_with(prefix));
    if let Some((_, what)) = capability {
        return format!(
            "which would give it {what}; plugins get no capabilities beyond their world {}",
            kind.world()
        );
    }
    if let Some(other) = [PluginKind::Authz, PluginKind::Export]
        .into_iter()
        .find(|k| *k != kind && import.starts_with(k.package()))
    {
        return format!(
            "an interface of {other} plugins; {kind} plugins implement world {}",
            kind.world()
        );
    }
    format!(
        "which strait does not provide: {kind} plugins may import only {}* and WASI's basic I/O and CLI interfaces",
        kind.package()
    )
}
