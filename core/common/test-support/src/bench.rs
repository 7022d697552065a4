//! What the benchmarks measure with: a runtime of the size they assume,
//! percentiles of latencies, and a process's memory.

use std::time::Duration;

use tokio::runtime::Runtime;

/// A two-worker multi-threaded runtime with every driver: what the
/// benchmarks' figures were taken on, so that runs stay comparable.
pub fn runtime() -> Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => panic!("no runtime: {e}"),
    }
}

/// The `p`th percentile (0 to 100) of `sorted` latencies by the nearest
/// rank: a latency that was measured, never one interpolated between two.
/// Zero for no latencies.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Resident and peak resident memory of process `pid`, in KiB, from
/// `/proc` (zeros where it cannot be read).
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[cfg(test)]
mod tests;
