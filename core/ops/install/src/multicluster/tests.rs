use k8s_openapi::api::core::v1::Service;
use strait_api::image::PROXY_BIN;

use super::*;
use crate::testing::{
    check_deployments, check_labels_and_bindings, check_no_wildcards,
    check_plugins_config_map_read_only, deployments, has, index, round_trip, rules,
};

const ANCHORS: &str = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

fn mc() -> Option<&'static str> {
    Some(MULTICLUSTER_NAMESPACE)
}

fn with_sets(sets: &[&str]) -> Result<Multicluster, SetError> {
    let mut install = Multicluster::default();
    install.apply_sets(sets.iter().copied())?;
    Ok(install)
}

fn set_error(sets: &[&str]) -> String {
    match with_sets(sets) {
        Ok(install) => panic!("accepted: {install:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_default_install_is_the_link_crd_namespace_remote_access_and_gateway() {
    let objects = Multicluster::default().render().expect("renders");
    round_trip(&objects);
    let index = index(&objects);
    assert_eq!(
        index[0],
        (
            "CustomResourceDefinition",
            None,
            "links.multicluster.linkerd.io".to_string()
        )
    );
    assert_eq!(
        index[1],
        ("Namespace", None, MULTICLUSTER_NAMESPACE.to_string())
    );
    for (kind, name) in [
        ("ServiceAccount", REMOTE_ACCESS_ACCOUNT),
        ("Secret", REMOTE_ACCESS_TOKEN),
        ("ServiceAccount", GATEWAY),
        ("Deployment", GATEWAY),
        ("Service", GATEWAY),
    ] {
        assert!(has(&objects, kind, mc(), name), "{kind} {name}");
    }
    assert!(has(&objects, "ClusterRole", None, REMOTE_ACCESS_ACCOUNT));
    assert!(has(
        &objects,
        "ClusterRoleBinding",
        None,
        REMOTE_ACCESS_ACCOUNT
    ));
    for kind in ["Role", "RoleBinding"] {
        assert!(
            has(
                &objects,
                kind,
                Some(CONTROL_PLANE_NAMESPACE),
                REMOTE_ACCESS_ACCOUNT
            ),
            "{kind}"
        );
    }
    // The gateway's trust roots are the user's to create when not given.
    assert!(!has(&objects, "ConfigMap", mc(), TRUST_ROOTS));
    check_deployments(
        &objects,
        &[("ConfigMap", MULTICLUSTER_NAMESPACE, TRUST_ROOTS)],
    );
    check_labels_and_bindings(&objects);
    check_no_wildcards(&objects);
    check_plugins_config_map_read_only(&objects);
}

#[test]
fn the_remote_access_token_belongs_to_its_account() {
    let objects = remote_access();
    let secret = objects
        .iter()
        .find_map(|o| match o {
            Object::Secret(s) => Some(s),
            _ => None,
        })
        .expect("token secret");
    assert_eq!(
        secret.type_.as_deref(),
        Some("kubernetes.io/service-account-token")
    );
    assert_eq!(
        secret
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("kubernetes.io/service-account.name"))
            .map(String::as_str),
        Some(REMOTE_ACCESS_ACCOUNT)
    );
}

#[test]
fn gateway_false_renders_no_gateway_object() {
    let install = Multicluster {
        gateway: false,
        trust_anchors_pem: Some(ANCHORS.into()),
        ..Multicluster::default()
    };
    let objects = install.render().expect("renders");
    round_trip(&objects);
    assert!(
        objects.iter().all(|o| o.name() != GATEWAY),
        "{:?}",
        index(&objects)
    );
    assert!(deployments(&objects).is_empty());
    assert!(!objects.iter().any(|o| o.kind() == "Service"));
    assert!(!has(&objects, "ConfigMap", mc(), TRUST_ROOTS));
    // The remote-access account stays: a gatewayless target is still read.
    assert!(has(&objects, "ServiceAccount", mc(), REMOTE_ACCESS_ACCOUNT));
}

#[test]
fn the_gateway_is_a_proxy_in_gateway_mode_behind_a_load_balancer() {
    let install = Multicluster {
        trust_anchors_pem: Some(ANCHORS.into()),
        identity_trust_domain: "mesh.example".into(),
        cluster_domain: "east.example".into(),
        ..Multicluster::default()
    };
    let objects = install.render().expect("renders");
    round_trip(&objects);
    check_deployments(&objects, &[]);
    assert!(has(&objects, "ConfigMap", mc(), TRUST_ROOTS));
    let gateway = deployments(&objects)[0];
    let pod = gateway.spec.template.spec.as_ref().expect("pod");
    assert_eq!(pod.automount_service_account_token, Some(false));
    let container = &pod.containers[0];
    assert_eq!(
        container.command.as_deref(),
        Some(&[PROXY_BIN.to_string()][..])
    );
    let security = container.security_context.as_ref().expect("security");
    assert_eq!(security.run_as_user, Some(PROXY_UID));
    let env: BTreeMap<String, Option<String>> = container
        .env
        .iter()
        .flatten()
        .map(|v| (v.name.clone(), v.value.clone()))
        .collect();
    let var = |name: &str| env.get(name).cloned().flatten().unwrap_or_default();
    assert_eq!(var("STRAIT_PROXY_GATEWAY"), "true");
    // The gateway forwards only to Services of its own cluster domain.
    assert_eq!(
        var("LINKERD2_PROXY_INBOUND_GATEWAY_SUFFIXES"),
        "svc.east.example."
    );
    assert_eq!(var("LINKERD2_PROXY_INBOUND_LISTEN_ADDR"), "0.0.0.0:4143");
    // As the kubelet expands it: references to variables with a value are
    // replaced; those to the pod's fields are left for the pod's values.
    let expanded = |name: &str| {
        env.iter()
            .fold(var(name), |text, (other, value)| match value {
                Some(value) => text.replace(&format!("$({other})"), value),
                None => text,
            })
    };
    assert_eq!(
        expanded("LINKERD2_PROXY_IDENTITY_LOCAL_NAME"),
        "$(_pod_sa).$(_pod_ns).serviceaccount.identity.linkerd.mesh.example"
    );
    assert_eq!(
        var("LINKERD2_PROXY_IDENTITY_SVC_ADDR"),
        "linkerd-identity.linkerd.svc.east.example.:8080"
    );
    assert_eq!(
        var("LINKERD2_PROXY_DESTINATION_SVC_ADDR"),
        "linkerd-dst.linkerd.svc.east.example.:8086"
    );
    assert_eq!(
        var("LINKERD2_PROXY_POLICY_SVC_ADDR"),
        "linkerd-policy.linkerd.svc.east.example.:8090"
    );
    assert_eq!(
        var("LINKERD2_PROXY_IDENTITY_TOKEN_FILE"),
        "/var/run/secrets/tokens/linkerd-identity-token"
    );
    // $(VAR) references only resolve to variables defined before them.
    let names: Vec<&String> = env.keys().collect();
    let position = |name: &str| {
        container
            .env
            .iter()
            .flatten()
            .position(|v| v.name == name)
            .unwrap_or_else(|| panic!("{name} in {names:?}"))
    };
    assert!(position("_pod_sa") < position("LINKERD2_PROXY_IDENTITY_LOCAL_NAME"));
    assert!(position("_pod_name") < position("LINKERD2_PROXY_POLICY_WORKLOAD"));
    let token = pod
        .volumes
        .iter()
        .flatten()
        .find_map(|v| v.projected.clone());
    let projection = token
        .and_then(|p| p.sources)
        .and_then(|s| s.into_iter().find_map(|s| s.service_account_token))
        .expect("a projected token");
    assert_eq!(projection.audience.as_deref(), Some("identity.l5d.io"));
    assert_eq!(projection.path, "linkerd-identity-token");

    let service: &Service = objects
        .iter()
        .find_map(|o| match o {
            Object::Service(s) => Some(s),
            _ => None,
        })
        .expect("service");
    let spec = service.spec.as_ref().expect("spec");
    assert_eq!(spec.type_.as_deref(), Some("LoadBalancer"));
    let ports: Vec<(Option<String>, i32)> = spec
        .ports
        .iter()
        .flatten()
        .map(|p| (p.name.clone(), p.port))
        .collect();
    assert_eq!(
        ports,
        [
            (Some("mc-gateway".to_string()), 4143),
            (Some("mc-probe".to_string()), 4191)
        ]
    );
    // The load balancer reaches the gateway port and a probe-only
    // listener, never the admin port (metrics) itself.
    let targets: Vec<Option<IntOrString>> = spec
        .ports
        .iter()
        .flatten()
        .map(|p| p.target_port.clone())
        .collect();
    assert_eq!(
        targets,
        [Some(IntOrString::Int(4143)), Some(IntOrString::Int(4181))]
    );
    assert_eq!(var("STRAIT_PROXY_PROBE_LISTEN_ADDR"), "0.0.0.0:4181");
    assert!(
        !container
            .ports
            .iter()
            .flatten()
            .any(|p| p.container_port == 4191),
        "the admin port is not a port the gateway publishes"
    );
    assert_eq!(
        service
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("mirror.linkerd.io/gateway-identity"))
            .map(String::as_str),
        Some("linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.mesh.example")
    );
}

#[test]
fn a_controller_per_link_with_a_lease_rule_naming_its_lease() {
    let install = with_sets(&["controllers[0].link.ref.name=target"]).expect("set");
    assert_eq!(install.links, ["target"]);
    let objects = install.render().expect("renders");
    round_trip(&objects);
    check_deployments(
        &objects,
        &[("ConfigMap", MULTICLUSTER_NAMESPACE, TRUST_ROOTS)],
    );
    check_labels_and_bindings(&objects);
    check_no_wildcards(&objects);
    check_plugins_config_map_read_only(&objects);
    assert!(has(&objects, "ServiceAccount", mc(), "controller-target"));
    assert!(has(&objects, "Deployment", mc(), "controller-target"));
    // One Role beside the Link, one for the plugins ConfigMap.
    for namespace in [CONTROL_PLANE_NAMESPACE, "linkerd-multicluster"] {
        assert!(has(
            &objects,
            "Role",
            Some(namespace),
            "linkerd-service-mirror-target"
        ));
        assert!(has(
            &objects,
            "RoleBinding",
            Some(namespace),
            "linkerd-service-mirror-target"
        ));
    }
    assert!(has(
        &objects,
        "ClusterRole",
        None,
        "linkerd-service-mirror-access-local-resources-target"
    ));
    let lease = rules(&objects).into_iter().find(|(_, r)| {
        r.resources.as_deref() == Some(&["leases".to_string()][..])
            && r.verbs.contains(&"patch".to_string())
    });
    let (role, rule) = lease.expect("a lease rule");
    assert_eq!(role, "linkerd-service-mirror-target");
    assert_eq!(
        rule.resource_names,
        Some(vec!["service-mirror-write-target".to_string()])
    );
    let mirror = deployments(&objects)
        .into_iter()
        .find(|d| d.metadata.name.as_deref() == Some("controller-target"))
        .expect("mirror");
    let container = &mirror.spec.template.spec.as_ref().expect("pod").containers[0];
    let argv: Vec<String> = container
        .command
        .iter()
        .flatten()
        .chain(container.args.iter().flatten())
        .cloned()
        .collect();
    assert_eq!(
        &argv[..7],
        [
            STRAIT_BIN,
            "controller",
            "service-mirror",
            "--link",
            "target",
            "-n",
            "linkerd-multicluster"
        ]
    );
}

#[test]
fn set_keys_are_helms_and_anything_else_is_named() {
    let install = with_sets(&[
        "controllers[1].link.ref.name=west,controllers[0].link.ref.name=east",
        "gateway.enabled=false",
    ])
    .expect("sets");
    assert_eq!(install.links, ["east", "west"]);
    assert!(!install.gateway);
    assert!(with_sets(&["gateway.enabled=true"]).expect("set").gateway);

    let message = set_error(&["controllers[0].link.ref.namespace=linkerd"]);
    assert!(
        message.contains("controllers[0].link.ref.namespace: unknown key"),
        "{message}"
    );
    let message = set_error(&["gateway.replicas=2"]);
    assert!(
        message.contains("gateway.replicas: unknown key"),
        "{message}"
    );
    let message = set_error(&["controllers[x].link.ref.name=east"]);
    assert!(
        message.contains("controllers[x].link.ref.name"),
        "{message}"
    );
    let message = set_error(&["gateway.enabled=yes"]);
    assert!(
        message.contains("gateway.enabled=yes: expected true or false"),
        "{message}"
    );
    let message = set_error(&["controllers[0].link.ref.name=East_1"]);
    assert!(message.contains("DNS label"), "{message}");
    let message = set_error(&["gateway.enabled"]);
    assert!(message.contains("expected key=value"), "{message}");
    let message = set_error(&[
        "controllers[0].link.ref.name=east",
        "controllers[1].link.ref.name=east",
    ]);
    assert!(
        message.contains("\"east\" is named by two controllers"),
        "{message}"
    );
}

#[test]
fn a_later_set_of_the_same_index_wins() {
    let install = with_sets(&[
        "controllers[0].link.ref.name=east",
        "controllers[0].link.ref.name=target",
    ])
    .expect("sets");
    assert_eq!(install.links, ["target"]);
}

/// The gateway's port is authorized by a Server of its own, as Linkerd's
/// extension installs it: meshed clients (any identity) from the networks
/// of `source-cluster`, traffic no authorization matches denied.
#[test]
fn the_gateway_has_its_own_server_and_authorization_policy() {
    let objects = Multicluster::default().render().expect("renders");
    round_trip(&objects);
    let find = |kind: &str, name: &str| {
        objects
            .iter()
            .find(|o| o.kind() == kind && o.name() == name && o.namespace() == mc())
            .unwrap_or_else(|| panic!("no {kind} {name}"))
    };
    let Object::Server(server) = find("Server", GATEWAY) else {
        panic!("not a Server");
    };
    assert_eq!(
        server.spec.port,
        IntOrString::String(GATEWAY_PORT_NAME.to_string())
    );
    let selector = server.spec.pod_selector.as_ref().expect("a pod selector");
    assert_eq!(
        selector.match_labels,
        Some(BTreeMap::from([("app".to_string(), GATEWAY.to_string())]))
    );
    assert_eq!(server.spec.access_policy.as_deref(), Some("deny"));
    let Object::AuthorizationPolicy(policy) = find("AuthorizationPolicy", GATEWAY) else {
        panic!("not an AuthorizationPolicy");
    };
    assert_eq!(
        (
            policy.spec.target_ref.kind.as_str(),
            policy.spec.target_ref.name.as_str()
        ),
        ("Server", GATEWAY)
    );
    let required: Vec<(&str, &str)> = policy
        .spec
        .required_authentication_refs
        .iter()
        .map(|r| (r.kind.as_str(), r.name.as_str()))
        .collect();
    assert_eq!(
        required,
        [
            ("MeshTLSAuthentication", ANY_MESHED),
            ("NetworkAuthentication", SOURCE_CLUSTER)
        ]
    );
    let Object::MeshTlsAuthentication(meshed) = find("MeshTLSAuthentication", ANY_MESHED) else {
        panic!("not a MeshTLSAuthentication");
    };
    assert_eq!(meshed.spec.identities, Some(vec!["*".to_string()]));
    assert!(has(&objects, "NetworkAuthentication", mc(), SOURCE_CLUSTER));
    // Without a gateway, none of it.
    let without = Multicluster {
        gateway: false,
        ..Multicluster::default()
    }
    .render()
    .expect("renders");
    assert!(without.iter().all(|o| o.kind() != "Server"));
}
