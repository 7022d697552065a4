use std::collections::HashMap;

use super::*;

const ANCHOR: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

fn env(extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = [
        (
            "LINKERD2_PROXY_IDENTITY_LOCAL_NAME",
            "bb.mc-demo.serviceaccount.identity.linkerd.cluster.local",
        ),
        ("LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS", ANCHOR),
        (
            "LINKERD2_PROXY_IDENTITY_TOKEN_FILE",
            "/var/run/secrets/tokens/linkerd-identity-token",
        ),
        (
            "LINKERD2_PROXY_IDENTITY_SVC_ADDR",
            "linkerd-identity-headless.linkerd.svc.cluster.local.:8080",
        ),
        (
            "LINKERD2_PROXY_DESTINATION_SVC_ADDR",
            "linkerd-dst-headless.linkerd.svc.cluster.local.:8086",
        ),
        (
            "LINKERD2_PROXY_POLICY_SVC_ADDR",
            "linkerd-policy.linkerd.svc.cluster.local.:8090",
        ),
        (
            "LINKERD2_PROXY_POLICY_WORKLOAD",
            r#"{"ns":"mc-demo","pod":"bb-1"}"#,
        ),
        (
            "LINKERD2_PROXY_IDENTITY_SVC_NAME",
            "linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local",
        ),
        (
            "LINKERD2_PROXY_DESTINATION_SVC_NAME",
            "linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local",
        ),
        (
            "LINKERD2_PROXY_POLICY_SVC_NAME",
            "linkerd-policy.linkerd.serviceaccount.identity.linkerd.cluster.local",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    env
}

fn read(env: &HashMap<String, String>) -> Result<ProxyConfig, ConfigError> {
    ProxyConfig::from_lookup(|name| env.get(name).cloned())
}

#[test]
fn linkerds_sidecar_variables_with_linkerds_ports() {
    let config = read(&env(&[])).unwrap();
    assert_eq!(config.inbound_listen_addr, "0.0.0.0:4143".parse().unwrap());
    assert_eq!(
        config.outbound_listen_addr,
        "127.0.0.1:4140".parse().unwrap()
    );
    assert_eq!(config.admin_listen_addr, "0.0.0.0:4191".parse().unwrap());
    assert_eq!(
        config.identity.token,
        TokenConfig::File("/var/run/secrets/tokens/linkerd-identity-token".into())
    );
    assert_eq!(
        config.destination_context,
        r#"{"ns":"mc-demo","pod":"bb-1"}"#
    );
    assert!(!config.gateway);
    // Unset, no gateway is taken at its word.
    assert!(config.trusted_gateways.is_empty());
    assert!(config.inbound_direct.is_empty());
    assert_eq!(config.detect_timeout, Duration::from_secs(10));
    assert_eq!(config.metrics_retain_idle, Duration::from_secs(600));
}

#[test]
fn embedded_settings() {
    let config = read(&env(&[
        ("STRAIT_PROXY_IDENTITY_TOKEN", "pod-token"),
        (
            "STRAIT_PROXY_INBOUND_DIRECT",
            "127.1.0.5:8080=127.0.0.1:18080, 127.1.0.5:9990=127.0.0.1:19990",
        ),
        (
            "STRAIT_PROXY_METRIC_LABELS",
            "namespace=mc-demo,deployment=bb",
        ),
        ("STRAIT_PROXY_GATEWAY", "true"),
        ("LINKERD2_PROXY_INBOUND_DETECT_TIMEOUT", "500ms"),
        ("STRAIT_PROXY_SOURCE_IP", "127.1.0.5"),
        ("LINKERD2_PROXY_METRICS_RETAIN_IDLE", "90s"),
    ]))
    .unwrap();
    assert_eq!(
        config.identity.token,
        TokenConfig::Value(b"pod-token".to_vec())
    );
    assert_eq!(
        config.inbound_direct,
        [
            DirectInbound {
                listen: "127.1.0.5:8080".parse().unwrap(),
                app: "127.0.0.1:18080".parse().unwrap()
            },
            DirectInbound {
                listen: "127.1.0.5:9990".parse().unwrap(),
                app: "127.0.0.1:19990".parse().unwrap()
            },
        ]
    );
    assert_eq!(config.metric_labels["deployment"], "bb");
    assert!(config.gateway);
    assert_eq!(config.detect_timeout, Duration::from_millis(500));
    assert_eq!(config.source_ip, Some("127.1.0.5".parse().unwrap()));
    assert_eq!(config.metrics_retain_idle, Duration::from_secs(90));
}

#[test]
fn the_control_plane_is_verified_by_name_and_plaintext_only_on_loopback() {
    let config = read(&env(&[])).unwrap();
    assert_eq!(
        config.policy_name.as_deref(),
        Some("linkerd-policy.linkerd.serviceaccount.identity.linkerd.cluster.local")
    );
    assert_eq!(config.authz_plugin_digests, None);
    // Off loopback, a missing name is an error naming its variable.
    for (name, addr) in [
        (
            "LINKERD2_PROXY_IDENTITY_SVC_NAME",
            "LINKERD2_PROXY_IDENTITY_SVC_ADDR",
        ),
        (
            "LINKERD2_PROXY_DESTINATION_SVC_NAME",
            "LINKERD2_PROXY_DESTINATION_SVC_ADDR",
        ),
        (
            "LINKERD2_PROXY_POLICY_SVC_NAME",
            "LINKERD2_PROXY_POLICY_SVC_ADDR",
        ),
    ] {
        let mut vars = env(&[]);
        vars.remove(name);
        let err = read(&vars).unwrap_err();
        assert_eq!(err.variable, name);
        assert!(err.to_string().contains("only over TLS"), "{err}");
        // On loopback it may be plaintext.
        vars.insert(addr.to_string(), "127.0.0.1:8090".to_string());
        assert!(read(&vars).is_ok(), "{name} on loopback");
    }
    let digest = "A".repeat(64);
    let config = read(&env(&[(
        "STRAIT_PROXY_AUTHZ_PLUGIN_DIGESTS",
        &format!("sha256:{digest}, {}", "b".repeat(64)),
    )]))
    .unwrap();
    assert_eq!(
        config.authz_plugin_digests,
        Some(BTreeSet::from(["a".repeat(64), "b".repeat(64)]))
    );
}

#[test]
fn every_fault_names_its_variable() {
    let cases: [(&str, &str, &str); 13] = [
        (
            "STRAIT_PROXY_INBOUND_TRUSTED_GATEWAYS",
            "linkerd-gateway.linkerd-multicluster, Bad Name",
            "\"Bad Name\" is not a mesh identity",
        ),
        (
            "STRAIT_PROXY_INBOUND_TRUSTED_GATEWAYS",
            "a..b",
            "empty label",
        ),
        (
            "STRAIT_PROXY_AUTHZ_PLUGIN_DIGESTS",
            "sha256:abc",
            "sha256:<64 hex digits>",
        ),
        ("STRAIT_PROXY_AUTHZ_PLUGIN_DIGESTS", ",", "names no digest"),
        ("STRAIT_PROXY_SOURCE_IP", "pod", "not an IP address"),
        (
            "LINKERD2_PROXY_INBOUND_LISTEN_ADDR",
            "4143",
            "not an IP address",
        ),
        (
            "STRAIT_PROXY_INBOUND_DIRECT",
            "127.1.0.5:8080",
            "LISTEN=APP",
        ),
        (
            "STRAIT_PROXY_INBOUND_DIRECT",
            "127.1.0.5:8080=app",
            "\"app\"",
        ),
        ("STRAIT_PROXY_GATEWAY", "yes", "neither true nor false"),
        ("STRAIT_PROXY_METRIC_LABELS", "bad-name=x", "label name"),
        ("LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS", "not pem", "no PEM"),
        ("LINKERD2_PROXY_INBOUND_DETECT_TIMEOUT", "10", "duration"),
        (
            "LINKERD2_PROXY_METRICS_RETAIN_IDLE",
            "ten minutes",
            "duration",
        ),
    ];
    for (variable, value, expected) in cases {
        let err = read(&env(&[(variable, value)])).unwrap_err();
        assert_eq!(err.variable, variable);
        assert!(err.to_string().contains(expected), "{err}");
    }
    let mut missing = env(&[]);
    missing.remove("LINKERD2_PROXY_POLICY_SVC_ADDR");
    let err = read(&missing).unwrap_err();
    assert_eq!(
        err.to_string(),
        "LINKERD2_PROXY_POLICY_SVC_ADDR: is required"
    );
    let mut no_token = env(&[]);
    no_token.remove("LINKERD2_PROXY_IDENTITY_TOKEN_FILE");
    assert_eq!(
        read(&no_token).unwrap_err().variable,
        "LINKERD2_PROXY_IDENTITY_TOKEN_FILE"
    );
}

const GATEWAY_ID: &str =
    "linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local";

#[test]
fn a_sidecar_trusts_the_gateways_it_is_given_and_a_gateway_trusts_none() {
    let config = read(&env(&[(
        "STRAIT_PROXY_INBOUND_TRUSTED_GATEWAYS",
        &format!(" {GATEWAY_ID} ,, other.gw "),
    )]))
    .unwrap();
    assert_eq!(
        config.trusted_gateways,
        BTreeSet::from([GATEWAY_ID.to_string(), "other.gw".to_string()])
    );
    // A gateway that took another gateway's word would let a chain of
    // gateways launder identities.
    let err = read(&env(&[
        ("STRAIT_PROXY_GATEWAY", "true"),
        ("STRAIT_PROXY_INBOUND_TRUSTED_GATEWAYS", GATEWAY_ID),
    ]))
    .unwrap_err();
    assert_eq!(err.variable, "STRAIT_PROXY_INBOUND_TRUSTED_GATEWAYS");
    assert!(err.reason.contains("trusts no gateway"), "{err}");
}

#[test]
fn the_help_names_the_default_listen_addresses() {
    // The texts are constants; this keeps them saying what `from_lookup`
    // falls back to.
    for (variable, default) in [
        (env::INBOUND_LISTEN_ADDR, INBOUND_ADDR),
        (env::OUTBOUND_LISTEN_ADDR, OUTBOUND_ADDR),
        (env::ADMIN_LISTEN_ADDR, ADMIN_ADDR),
    ] {
        let (_, help) = VARIABLES
            .iter()
            .find(|(name, _)| *name == variable)
            .unwrap_or_else(|| panic!("{variable} is not listed"));
        assert!(
            help.contains(&format!("(default {default})")),
            "{variable}: {help}"
        );
    }
}
