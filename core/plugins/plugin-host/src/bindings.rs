//! Host bindings generated from `wit/`, and the host side of the plugins'
//! only import, `log`.

use wasmtime::component::{HasSelf, Linker};

use crate::state::StoreState;
use crate::streams::{PluginIo, PluginStreams};

/// The `strait:authz/authz-plugin` world. The request is a host resource
/// backed by [`crate::authz::HostInbound`]; parameters borrow from the
/// caller's values so lowering copies nothing on the host side.
pub(crate) mod authz_world {
    wasmtime::component::bindgen!({
        path: "../../../wit/authz",
        world: "authz-plugin",
        ownership: Borrowing { duplicate_if_necessary: true },
        with: {
            "strait:authz/types.inbound": crate::authz::HostInbound,
        },
        // A request handle the host cannot find traps the call (and so denies).
        imports: {
            "strait:authz/types": trappable,
        },
    });
}

/// The `strait:export-mode/export-plugin` world, the current contract (0.2).
pub(crate) mod export_world {
    wasmtime::component::bindgen!({
        path: "../../../wit/export",
        world: "export-plugin",
        ownership: Borrowing { duplicate_if_necessary: true },
    });
}

/// The same world at 0.1, before federated Services: plugins built against
/// it keep loading (their decisions are lifted into the current types).
pub(crate) mod export_world_v0_1 {
    wasmtime::component::bindgen!({
        path: "../../../wit/export/0.1",
        world: "export-plugin",
        ownership: Borrowing { duplicate_if_necessary: true },
    });
}

use authz_world::strait::authz as authz_pkg;
use export_world::strait::export_mode as export_pkg;
use export_world_v0_1::strait::export_mode as export_pkg_v0_1;

fn authz_level(level: authz_pkg::log::Level) -> tracing::Level {
    use authz_pkg::log::Level;
    match level {
        Level::Trace => tracing::Level::TRACE,
        Level::Debug => tracing::Level::DEBUG,
        Level::Info => tracing::Level::INFO,
        Level::Warn => tracing::Level::WARN,
        Level::Error => tracing::Level::ERROR,
    }
}

/// One export log level, whichever contract version's enum it comes in.
macro_rules! export_level {
    ($pkg:ident, $level:expr) => {{
        use $pkg::log::Level;
        match $level {
            Level::Trace => tracing::Level::TRACE,
            Level::Debug => tracing::Level::DEBUG,
            Level::Info => tracing::Level::INFO,
            Level::Warn => tracing::Level::WARN,
            Level::Error => tracing::Level::ERROR,
        }
    }};
}

impl authz_pkg::log::Host for StoreState {
    fn log(&mut self, level: authz_pkg::log::Level, message: String) {
        StoreState::log(self, authz_level(level), &message);
    }
}

impl export_pkg::log::Host for StoreState {
    fn log(&mut self, level: export_pkg::log::Level, message: String) {
        StoreState::log(self, export_level!(export_pkg, level), &message);
    }
}

impl export_pkg::types::Host for StoreState {}

impl export_pkg_v0_1::log::Host for StoreState {
    fn log(&mut self, level: export_pkg_v0_1::log::Level, message: String) {
        StoreState::log(self, export_level!(export_pkg_v0_1, level), &message);
    }
}

impl export_pkg_v0_1::types::Host for StoreState {}

/// WASI interfaces a language runtime may import and that grant nothing: I/O
/// streams (only the captured stdout/stderr and a closed stdin exist), an
/// empty environment, `exit` and terminal queries (always "no terminal").
/// Filesystem, sockets, clocks, random and HTTP are deliberately absent.
pub(crate) const INERT_WASI: &[&str] = &[
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
];

/// Fills the one linker the host shares across all plugins: both worlds'
/// imports and the inert WASI interfaces.
pub(crate) fn link(linker: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    use wasmtime_wasi::cli::WasiCli;
    use wasmtime_wasi::p2::bindings::{cli, sync};

    authz_world::AuthzPlugin::add_to_linker::<_, HasSelf<StoreState>>(linker, |s| s)?;
    export_world::ExportPlugin::add_to_linker::<_, HasSelf<StoreState>>(linker, |s| s)?;
    export_world_v0_1::ExportPlugin::add_to_linker::<_, HasSelf<StoreState>>(linker, |s| s)?;

    struct Io;
    impl wasmtime::component::HasData for Io {
        type Data<'a> = &'a mut wasmtime::component::ResourceTable;
    }
    fn table(state: &mut StoreState) -> &mut wasmtime::component::ResourceTable {
        wasmtime_wasi::WasiView::ctx(state).table
    }
    fn streams(state: &mut StoreState) -> PluginStreams<'_> {
        PluginStreams(wasmtime_wasi::WasiView::ctx(state).table)
    }
    wasmtime_wasi_io::bindings::wasi::io::error::add_to_linker::<_, Io>(linker, table)?;
    // Streams and poll that never enter tokio: plugins are called on the
    // proxy's runtime threads (see `crate::streams`).
    sync::io::poll::add_to_linker::<_, PluginIo>(linker, streams)?;
    sync::io::streams::add_to_linker::<_, PluginIo>(linker, streams)?;

    let l = linker;
    let get = <StoreState as wasmtime_wasi::cli::WasiCliView>::cli;
    cli::environment::add_to_linker::<_, WasiCli>(l, get)?;
    cli::exit::add_to_linker::<_, WasiCli>(l, get)?;
    cli::stdin::add_to_linker::<_, WasiCli>(l, get)?;
    cli::stdout::add_to_linker::<_, WasiCli>(l, get)?;
    cli::stderr::add_to_linker::<_, WasiCli>(l, get)?;
    cli::terminal_input::add_to_linker::<_, WasiCli>(l, get)?;
    cli::terminal_output::add_to_linker::<_, WasiCli>(l, get)?;
    cli::terminal_stdin::add_to_linker::<_, WasiCli>(l, get)?;
    cli::terminal_stdout::add_to_linker::<_, WasiCli>(l, get)?;
    cli::terminal_stderr::add_to_linker::<_, WasiCli>(l, get)?;
    Ok(())
}
