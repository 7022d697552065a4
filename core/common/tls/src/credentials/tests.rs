use std::time::Duration;

use strait_identity::{Certifier, IdentityDomain, Issuer, SigningCa};

use super::*;

const ID: &str = "web.emojivoto.serviceaccount.identity.linkerd.cluster.local";
const OTHER: &str = "vote.emojivoto.serviceaccount.identity.linkerd.cluster.local";
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

struct Ca {
    certifier: Certifier,
    roots: TrustRoots,
}

fn ca(lifetime: Duration) -> Ca {
    let root = SigningCa::generate_root("root.linkerd.cluster.local", DAY).expect("root");
    let issuer = Issuer::generate(&root, "identity.linkerd.cluster.local", DAY).expect("issuer");
    let roots = TrustRoots::from_pem("ca.crt", root.certificate_pem().as_bytes()).expect("roots");
    Ca {
        certifier: Certifier::new(issuer, IdentityDomain::default()).with_lifetime(lifetime),
        roots,
    }
}

fn issue(
    ca: &Ca,
    csr_of: &LocalIdentity,
    name: &str,
) -> (CertificateDer<'static>, Vec<CertificateDer<'static>>) {
    let issued = ca.certifier.issue(csr_of.csr_der(), name).expect("issued");
    (
        issued.leaf_der.into(),
        issued.chain_der.into_iter().map(Into::into).collect(),
    )
}

#[test]
fn a_leaf_for_our_key_and_name_is_accepted() {
    let ca = ca(DAY);
    let local = LocalIdentity::new(ID).expect("local");
    let (leaf, chain) = issue(&ca, &local, ID);
    let creds = Credentials::new(&local, leaf.clone(), chain, ca.roots.clone()).expect("creds");
    assert_eq!(creds.identity(), ID);
    assert_eq!(creds.certificate_chain().len(), 2);
    assert_eq!(creds.certificate_chain()[0], leaf);
    let left = creds
        .expiry()
        .duration_since(SystemTime::now())
        .expect("in the future");
    assert!(
        left > DAY - Duration::from_secs(60) && left <= DAY,
        "{left:?}"
    );
    // The server negotiates only Linkerd's transport protocol, and only
    // for a client that offers it; the plain client offers nothing.
    let mesh_alpn = vec![crate::MESH_ALPN.to_vec()];
    assert_eq!(creds.server_config().alpn_protocols, mesh_alpn);
    assert!(creds.client_config().alpn_protocols.is_empty());
    assert_eq!(creds.transport_client_config().alpn_protocols, mesh_alpn);
    assert!(!format!("{creds:?}").contains("key"));
}

#[test]
fn a_leaf_for_another_name_is_refused() {
    let ca = ca(DAY);
    let local = LocalIdentity::new(ID).expect("local");
    let other = LocalIdentity::new(OTHER).expect("other");
    let (leaf, chain) = issue(&ca, &other, OTHER);
    let err = Credentials::new(&local, leaf, chain, ca.roots.clone()).expect_err("wrong name");
    let msg = err.to_string();
    assert!(msg.contains(ID) && msg.contains(OTHER), "{msg}");
}

#[test]
fn a_leaf_for_another_key_is_refused() {
    let ca = ca(DAY);
    let local = LocalIdentity::new(ID).expect("local");
    let thief = LocalIdentity::new(ID).expect("same name, other key");
    let (leaf, chain) = issue(&ca, &thief, ID);
    let err = Credentials::new(&local, leaf, chain, ca.roots.clone()).expect_err("wrong key");
    assert!(err.to_string().contains("another public key"), "{err}");
}

#[test]
fn a_leaf_from_another_anchor_is_refused() {
    let ca = ca(DAY);
    let elsewhere = self::ca(DAY);
    let local = LocalIdentity::new(ID).expect("local");
    let (leaf, chain) = issue(&elsewhere, &local, ID);
    let err = Credentials::new(&local, leaf, chain, ca.roots.clone()).expect_err("other anchor");
    assert!(err.to_string().contains("trust roots ca.crt"), "{err}");
}

#[test]
fn a_leaf_without_its_intermediate_is_refused() {
    let ca = ca(DAY);
    let local = LocalIdentity::new(ID).expect("local");
    let (leaf, _) = issue(&ca, &local, ID);
    let err = Credentials::new(&local, leaf, Vec::new(), ca.roots.clone()).expect_err("no chain");
    assert!(err.to_string().contains("does not verify"), "{err}");
}

#[test]
fn garbage_is_refused() {
    let ca = ca(DAY);
    let local = LocalIdentity::new(ID).expect("local");
    let err = Credentials::new(&local, vec![1, 2, 3].into(), Vec::new(), ca.roots.clone())
        .expect_err("garbage");
    assert!(err.to_string().contains("does not parse"), "{err}");
}

#[test]
fn an_expired_leaf_is_refused() {
    let ca = ca(Duration::from_secs(1));
    let local = LocalIdentity::new(ID).expect("local");
    let (leaf, chain) = issue(&ca, &local, ID);
    std::thread::sleep(Duration::from_millis(2100));
    let err = Credentials::new(&local, leaf, chain, ca.roots.clone()).expect_err("expired");
    assert!(err.to_string().contains("does not verify"), "{err}");
}
