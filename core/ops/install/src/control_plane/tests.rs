use std::sync::OnceLock;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};

use super::*;
use crate::testing::{
    check_deployments, check_labels_and_bindings, check_no_wildcards,
    check_plugins_config_map_read_only, deployments, has, index, round_trip,
};

fn material() -> &'static IdentityMaterial {
    static MATERIAL: OnceLock<IdentityMaterial> = OnceLock::new();
    MATERIAL.get_or_init(|| IdentityMaterial::generate("cluster.local").expect("material"))
}

fn install(selection: CrdSelection) -> Vec<Object> {
    ControlPlane::default()
        .render(material(), selection)
        .expect("renders")
}

fn ns() -> Option<&'static str> {
    Some(CONTROL_PLANE_NAMESPACE)
}

#[test]
fn every_document_decodes_back_into_what_was_rendered() {
    round_trip(&install(CrdSelection::Both));
}

#[test]
fn the_install_has_linkerds_objects_in_order() {
    let objects = install(CrdSelection::Both);
    let kinds: Vec<&str> = objects.iter().map(Object::kind).collect();
    let first_other = kinds
        .iter()
        .position(|k| *k != "CustomResourceDefinition")
        .expect("more than CRDs");
    assert_eq!(first_other, 8, "the eight CRDs come first");
    assert_eq!(
        index(&objects)[first_other],
        ("Namespace", None, "linkerd".to_string())
    );
    for (kind, name) in [
        ("ConfigMap", "linkerd-config"),
        ("ConfigMap", "linkerd-identity-trust-roots"),
        ("Secret", "linkerd-identity-issuer"),
        ("ServiceAccount", "linkerd-identity"),
        ("ServiceAccount", "linkerd-destination"),
        ("ServiceAccount", "linkerd-policy"),
        ("Deployment", "linkerd-identity"),
        ("Deployment", "linkerd-destination"),
        ("Deployment", "linkerd-policy"),
        ("Service", "linkerd-identity"),
        ("Service", "linkerd-dst"),
        ("Service", "linkerd-policy"),
        ("Role", "linkerd-destination"),
        ("Role", "linkerd-policy"),
    ] {
        assert!(has(&objects, kind, ns(), name), "{kind} {name}");
    }
    for name in [
        "linkerd-linkerd-identity",
        "linkerd-linkerd-destination",
        "linkerd-linkerd-policy",
    ] {
        assert!(has(&objects, "ClusterRole", None, name), "{name}");
        assert!(has(&objects, "ClusterRoleBinding", None, name), "{name}");
    }
    // Nothing lands outside the control plane's namespace but
    // cluster-scoped objects.
    for object in &objects {
        if let Some(namespace) = object.namespace() {
            assert_eq!(namespace, CONTROL_PLANE_NAMESPACE, "{}", object.name());
        }
    }
}

#[test]
fn deployments_use_what_is_rendered_and_are_locked_down() {
    let objects = install(CrdSelection::Skip);
    check_deployments(&objects, &[]);
    check_labels_and_bindings(&objects);
    check_no_wildcards(&objects);
    check_plugins_config_map_read_only(&objects);
    assert_eq!(deployments(&objects).len(), 3);
}

#[test]
fn each_controller_runs_its_own_command_on_linkerds_ports() {
    let objects = install(CrdSelection::Skip);
    for (component, grpc, admin) in [
        ("identity", 8080, 9990),
        ("destination", 8086, 9996),
        ("policy", 8090, 9990),
    ] {
        let deployment = deployments(&objects)
            .into_iter()
            .find(|d| d.metadata.name.as_deref() == Some(&format!("linkerd-{component}")))
            .expect("deployment");
        let pod = deployment.spec.template.spec.as_ref().expect("pod");
        let container = &pod.containers[0];
        assert_eq!(
            container.command.as_deref(),
            Some(
                &[
                    STRAIT_BIN.to_string(),
                    "controller".into(),
                    component.into()
                ][..]
            )
        );
        let args = container.args.clone().unwrap_or_default();
        assert!(args.contains(&format!("--addr=0.0.0.0:{grpc}")), "{args:?}");
        assert!(
            args.contains(&format!("--admin-addr=0.0.0.0:{admin}")),
            "{args:?}"
        );
        assert!(args.contains(&"--identity-trust-domain=cluster.local".to_string()));
    }
}

#[test]
fn identity_reads_the_mounted_trust_roots_and_issuer_where_its_flags_say() {
    let objects = install(CrdSelection::Skip);
    let identity = deployments(&objects)
        .into_iter()
        .find(|d| d.metadata.name.as_deref() == Some("linkerd-identity"))
        .expect("identity");
    let pod = identity.spec.template.spec.as_ref().expect("pod");
    let container = &pod.containers[0];
    let args = container.args.clone().unwrap_or_default();
    let mounts = container.volume_mounts.clone().unwrap_or_default();
    let volumes = pod.volumes.clone().unwrap_or_default();
    // Each file flag points into a mounted volume, at the name the volume
    // gives the key that holds it.
    for (flag, key, source) in [
        ("--trust-anchors-file", TRUST_ROOTS_KEY, TRUST_ROOTS),
        ("--issuer-certificate-file", ISSUER_CERT_KEY, ISSUER_SECRET),
        ("--issuer-key-file", ISSUER_KEY_KEY, ISSUER_SECRET),
    ] {
        let path = args
            .iter()
            .find_map(|a| a.strip_prefix(&format!("{flag}=")))
            .unwrap_or_else(|| panic!("{flag} in {args:?}"));
        let mount = mounts
            .iter()
            .find(|m| path.starts_with(&format!("{}/", m.mount_path)))
            .unwrap_or_else(|| panic!("{path} is not mounted"));
        assert_eq!(mount.read_only, Some(true));
        let file = &path[mount.mount_path.len() + 1..];
        let volume = volumes
            .iter()
            .find(|v| v.name == mount.name)
            .expect("volume");
        let (name, items) = match (&volume.config_map, &volume.secret) {
            (Some(cm), _) => (cm.name.clone(), cm.items.clone()),
            (_, Some(s)) => (s.secret_name.clone().unwrap_or_default(), s.items.clone()),
            _ => panic!("{flag}: not a ConfigMap or Secret"),
        };
        assert_eq!(name, source, "{flag}");
        let item = items
            .into_iter()
            .flatten()
            .find(|i| i.path == file)
            .unwrap_or_else(|| panic!("{flag}: no item for {file}"));
        assert_eq!(item.key, key, "{flag}");
    }
}

#[test]
fn the_identity_material_is_in_the_configmap_and_the_secret() {
    let objects = install(CrdSelection::Skip);
    let roots: &ConfigMap = objects
        .iter()
        .find_map(|o| match o {
            Object::ConfigMap(cm) if cm.metadata.name.as_deref() == Some(TRUST_ROOTS) => Some(cm),
            _ => None,
        })
        .expect("trust roots");
    assert_eq!(
        roots.data.as_ref().and_then(|d| d.get(TRUST_ROOTS_KEY)),
        Some(&material().trust_anchors_pem)
    );
    let issuer: &Secret = objects
        .iter()
        .find_map(|o| match o {
            Object::Secret(s) => Some(s),
            _ => None,
        })
        .expect("issuer");
    assert_eq!(issuer.type_.as_deref(), Some("kubernetes.io/tls"));
    let data = issuer.data.clone().unwrap_or_default();
    let text = |key: &str| String::from_utf8(data[key].0.clone()).expect("text");
    assert_eq!(text("tls.crt"), material().issuer_certificate_pem);
    assert_eq!(text("tls.key"), material().issuer_key_pem);
    assert_eq!(text("ca.crt"), material().trust_anchors_pem);
}

#[test]
fn linkerd_config_holds_the_domains_under_linkerds_keys() {
    let control_plane = ControlPlane {
        cluster_domain: "east.example".into(),
        identity_trust_domain: "mesh.example".into(),
        ..ControlPlane::default()
    };
    let objects = control_plane.objects().expect("renders");
    let config = objects
        .iter()
        .find_map(|o| match o {
            Object::ConfigMap(cm) if cm.metadata.name.as_deref() == Some(LINKERD_CONFIG) => {
                Some(cm)
            }
            _ => None,
        })
        .expect("linkerd-config");
    let values: serde_norway::Value =
        serde_norway::from_str(&config.data.as_ref().expect("data")["values"]).expect("YAML");
    assert_eq!(values["clusterDomain"].as_str(), Some("east.example"));
    assert_eq!(values["identityTrustDomain"].as_str(), Some("mesh.example"));
    let destination = deployments(&objects)
        .into_iter()
        .find(|d| d.metadata.name.as_deref() == Some("linkerd-destination"))
        .expect("destination");
    let args = destination
        .spec
        .template
        .spec
        .as_ref()
        .expect("pod")
        .containers[0]
        .args
        .clone()
        .unwrap_or_default();
    assert!(args.contains(&"--cluster-domain=east.example".to_string()));
    assert!(args.contains(&"--identity-trust-domain=mesh.example".to_string()));
}

#[test]
fn crds_only_and_skip_crds_split_the_install() {
    let only = install(CrdSelection::Only);
    assert_eq!(only.len(), 8);
    assert!(only.iter().all(|o| o.kind() == "CustomResourceDefinition"));
    let skip = install(CrdSelection::Skip);
    assert!(skip.iter().all(|o| o.kind() != "CustomResourceDefinition"));
    assert_eq!(skip[0].kind(), "Namespace");
    assert_eq!(install(CrdSelection::Both).len(), only.len() + skip.len());
}

#[test]
fn the_image_is_the_one_asked_for() {
    let control_plane = ControlPlane {
        image: "registry.example/strait:dev".into(),
        ..ControlPlane::default()
    };
    let objects = control_plane.objects().expect("renders");
    for deployment in deployments(&objects) {
        let pod = deployment.spec.template.spec.as_ref().expect("pod");
        assert_eq!(
            pod.containers[0].image.as_deref(),
            Some("registry.example/strait:dev")
        );
    }
    assert!(
        ControlPlane::default()
            .image
            .starts_with("ghcr.io/strait-mesh/strait:")
    );
}

#[test]
fn a_domain_that_is_not_a_dns_name_is_refused_naming_the_flag() {
    for (control_plane, flag) in [
        (
            ControlPlane {
                cluster_domain: "Cluster Local".into(),
                ..ControlPlane::default()
            },
            "--cluster-domain",
        ),
        (
            ControlPlane {
                identity_trust_domain: "".into(),
                ..ControlPlane::default()
            },
            "--identity-trust-domain",
        ),
    ] {
        let message = match control_plane.render(material(), CrdSelection::Both) {
            Ok(_) => panic!("{flag} accepted"),
            Err(e) => e.to_string(),
        };
        assert!(message.starts_with(flag), "{message}");
    }
    assert!(dns_name("--x", "cluster.local").is_ok());
    assert!(dns_name("--x", "-bad.local").is_err());
    assert!(dns_name("--x", "a..b").is_err());
}
