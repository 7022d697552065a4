//! One validated, pre-instantiated plugin version and the instances it reuses.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use parking_lot::Mutex;
use wasmtime::component::InstancePre;
use wasmtime::{Engine, Store, Trap};

use crate::metrics::CallMeters;
use crate::state::StoreState;

/// The two plugin kinds, each a WIT world; shared with everything that
/// names a plugin (ConfigMap, distribution, metrics), so defined once there.
pub use strait_mesh::plugins::PluginKind;

/// How a plugin call ended; the `outcome` label of the call metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallOutcome {
    /// The plugin answered.
    Ok = 0,
    /// The plugin ran past its deadline and was stopped.
    Timeout = 1,
    /// The plugin tried to grow memory past its cap and trapped.
    MemoryLimit = 2,
    /// The plugin trapped (panic, unreachable, bad memory access...).
    Trap = 3,
    /// The call could not be made (no instance could be created).
    Error = 4,
}

impl CallOutcome {
    /// Every outcome, indexed by its discriminant.
    pub const ALL: [CallOutcome; 5] = [
        CallOutcome::Ok,
        CallOutcome::Timeout,
        CallOutcome::MemoryLimit,
        CallOutcome::Trap,
        CallOutcome::Error,
    ];

    /// The metric label value.
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::Timeout => "timeout",
            CallOutcome::MemoryLimit => "memory_limit",
            CallOutcome::Trap => "trap",
            CallOutcome::Error => "error",
        }
    }
}

/// What identifies a plugin version in logs, metrics and verdicts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionInfo {
    /// The slot's name, the `plugin` metric label (e.g. `authz`).
    pub plugin: String,
    /// The kind.
    pub kind: PluginKind,
    /// Hex SHA-256 of the plugin's bytes.
    pub digest: String,
    /// The `version` metric label: a version given with the plugin, else the
    /// digest's first 12 hex digits.
    pub label: String,
    /// Where the plugin came from (file, ConfigMap key, built-in).
    pub origin: String,
}

/// Why a call failed; decides the outcome label and the message logged.
#[derive(Debug)]
pub(crate) enum CallFailure {
    Timeout { budget: std::time::Duration },
    MemoryLimit { limit: usize, desired: usize },
    Trap(String),
    Error(String),
}

impl CallFailure {
    pub(crate) fn outcome(&self) -> CallOutcome {
        match self {
            CallFailure::Timeout { .. } => CallOutcome::Timeout,
            CallFailure::MemoryLimit { .. } => CallOutcome::MemoryLimit,
            CallFailure::Trap(_) => CallOutcome::Trap,
            CallFailure::Error(_) => CallOutcome::Error,
        }
    }
}

impl fmt::Display for CallFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallFailure::Timeout { budget } => write!(
                f,
                "ran past its deadline of {budget:?} of CPU time and was stopped"
            ),
            CallFailure::MemoryLimit { limit, desired } => write!(
                f,
                "tried to grow its memory to {desired} bytes, over the cap of {limit} bytes, and trapped"
            ),
            CallFailure::Trap(message) => write!(f, "trapped: {message}"),
            CallFailure::Error(message) => write!(f, "could not be called: {message}"),
        }
    }
}

/// What differs between the two kinds when running a version.
pub(crate) trait Kind: Send + Sync + 'static {
    /// The kind.
    const KIND: PluginKind;
    /// The typed pre-instantiation (validates the exports' types).
    type Pre: Send + Sync;
    /// A typed instance.
    type Instance: Send;
    /// What a kind keeps per instance between calls (prepared inputs).
    type Cache: Default + Send;

    fn pre(pre: InstancePre<StoreState>) -> wasmtime::Result<Self::Pre>;

    fn instantiate(
        pre: &Self::Pre,
        store: &mut Store<StoreState>,
    ) -> wasmtime::Result<Self::Instance>;
}

struct Pooled<K: Kind> {
    store: Store<StoreState>,
    instance: K::Instance,
    cache: K::Cache,
}

/// Limits every call of a version runs under.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CallLimits {
    pub(crate) cpu_budget: std::time::Duration,
    pub(crate) memory_limit: usize,
    pub(crate) max_idle: usize,
}

/// A validated plugin version: its typed pre-instance and a pool of idle
/// instances. Dropped when the last call holding it finishes after a swap.
pub(crate) struct PluginVersion<K: Kind> {
    pub(crate) info: Arc<VersionInfo>,
    engine: Engine,
    pre: K::Pre,
    idle: Mutex<Vec<Pooled<K>>>,
    meters: CallMeters,
    limits: CallLimits,
    plugin: Arc<str>,
    label: Arc<str>,
    /// The host's count of running calls, which sets the ticker's pace.
    calls_in_flight: Arc<AtomicUsize>,
}

/// Counts one running call for as long as it lives.
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn start(calls: &'a AtomicUsize) -> Self {
        calls.fetch_add(1, Ordering::Relaxed);
        InFlight(calls)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<K: Kind> PluginVersion<K> {
    pub(crate) fn new(
        info: VersionInfo,
        engine: Engine,
        pre: K::Pre,
        meters: CallMeters,
        limits: CallLimits,
        calls_in_flight: Arc<AtomicUsize>,
    ) -> Self {
        PluginVersion {
            plugin: info.plugin.as_str().into(),
            label: info.label.as_str().into(),
            info: Arc::new(info),
            engine,
            pre,
            idle: Mutex::new(Vec::new()),
            meters,
            limits,
            calls_in_flight,
        }
    }

    /// The typed pre-instance, which says which contract version the
    /// plugin was built against.
    pub(crate) fn pre(&self) -> &K::Pre {
        &self.pre
    }

    fn checkout(&self) -> Result<Pooled<K>, CallFailure> {
        if let Some(pooled) = self.idle.lock().pop() {
            return Ok(pooled);
        }
        let state = StoreState::new(
            self.plugin.clone(),
            self.label.clone(),
            self.limits.memory_limit,
            self.limits.cpu_budget,
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_callback(|mut ctx| Ok(ctx.data_mut().cpu.on_tick()));
        // Instantiation runs the guest's start code: it gets a deadline too.
        store.data_mut().begin_call();
        store.set_epoch_deadline(1);
        match K::instantiate(&self.pre, &mut store) {
            Ok(instance) => Ok(Pooled {
                store,
                instance,
                cache: K::Cache::default(),
            }),
            Err(err) => Err(classify(err, store.data())),
        }
    }

    fn checkin(&self, pooled: Pooled<K>) {
        let mut idle = self.idle.lock();
        if idle.len() < self.limits.max_idle {
            idle.push(pooled);
        }
    }

    /// Runs one call on an idle (or new) instance under the deadline and the
    /// memory cap. A failed instance is dropped, never reused: its state may be
    /// half-written.
    /// `counted` is false for smoke calls, which are validation, not traffic.
    pub(crate) fn call<R>(
        &self,
        counted: bool,
        f: impl FnOnce(&mut Store<StoreState>, &K::Instance, &mut K::Cache) -> wasmtime::Result<R>,
    ) -> Result<R, CallFailure> {
        let start = Instant::now();
        let in_flight = InFlight::start(&self.calls_in_flight);
        let result = self.checkout().and_then(|mut pooled| {
            pooled.store.data_mut().begin_call();
            pooled.store.set_epoch_deadline(1);
            match f(&mut pooled.store, &pooled.instance, &mut pooled.cache) {
                Ok(value) => {
                    pooled.store.data().flush_output();
                    self.checkin(pooled);
                    Ok(value)
                }
                Err(err) => {
                    let failure = classify(err, pooled.store.data());
                    pooled.store.data().flush_output();
                    Err(failure)
                }
            }
        });
        drop(in_flight);
        let outcome = match &result {
            Ok(_) => CallOutcome::Ok,
            Err(failure) => failure.outcome(),
        };
        if counted {
            self.meters.record(outcome, start.elapsed().as_secs_f64());
        }
        if let (true, Err(failure)) = (counted, &result) {
            tracing::warn!(
                plugin = %self.info.plugin,
                version = %self.info.label,
                outcome = outcome.as_str(),
                "plugin call failed: the plugin {failure}"
            );
        }
        result
    }
}

/// Sorts a failed call into timeout, memory cap, trap or error, keeping the
/// tail of what the plugin wrote to stderr (a panic message, typically).
fn classify(err: wasmtime::Error, state: &StoreState) -> CallFailure {
    if let Some(Trap::Interrupt) = err.downcast_ref::<Trap>() {
        return CallFailure::Timeout {
            budget: state.cpu.budget(),
        };
    }
    if let Some(desired) = state.limiter.denied {
        return CallFailure::MemoryLimit {
            limit: state.limiter.limit(),
            desired,
        };
    }
    if let Some(trap) = err.downcast_ref::<Trap>() {
        let mut message = trap.to_string();
        if let Some(stderr) = state.stderr.drain() {
            // A Rust panic prints `thread ... panicked at FILE:LINE:COL:`, the
            // message, then a note about backtraces; keep what explains it.
            let said: Vec<&str> = stderr
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("note: run with"))
                .collect();
            let said = said.join(" ");
            let tail: String = said
                .chars()
                .rev()
                .take(512)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            message.push_str(&format!(" (plugin stderr: {tail})"));
        }
        return CallFailure::Trap(message);
    }
    CallFailure::Error(crate::error::one_line(&format!("{err:#}")))
}
