//! A plugin written with the SDK, end to end: the example authz plugin
//! `plugins/examples/authz-namespaces` passes its cases, is pushed into a
//! running `strait local` of the pod-to-pod example, and takes over bb's
//! decisions with no failed request, as PLUGINS.md's tutorial shows.

#[allow(dead_code)]
#[path = "support/guide.rs"]
mod guide;
#[path = "support/one_mesh.rs"]
mod one_mesh;
#[allow(dead_code)]
#[path = "support/swap.rs"]
mod swap;

use std::path::Path;
use std::time::Duration;

use guide::{Workspace, assert_rate, rate};
use swap::SwapWatch;

/// The rate each of the example's clients sends at.
const QPS: f64 = 10.0;
/// The clients sleep 5 s before they start, then a full 15 s window.
const SETTLE: Duration = Duration::from_secs(22);
/// What the example plugin reports for the requests it admits.
const PLUGIN_REF: &str = "plugin/authz-namespaces";

#[test]
fn the_example_authz_plugin_pushed_into_a_running_mesh_changes_the_decisions() {
    let plugin = strait_default_plugins::examples::AUTHZ_NAMESPACES;
    let cases = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../plugins/examples/authz-namespaces/cases.yaml");

    let _mesh = one_mesh::one_mesh();
    let ws = Workspace::new("sdk-plugin", &[]);
    // The component that is pushed is the one its cases pass on.
    let tested = ws.ok(&[
        "plugin",
        "test",
        plugin,
        "--cases",
        &cases.to_string_lossy(),
    ]);
    assert!(tested.contains(" passed, 0 failed"), "{tested}");

    let up = ws.local_up(&[]);
    up.sleep_until(SETTLE);
    // Before: bb's policy admits slow-cooker and refuses slow-cooker-evil.
    let authz = ws.viz("east", "authz", "15s", &[]);
    let admitted = authz
        .row("AUTHORIZATION", "authorizationpolicy/bb-authz")
        .unwrap_or_else(|| panic!("no bb-authz row before the push: {authz:?}"));
    assert_rate(
        &admitted["RPS"],
        QPS,
        0.15,
        "slow-cooker admitted by bb-authz",
    );
    let refused = authz
        .row("AUTHORIZATION", "")
        .unwrap_or_else(|| panic!("no refused row before the push: {authz:?}"));
    assert_rate(
        &refused["UNAUTHORIZED"],
        QPS,
        0.15,
        "slow-cooker-evil refused",
    );
    assert!(
        authz.row("AUTHORIZATION", PLUGIN_REF).is_none(),
        "{authz:?}"
    );
    let mut watch = SwapWatch::start(&ws);

    let pushed = ws.ok(&[
        "--context",
        "east",
        "plugin",
        "push",
        "--kind",
        "authz",
        plugin,
        "--plugin-version",
        "namespaces-v1",
    ]);
    assert!(pushed.contains("authz.wasm pushed"), "{pushed}");
    // Delivered once bb's proxy runs it; slow-cooker got a 2xx for every
    // request across the swap, and bb's proxy refused none of them.
    watch.assert_delivered("namespaces-v1", "the push");
    let config = ws.ok(&[
        "--context",
        "east",
        "-n",
        "linkerd",
        "get",
        "configmap",
        "strait-plugins-status",
        "-o",
        "yaml",
    ]);
    assert!(
        config.contains("status.strait.io/authz.wasm: active namespaces-v1"),
        "{config}"
    );

    // After: both clients are in mc-demo and send GETs, so the plugin admits
    // both, in its own name, and refuses nothing.
    std::thread::sleep(SETTLE);
    let authz = ws.viz("east", "authz", "15s", &[]);
    let admitted = authz
        .row("AUTHORIZATION", PLUGIN_REF)
        .unwrap_or_else(|| panic!("the plugin is not deciding: {authz:?}"));
    assert_rate(&admitted["RPS"], 2.0 * QPS, 0.15, "admitted by the plugin");
    for row in &authz.rows {
        if row["AUTHORIZATION"] != PLUGIN_REF {
            assert!(
                rate(&row["RPS"]) < 0.5 && rate(&row["UNAUTHORIZED"]) < 0.5,
                "a decision not the plugin's after the swap: {row:?}"
            );
        }
    }
    watch.assert_served("after the swap");
    up.stop();
}
