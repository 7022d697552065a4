//! Compiles the built-in plugins ahead of time, with the engine
//! configuration the host runs (`src/engine.rs`, included here), so a proxy
//! or controller starting with a built-in plugin loads machine code instead
//! of running the compiler: starting is faster and the compiler's code and
//! heap never become part of a sidecar's memory. The artifacts are keyed by
//! the SHA-256 of the component they came from; any other plugin, or an
//! artifact this host cannot use (another CPU, another configuration), is
//! compiled at run time as before.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

use strait_mesh::plugins::plugin_digest;

#[path = "src/engine.rs"]
#[allow(dead_code)]
mod engine;

/// The host's defaults (`HostConfig::default()`), which the artifacts are
/// compiled for; a host configured otherwise compiles at run time.
const MAX_INSTANCES: u32 = 256;
const MEMORY_LIMIT_BYTES: usize = 64 << 20;

fn main() {
    println!("cargo:rerun-if-changed=src/engine.rs");
    println!("cargo:rerun-if-changed=build.rs");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let engine = wasmtime::Engine::new(&engine::engine_config(MAX_INSTANCES, MEMORY_LIMIT_BYTES))
        .unwrap_or_else(|e| panic!("cannot build the plugin engine: {e:#}"));
    let mut table = String::from("&[\n");
    for (name, component) in [
        ("authz-default", strait_default_plugins::AUTHZ_DEFAULT),
        ("export-default", strait_default_plugins::EXPORT_DEFAULT),
    ] {
        let artifact = engine
            .precompile_component(component)
            .unwrap_or_else(|e| panic!("cannot compile the built-in plugin {name}: {e:#}"));
        let path = out_dir.join(format!("{name}.cwasm"));
        fs::write(&path, artifact)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        let digest = plugin_digest(component);
        let _ = writeln!(
            table,
            "    ({digest:?}, include_bytes!({:?}).as_slice()),",
            path.display().to_string()
        );
    }
    table.push(']');
    let table_path = out_dir.join("precompiled.rs");
    fs::write(&table_path, table)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", table_path.display()));
}
