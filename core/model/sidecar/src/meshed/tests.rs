use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};

use super::*;

fn container(name: &str) -> Container {
    Container {
        name: name.into(),
        ..Container::default()
    }
}

fn pod(containers: &[&str], init_containers: &[&str]) -> Pod {
    Pod {
        spec: Some(PodSpec {
            containers: containers.iter().map(|n| container(n)).collect(),
            init_containers: Some(init_containers.iter().map(|n| container(n)).collect()),
            ..PodSpec::default()
        }),
        ..Pod::default()
    }
}

#[test]
fn a_pod_is_meshed_when_it_runs_the_proxy_container() {
    assert!(is_meshed(&pod(&["app", "linkerd-proxy"], &[])));
    assert!(!is_meshed(&pod(&["app"], &["linkerd-init"])));
}

#[test]
fn a_native_sidecar_proxy_counts() {
    assert!(is_meshed(&pod(
        &["app"],
        &["linkerd-init", "linkerd-proxy"]
    )));
}

#[test]
fn only_linkerds_container_name_counts() {
    // No injector writes another name, and Linkerd's tools would count
    // such a pod as unmeshed.
    assert!(!is_meshed(&pod(&["app", "strait-proxy"], &[])));
    assert!(!has_proxy_container(["proxy", "linkerd-proxy-init"]));
}

#[test]
fn the_inject_annotation_alone_does_not_mesh_a_pod() {
    let mut requested = pod(&["app"], &[]);
    requested.metadata.annotations = Some(
        [(
            strait_api::labels::INJECT.to_string(),
            "enabled".to_string(),
        )]
        .into_iter()
        .collect(),
    );
    assert!(!is_meshed(&requested));
    assert!(!is_meshed(&Pod::default()));
}
