use k8s_openapi::api::core::v1::{Pod, PodSpec, Service, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::*;

fn service(name: &str, cluster_ip: Option<&str>) -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("ns".into()),
            ..ObjectMeta::default()
        },
        spec: Some(ServiceSpec {
            cluster_ip: cluster_ip.map(str::to_string),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

fn pod(namespace: &str, hostname: Option<&str>, subdomain: Option<&str>) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some("web-0".into()),
            namespace: Some(namespace.into()),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            hostname: hostname.map(str::to_string),
            subdomain: subdomain.map(str::to_string),
            ..PodSpec::default()
        }),
        ..Pod::default()
    }
}

#[test]
fn only_cluster_ip_none_is_headless() {
    assert!(is_headless(&service("web", Some("None"))));
    assert!(!is_headless(&service("web", Some("10.96.0.10"))));
    assert!(!is_headless(&service("web", None)));
}

#[test]
fn a_pod_has_its_hostname_only_under_the_service_its_subdomain_names() {
    let web = service("web", Some("None"));
    assert_eq!(
        pod_hostname(&pod("ns", Some("web-0"), Some("web")), &web).as_deref(),
        Some("web-0")
    );
    assert_eq!(
        pod_hostname(&pod("ns", Some("web-0"), Some("other")), &web),
        None
    );
    assert_eq!(pod_hostname(&pod("ns", Some("web-0"), None), &web), None);
    assert_eq!(
        pod_hostname(&pod("other", Some("web-0"), Some("web")), &web),
        None
    );
    assert_eq!(pod_hostname(&pod("ns", None, Some("web")), &web), None);
}
