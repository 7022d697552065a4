use std::time::Duration;

use k8s_openapi::api::core::v1::Container;
use serde_json::json;

use super::*;

fn container(value: serde_json::Value) -> Container {
    serde_json::from_value(value).unwrap()
}

#[test]
fn the_guides_bb_is_a_terminus_answering_hello() {
    let bb = container(json!({
        "name": "terminus", "image": "buoyantio/bb:v0.0.6",
        "args": ["terminus", "--h1-server-port=8080", "--response-text=hello\n"]
    }));
    let Ok(Program::Terminus(t)) = program_of(&bb) else {
        panic!("{:?}", program_of(&bb));
    };
    assert_eq!((t.port, t.response_text.as_str()), (8080, "hello\n"));
}

#[test]
fn bb_takes_separate_values_and_literal_newline_escapes() {
    let bb = container(json!({
        "name": "t", "image": "docker.io/buoyantio/bb@sha256:abc",
        "args": ["terminus", "--h1-server-port", "9090", "--response-text", "hi\\n",
                 "--percentage-failure=30", "--sleep-in-millis=5"]
    }));
    assert_eq!(
        program_of(&bb),
        Ok(Program::Terminus(Terminus {
            port: 9090,
            response_text: "hi\n".into(),
            percentage_failure: 30,
            delay: Duration::from_millis(5),
        }))
    );
}

#[test]
fn bb_modes_other_than_terminus_are_refused_with_a_reason() {
    let bb = container(json!({
        "name": "t", "image": "buoyantio/bb:v0.0.6",
        "args": ["broadcast-channel", "--h1-server-port=8080"]
    }));
    let err = program_of(&bb).unwrap_err();
    assert_eq!(
        err.reason,
        UnsupportedReason::BbMode("broadcast-channel".into()),
        "{err}"
    );
    let no_port = container(json!({"name": "t", "image": "buoyantio/bb", "args": ["terminus"]}));
    let err = program_of(&no_port).unwrap_err();
    assert_eq!(err.reason, UnsupportedReason::BbWithoutPort, "{err}");
    assert!(err.to_string().contains("--h1-server-port"), "{err}");
}

#[test]
fn the_guides_slow_cooker_script_is_understood() {
    let cooker = container(json!({
        "name": "slow-cooker", "image": "buoyantio/slow_cooker:1.3.0",
        "command": ["/bin/sh"],
        "args": ["-c", "sleep 5 # wait for pods to start\n/slow_cooker/slow_cooker --qps 10 http://bb-target:8080\n"]
    }));
    let Ok(Program::SlowCooker(c)) = program_of(&cooker) else {
        panic!("{:?}", program_of(&cooker));
    };
    assert_eq!(c.start_delay, Duration::from_secs(5));
    assert_eq!((c.qps, c.concurrency), (10, 1));
    assert_eq!(c.method, "GET");
    assert_eq!(
        c.url,
        Url {
            host: "bb-target".into(),
            port: 8080,
            authority: "bb-target:8080".into(),
            path: "/".into(),
            text: "http://bb-target:8080".into(),
        }
    );
    assert_eq!(c.interval, Duration::from_secs(10));
}

#[test]
fn slow_cooker_runs_bare_with_go_style_flags() {
    let cooker = container(json!({
        "name": "c", "image": "buoyantio/slow_cooker",
        "args": ["-qps=3", "-concurrency", "2", "-totalRequests=7", "http://10.1.2.3/x?y=1"]
    }));
    let Ok(Program::SlowCooker(c)) = program_of(&cooker) else {
        panic!("{:?}", program_of(&cooker));
    };
    assert_eq!((c.qps, c.concurrency, c.total_requests), (3, 2, Some(7)));
    assert_eq!((c.url.host.as_str(), c.url.port), ("10.1.2.3", 80));
    assert_eq!(
        (c.url.authority.as_str(), c.url.path.as_str()),
        ("10.1.2.3", "/x?y=1")
    );
    assert_eq!(c.start_delay, Duration::ZERO);
}

#[test]
fn scripts_doing_anything_else_are_refused() {
    for script in [
        "curl http://bb:8080",
        "sleep 1 && /slow_cooker/slow_cooker http://bb:8080",
        "/slow_cooker/slow_cooker http://bb:8080\necho done",
        "sleep 1",
        "/slow_cooker/slow_cooker $URL",
    ] {
        let cooker = container(json!({
            "name": "c", "image": "buoyantio/slow_cooker:1.3.0",
            "command": ["/bin/sh"], "args": ["-c", script]
        }));
        assert!(program_of(&cooker).is_err(), "{script:?} was accepted");
    }
}

#[test]
fn unknown_flags_and_urls_are_refused() {
    for args in [
        json!(["-metric-addr=:9999", "http://bb:8080"]),
        json!(["https://bb:8080"]),
        json!([]),
        json!(["-qps=0", "http://bb"]),
    ] {
        let cooker =
            container(json!({"name": "c", "image": "buoyantio/slow_cooker", "args": args}));
        assert!(program_of(&cooker).is_err(), "{args} was accepted");
    }
}

#[test]
fn other_images_are_named_in_the_message() {
    let nginx = container(json!({"name": "web", "image": "nginx:1.25"}));
    let err = program_of(&nginx).unwrap_err();
    assert_eq!(err.image, "nginx:1.25");
    let message = err.to_string();
    assert!(message.contains("nginx:1.25"), "{message}");
    assert!(message.contains("buoyantio/bb"), "{message}");
    let none = container(json!({"name": "x"}));
    assert!(program_of(&none).is_err());
}

#[test]
fn repositories_ignore_registry_defaults_tags_and_digests() {
    assert_eq!(repository("buoyantio/bb:v0.0.6"), "buoyantio/bb");
    assert_eq!(repository("docker.io/buoyantio/bb"), "buoyantio/bb");
    assert_eq!(
        repository("localhost:5000/buoyantio/bb:1"),
        "localhost:5000/buoyantio/bb"
    );
    assert_eq!(repository("nginx"), "nginx");
    assert_eq!(repository("docker.io/library/nginx:1.25"), "nginx");
}

#[test]
fn linkerds_proxy_image_with_the_gateway_setting_is_a_gateway() {
    let proxy = container(json!({
        "name": "linkerd-proxy", "image": "cr.l5d.io/linkerd/proxy:edge-24.11.8",
        "env": [{"name": "STRAIT_PROXY_GATEWAY", "value": "true"}]
    }));
    assert_eq!(program_of(&proxy), Ok(Program::Gateway));
}

#[test]
fn straits_image_is_a_gateway_only_as_proxy() {
    let env = json!([{"name": "STRAIT_PROXY_GATEWAY", "value": "true"}]);
    for (command, args) in [
        (json!(null), json!(["proxy"])),
        (json!(["/usr/bin/strait"]), json!(["proxy"])),
        (json!(["strait", "proxy"]), json!(null)),
        (json!([strait_api::image::PROXY_BIN]), json!(null)),
    ] {
        let strait = container(json!({
            "name": "gateway", "image": "ghcr.io/strait-mesh/strait:0.1.0",
            "command": command, "args": args, "env": env
        }));
        assert_eq!(program_of(&strait), Ok(Program::Gateway), "{strait:?}");
    }
    let controller = container(json!({
        "name": "gateway", "image": "ghcr.io/strait-mesh/strait:0.1.0",
        "args": ["controller"], "env": env
    }));
    let err = program_of(&controller).unwrap_err();
    assert_eq!(
        err.reason,
        UnsupportedReason::NotStraitProxy(vec!["controller".into()]),
        "{err}"
    );
}

#[test]
fn a_proxy_image_without_the_gateway_setting_is_refused() {
    for env in [
        json!(null),
        json!([{"name": "STRAIT_PROXY_GATEWAY", "value": "false"}]),
        json!([{"name": "STRAIT_PROXY_GATEWAY", "valueFrom": {"fieldRef": {"fieldPath": "x"}}}]),
    ] {
        let proxy = container(json!({
            "name": "proxy", "image": "cr.l5d.io/linkerd/proxy:stable-2.14.10", "env": env
        }));
        let err = program_of(&proxy).unwrap_err();
        assert_eq!(err.reason, UnsupportedReason::NotAGateway, "{err}");
        assert!(
            err.to_string().contains("STRAIT_PROXY_GATEWAY=true"),
            "{err}"
        );
        assert!(err.to_string().contains("multicluster gateway"), "{err}");
    }
}

#[test]
fn slow_cookers_interval_is_read() {
    let with = |interval: &str| {
        program_of(&container(json!({
            "name": "c", "image": "buoyantio/slow_cooker",
            "args": ["-interval", interval, "http://bb:8080"]
        })))
    };
    let Ok(Program::SlowCooker(c)) = with("1s") else {
        panic!("{:?}", with("1s"));
    };
    assert_eq!(c.interval, Duration::from_secs(1));
    assert!(matches!(
        with("soon"),
        Err(UnsupportedImage {
            reason: UnsupportedReason::NotADuration { .. },
            ..
        })
    ));
}

#[test]
fn echo_server_serves_on_its_port_variable_or_8080() {
    let echo = |extra: serde_json::Value| {
        let mut spec = json!({"name": "echo", "image": "jmalloc/echo-server:v0.3.7"});
        spec.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        program_of(&container(spec))
    };
    assert_eq!(
        echo(json!({})),
        Ok(Program::EchoServer(EchoServer { port: 8080 }))
    );
    let on_9000 = echo(json!({"env": [{"name": "PORT", "value": "9000"}]}));
    assert_eq!(on_9000, Ok(Program::EchoServer(EchoServer { port: 9000 })));
    assert_eq!(on_9000.unwrap().server_port(), Some(9000));
    assert_eq!(
        echo(json!({"command": ["/bin/echo-server"]})),
        Ok(Program::EchoServer(EchoServer { port: 8080 }))
    );
    for (extra, why) in [
        (
            json!({"env": [{"name": "PORT", "value": "http"}]}),
            "PORT=\"http\" is not a port number",
        ),
        (
            json!({"env": [{"name": "PORT", "value": "0"}]}),
            "PORT=\"0\" is not a port number",
        ),
        (
            json!({"command": ["/bin/sh"]}),
            "\"/bin/sh\" is not echo-server",
        ),
        (
            json!({"args": ["--verbose"]}),
            "unexpected argument \"--verbose\"",
        ),
    ] {
        let err = echo(extra.clone()).expect_err("refused");
        assert_eq!(err.image, "jmalloc/echo-server:v0.3.7");
        assert!(err.to_string().contains(why), "{extra}: {err}");
    }
}

#[test]
fn slow_cookers_request_timeout_is_read() {
    let with = |args: &[&str]| {
        program_of(&container(json!({
            "name": "c", "image": "buoyantio/slow_cooker", "args": args
        })))
    };
    let Ok(Program::SlowCooker(default)) = with(&["http://bb:8080"]) else {
        panic!("{:?}", with(&["http://bb:8080"]));
    };
    assert_eq!(default.timeout, Duration::from_secs(10));
    let Ok(Program::SlowCooker(short)) = with(&["-timeout", "250ms", "http://bb:8080"]) else {
        panic!("{:?}", with(&["-timeout", "250ms", "http://bb:8080"]));
    };
    assert_eq!(short.timeout, Duration::from_millis(250));
    assert!(with(&["-timeout", "0s", "http://bb:8080"]).is_err());
}
