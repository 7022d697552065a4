use std::collections::BTreeMap;

use super::*;

const ANCHORS: &str = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

fn sidecar() -> ProxyContainer {
    ProxyContainer {
        image: "ghcr.io/strait-mesh/strait:test".into(),
        trust_domain: "mesh.example".into(),
        trust_anchors: TrustAnchors::Pem(ANCHORS.into()),
        control_plane: ControlPlaneAddrs::services("east.example"),
        gateway: false,
    }
}

/// The environment as the kubelet builds it for pod `bb-1` of `mc-demo`
/// (ServiceAccount `bb`, node `node-1`): field references read from the
/// pod, `$(NAME)` expanded from the variables before, ConfigMap keys from
/// `config_map`.
fn resolve(vars: &[EnvVar], config_map: &BTreeMap<&str, &str>) -> BTreeMap<String, String> {
    let fields = BTreeMap::from([
        ("metadata.name", "bb-1"),
        ("metadata.namespace", "mc-demo"),
        ("spec.nodeName", "node-1"),
        ("spec.serviceAccountName", "bb"),
    ]);
    let mut resolved: BTreeMap<String, String> = BTreeMap::new();
    for var in vars {
        let from = var.value_from.as_ref();
        let text = match (&var.value, from.and_then(|f| f.field_ref.as_ref())) {
            (Some(value), _) => resolved.iter().fold(value.clone(), |text, (name, value)| {
                text.replace(&reference(name), value)
            }),
            (None, Some(field)) => fields[field.field_path.as_str()].to_string(),
            (None, None) => {
                let key = from
                    .and_then(|f| f.config_map_key_ref.as_ref())
                    .unwrap_or_else(|| panic!("{var:?} has no source"));
                assert_eq!(key.name, names::TRUST_ROOTS);
                config_map[key.key.as_str()].to_string()
            }
        };
        assert!(
            !text.contains("$("),
            "{}: {text} refers to a variable not defined before it",
            var.name
        );
        resolved.insert(var.name.clone(), text);
    }
    resolved
}

#[test]
fn the_sidecar_environment_resolves_to_the_pods_identity_and_the_control_plane() {
    let env = resolve(&sidecar().env(), &BTreeMap::new());
    let var = |name: &str| env.get(name).map(String::as_str);
    assert_eq!(
        var(env::IDENTITY_LOCAL_NAME),
        Some("bb.mc-demo.serviceaccount.identity.linkerd.mesh.example")
    );
    assert_eq!(var(env::IDENTITY_TRUST_ANCHORS), Some(ANCHORS));
    assert_eq!(
        var(env::IDENTITY_SVC_ADDR),
        Some("linkerd-identity.linkerd.svc.east.example.:8080")
    );
    assert_eq!(
        var(env::DESTINATION_SVC_ADDR),
        Some("linkerd-dst.linkerd.svc.east.example.:8086")
    );
    assert_eq!(
        var(env::POLICY_SVC_ADDR),
        Some("linkerd-policy.linkerd.svc.east.example.:8090")
    );
    assert_eq!(
        var(env::POLICY_WORKLOAD),
        Some(r#"{"ns":"mc-demo","pod":"bb-1"}"#)
    );
    assert_eq!(
        var(env::DESTINATION_CONTEXT),
        Some(r#"{"ns":"mc-demo","nodeName":"node-1","pod":"bb-1"}"#)
    );
    assert_eq!(var(env::INBOUND_LISTEN_ADDR), Some("0.0.0.0:4143"));
    assert_eq!(var(env::OUTBOUND_LISTEN_ADDR), Some("127.0.0.1:4140"));
    assert_eq!(var(env::ADMIN_LISTEN_ADDR), Some("0.0.0.0:4191"));
    assert_eq!(
        var(env::IDENTITY_TOKEN_FILE),
        Some(names::IDENTITY_TOKEN_FILE)
    );
    assert_eq!(var(env::GATEWAY), None);
    // A client in a linked cluster reaches bb through the gateway as
    // itself: bb's proxy takes the word of that gateway's identity alone.
    assert_eq!(
        var(env::INBOUND_TRUSTED_GATEWAYS),
        Some("linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.mesh.example")
    );
    // Each control-plane server is verified by its ServiceAccount's
    // identity, as the proxy refuses plaintext off loopback.
    for (name, account) in [
        (env::IDENTITY_SVC_NAME, "linkerd-identity"),
        (env::DESTINATION_SVC_NAME, "linkerd-destination"),
        (env::POLICY_SVC_NAME, "linkerd-policy"),
    ] {
        assert_eq!(
            var(name).map(str::to_string),
            Some(format!(
                "{account}.linkerd.serviceaccount.identity.linkerd.mesh.example"
            )),
            "{name}"
        );
    }
}

/// Pod Security's "restricted" profile for the proxy container: no
/// capability, no privilege escalation, not root, the default seccomp
/// profile.
#[test]
fn the_proxy_container_meets_the_restricted_pod_security_profile() {
    let container = sidecar().build();
    let security = container.security_context.expect("a security context");
    assert_eq!(security.allow_privilege_escalation, Some(false));
    assert_eq!(security.run_as_non_root, Some(true));
    assert_ne!(security.run_as_user, Some(0));
    let capabilities = security.capabilities.expect("capabilities");
    assert_eq!(capabilities.drop, Some(vec!["ALL".to_string()]));
    assert_eq!(capabilities.add, None);
    assert_eq!(
        security.seccomp_profile.map(|p| p.type_),
        Some("RuntimeDefault".to_string())
    );
}

#[test]
fn a_gateway_is_the_same_proxy_with_the_gateway_switch_and_the_configmaps_anchors() {
    let gateway = ProxyContainer {
        trust_anchors: TrustAnchors::ConfigMap,
        gateway: true,
        ..sidecar()
    };
    let sidecar_env = sidecar().env();
    let gateway_env = gateway.env();
    let (last, rest) = gateway_env.split_last().expect("variables");
    assert_eq!(
        (last.name.as_str(), last.value.as_deref()),
        (env::GATEWAY, Some("true"))
    );
    // The same variables, but a gateway trusts no other gateway's word
    // on who a client is.
    let names = |vars: &[EnvVar]| vars.iter().map(|v| v.name.clone()).collect::<Vec<_>>();
    let (trusted, sidecar_rest) = sidecar_env.split_last().expect("variables");
    assert_eq!(trusted.name, env::INBOUND_TRUSTED_GATEWAYS);
    assert_eq!(names(rest), names(sidecar_rest));
    let anchors = resolve(
        &gateway_env,
        &BTreeMap::from([(names::TRUST_ROOTS_KEY, ANCHORS)]),
    );
    assert_eq!(
        anchors.get(env::IDENTITY_TRUST_ANCHORS).map(String::as_str),
        Some(ANCHORS)
    );
}

#[test]
fn the_embedded_control_plane_serves_all_three_services_at_one_address() {
    let addrs = ControlPlaneAddrs::at("127.0.0.1:9000");
    assert_eq!(addrs.identity, "127.0.0.1:9000");
    assert_eq!(addrs.destination, "127.0.0.1:9000");
    assert_eq!(addrs.policy, "127.0.0.1:9000");
}

#[test]
fn the_container_runs_the_proxy_probed_on_its_admin_port_with_its_token_mounted() {
    let container = sidecar().build();
    assert_eq!(container.name, names::PROXY_CONTAINER);
    assert_eq!(
        container.command.as_deref(),
        Some(&[PROXY_BIN.to_string()][..])
    );
    assert_eq!(container.env, Some(sidecar().env()));
    let ports: Vec<(Option<&str>, i32)> = container
        .ports
        .iter()
        .flatten()
        .map(|p| (p.name.as_deref(), p.container_port))
        .collect();
    assert_eq!(
        ports,
        [
            (Some(ports::INBOUND_PORT_NAME), 4143),
            (Some(ports::ADMIN_PORT_NAME), 4191)
        ]
    );
    for (probe, path) in [
        (&container.readiness_probe, names::READY_PATH),
        (&container.liveness_probe, names::LIVE_PATH),
    ] {
        let get = probe
            .as_ref()
            .and_then(|p| p.http_get.as_ref())
            .expect("an HTTP probe");
        assert_eq!(get.path.as_deref(), Some(path));
        assert_eq!(get.port, IntOrString::Int(4191));
    }
    let security = container.security_context.as_ref().expect("security");
    assert_eq!(security.run_as_user, Some(PROXY_UID));
    assert_eq!(security.run_as_non_root, Some(true));
    assert_eq!(security.allow_privilege_escalation, Some(false));

    // The token file the environment names is the one the volume projects.
    let volume = identity_token_volume();
    let mount = container
        .volume_mounts
        .iter()
        .flatten()
        .find(|m| m.name == volume.name)
        .expect("the token volume is mounted");
    let projection = volume
        .projected
        .and_then(|p| p.sources)
        .and_then(|s| s.into_iter().find_map(|s| s.service_account_token))
        .expect("a projected token");
    assert_eq!(
        format!("{}/{}", mount.mount_path, projection.path),
        names::IDENTITY_TOKEN_FILE
    );
    assert_eq!(
        projection.audience.as_deref(),
        Some(names::IDENTITY_TOKEN_AUDIENCE)
    );
}
