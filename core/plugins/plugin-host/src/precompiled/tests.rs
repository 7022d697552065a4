use strait_mesh::plugins::plugin_digest as digest;
use wasmtime::Engine;

use super::load;
use crate::config::HostConfig;
use crate::engine::engine_config;

fn default_engine() -> Engine {
    let config = HostConfig::default();
    Engine::new(&engine_config(
        config.max_instances,
        config.memory_limit_bytes,
    ))
    .unwrap_or_else(|e| panic!("engine: {e:#}"))
}

#[test]
fn built_in_plugins_load_without_compiling_under_the_default_configuration() {
    let engine = default_engine();
    for (name, component) in [
        ("authz", strait_default_plugins::AUTHZ_DEFAULT),
        ("export", strait_default_plugins::EXPORT_DEFAULT),
    ] {
        let loaded = load(&engine, &digest(component));
        assert!(
            loaded.is_some(),
            "the built-in {name} plugin was not precompiled for this host"
        );
    }
}

#[test]
fn other_components_have_no_artifact() {
    let engine = default_engine();
    assert!(load(&engine, &digest(b"not a built-in plugin")).is_none());
}

#[test]
fn an_engine_configured_otherwise_refuses_the_artifact() {
    // Without epoch interruption the compiled code would lack the deadline
    // checks: wasmtime must refuse it, and the host then compiles.
    let mut config = engine_config(256, 64 << 20);
    config.epoch_interruption(false);
    let engine = Engine::new(&config).unwrap_or_else(|e| panic!("engine: {e:#}"));
    assert!(load(&engine, &digest(strait_default_plugins::AUTHZ_DEFAULT)).is_none());
}
