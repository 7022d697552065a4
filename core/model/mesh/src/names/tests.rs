use super::*;

#[test]
fn the_identity_files_lie_in_their_mounted_directories() {
    assert_eq!(
        TRUST_ANCHORS_FILE,
        format!("{TRUST_ROOTS_DIR}/{TRUST_ROOTS_KEY}")
    );
    assert_eq!(
        ISSUER_CERTIFICATE_FILE,
        format!("{ISSUER_DIR}/{ISSUER_CERTIFICATE_FILE_NAME}")
    );
    assert_eq!(
        ISSUER_KEY_FILE,
        format!("{ISSUER_DIR}/{ISSUER_KEY_FILE_NAME}")
    );
    assert_eq!(
        IDENTITY_TOKEN_FILE,
        format!("{IDENTITY_TOKEN_DIR}/{IDENTITY_TOKEN_FILE_NAME}")
    );
}

#[test]
fn proxies_reach_components_by_their_fully_qualified_service_names() {
    assert_eq!(
        DESTINATION.address("cluster.local"),
        "linkerd-dst.linkerd.svc.cluster.local.:8086"
    );
    assert_eq!(
        IDENTITY.address("example.org"),
        "linkerd-identity.linkerd.svc.example.org.:8080"
    );
    assert_eq!(
        POLICY.address("cluster.local"),
        "linkerd-policy.linkerd.svc.cluster.local.:8090"
    );
}

#[test]
fn components_listen_on_every_address_of_their_pod_at_their_ports() {
    assert_eq!(IDENTITY.listen_addr().to_string(), "0.0.0.0:8080");
    assert_eq!(DESTINATION.admin_listen_addr().to_string(), "0.0.0.0:9996");
    assert_eq!(SERVICE_MIRROR_ADMIN_ADDR.to_string(), "0.0.0.0:9999");
}

#[test]
fn per_link_names_are_linkerds() {
    assert_eq!(service_mirror("east"), "controller-east");
    assert_eq!(service_mirror_lease("east"), "service-mirror-write-east");
    assert_eq!(link_credentials("east"), "cluster-credentials-east");
}
