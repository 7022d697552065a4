//! Misbehaving and malformed plugins are stopped or refused, and the last good
//! version keeps serving.

mod support;

use std::time::Duration;

use strait_decisions::authz::{ClientTls, Decision, Inbound};
use strait_decisions::cases::{SLOW_COOKER, bb_authz, request};
use strait_plugin_host::{CallOutcome, PluginError, PluginKind};

fn request_to(path: &str) -> Inbound {
    let mut req = request(ClientTls::Mtls(SLOW_COOKER.into()), "10.0.0.1");
    if let Some(http) = req.http.as_mut() {
        http.path = path.to_string();
    }
    req
}

/// A loop that never returns is stopped by the call's deadline (the
/// epoch interruption the host arms for every call, 5 ms by default), not
/// by the clock of a test: wall time on a loaded machine says nothing of
/// the mechanism, the outcome does.
#[test]
fn a_runaway_loop_is_stopped_by_the_deadline_and_denied() {
    let host = support::host();
    assert!(
        host.config().authz_call_timeout <= Duration::from_millis(10),
        "an authz call's deadline is {:?}",
        host.config().authz_call_timeout
    );
    let plugin = support::faulty_authz(&host);
    for _ in 0..3 {
        let verdict = plugin.authorize(request_to("/loop"), &support::set(&[bb_authz()]));
        assert_eq!(verdict.outcome, CallOutcome::Timeout);
        let Decision::Deny(reason) = verdict.decision else {
            panic!("a runaway plugin must deny, got {:?}", verdict.decision);
        };
        assert!(reason.contains("deadline"), "{reason}");
    }
    // The plugin keeps serving after the runaway instance was discarded.
    let verdict = plugin.authorize(request_to("/"), &support::set(&[bb_authz()]));
    assert_eq!(verdict.outcome, CallOutcome::Ok);
    assert!(verdict.decision.is_allow());
}

#[test]
fn a_memory_bomb_stops_at_the_cap_and_is_denied() {
    // A small cap and a roomy deadline, so the cap (not the clock) stops it.
    let host = strait_plugin_host::PluginHost::new(
        strait_plugin_host::HostConfig {
            memory_limit_bytes: 8 << 20,
            authz_call_timeout: Duration::from_secs(2),
            ..Default::default()
        },
        strait_plugin_host::PluginMetrics::new(),
    )
    .unwrap();
    let cap = host.config().memory_limit_bytes;
    let plugin = support::faulty_authz(&host);
    let verdict = plugin.authorize(request_to("/grow"), &support::set(&[bb_authz()]));
    assert_eq!(verdict.outcome, CallOutcome::MemoryLimit);
    let Decision::Deny(reason) = verdict.decision else {
        panic!("a memory bomb must deny, got {:?}", verdict.decision);
    };
    assert!(reason.contains(&format!("cap of {cap} bytes")), "{reason}");
    assert!(
        plugin
            .authorize(request_to("/"), &support::set(&[]))
            .decision
            .is_allow()
    );
}

#[test]
fn a_trap_is_a_deny_that_carries_the_panic_message() {
    let host = support::host();
    let plugin = support::faulty_authz(&host);
    let verdict = plugin.authorize(request_to("/trap"), &support::set(&[bb_authz()]));
    assert_eq!(verdict.outcome, CallOutcome::Trap);
    let Decision::Deny(reason) = verdict.decision else {
        panic!("a trap must deny, got {:?}", verdict.decision);
    };
    assert!(reason.contains("asked to trap"), "{reason}");
    assert!(reason.contains("unreachable"), "{reason}");
    assert!(!reason.contains('\n'), "{reason}");
}

#[test]
fn plugins_can_log_through_the_host() {
    let host = support::host();
    let plugin = support::faulty_authz(&host);
    let verdict = plugin.authorize(request_to("/log"), &support::set(&[]));
    assert_eq!(verdict.outcome, CallOutcome::Ok);
    assert!(verdict.decision.is_allow());
}

fn assert_rejected_and_still_serving(
    plugin: &strait_plugin_host::AuthzPlugin,
    bad: &strait_plugin_host::PluginBytes,
    expect: &str,
) -> PluginError {
    let before = plugin.active();
    let err = plugin.load(bad).expect_err("bad plugin must be rejected");
    let message = err.to_string();
    assert!(
        message.contains(expect),
        "{message:?} should mention {expect:?}"
    );
    assert!(
        message.contains(&bad.origin),
        "{message:?} should name {:?}",
        bad.origin
    );
    assert!(!message.contains('\n'), "one-line reason: {message:?}");
    assert_eq!(
        plugin.active(),
        before,
        "the last good version stays active"
    );
    assert_eq!(plugin.last_rejection().as_deref(), Some(message.as_str()));
    let verdict = plugin.authorize(
        request(ClientTls::Mtls(SLOW_COOKER.into()), "10.0.0.1"),
        &support::set(&[bb_authz()]),
    );
    assert_eq!(verdict.outcome, CallOutcome::Ok);
    assert!(
        verdict.decision.is_allow(),
        "still serving: {:?}",
        verdict.decision
    );
    err
}

#[test]
fn garbage_is_rejected_while_the_last_good_version_serves() {
    let host = support::host();
    let plugin = support::default_authz(&host);
    let garbage = support::bytes("garbage.wasm", b"\x7fELF\x02\x01\x01 this is not wasm");
    let err = assert_rejected_and_still_serving(&plugin, &garbage, "7f 45 4c 46");
    assert!(matches!(err, PluginError::NotAComponent { .. }));
    let empty = support::bytes("empty.wasm", b"");
    assert_rejected_and_still_serving(&plugin, &empty, "empty");
    let truncated = support::bytes(
        "truncated.wasm",
        &strait_default_plugins::AUTHZ_DEFAULT[..200],
    );
    let err = assert_rejected_and_still_serving(&plugin, &truncated, "does not compile");
    assert!(matches!(err, PluginError::Compile { .. }));
}

#[test]
fn a_core_module_is_rejected_as_not_a_component() {
    let host = support::host();
    let plugin = support::default_authz(&host);
    let module = wat::parse_str("(module (func (export \"authorize\")))").unwrap();
    assert_rejected_and_still_serving(
        &plugin,
        &support::bytes("core.wasm", &module),
        "core Wasm module",
    );
    let text = support::bytes("core.wat", b"(module)");
    assert_rejected_and_still_serving(&plugin, &text, "core module");
}

#[test]
fn a_component_of_the_other_world_is_rejected() {
    let host = support::host();
    let plugin = support::default_authz(&host);
    let export = support::bytes("export.wasm", strait_default_plugins::EXPORT_DEFAULT);
    let err = assert_rejected_and_still_serving(
        &plugin,
        &export,
        "strait:export-mode/export-plugin@0.2.0",
    );
    assert!(
        matches!(
            err,
            PluginError::WrongWorld {
                kind: PluginKind::Authz,
                ..
            }
        ),
        "{err}"
    );
    let empty = support::bytes("empty.wat", b"(component)");
    assert_rejected_and_still_serving(
        &plugin,
        &empty,
        "does not export the interface `strait:authz/authorizer`",
    );
}

/// A component that exports the authorizer interface with an `authorize` of
/// the wrong type; `IMPORT` is replaced by extra imports.
const WRONG_AUTHORIZER: &str = r#"(component
    IMPORT
    (core module $m (func (export "f") (result i32) i32.const 0))
    (core instance $i (instantiate $m))
    (func $f (result u32) (canon lift (core func $i "f")))
    (instance $exports (export "authorize" (func $f)))
    (export "strait:authz/authorizer@0.1.0" (instance $exports)))"#;

#[test]
fn an_export_with_the_wrong_signature_is_rejected() {
    let host = support::host();
    let plugin = support::default_authz(&host);
    let wrong = support::bytes(
        "wrong-signature.wat",
        WRONG_AUTHORIZER.replace("IMPORT", "").as_bytes(),
    );
    assert_rejected_and_still_serving(
        &plugin,
        &wrong,
        "does not match world strait:authz/authz-plugin@0.1.0",
    );
}

#[test]
fn capabilities_beyond_the_world_are_refused() {
    let host = support::host();
    let plugin = support::default_authz(&host);
    for (interface, what) in [
        ("wasi:filesystem/preopens@0.2.0", "filesystem"),
        ("wasi:sockets/tcp@0.2.0", "network"),
        ("wasi:clocks/wall-clock@0.2.0", "clock"),
        ("wasi:random/random@0.2.0", "random"),
    ] {
        let wat =
            WRONG_AUTHORIZER.replace("IMPORT", &format!(r#"(import "{interface}" (instance))"#));
        let bad = support::bytes(&format!("wants-{what}.wat"), wat.as_bytes());
        let err = assert_rejected_and_still_serving(&plugin, &bad, interface);
        assert!(err.to_string().contains(what), "{err}");
        assert!(matches!(err, PluginError::ForbiddenImport { .. }), "{err}");
    }
}

#[test]
fn invalid_wat_names_the_line() {
    let host = support::host();
    let plugin = support::default_authz(&host);
    let bad = support::bytes(
        "broken.wat",
        b"(component\n  (func (export \"authorize\")\n",
    );
    assert_rejected_and_still_serving(&plugin, &bad, "invalid WAT at line 3, column 1");
}

#[test]
fn check_reports_the_digest_of_a_good_plugin() {
    let host = support::host();
    let authz = support::bytes("authz.wasm", strait_default_plugins::AUTHZ_DEFAULT);
    let info = host
        .check(PluginKind::Authz, &authz)
        .expect("default authz passes");
    assert_eq!(info.digest.len(), 64);
    assert_eq!(info.label, &info.digest[..12]);
    let err = host
        .check(PluginKind::Export, &authz)
        .expect_err("authz is not an export plugin");
    assert!(err.to_string().contains("is not an export plugin"), "{err}");
}

#[test]
fn the_plugin_reads_every_request_field_through_the_inbound_resource() {
    let host = support::host();
    let plugin = support::faulty_authz(&host);
    let mut req = request_to("/inspect");
    if let Some(http) = req.http.as_mut() {
        http.headers.push(strait_decisions::authz::Header {
            name: "x-test".into(),
            value: "one".into(),
        });
        http.headers.push(strait_decisions::authz::Header {
            name: "X-TEST".into(),
            value: "two".into(),
        });
    }
    let verdict = plugin.authorize(req, &support::set(&[bb_authz(), bb_authz()]));
    let Decision::Allow(seen) = verdict.decision else {
        panic!("expected the inspection, got {:?}", verdict.decision);
    };
    let expected = format!(
        "tls=ClientTls::Mtls({SLOW_COOKER:?}) ip=IpAddress::Ipv4((10, 0, 0, 1)) server=server/bb \
         port=8080 protocol=Protocol::Http1 \
         route=Some(\"default/default\") method=Some(\"GET\") \
         authority=Some(\"bb-target.mc-demo.svc.cluster.local:8080\") x-test=[\"one\", \"two\"] candidates=2"
    );
    assert_eq!(&*seen.name, expected);
}

#[test]
fn lent_headers_are_read_on_demand_and_handed_back() {
    let host = support::host();
    let plugin = support::faulty_authz(&host);
    let mut headers = http::HeaderMap::new();
    headers.append("x-test", http::HeaderValue::from_static("one"));
    headers.append("X-Test", http::HeaderValue::from_static("two"));
    headers.append("x-other", http::HeaderValue::from_static("three"));
    let (verdict, back) = plugin.authorize_with_headers(
        request_to("/inspect"),
        headers.clone(),
        &support::set(&[bb_authz(), bb_authz()]),
    );
    let Decision::Allow(seen) = verdict.decision else {
        panic!("expected the inspection, got {:?}", verdict.decision);
    };
    assert!(
        seen.name.contains(" x-test=[\"one\", \"two\"] "),
        "{}",
        seen.name
    );
    assert_eq!(back, headers);
}

#[test]
fn many_candidate_sets_on_one_instance_stay_correct() {
    // More sets than an instance keeps prepared: older ones are released and
    // prepared again when they come back.
    let host = support::host();
    let plugin = support::default_authz(&host);
    let allow = support::set(&[bb_authz()]);
    let sets: Vec<_> = (0..100).map(|_| support::set(&[])).collect();
    for round in 0..2 {
        for set in &sets {
            let verdict = plugin.authorize(request_to("/"), set);
            assert!(
                !verdict.decision.is_allow(),
                "round {round}: an empty set denies"
            );
        }
        let verdict = plugin.authorize(request_to("/"), &allow);
        assert!(
            verdict.decision.is_allow(),
            "round {round}: {:?}",
            verdict.decision
        );
    }
}

#[test]
fn allowing_a_candidate_that_does_not_exist_is_a_denying_error() {
    let host = support::host();
    let plugin = support::faulty_authz(&host);
    let verdict = plugin.authorize(request_to("/index/0"), &support::set(&[bb_authz()]));
    assert_eq!(verdict.decision, Decision::Allow(bb_authz().reference));
    let verdict = plugin.authorize(request_to("/index/1"), &support::set(&[bb_authz()]));
    assert_eq!(verdict.outcome, CallOutcome::Error);
    let Decision::Deny(reason) = verdict.decision else {
        panic!("expected a deny, got {:?}", verdict.decision);
    };
    assert!(
        reason.contains("allowed candidate 1, but the set has 1 candidates"),
        "{reason}"
    );
}

/// The proxy and the controllers call plugins on their tokio runtime's
/// threads. A trap writes its panic message to the plugin's stderr, which
/// must be answered there without entering a runtime (that would panic
/// inside the proxy and drop the request unanswered).
#[test]
fn a_trap_on_a_runtime_thread_is_a_deny_too() {
    let host = support::host();
    let plugin = support::faulty_authz(&host);
    let runtimes = [
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap(),
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap(),
    ];
    for runtime in runtimes {
        let verdict = runtime.block_on(async {
            plugin.authorize(request_to("/trap"), &support::set(&[bb_authz()]))
        });
        assert_eq!(verdict.outcome, CallOutcome::Trap);
        let Decision::Deny(reason) = verdict.decision else {
            panic!("a trap must deny, got {:?}", verdict.decision);
        };
        assert!(reason.contains("asked to trap"), "{reason}");
        // And the plugin serves on from the same thread.
        let verdict = runtime
            .block_on(async { plugin.authorize(request_to("/"), &support::set(&[bb_authz()])) });
        assert_eq!(verdict.outcome, CallOutcome::Ok);
    }
}
