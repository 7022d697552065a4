use super::*;

#[test]
fn a_root_and_its_issuer_are_generated() {
    let root = trust_root();
    assert!(root.certificate_pem().contains("BEGIN CERTIFICATE"));
    certifier(&root, "identity.linkerd.cluster.local");
}
