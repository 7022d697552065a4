//! Limits and sizes of the plugin host.

use std::time::Duration;

/// How plugins are confined and how many may run at once. The defaults suit a
/// sidecar proxy: authz decisions take microseconds, so a call still running
/// after a few milliseconds is a runaway and is stopped.
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// Deadline of one authz call, in CPU time of the calling thread; past it
    /// the call traps and the request is denied.
    pub authz_call_timeout: Duration,
    /// Deadline of one export call, in CPU time; past it the previous decision stands.
    pub export_call_timeout: Duration,
    /// Linear memory one plugin instance may grow to (per memory).
    pub memory_limit_bytes: usize,
    /// Instances that may exist at once across all plugins and versions (the
    /// pooling allocator reserves their slots up front).
    pub max_instances: u32,
    /// Idle instances kept per version for reuse.
    pub idle_instances_per_version: usize,
    /// Granularity of deadlines: how often the epoch ticker advances and a
    /// running call's CPU time is checked while a call runs.
    pub epoch_tick: Duration,
    /// How often the ticker advances while no call runs. Decisions take
    /// microseconds, so a sidecar's ticker is nearly always idle; ticking
    /// slower then spares the process a wake-up every `epoch_tick`. A call
    /// that runs away is first seen at the next idle tick and stopped about
    /// its budget after that, so keep this at most the smallest call budget.
    pub idle_epoch_tick: Duration,
    /// Compiled components kept by digest, so swapping back and forth between
    /// versions compiles each once.
    pub compiled_cache_entries: usize,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            authz_call_timeout: Duration::from_millis(5),
            export_call_timeout: Duration::from_millis(100),
            memory_limit_bytes: 64 << 20,
            max_instances: 256,
            idle_instances_per_version: 32,
            epoch_tick: Duration::from_millis(1),
            idle_epoch_tick: Duration::from_millis(5),
            compiled_cache_entries: 16,
        }
    }
}
