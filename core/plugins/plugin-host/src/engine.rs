//! The wasmtime configuration every plugin is compiled and run under. The
//! build script compiles the built-in plugins ahead of time with this same
//! configuration (it includes this file), so their artifacts load without
//! compiling; wasmtime refuses an artifact whose configuration differs.

use wasmtime::{Config, InstanceAllocationStrategy, PoolingAllocationConfig};

/// The engine configuration for `max_instances` plugin instances of at
/// most `memory_limit_bytes` of linear memory each.
pub(crate) fn engine_config(max_instances: u32, memory_limit_bytes: usize) -> Config {
    let instances = max_instances.max(1);
    let mut pool = PoolingAllocationConfig::default();
    // A component built by a language toolchain holds a few core instances
    // (the program and its adapter shims), each with at most a memory or two.
    pool.total_component_instances(instances)
        .total_core_instances(instances.saturating_mul(8))
        .total_memories(instances.saturating_mul(2))
        .total_tables(instances.saturating_mul(8))
        .max_core_instances_per_component(16)
        .max_memories_per_component(4)
        .max_tables_per_component(16)
        .max_memory_size(memory_limit_bytes);
    let mut engine = Config::new();
    engine
        .wasm_component_model(true)
        .concurrency_support(false)
        .epoch_interruption(true)
        .max_wasm_stack(1 << 20)
        // Traps are reported by kind and the plugin's stderr; collecting wasm
        // backtraces would only slow every trap down.
        .wasm_backtrace_max_frames(None)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    engine
}
