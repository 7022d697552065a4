//! What a plugin's store holds: a capability-free WASI context (for language
//! runtimes that print or ask for their environment), the memory limiter, the
//! captured output and the logging context.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::output::CapturedOutput;

/// Log lines one call may write before the rest are dropped.
const LOG_BUDGET_PER_CALL: u32 = 64;
/// Longest log line passed on; the rest is cut.
const MAX_LOG_LINE: usize = 1024;

/// Per-store data of one plugin instance.
pub(crate) struct StoreState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: MemoryCap,
    pub(crate) cpu: CpuBudget,
    pub(crate) stdout: CapturedOutput,
    pub(crate) stderr: CapturedOutput,
    pub(crate) log: LogContext,
}

/// Who is logging, for the fields of every log line.
pub(crate) struct LogContext {
    pub(crate) plugin: Arc<str>,
    pub(crate) version: Arc<str>,
    budget: u32,
}

impl StoreState {
    /// A store for one instance of `plugin` at `version`. The WASI context has
    /// no arguments, no environment, no stdin, no preopened directories and
    /// no network; clocks and randomness are not linked at all.
    pub(crate) fn new(
        plugin: Arc<str>,
        version: Arc<str>,
        memory_limit: usize,
        cpu_budget: Duration,
    ) -> Self {
        let stdout = CapturedOutput::default();
        let stderr = CapturedOutput::default();
        let mut wasi = WasiCtx::builder();
        wasi.stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        StoreState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter: MemoryCap::new(memory_limit),
            cpu: CpuBudget {
                budget: cpu_budget,
                mark: None,
            },
            stdout,
            stderr,
            log: LogContext {
                plugin,
                version,
                budget: LOG_BUDGET_PER_CALL,
            },
        }
    }

    /// The resources the host lends the plugin (its requests, WASI's streams).
    pub(crate) fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    /// Resets per-call accounting before a call.
    pub(crate) fn begin_call(&mut self) {
        self.log.budget = LOG_BUDGET_PER_CALL;
        self.limiter.denied = None;
        self.cpu.mark = None;
    }

    /// Passes what the plugin printed to the host's log.
    pub(crate) fn flush_output(&self) {
        if let Some(text) = self.stdout.drain() {
            tracing::info!(plugin = %self.log.plugin, version = %self.log.version, stream = "stdout", "{text}");
        }
        if let Some(text) = self.stderr.drain() {
            tracing::warn!(plugin = %self.log.plugin, version = %self.log.version, stream = "stderr", "{text}");
        }
    }

    /// Writes one line the plugin logged through its `log` import.
    pub(crate) fn log(&mut self, level: tracing::Level, message: &str) {
        if self.log.budget == 0 {
            return;
        }
        self.log.budget -= 1;
        let mut end = message.len().min(MAX_LOG_LINE);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let message = &message[..end];
        let (plugin, version) = (&*self.log.plugin, &*self.log.version);
        match level {
            tracing::Level::TRACE => tracing::trace!(plugin, version, "{message}"),
            tracing::Level::DEBUG => tracing::debug!(plugin, version, "{message}"),
            tracing::Level::INFO => tracing::info!(plugin, version, "{message}"),
            tracing::Level::WARN => tracing::warn!(plugin, version, "{message}"),
            tracing::Level::ERROR => tracing::error!(plugin, version, "{message}"),
        }
        if self.log.budget == 0 {
            tracing::warn!(
                plugin,
                version,
                "plugin log budget of {LOG_BUDGET_PER_CALL} lines per call used up; further lines dropped"
            );
        }
    }
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Caps each linear memory and table of an instance, and remembers a refusal
/// so a resulting trap is reported as the memory cap rather than a plain trap.
pub(crate) struct MemoryCap {
    limit: usize,
    /// The size a memory tried to grow to, when that was refused during this call.
    pub(crate) denied: Option<usize>,
}

/// Table elements an instance may have; far above what real plugins use.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl MemoryCap {
    fn new(limit: usize) -> Self {
        MemoryCap {
            limit,
            denied: None,
        }
    }

    /// The cap in bytes.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.denied = Some(desired);
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// A call's deadline in CPU time of the calling thread, checked on epoch ticks.
///
/// Counting CPU time rather than wall time means a call that the OS merely
/// preempted on a busy machine is never stopped (and its request never
/// denied), while a runaway loop, which burns CPU, is stopped about
/// `budget` after the first tick it sees: at most the budget plus one idle
/// tick after it starts (see `HostConfig::idle_epoch_tick`).
pub(crate) struct CpuBudget {
    budget: Duration,
    /// CPU time of the thread at the first tick seen by this call.
    mark: Option<Duration>,
}

impl CpuBudget {
    /// Called by the engine on every epoch tick while the plugin runs. Calls
    /// of microseconds rarely see a tick, so the clock is read only for slow
    /// calls.
    pub(crate) fn on_tick(&mut self) -> UpdateDeadline {
        let now = thread_cpu_time();
        match self.mark {
            None => {
                self.mark = Some(now);
                UpdateDeadline::Continue(1)
            }
            Some(mark) if now.saturating_sub(mark) >= self.budget => UpdateDeadline::Interrupt,
            Some(_) => UpdateDeadline::Continue(1),
        }
    }

    /// The budget, for messages.
    pub(crate) fn budget(&self) -> Duration {
        self.budget
    }
}

fn thread_cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}
