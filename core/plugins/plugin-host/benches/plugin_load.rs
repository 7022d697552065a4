//! What a hot reload costs: loading a new authz plugin version (compile,
//! validate the world, pre-instantiate, smoke call, swap), and swapping back
//! to a version whose digest was compiled before (all but the compile).
//!
//! `cargo bench -p strait-plugin-host --bench plugin_load`

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use strait_plugin_host::{AuthzPlugin, HostConfig, PluginBytes, PluginHost, PluginMetrics};

fn plugin(bytes: Vec<u8>) -> PluginBytes {
    PluginBytes {
        origin: "bench".into(),
        bytes,
        version: None,
    }
}

/// The default plugin with a custom section appended: a valid component with
/// a digest never seen before, so the host must compile it.
fn fresh_copy(n: u64) -> Vec<u8> {
    let mut bytes = strait_default_plugins::AUTHZ_DEFAULT.to_vec();
    let name = b"strait-bench";
    let payload = n.to_le_bytes();
    let size = 1 + name.len() + payload.len();
    bytes.push(0); // custom section
    bytes.push(u8::try_from(size).unwrap_or(u8::MAX));
    bytes.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(&payload);
    bytes
}

fn load(c: &mut Criterion) {
    let host = PluginHost::new(
        HostConfig {
            compiled_cache_entries: 2,
            ..Default::default()
        },
        PluginMetrics::new(),
    )
    .expect("host");
    let slot = AuthzPlugin::new(
        &host,
        "authz",
        &plugin(strait_default_plugins::AUTHZ_DEFAULT.to_vec()),
    )
    .expect("default plugin");
    let mut group = c.benchmark_group("plugin_load");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    let mut n = 0;
    group.bench_function("new_version_compiled", |b| {
        b.iter(|| {
            n += 1;
            slot.load(&plugin(fresh_copy(n))).expect("loads")
        })
    });
    let a = plugin(fresh_copy(u64::MAX));
    let b_ = plugin(fresh_copy(u64::MAX - 1));
    slot.load(&a).expect("loads");
    slot.load(&b_).expect("loads");
    let mut flip = false;
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("swap_to_compiled_version", |b| {
        b.iter(|| {
            flip = !flip;
            slot.load(if flip { &a } else { &b_ }).expect("loads")
        })
    });
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
